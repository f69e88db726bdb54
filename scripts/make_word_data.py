"""Regenerate the word lists in bot/data/ from maintained sources (run by hand; rolebot never imports this).

    python3 -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq==3.1.1 scikit-learn
    /tmp/wf/bin/python scripts/make_word_data.py

- bot/data/stopwords.txt: scikit-learn's ENGLISH_STOP_WORDS (the Glasgow Information Retrieval Group's list).
- bot/data/word_frequency.tsv: the 40,000 most frequent English words with their Zipf frequency, from
  wordfreq (Robyn Speer; data CC BY-SA 4.0). rolebot weighs a question's words by rarity with it and
  tells real words from typos.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "bot" / "data"
TOP_N = 40_000


def main() -> None:
    import wordfreq
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    header = "# scikit-learn ENGLISH_STOP_WORDS (Glasgow Information Retrieval Group); regenerate: scripts/make_word_data.py\n"
    (DATA / "stopwords.txt").write_text(header + "\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n", encoding="utf-8")
    lines = [
        "# word<TAB>zipf frequency: wordfreq 3.1.1 top English words (data CC BY-SA 4.0, Robyn Speer et al.)",
        "# regenerate: scripts/make_word_data.py",
    ]
    for word in wordfreq.top_n_list("en", TOP_N):
        if word.isascii() and any(c.isalpha() for c in word) and "\t" not in word:
            lines.append(f"{word}\t{wordfreq.zipf_frequency(word, 'en'):.2f}")
    (DATA / "word_frequency.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
