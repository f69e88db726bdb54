"""An answer as structured blocks, and their two text forms: Markdown and plain text.

The composer (bot/answer.py) builds blocks from the article's units; the engine (bot/chat.py) cites them and
wraps each in a ``Part``. Markdown is made in one place, ``markdown`` below: it is what ``Reply.answer`` and
``Part.text`` carry, the public JSON's contract. The shells render the block itself at the edge: the page's HTML
(bot/render.py) and the copy button's and the OpenAI API's plain text (``plain``). ``Part.block`` carries the
structured form in the JSON (``dataclasses.asdict``), and ``from_dict`` reads it back.

Text inside a block is inline Markdown: the article's words as it writes them (``**Networking**``), the bot's
wording from bot/data/wording.toml (``_(…)_``), or a language model's words escaped by bot/writer.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .chunking import markdown_parser, markdown_table

if TYPE_CHECKING:
    from markdown_it.token import Token

_ITEM = re.compile(r"(\d+\.|-) (.*)")
"""A list unit's item line as bot/chunking.py writes it: "1. …" as the article numbers it, else "- …"."""

_TITLED = re.compile(r"\*\*([^*\n]+)\*\*: (.+)")
"""An item with a title of its own: "**Networking**: Understand TCP/IP…"."""


@dataclass
class Sentences:
    """The article's sentences from one section, run together (a bracketed "[UX Designers]" may stand in for
    an opening "They": the one word that is not the article's). A language model's checked sentence is one too."""

    kind: str = field(default="sentences", init=False)
    sentences: list[str] = field(default_factory=list)
    units: list[int] = field(default_factory=list)  # the article's units quoted (ids in index/chunks.json)
    sources: list[int] = field(default_factory=list)  # 1-based positions in Reply.sources


@dataclass
class Item:
    """One item of a list: its marker ("1." or "-"), and its title when the article gives it one."""

    marker: str
    content: str
    title: str = ""


@dataclass
class Listing:
    """A list as the article writes it: the lead-in sentence ("Product Managers work closely with:") and its items."""

    kind: str = field(default="list", init=False)
    lead: str = ""
    items: list[Item] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)


@dataclass
class RowSentence:
    """The bot's sentence from rows of the article's comparison table ("For UX Designers, the article's
    comparison gives Key Tools as: Figma, Miro, Maze, and Optimal Workshop."), with the rows it rests on (every
    column)."""

    kind: str = field(default="row_sentence", init=False)
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)


@dataclass
class Table:
    """Rows of the comparison table as a table: the whole comparison, one role's column when one is named."""

    kind: str = field(default="table", init=False)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)


@dataclass
class Note:
    """The bot's own sentence: what the article does not say, which role it calls another name, a cut message."""

    kind: str = field(default="note", init=False)
    text: str = ""
    sources: list[int] = field(default_factory=list)


@dataclass
class Offer:
    """With a refusal: a lead sentence and questions the article does answer."""

    kind: str = field(default="offer", init=False)
    lead: str = ""
    questions: list[str] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)


Block = Sentences | Listing | RowSentence | Table | Note | Offer

_KINDS: dict[str, type] = {
    cls.__dataclass_fields__["kind"].default: cls for cls in (Sentences, Listing, RowSentence, Table, Note, Offer)
}


def listing(text: str, units: list[int]) -> Listing | Sentences:
    """A list unit's text (bot/chunking.py: the lead-in, a blank line, one item a line) as a block. Text in
    another shape stays whole, so its Markdown is always the unit's text."""
    lead, _, lines = text.partition("\n\n") if "\n\n" in text else ("", "", text)
    matches = [_ITEM.fullmatch(line) for line in lines.split("\n")]
    if not all(matches):
        return Sentences(sentences=[text], units=units)
    items = []
    for match in matches:
        marker, body = match.groups()
        titled = _TITLED.fullmatch(body)
        items.append(Item(marker, titled.group(2), titled.group(1)) if titled else Item(marker, body))
    block = Listing(lead=lead, items=items, units=units)
    return block if markdown(block) == text else Sentences(sentences=[text], units=units)


def from_dict(data: dict) -> Block:
    """A block from its JSON form (``dataclasses.asdict``), as the page keeps it per turn."""
    values = {k: v for k, v in data.items() if k != "kind"}
    if data.get("kind") == "list":
        values["items"] = [Item(**item) for item in values.get("items", [])]
    return _KINDS[data["kind"]](**values)


# ---------------------------------------------------------------- Markdown: Reply.answer and Part.text


def markdown(block: Block) -> str:
    """The block as Markdown: the only place the engine's answers become Markdown."""
    if isinstance(block, Sentences):
        return " ".join(block.sentences)
    if isinstance(block, Listing):
        lines = "\n".join(_item_markdown(item) for item in block.items)
        return f"{block.lead}\n\n{lines}" if block.lead else lines
    if isinstance(block, Table):
        return markdown_table(block.header, block.rows)
    if isinstance(block, Offer):
        return "\n".join([block.lead, *(f"- {q}" for q in block.questions)])
    return block.text  # RowSentence, Note


def _item_markdown(item: Item) -> str:
    return f"{item.marker} {_item_body(item)}" if item.marker else _item_body(item)


def _item_body(item: Item) -> str:
    if item.title:
        return f"**{item.title}**: {item.content}" if item.content else f"**{item.title}**"
    return item.content


# ---------------------------------------------------------------- plain text: the clipboard, the OpenAI API


def plain(block: Block) -> str:
    """The block as plain text: no emphasis marks, pipes or rules. A table row reads "Key Tools: UX Designer:
    Figma, Miro; UI Designer: Sketch"; a list keeps its "- " or "1. " so it still reads as one."""
    if isinstance(block, Sentences):
        return inline_text(" ".join(block.sentences))
    if isinstance(block, Listing):
        lines = []
        for item in block.items:
            body = inline_text(_item_body(item))
            lines.append(f"{item.marker} {body}" if item.marker else body)
        items = "\n".join(lines)
        return f"{inline_text(block.lead)}\n\n{items}" if block.lead else items
    if isinstance(block, Table):
        header = [inline_text(h) for h in block.header]
        lines = []
        for row in block.rows:
            cells = [inline_text(c) for c in row]
            pairs = [f"{h}: {c}" if h else c for h, c in zip(header[1:], cells[1:], strict=False)]
            lines.append(f"{cells[0]}: " + "; ".join(pairs))
        return "\n".join(lines)
    if isinstance(block, Offer):
        return "\n".join([inline_text(block.lead), *(f"- {q}" for q in block.questions)])
    return inline_text(block.text)  # RowSentence, Note


def inline_text(text: str) -> str:
    """Inline Markdown as the words it shows, parsed by markdown-it (the page's parser): "**SQL**" → "SQL"."""
    return "".join(inline_words(token) for token in markdown_parser().parseInline(text)).strip()


def inline_words(inline: Token) -> str:
    """The words of markdown-it's inline token, without their marks."""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts).strip()
