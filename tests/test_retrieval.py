"""bot/retrieval.py with the real model on the real article: BM25 finds exact terms, dense finds paraphrases,
and reciprocal-rank fusion orders the two."""

from __future__ import annotations

import numpy as np
import pytest

from bot.retrieval import Retriever

TABLE = "AI Engineer vs. ML Engineer: What’s the Difference?"
ROLES = "Roles & Responsibilities of an AI Engineer › "
BECOME = "How to Become an AI Engineer? › "


@pytest.mark.parametrize(
    ("query", "section", "passage"),
    [
        ("XGBoost", TABLE, "Frameworks & Tools: AI Engineer: TensorFlow, PyTorch, OpenCV"),
        ("OpenCV", TABLE, "Frameworks & Tools: AI Engineer: TensorFlow, PyTorch, OpenCV"),
        ("R", TABLE, "Tech Stack: AI Engineer: Python, Java, C++. ML Engineer: Python, R."),
        ("Edge AI", ROLES + "5. Optimizing & Deploying AI Models", "Edge AI (deploying AI on IoT devices"),
        ("Keras", ROLES + "2. Implementing Machine Learning & Deep Learning Models", "PyTorch, and Keras"),
        ("linear algebra", BECOME + "4. Mathematics & Data Structures", "linear algebra, probability"),
    ],
)
def test_exact_terms_find_their_passage_first(bot, query: str, section: str, passage: str) -> None:
    top = bot.search(query, k=3)[0]
    assert top.chunk.section == section
    assert passage in top.chunk.text
    assert top.bm25 > 0


@pytest.mark.parametrize("term", ["C++", "Scikit-learn", "GPU acceleration"])
def test_every_passage_holding_a_term_outranks_those_without(bot, term: str) -> None:
    holders = {c.id for c in bot.index.chunks if term.lower() in c.text.lower()}
    hits = bot.search(term, k=len(holders))
    assert holders and {h.chunk.id for h in hits} == holders


def test_r_is_found_as_a_word_not_as_a_letter(bot) -> None:
    scores = bot.retriever.bm25_scores("R")
    matched = {bot.index.chunks[i].kind for i in np.flatnonzero(scores)}
    assert matched <= {"row", "table"}  # only the table mentions R; "r" inside other words does not count


@pytest.mark.parametrize(
    ("query", "section"),
    [
        ("teamwork with colleagues", ROLES + "7. Collaborating with Cross-Functional Teams"),
        ("calculus and statistics", BECOME + "4. Mathematics & Data Structures"),
        ("prejudice and discrimination", ROLES + "6. Ethical AI & Bias Mitigation"),
    ],
)
def test_a_paraphrase_finds_its_section_by_meaning(bot, query: str, section: str) -> None:
    hits = bot.search(query, k=3)
    assert all(h.bm25 == 0 for h in hits)  # no word in common: only the dense ranking can find it
    assert hits[0].chunk.section == section
    assert hits[0].dense == max(h.dense for h in bot.search(query, k=len(bot.index.chunks)))


def test_fused_scores_are_sorted_and_normalised(bot) -> None:
    hits = bot.search("What frameworks do ML engineers use for deployment?", k=len(bot.index.chunks))
    assert len(hits) == len(bot.index.chunks)
    fused = [h.fused for h in hits]
    assert fused == sorted(fused, reverse=True)
    assert fused[-1] > 0 and fused[0] <= 1.0 + 1e-9
    assert len({h.chunk.id for h in hits}) == len(hits)


def test_k_limits_the_hits(bot) -> None:
    assert len(bot.search("deployment", k=2)) == 2
    assert [h.chunk.id for h in bot.search("deployment", k=2)] == [
        h.chunk.id for h in bot.search("deployment", k=5)[:2]
    ]


def test_bm25_alone_scores_zero_for_unknown_words(bot) -> None:
    scores = bot.retriever.bm25_scores("zyxwvut quasar blorptastic")
    assert scores.shape == (len(bot.index.chunks),)
    assert not scores.any()
    hits = bot.search("zyxwvut quasar blorptastic", k=3)
    assert all(h.bm25 == 0 for h in hits)


