"""Read the knowledge base: every ``.md`` and ``.txt`` file in the corpus folder is one document."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError

SUFFIXES = (".md", ".txt")
PROFILE_FILE = "rolebot.toml"
"""The corpus profile (bot/profile.py): not a document, but part of the fingerprint."""


@dataclass(frozen=True)
class Document:
    source: str  # file name, reported to users as the source
    text: str


def corpus_files(folder: Path) -> list[Path]:
    """The corpus files in a stable order (the order decides chunk ids, so it must not vary)."""
    if not folder.is_dir():
        raise CorpusError(f"Corpus folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise CorpusError(f"No .md or .txt files in the corpus folder {folder}")
    return files


def load_corpus(folder: Path) -> list[Document]:
    """Read every corpus file; an unreadable or empty file is an error that names it."""
    docs = []
    for path in corpus_files(folder):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"Corpus file is not UTF-8 text: {path} ({exc.reason})") from exc
        except OSError as exc:
            raise CorpusError(f"Cannot read corpus file {path}: {exc.strerror or exc}") from exc
        text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        if not text.strip():
            raise CorpusError(f"Corpus file is empty: {path}")
        docs.append(Document(source=path.name, text=text))
    return docs


def fingerprint(folder: Path) -> str:
    """A hash of the corpus files' (and the profile's) names and bytes: the index is stale when it changes.

    Reading bytes (not mtimes) keeps a fresh git clone, whose mtimes are new, from looking stale.
    """
    digest = hashlib.sha256()
    profile = folder / PROFILE_FILE
    for path in corpus_files(folder) + ([profile] if profile.is_file() else []):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CorpusError(f"Cannot read corpus file {path}: {exc.strerror or exc}") from exc
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()
