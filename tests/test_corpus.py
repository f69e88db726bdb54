"""bot/corpus.py: reading the corpus folder, its errors, its fingerprint, and the article's own words."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bot import config
from bot.corpus import corpus_files, fingerprint, load_corpus
from bot.errors import CorpusError

ARTICLE = "ai-engineer-vs-ml-engineer.md"
# The original article as it was handed over, committed so that the check below runs in every checkout.
ORIGINAL = Path(__file__).resolve().parent / "fixtures" / "ai-engineer-vs-ml-engineer" / "original.txt"
# Where it was handed over: a copy of shared/ beside the clone (CI keeps one; a developer's checkout may not).
SEED = config.PROJECT_ROOT.parent / "shared" / "seed" / "ai-engineer-vs-ml-engineer.txt"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(config.corpus_dir() / ARTICLE, folder / ARTICLE)
    return folder


def test_repo_corpus_is_the_article() -> None:
    docs = load_corpus(config.corpus_dir())
    assert [d.source for d in docs] == [ARTICLE]
    assert docs[0].text.startswith("# Understanding the Role of an AI Engineer")


def test_md_and_txt_files_are_read_in_name_order(corpus: Path) -> None:
    (corpus / "b-notes.txt").write_text("Notes\nAI Engineers like tea.\n", encoding="utf-8")
    (corpus / "a-extra.md").write_text("# Extra\n\nML Engineers like coffee.\n", encoding="utf-8")
    (corpus / "ignored.json").write_text("{}", encoding="utf-8")
    (corpus / "sub.md").mkdir()  # a folder is not a document, whatever its name
    assert [d.source for d in load_corpus(corpus)] == ["a-extra.md", ARTICLE, "b-notes.txt"]


def test_line_endings_and_bom_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "doc.md").write_bytes("\ufeff# Title\r\n\r\nOne line.\rTwo line.\r\n".encode())
    (doc,) = load_corpus(tmp_path)
    assert doc.text == "# Title\n\nOne line.\nTwo line.\n"


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "readme.rst").write_text("not a corpus file", encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(str(tmp_path))):
        load_corpus(tmp_path)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        corpus_files(tmp_path / "nope")


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n"])
def test_empty_file_is_an_error_naming_it(corpus: Path, content: bytes) -> None:
    (corpus / "blank.md").write_bytes(content)
    with pytest.raises(CorpusError, match=r"empty.*blank\.md"):
        load_corpus(corpus)


def test_non_utf8_file_is_an_error_naming_it(corpus: Path) -> None:
    (corpus / "latin1.txt").write_bytes("Caf\xe9 for AI Engineers\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"UTF-8.*latin1\.txt"):
        load_corpus(corpus)


def test_unreadable_file_is_an_error_naming_it(corpus: Path) -> None:
    locked = corpus / "locked.md"
    locked.write_text("# Locked\n\nSecret.\n", encoding="utf-8")
    locked.chmod(0)
    try:
        try:
            locked.open("rb").close()
        except PermissionError:
            pass
        else:  # root (CAP_DAC_OVERRIDE) reads whatever the mode: use a regular file whose read fails instead
            if not Path("/proc/self/mem").is_file():
                pytest.skip("cannot make an unreadable file here")
            locked.unlink()
            locked.symlink_to("/proc/self/mem")  # a regular file; reading it from offset 0 fails with EIO
        with pytest.raises(CorpusError, match=r"Cannot read.*locked\.md"):
            load_corpus(corpus)
    finally:
        if not locked.is_symlink():
            locked.chmod(0o644)


def test_fingerprint_follows_bytes_not_mtimes(corpus: Path) -> None:
    before = fingerprint(corpus)
    os.utime(corpus / ARTICLE, (1_000_000, 1_000_000))
    assert fingerprint(corpus) == before
    with (corpus / ARTICLE).open("a", encoding="utf-8") as handle:
        handle.write("\nOne more sentence.\n")
    assert fingerprint(corpus) != before


def test_fingerprint_changes_when_a_file_is_added_or_renamed(corpus: Path) -> None:
    before = fingerprint(corpus)
    (corpus / ARTICLE).rename(corpus / "renamed.md")
    renamed = fingerprint(corpus)
    assert renamed != before
    (corpus / "second.txt").write_text("Title\nMore.\n", encoding="utf-8")
    assert fingerprint(corpus) not in (before, renamed)


def _plain(line: str) -> str:
    """A line without Markdown syntax: headings, bullets and table pipes go; words and punctuation stay."""
    line = line.strip()
    line = re.sub(r"^#{1,6}\s+", "", line)
    line = re.sub(r"^[-•*]\s+", "", line)
    if line.startswith("|"):
        line = " | ".join(cell.strip() for cell in line.strip("|").split("|"))
    return re.sub(r"\s+", " ", line)


def test_corpus_keeps_the_articles_words() -> None:
    """Every line of the original article is in the Markdown, and the Markdown adds no words of its own."""
    if SEED.is_file():  # the committed copy is still the one handed over
        assert ORIGINAL.read_bytes() == SEED.read_bytes()
    original = [_plain(line) for line in ORIGINAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    markdown = [_plain(line) for line in (config.corpus_dir() / ARTICLE).read_text(encoding="utf-8").splitlines()]
    markdown = [line for line in markdown if line and not re.fullmatch(r"[|\s:-]+", line)]  # table rules
    assert [line for line in original if line not in markdown] == []
    assert [line for line in markdown if line not in original] == []
    assert len(markdown) == len(original)
