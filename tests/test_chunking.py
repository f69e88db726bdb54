"""bot/chunking.py: the structure the issue asks for — heading paths, whole sentences, lists with their
lead-in, the comparison table whole and row by row, and any number of .md/.txt files."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from bot import config
from bot.chunking import MAX_CHUNK_CHARS, PATH_SEPARATOR, Chunk, Unit, chunk_documents, split_sentences
from bot.corpus import Document, load_corpus
from bot.render import key, render_article

ARTICLE = "ai-engineer-vs-ml-engineer.md"
SECTION_5 = "Roles & Responsibilities of an AI Engineer › 5. Optimizing & Deploying AI Models"
TABLE_SECTION = "AI Engineer vs. ML Engineer: What’s the Difference?"
ROW_ASPECTS = ["Primary Focus", "Skill Set", "Scope of Work", "Tech Stack", "Frameworks & Tools", "Deployment"]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# What a hand parser reads differently from CommonMark + GFM tables: a setext heading, an escaped pipe in a
# cell, a list item's lazy continuation line, a nested list.
EDGE_CASES = Document(
    "edge.md",
    "Edge Cases\n==========\n\nTools\n-----\n\n| Aspect | A | B |\n|---|---|---|\n| Shells | Bash \\| Zsh | Fish |\n\n"
    "## Steps\n\nThey do:\n\n- install the tools\nand check them\n- run it\n  - twice\n",
)


@pytest.fixture(scope="module")
def article() -> str:
    return (config.corpus_dir() / ARTICLE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pieces() -> tuple[list[Chunk], list[Unit]]:
    return chunk_documents(load_corpus(config.corpus_dir()))


def _without_trailing_symbols(text: str) -> str:
    # "Share your comments below! 🚀": an emoji after the full stop does not make the sentence partial.
    while text and (text[-1].isspace() or unicodedata.category(text[-1]) in ("So", "Sk")):
        text = text[:-1]
    return text


def test_every_chunk_and_unit_records_source_and_heading_path(pieces) -> None:
    chunks, units = pieces
    assert chunks and units
    for item in [*chunks, *units]:
        assert item.source == ARTICLE
        assert item.section.strip()
        assert "#" not in item.section
    sections = {c.section for c in chunks}
    assert SECTION_5 in sections
    assert "How to Become an AI Engineer? › 4. Mathematics & Data Structures" in sections
    assert TABLE_SECTION in sections


def test_ids_are_positions_and_every_unit_is_in_a_chunk(pieces) -> None:
    chunks, units = pieces
    assert [c.id for c in chunks] == list(range(len(chunks)))
    assert [u.id for u in units] == list(range(len(units)))
    referenced = {uid for c in chunks for uid in c.unit_ids}
    assert referenced == set(range(len(units)))
    for chunk in chunks:
        assert all(units[uid].section == chunk.section for uid in chunk.unit_ids)


def test_sentence_units_are_whole_sentences_of_the_article(pieces, article: str) -> None:
    _, units = pieces
    sentences = [u for u in units if u.kind == "sentence"]
    assert len(sentences) > 20
    for unit in sentences:
        assert unit.text in article, unit.text
        assert _without_trailing_symbols(unit.text)[-1] in ".!?:", unit.text
        assert unit.text[0].isupper() or unit.text[0].isdigit(), unit.text


def test_every_paragraph_is_covered_by_its_units(pieces, article: str) -> None:
    """No words are lost between units: each prose line of the article is exactly its sentence units."""
    _, units = pieces
    quoted = [u.text for u in units if u.kind == "sentence"]
    quoted += [u.text.split("\n")[0] for u in units if u.kind == "list"]  # a list's first line is its lead-in
    for line in article.splitlines():
        if not line.strip() or line.startswith(("#", "|", "- ")):
            continue
        rest = line
        for text in sorted(quoted, key=len, reverse=True):
            rest = rest.replace(text, "")
        assert not rest.strip(), f"not in any unit: {rest.strip()!r} (from {line!r})"


def test_text_chunks_are_whole_sentences_within_the_size_limit(pieces) -> None:
    chunks, units = pieces
    for chunk in chunks:
        if chunk.kind != "text":
            continue
        assert len(chunk.text) <= MAX_CHUNK_CHARS or len(chunk.unit_ids) == 1
        for uid in chunk.unit_ids:
            assert units[uid].text in chunk.text


def test_a_list_stays_with_its_lead_in(pieces) -> None:
    chunks, units = pieces
    (unit,) = [u for u in units if u.kind == "list" and u.section == SECTION_5]
    assert unit.text.startswith("AI Engineers optimize models for:")
    for bullet in (
        "Speed and efficiency (e.g., using GPU acceleration)",
        "Scalability (deploying on cloud services like AWS, Azure, GCP)",
        "Edge AI (deploying AI on IoT devices, mobile phones)",
    ):
        assert f"- {bullet}" in unit.text
    (chunk,) = [c for c in chunks if unit.id in c.unit_ids]
    assert chunk.section == SECTION_5
    assert unit.text in chunk.text


def test_every_bullet_of_the_article_is_in_a_list_unit(pieces, article: str) -> None:
    _, units = pieces
    lists = "\n".join(u.text for u in units if u.kind == "list")
    bullets = [line[2:] for line in article.splitlines() if line.startswith("- ")]
    assert len(bullets) == 10
    for bullet in bullets:
        assert f"- {bullet}" in lists


def test_the_table_is_indexed_whole(pieces) -> None:
    chunks, units = pieces
    (table,) = [c for c in chunks if c.kind == "table"]
    assert table.section == TABLE_SECTION
    lines = table.text.splitlines()
    assert lines[0] == "| Aspect | AI Engineer | ML Engineer |"
    assert re.fullmatch(r"\|[-|: ]+\|", lines[1])
    assert [line.split("|")[1].strip() for line in lines[2:]] == ROW_ASPECTS
    assert "| Tech Stack | Python, Java, C++ | Python, R |" in lines
    assert [units[uid].kind for uid in table.unit_ids] == ["row"] * 6


def test_the_table_is_indexed_row_by_row(pieces) -> None:
    chunks, units = pieces
    rows = [c for c in chunks if c.kind == "row"]
    assert [r.text.split(":")[0] for r in rows] == ROW_ASPECTS
    tech = rows[ROW_ASPECTS.index("Tech Stack")]
    assert tech.text == "Tech Stack: AI Engineer: Python, Java, C++. ML Engineer: Python, R."
    for row in rows:  # self-contained: both roles named, so the row makes sense alone
        assert row.section == TABLE_SECTION
        assert row.text.count("AI Engineer: ") == 1 and row.text.count("ML Engineer: ") == 1
        assert row.text.endswith(".")
        (uid,) = row.unit_ids
        assert units[uid].kind == "row"
        assert units[uid].cells[0] == row.text.split(":")[0]
        assert units[uid].header == ["Aspect", "AI Engineer", "ML Engineer"]
    frameworks = rows[ROW_ASPECTS.index("Frameworks & Tools")].text
    assert "OpenCV" in frameworks and "XGBoost" in frameworks


def test_chunk_embed_text_carries_the_heading_path(pieces) -> None:
    chunks, units = pieces
    for chunk in chunks:
        assert chunk.embed_text.startswith(chunk.section + "\n")
        assert chunk.text in chunk.embed_text
    unit = next(u for u in units if u.section == SECTION_5)
    assert SECTION_5.split(PATH_SEPARATOR)[-1] in unit.embed_text


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Systems like chatbots (e.g., ChatGPT, Siri) help. AI vs. ML is a topic. Done.",
            ["Systems like chatbots (e.g., ChatGPT, Siri) help.", "AI vs. ML is a topic.", "Done."],
        ),
        ('He said "Go." Then left.', ['He said "Go."', "Then left."]),
        ("Python 3.12 is new. It runs.", ["Python 3.12 is new.", "It runs."]),
        ("i.e. this stays whole. Yes.", ["i.e. this stays whole.", "Yes."]),
    ],
)
def test_split_sentences(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected


def test_long_paragraph_is_split_between_sentences_only() -> None:
    sentences = [
        f"Sentence number {i} talks about AI Engineers and their deployment work in detail." for i in range(30)
    ]
    doc = Document("long.md", "# Long\n\n## Part\n\n" + " ".join(sentences) + "\n")
    chunks, units = chunk_documents([doc])
    assert len(chunks) > 1
    assert [u.text for u in units] == sentences
    for chunk in chunks:
        assert len(chunk.text) <= MAX_CHUNK_CHARS
        assert chunk.section == "Part"
        assert chunk.text.replace("\n\n", " ") == " ".join(units[uid].text for uid in chunk.unit_ids)
    assert [uid for c in chunks for uid in c.unit_ids] == list(range(len(sentences)))


def test_more_md_and_txt_files_are_indexed_with_their_names(tmp_path: Path) -> None:
    shutil.copy(config.corpus_dir() / ARTICLE, tmp_path / ARTICLE)
    (tmp_path / "extra-notes.md").write_text(
        "# Extra Notes\n\n## Hiring\n\nTeams hire AI Engineers for product work. They value shipping.\n",
        encoding="utf-8",
    )
    (tmp_path / "faq.txt").write_text(
        "Frequently Asked Questions\n\nMLOps is the practice of running models in production.\n"
        "1. This numbered line is prose in a text file.\n",
        encoding="utf-8",
    )
    chunks, units = chunk_documents(load_corpus(tmp_path))
    by_source = {c.source for c in chunks}
    assert by_source == {ARTICLE, "extra-notes.md", "faq.txt"}
    extra = [c for c in chunks if c.source == "extra-notes.md"]
    assert [c.section for c in extra] == ["Hiring"]
    assert "Teams hire AI Engineers for product work." in extra[0].text
    faq = [c for c in chunks if c.source == "faq.txt"]
    assert faq and all(c.section == "Frequently Asked Questions" for c in faq)
    faq_text = " ".join(c.text for c in faq)
    assert "MLOps is the practice of running models in production." in faq_text
    assert "1. This numbered line is prose in a text file." in faq_text
    assert all(u.kind == "sentence" for u in units if u.source == "faq.txt")
    # The article's chunks are unchanged by the company.
    alone, _ = chunk_documents(load_corpus(config.corpus_dir()))
    assert [(c.kind, c.text, c.section) for c in chunks if c.source == ARTICLE] == [
        (c.kind, c.text, c.section) for c in alone
    ]


def test_ragged_table_rows_are_padded(tmp_path: Path) -> None:
    doc = Document(
        "t.md", "# T\n\n## Compare\n\n| Aspect | A | B |\n|---|---|---|\n| Speed | fast |\n| Cost | low | high |\n"
    )
    chunks, units = chunk_documents([doc])
    rows = [c for c in chunks if c.kind == "row"]
    assert [r.text.split(":")[0] for r in rows] == ["Speed", "Cost"]
    assert rows[0].text.startswith("Speed: A: fast.")
    assert rows[1].text == "Cost: A: low. B: high."
    assert all(len(u.cells) == 3 for u in units if u.kind == "row")


def test_markdown_is_read_as_commonmark_with_gfm_tables() -> None:
    chunks, units = chunk_documents([EDGE_CASES])
    assert [c.section for c in chunks] == ["Tools", "Tools", "Steps"]  # setext headings
    table, row, _ = chunks
    assert [(u.header, u.cells) for u in units if u.kind == "row"] == [
        (["Aspect", "A", "B"], ["Shells", "Bash | Zsh", "Fish"])  # an escaped pipe is inside a cell
    ]
    assert table.text.endswith("| Shells | Bash \\| Zsh | Fish |")  # and escaped again in the Markdown
    assert row.text == "Shells: A: Bash | Zsh. B: Fish."
    (listed,) = [u.text for u in units if u.kind == "list"]
    assert listed == "They do:\n\n- install the tools and check them\n- run it\n- twice"  # a lazy line is its item's


@pytest.mark.parametrize(
    "docs",
    [load_corpus(config.corpus_dir()), *(load_corpus(d) for d in sorted(FIXTURES.glob("*/corpus"))), [EDGE_CASES]],
    ids=lambda docs: docs[0].source,
)
def test_the_chunker_and_the_page_read_the_same_structure(docs: list[Document]) -> None:
    """Same sections, same table rows and cells, and every paragraph and list item of the page in its section's units."""
    chunks, units = chunk_documents(docs)
    blocks = render_article(docs).blocks
    headings = [b for b in blocks if b.key == key(b.section.split(PATH_SEPARATOR)[-1])]
    rows = [b for b in blocks if b.cells]
    prose = [b for b in blocks if b not in headings and b not in rows]
    assert {(c.source, c.section) for c in chunks} == {(b.source, b.section) for b in prose + rows}
    tables = [[units[uid] for uid in c.unit_ids] for c in chunks if c.kind == "table"]
    chunked_rows = [cells for t in tables for cells in [t[0].header, *(u.cells for u in t)]]
    assert [b.cells for b in rows] == [[key(cell) for cell in cells] for cells in chunked_rows]
    quoted: dict[tuple[str, str], str] = {}
    for unit in units:
        quoted[unit.source, unit.section] = quoted.get((unit.source, unit.section), "") + " " + key(unit.text)
    for block in prose:
        assert block.key in quoted[block.source, block.section], block
    shown = {
        (b.source, b.section): " ".join(x.key for x in prose if (x.source, x.section) == (b.source, b.section))
        for b in prose
    }
    for unit in units:
        if unit.kind == "sentence":
            assert key(unit.text) in shown[unit.source, unit.section], unit
