"""The naive baseline rolebot is measured against: the usual first attempt at "a chatbot over one article".

Fixed 500-character chunks of the raw corpus file, embedded with the same model; the answer is the
top-1 chunk by cosine, and a question is refused when that cosine is below one threshold. To be fair,
the threshold is the one that maximises the baseline's own accuracy sum on the eval set.
History is ignored: the baseline has no notion of follow-ups.

Usage: python bench/baseline.py   (prints the baseline's eval scores; bench/run.py compares it with rolebot)
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import config
from bot.corpus import corpus_files
from bot.embeddings import Embedder, get_embedder
from bot.evaluation import Case, Report, check, load_cases, load_sets, run

CHUNK_CHARS = 500


@dataclass
class BaselineReply:
    """Just what ``bot.evaluation`` reads from a reply."""

    question: str
    answer: str
    in_scope: bool
    cosine: float


class NaiveBaseline:
    def __init__(self, corpus: Path, passages: Embedder, queries: Embedder, threshold: float = 0.0) -> None:
        text = "\n\n".join(path.read_text(encoding="utf-8") for path in corpus_files(corpus))
        self.chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
        self.vectors = passages.encode(self.chunks)
        self.queries = queries
        self.threshold = threshold

    def top1(self, question: str) -> tuple[str, float]:
        scores = self.vectors @ self.queries.encode([question])[0]
        best = int(np.argmax(scores))
        return self.chunks[best], float(scores[best])

    def ask(self, question: str, history: list[tuple[str, str]] | None = None) -> BaselineReply:
        passage, cosine = self.top1(question)
        return BaselineReply(question, passage, cosine >= self.threshold, cosine)

    def fit_threshold(self, cases: list[Case]) -> float:
        """Set and return the threshold with the best answer + refusal + follow-up accuracy on ``cases``."""
        # Each turn, answered or refused, passes or fails independently of the threshold except through
        # its own top-1 cosine, so one pass over the questions scores every candidate threshold.
        turns = []
        for case in cases:
            for i, turn in enumerate(case.turns):
                passage, cosine = self.top1(turn.question)
                group = case.kind if case.kind != "conversation" else ("followup" if i > 0 else "first")
                answered_ok = check(turn, BaselineReply(turn.question, passage, True, cosine))[0]
                refused_ok = check(turn, BaselineReply(turn.question, "", False, cosine))[0]
                turns.append((group, cosine, answered_ok, refused_ok))

        def score(threshold: float) -> float:
            total = 0.0
            for group in ("answer", "refuse", "followup"):
                chosen = [(c, a, r) for g, c, a, r in turns if g == group]
                if chosen:
                    total += sum(a if c >= threshold else r for c, a, r in chosen) / len(chosen)
            return total

        candidates = sorted({c for _, c, _, _ in turns} | {-1.0, 2.0})
        self.threshold = max(candidates, key=lambda t: (score(t), -t))
        return self.threshold


def median_answer_chars(report: Report) -> float:
    """Median length of the answers given (refusals excluded: they are boilerplate)."""
    lengths = [len(o.answer) for o in report.outcomes if o.in_scope]
    return float(statistics.median(lengths)) if lengths else float("nan")


def evaluate(cases: list[Case] | None = None, corpus: Path | None = None) -> tuple[NaiveBaseline, Report]:
    cases = cases or [c for s in load_sets() if s.split == "train" and s.corpus is None for c in load_cases(s.file)]
    baseline = NaiveBaseline(corpus or config.corpus_dir(), get_embedder("build"), get_embedder("query"))
    baseline.fit_threshold(cases)
    return baseline, run(baseline, cases)  # type: ignore[arg-type]  # duck-typed: ask() → .answer, .in_scope


if __name__ == "__main__":
    fitted, report = evaluate()
    print(f"chunks: {len(fitted.chunks)} x {CHUNK_CHARS} chars, threshold (fitted): {fitted.threshold:.3f}")
    for key, value in report.summary().items():
        print(f"{key}: {value}")
    print(f"median answer length: {median_answer_chars(report):.0f} chars")
