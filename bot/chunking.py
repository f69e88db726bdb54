"""Structure-aware chunking: Markdown sections → chunks of whole sentences, plus answer units.

A *chunk* is what retrieval ranks; a *unit* is what an answer quotes: one sentence, a lead-in
sentence with its list, or one table row. Every chunk knows its heading path, which is also
embedded, so "5. Optimizing & Deploying AI Models" helps find its terse bullet list.

The Markdown is read by markdown-it-py (``markdown_parser``), the parser the page renders the article with,
so a section, list or table row here is the one the Article tab shows. ``.txt`` files are read line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from .corpus import Document

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

CHUNKER_VERSION = "3"  # bump when chunks, units or their tokens change: the index is rebuilt
MAX_CHUNK_CHARS = 700
PATH_SEPARATOR = " › "

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
"""A Markdown ATX heading line: its level and text. For profile.py's look at the raw text (title, question
headings); the chunker and the page read headings from markdown-it's tokens (``markdown_parser``)."""
_BULLET = re.compile(r"^[-*+•]\s+(.*)$")  # a list item of a plain-text file
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# A sentence ends at . ! ? (optionally closed by a quote or bracket) before white space and a capital,
# a digit or an opening quote; common abbreviations are not ends.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]?\s+(?=[A-Z0-9\"“‘(])")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "Mr.", "Ms.", "Dr.", "No.", "approx.")


@dataclass
class Unit:
    """A quotable piece of the article: a sentence, a lead-in with its list, or a table row."""

    id: int
    kind: str  # "sentence" | "list" | "row"
    text: str  # Markdown as shown to users, verbatim from the article
    source: str
    section: str
    header: list[str] = field(default_factory=list)  # table header (rows only)
    cells: list[str] = field(default_factory=list)  # table cells (rows only)

    @property
    def embed_text(self) -> str:
        if self.kind == "row":
            return row_sentence(self.header, self.cells)
        return f"{self.section.split(PATH_SEPARATOR)[-1]}: {self.text}"


@dataclass
class Chunk:
    """A retrievable passage with its source file and heading path."""

    id: int
    kind: str  # "text" | "table" | "row"
    text: str
    source: str
    section: str
    unit_ids: list[int] = field(default_factory=list)

    @property
    def embed_text(self) -> str:
        return f"{self.section}\n{self.text}"