def test_bm25_scores_only_chunks_holding_the_word(bot) -> None:
    scores = bot.retriever.bm25_scores("Keras")
    holders = {c.id for c in bot.index.chunks if "keras" in c.embed_text.lower()}
    assert set(np.flatnonzero(scores)) == holders and holders


def test_the_heading_path_is_embedded_and_searchable(bot) -> None:
    for chunk in bot.index.chunks:
        assert chunk.section in chunk.embed_text
    # "Mitigation" is in section 6's heading, not in its text: BM25 can only match it through the heading path.
    section = ROLES + "6. Ethical AI & Bias Mitigation"
    (chunk,) = [c for c in bot.index.chunks if c.section == section]
    assert "mitigation" not in chunk.text.lower()
    assert bot.retriever.bm25_scores("mitigation")[chunk.id] > 0
    assert bot.search("bias mitigation", k=1)[0].chunk.id == chunk.id


def test_dense_scores_are_cosines(bot) -> None:
    query = "How do AI engineers deploy models?"
    vector = bot.embedder.encode([query])[0]
    for hit in bot.search(query, k=5):
        assert hit.dense == pytest.approx(float(bot.index.chunk_vectors[hit.chunk.id] @ vector), abs=1e-4)


def test_fusion_of_two_agreeing_rankings(bot) -> None:
    """First in both rankings scores exactly 1; a chunk only BM25 ranks scores about half."""
    retriever = Retriever(bot.index)
    vector = bot.embedder.encode(["Keras"])[0]
    hits = retriever.search("Keras", vector, k=len(bot.index.chunks))
    assert hits[0].fused == pytest.approx(1.0)
    assert all(h.fused < 0.75 for h in hits if h.bm25 == 0)


def test_bm25_scores_equal_those_of_bm25s_with_scipy(bot) -> None:
    # rolebot imports bm25s without SciPy and uses its NumPy backend; SciPy's is the one bm25s picks by default.
    import bm25s
    import scipy.sparse

    from bot.text import stems

    reference = bm25s.BM25(csc_backend="numpy")
    reference.csc_backend = "scipy"  # set after __init__, which refuses it when bm25s was imported without SciPy
    bm25s_sp, bm25s.sp = getattr(bm25s, "sp", None), scipy.sparse
    try:
        reference.index([stems(c.embed_text) or ["_"] for c in bot.index.chunks], show_progress=False)
    finally:
        bm25s.sp = bm25s_sp
    for query in ["XGBoost and Keras", "what does an AI engineer do", "R R Python", "linear algebra probability"]:
        terms = [t for t in stems(query) if t in bot.retriever.known_stems]
        assert terms
        np.testing.assert_array_equal(bot.retriever.bm25_scores(query), reference.get_scores(terms))


def _fresh_python(script: str) -> str:
    """What ``script`` prints in a fresh interpreter (what is imported depends on a process's start)."""
    import subprocess
    import sys

    from bot import config

    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=config.PROJECT_ROOT, check=True
    )
    return out.stdout


def test_answering_imports_neither_scipy_nor_torch() -> None:
    printed = _fresh_python(
        "import sys; from bot import Chatbot; Chatbot.load().ask('What does an AI engineer do?'); "
        "print(sorted(m for m in ('scipy', 'torch', 'sentence_transformers') if m in sys.modules))"
    )
    assert printed.strip().splitlines()[-1] == "[]"


def test_bm25s_is_imported_without_importlib_metadata_and_knows_its_version() -> None:
    from importlib.metadata import version

    printed = _fresh_python(
        "import sys; from bot.retrieval import _import_bm25s; bm25s = _import_bm25s(); "
        "print('importlib.metadata' in sys.modules, bm25s.__version__, bm25s.BM25()._original_version)"
    )
    assert printed.split() == ["False", version("bm25s"), version("bm25s")]


def test_bm25s_version_falls_back_to_importlib_metadata_without_one_dist_info(monkeypatch) -> None:
    from bot import retrieval

    assert retrieval._version_module().__version__  # the installed one is found
    monkeypatch.setattr(retrieval.Path, "glob", lambda self, pattern: iter([]))
    assert retrieval._version_module() is None