@dataclass
class _Block:
    kind: str  # "paragraph" | "list" | "table"
    lines: list[str] = field(default_factory=list)  # a paragraph's lines, a list's items
    lead: str = ""  # for lists: the sentence that introduces them
    rows: list[list[str]] = field(default_factory=list)  # for tables: the header's cells, then each row's


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences without breaking at "e.g." and similar abbreviations."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start() + 1].rstrip()
        if candidate.endswith(_ABBREVIATIONS):
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def row_sentence(header: list[str], cells: list[str]) -> str:
    """A table row as a self-contained sentence: "Tech Stack: SRE: Go, Python. DevOps Engineer: Python, Bash." """
    parts = [f"{name}: {value.rstrip('.')}." for name, value in zip(header[1:], cells[1:], strict=False)]
    return f"{cells[0]}: " + " ".join(parts)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """Cells as a Markdown table; a "|" inside a cell is escaped again, as the article wrote it."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), "|" + "|".join("---" for _ in header) + "|", *(line(row) for row in rows)])


@cache
def markdown_parser() -> MarkdownIt:
    """The one reader of the article's Markdown: CommonMark with GFM tables, raw HTML off.

    The chunker takes its sections, lists and tables from this parser's tokens and the page (render.py)
    renders the same tokens, so what answers quote and what the Article tab shows are one reading.
    """
    from markdown_it import MarkdownIt  # here, not at the top: answering imports this module but parses nothing

    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(["table", "strikethrough"])


def _parse(doc: Document) -> list[tuple[list[str], _Block]]:
    """Blocks with the heading path they sit under, in document order."""
    if doc.source.lower().endswith(".md"):
        return _markdown_blocks(doc.text)
    return _text_blocks(doc.text)


def _markdown_blocks(text: str) -> list[tuple[list[str], _Block]]:
    tokens = markdown_parser().parse(text)
    headings: list[tuple[int, str]] = []
    out: list[tuple[list[str], _Block]] = []
    items: list[list[str]] = []  # the open list's items, nested ones included, each as its paragraphs
    open_items: list[int] = []  # indexes into items of the list items now open, innermost last
    lists = 0  # lists now open, nested ones included
    list_start = 0  # the token that opened the outermost one
    table: _Block | None = None

    def path() -> list[str]:
        return [text for _, text in headings]

    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1:])
            headings = [(lvl, text) for lvl, text in headings if lvl < level] + [(level, tokens[i + 1].content)]
        elif kind in ("bullet_list_open", "ordered_list_open"):
            list_start = list_start if lists else i
            lists += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
            if not lists:  # a nested list is flattened into the outer one: its items follow their parent
                lead = ""
                after_paragraph = list_start > 0 and tokens[list_start - 1].type == "paragraph_close"
                if after_paragraph and out and out[-1][1].kind == "paragraph":
                    lead = " ".join(out.pop()[1].lines)  # the paragraph travels with its list as the lead-in
                lines = [" ".join(item) for item in items if item]
                if lines:
                    out.append((path(), _Block("list", lines, lead=lead)))
                items = []
        elif kind == "list_item_open":
            open_items.append(len(items))
            items.append([])
        elif kind == "list_item_close":
            open_items.pop()
        elif kind == "table_open" and not lists:
            table = _Block("table")
        elif kind == "table_close" and table is not None:
            out.append((path(), table))
            table = None
        elif kind == "tr_open" and table is not None:
            table.rows.append([])
        elif kind == "inline" and table is not None:
            table.rows[-1].append(token.content)
        elif kind == "inline" and lists:
            items[open_items[-1]].append(" ".join(_lines(token)))
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            out.append((path(), _Block("paragraph", _lines(token))))
    return out


def _lines(inline: Token) -> list[str]:
    return [line.strip() for line in inline.content.split("\n")]


def _text_blocks(text: str) -> list[tuple[list[str], _Block]]:
    """A plain-text file: its first line is the title, every other line a paragraph, lines of "- " or "• "
    a list (a text file's "1." is prose) and lines of "|" a table. Not Markdown, so not markdown-it's."""
    title: list[str] = []
    out: list[tuple[list[str], _Block]] = []
    current: _Block | None = None  # the open list or table
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if not title:
            title = [line]
            continue
        if line.startswith("|"):
            if current is None or current.kind != "table":
                current = _Block("table")
                out.append((title, current))
            if not _TABLE_RULE.match(line):
                current.rows.append([cell.strip() for cell in line.strip("|").split("|")])
            continue
        item = _BULLET.match(line)
        if item:
            if current is None or current.kind != "list":
                lead = " ".join(out.pop()[1].lines) if out and out[-1][1].kind == "paragraph" else ""
                current = _Block("list", lead=lead)
                out.append((title, current))
            current.lines.append(item.group(1).strip())
            continue
        current = None
        out.append((title, _Block("paragraph", [line])))
    return out


def _child_headings(blocks: list[tuple[list[str], _Block]]) -> dict[tuple[str, ...], list[str]]:
    """For each heading path, the headings of its direct subsections, in order."""
    children: dict[tuple[str, ...], list[str]] = {}
    for path, _ in blocks:
        if len(path) > 1:
            siblings = children.setdefault(tuple(path[:-1]), [])
            if path[-1] not in siblings:
                siblings.append(path[-1])
    return children


def section_name(path: list[str]) -> str:
    """A heading path as chunks and the page name it. The document title is dropped below the first level:
    "Roles & … › 5. Optimizing …" reads better."""
    return PATH_SEPARATOR.join(path[1:] if len(path) > 1 else path)


def chunk_documents(docs: list[Document]) -> tuple[list[Chunk], list[Unit]]:
    """Chunks (what retrieval ranks) and units (what answers quote) for all documents."""
    chunks: list[Chunk] = []
    units: list[Unit] = []

    def add_unit(kind: str, text: str, source: str, section: str, **table: list[str]) -> int:
        units.append(Unit(len(units), kind, text, source, section, **table))
        return len(units) - 1

    def add_chunk(kind: str, text: str, source: str, section: str, unit_ids: list[int]) -> None:
        chunks.append(Chunk(len(chunks), kind, text, source, section, unit_ids))

    for doc in docs:
        pending: list[tuple[str, list[int]]] = []  # (text, unit ids) of the section's running chunk
        pending_section = ""
        blocks = _parse(doc)
        children = _child_headings(blocks)

        def flush(pending: list[tuple[str, list[int]]], source: str, section: str) -> None:
            if pending:
                text = "\n\n".join(t for t, _ in pending)
                add_chunk("text", text, source, section, [u for _, ids in pending for u in ids])
                pending.clear()

        for position, (path, block) in enumerate(blocks):
            section = section_name(path)
            last_in_section = position + 1 == len(blocks) or blocks[position + 1][0] != path
            if (
                block.kind == "paragraph"
                and last_in_section
                and children.get(tuple(path))
                and " ".join(block.lines).endswith(":")
            ):
                # "Here are some of their key responsibilities:" leads into the numbered subsections:
                # their headings become its list, so "what are the responsibilities?" has a whole answer.
                block = _Block("list", list(children[tuple(path)]), lead=" ".join(block.lines))
            if section != pending_section:
                flush(pending, doc.source, pending_section)
                pending_section = section
            if block.kind == "table":
                flush(pending, doc.source, pending_section)
                header, *rows = block.rows
                row_ids = []
                for row in rows:
                    uid = add_unit("row", markdown_table(header, [row]), doc.source, section, header=header, cells=row)
                    row_ids.append(uid)
                add_chunk("table", markdown_table(header, rows), doc.source, section, row_ids)
                for row, uid in zip(rows, row_ids, strict=True):
                    add_chunk("row", row_sentence(header, row), doc.source, section, [uid])
                continue
            if block.kind == "list":
                sentences = split_sentences(block.lead) if block.lead else []
                lead_sentence = sentences.pop() if sentences else ""
                items = "\n".join(item if re.match(r"^\d+\. ", item) else f"- {item}" for item in block.lines)
                pieces = [(s, [add_unit("sentence", s, doc.source, section)]) for s in sentences]
                list_text = f"{lead_sentence}\n\n{items}" if lead_sentence else items
                pieces.append((list_text, [add_unit("list", list_text, doc.source, section)]))
                paragraph_text = " ".join(s for s in sentences)
                block_text = f"{paragraph_text} {list_text}".strip() if paragraph_text else list_text
            else:
                sentences = split_sentences(" ".join(block.lines))
                pieces = [(s, [add_unit("sentence", s, doc.source, section)]) for s in sentences]
                block_text = " ".join(sentences)
            size = sum(len(t) for t, _ in pending)
            if pending and size + len(block_text) > MAX_CHUNK_CHARS:
                flush(pending, doc.source, pending_section)
            if len(block_text) <= MAX_CHUNK_CHARS:
                pending.append((block_text, [u for _, ids in pieces for u in ids]))
                continue
            for text, ids in pieces:  # a long block is split between sentences, never inside one
                if pending and sum(len(t) for t, _ in pending) + len(text) > MAX_CHUNK_CHARS:
                    flush(pending, doc.source, pending_section)
                pending.append((text, ids))
        flush(pending, doc.source, pending_section)
    return chunks, units
