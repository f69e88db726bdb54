"""HTML and plain text for the web page: answers with numbered citations, the article, "How it works".

Everything here is a pure function of the engine's output (``Reply`` as plain dicts) and the corpus, so
it is tested without a browser. Markdown is rendered by markdown-it-py with raw HTML off: article text
and answers become markup only through the parser, never by pasting strings. User text never passes
through here as markup (the page shows it with ``web.as_text``); where it appears in "How it works"
it is escaped.

Citations link to the Article view as ``#passage-3.4``: the numbers of the article blocks (paragraphs,
list items, table rows) a source quotes. The page's script opens the Article tab at those blocks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from markdown_it.token import Token

from .blocks import Block as AnswerBlock
from .blocks import Offer, from_dict, inline_words, markdown, plain
from .chunking import PATH_SEPARATOR, markdown_parser, section_name, split_sentences
from .corpus import Document

QUOTE_CHARS = 140
"""A source's short quote under an answer: enough to recognise the passage, short enough for a phone."""

HOW_HITS = 5
"""Passages "How it works" shows as text for the last question (the trace keeps a few more)."""

_md = markdown_parser()  # the chunker's parser: the page shows the sections, lists and rows that answers quote
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]*-[\s:|-]*\|?\s*$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def key(text: str) -> str:
    """Text reduced for matching a quote to the article: no Markdown marks, lower case, single spaces."""
    lines = [line for line in text.splitlines() if not _TABLE_RULE.fullmatch(line)]
    flat = " ".join(_LIST_MARK.sub("", line).replace("|", " ") for line in lines)
    return " ".join(re.sub(r"[*_`]", "", flat).lower().split())


# ---------------------------------------------------------------- Markdown helpers


def _label_table_cells(tokens: list[Token]) -> None:
    """Each body cell gets its column's heading as a small label, shown only when a phone stacks the rows.

    Rows become cards below 640 px (CSS); the label keeps "Column heading: value" readable there. On wider
    screens the label is hidden (display: none), so screen readers hear the real header cells instead.
    """
    header: list[str] = []
    column = 0
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            token.attrJoin("class", "rb-table")
            header = []
        elif token.type == "th_open":
            header.append(tokens[i + 1].content)
        elif token.type == "tr_open":
            column = 0
        elif token.type == "td_open":
            inline = tokens[i + 1]
            if 0 < column < len(header) and inline.children is not None:
                label = Token("html_inline", "", 0)
                label.content = f'<span class="rb-cell-label">{html.escape(header[column])}</span>'
                inline.children.insert(0, label)
            column += 1


def _wrap_tables(tokens: list[Token]) -> list[Token]:
    """A table sits in a box that scrolls sideways if a cell still cannot fit, so the page never does."""
    out: list[Token] = []
    for token in tokens:
        if token.type == "table_open":
            out.append(_html_block('<div class="rb-table-wrap">'))
        out.append(token)
        if token.type == "table_close":
            out.append(_html_block("</div>"))
    return out


def _html_block(content: str) -> Token:
    token = Token("html_block", "", 0)
    token.content = content
    return token


def markdown_html(text: str, extra: str = "") -> str:
    """Article Markdown as HTML on one line; ``extra`` (HTML) is appended to the last paragraph or list item.

    One line, because the chat renders a message as Markdown first: a raw HTML block ends at a blank line.
    """
    tokens = _md.parse(text)
    _label_table_cells(tokens)
    if extra:
        last = tokens[-1].type if tokens else ""
        inline = next((t for t in reversed(tokens) if t.type == "inline"), None)
        if (
            last in ("paragraph_close", "bullet_list_close", "ordered_list_close")
            and inline
            and inline.children is not None
        ):
            marker = Token("html_inline", "", 0)
            marker.content = extra
            inline.children.append(marker)
        else:
            tokens.append(_html_block(f'<p class="rb-cites">{extra}</p>'))
    return _one_line(_md.renderer.render(_wrap_tables(tokens), _md.options, {}))


def _one_line(rendered: str) -> str:
    return re.sub(r"\s*\n\s*", " ", rendered).strip().replace("> <", "><")


def plain_text(markdown: str) -> str:
    """Markdown as plain text for the clipboard: no pipes, rules or emphasis marks.

    A table row reads "Row heading: Column heading: value; …"; lists keep
    their "- " or "1. " so the text still reads as a list.
    """
    lines: list[str] = []
    header: list[str] = []
    row: list[str] = []
    cells: list[str] | None = None  # where the next inline goes when inside a table cell
    lists: list[list] = []  # per open list: [ordered, counter]
    prefix = ""
    for token in _md.parse(markdown):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1) - 1])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                lines.append("")
        elif kind == "list_item_open":
            lists[-1][1] += 1
            ordered, count = lists[-1]
            prefix = "  " * (len(lists) - 1) + (f"{count}. " if ordered else "- ")
        elif kind == "thead_open":
            header = []
        elif kind == "tr_open":
            row = []
        elif kind == "th_open":
            cells = header
        elif kind == "td_open":
            cells = row
        elif kind in ("th_close", "td_close"):
            cells = None
        elif kind == "tr_close" and row:
            pairs = [f"{h}: {c}" if h else c for h, c in zip(header[1:], row[1:], strict=False)]
            lines.append(f"{row[0]}: " + "; ".join(pairs))
        elif kind == "table_close":
            lines.append("")
        elif kind == "inline":
            text = inline_words(token)
            if cells is not None:
                cells.append(text)
            elif prefix:
                lines.append(prefix + text)
                prefix = ""
            elif lists:
                lines.append("  " * len(lists) + text)
            else:
                lines += [text, ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def flat_quote(markdown: str) -> str:
    """A passage on one line for a short quote: list items joined by "; ", list and table marks dropped."""
    out = ""
    for line in plain_text(markdown).splitlines():
        line = _LIST_MARK.sub("", line).strip()
        if line:
            out += ("" if not out else " " if out.endswith((":", ".", "!", "?")) else "; ") + line
    return out


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` on one line, cut at a word boundary with "…" when longer than ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


# ---------------------------------------------------------------- the article


@dataclass
class Block:
    number: int
    source: str  # document file name
    section: str  # heading path, as the chunker writes it
    key: str
    cells: list[str] = field(default_factory=list)  # table rows: each cell's key
    name: str = ""  # table rows: the first cell as written ("Tech Stack")


@dataclass
class Article:
    """The corpus as HTML, every paragraph, list item, table row and heading numbered for citations."""

    html: str
    blocks: list[Block] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # document file name -> its title

    def passage(self, source: str, section: str, text: str) -> list[int]:
        """The numbers of the blocks that hold ``text`` (a source's quote) in that document and section.

        A block belongs to the quote when one of the quote's sentences or rows lies inside it (a quoted
        sentence of a longer paragraph) or the block lies inside the quote (a list item of a quoted list).
        Falls back to the section's heading, so a citation always lands somewhere sensible.
        """
        whole = key(text)
        pieces = [k for line in text.splitlines() for s in split_sentences(line) if len(k := key(s)) >= 12]
        found = []
        for block in self.blocks:
            if block.source != source or block.section != section or not block.key:
                continue
            if block.cells:  # a row belongs to a quoted table, or to its row sentence ("Row: Column: value.")
                inside_quote = all(cell in whole for cell in block.cells if cell)
            else:
                inside_quote = block.key in whole if len(block.key) >= 12 else block.key in pieces
            if inside_quote or any(piece in block.key for piece in pieces):
                found.append(block.number)
        if found:
            return found
        return [b.number for b in self.blocks if b.source == source and b.section == section][:1]

    def label(self, source: dict) -> str:
        """A passage's name: its heading, and for one table row also the row ("Difference › Tech Stack")."""
        heading = source["section"].split(PATH_SEPARATOR)[-1]
        numbers = self.passage(source.get("source", ""), source["section"], source["text"])
        names = [self.blocks[n - 1].name for n in numbers if self.blocks[n - 1].name]
        return f"{heading}{PATH_SEPARATOR}{names[0]}" if len(names) == 1 and len(numbers) == 1 else heading

    def link(self, source: dict) -> str:
        """The href a citation of ``source`` (a Source as a dict) uses."""
        numbers = self.passage(source.get("source", ""), source["section"], source["text"])
        return "#passage-" + ".".join(str(n) for n in numbers) if numbers else "#article"


def render_article(docs: list[Document]) -> Article:
    """Every document of the corpus as one HTML article view; Markdown files rendered, text files as lines."""
    article = Article("")
    parts = []
    for doc in docs:
        markdown = doc.source.lower().endswith(".md")
        body = _markdown_document(doc, article) if markdown else _text_document(doc, article)
        parts.append(f'<article class="rb-doc" aria-label="{html.escape(article.titles[doc.source])}">{body}</article>')
    article.html = "".join(parts)
    return article


def _markdown_document(doc: Document, article: Article) -> str:
    tokens = _md.parse(doc.text)
    _label_table_cells(tokens)
    headings: list[tuple[int, str]] = []
    in_item = 0
    cells: list[str] = []
    row_open: Token | None = None

    def number(token: Token, text: str, cells: list[str] | None = None) -> None:
        n = len(article.blocks) + 1
        token.attrSet("id", f"rb-b{n}")
        token.attrSet("tabindex", "-1")
        section = section_name([t for _, t in headings])
        name = cells[0] if cells else ""
        article.blocks.append(Block(n, doc.source, section, key(text), [key(c) for c in cells or []], name))

    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
            text = tokens[i + 1].content
            headings[:] = [(lvl, t) for lvl, t in headings if lvl < level] + [(level, text)]
            article.titles.setdefault(doc.source, text if level == 1 else doc.source)
            number(token, text)
        elif token.type == "list_item_open":
            if not in_item:
                number(token, _item_text(tokens, i))
            in_item += 1
        elif token.type == "list_item_close":
            in_item -= 1
        elif token.type == "paragraph_open" and not in_item:
            number(token, tokens[i + 1].content)
        elif token.type == "tr_open":
            row_open, cells = token, []
        elif token.type == "inline" and row_open is not None and tokens[i - 1].type in ("th_open", "td_open"):
            cells.append(token.content)
        elif token.type == "tr_close" and row_open is not None:
            number(row_open, " ".join(cells), cells)
            row_open = None
    article.titles.setdefault(doc.source, doc.source)
    return _md.renderer.render(_wrap_tables(tokens), _md.options, {})


def _item_text(tokens: list[Token], start: int) -> str:
    depth, texts = 0, []
    for token in tokens[start:]:
        if token.type == "list_item_open":
            depth += 1
        elif token.type == "list_item_close":
            depth -= 1
            if depth == 0:
                break
        elif token.type == "inline" and depth == 1:
            texts.append(token.content)
    return " ".join(texts)


def _text_document(doc: Document, article: Article) -> str:
    """A .txt document: its first line is the title (as the chunker reads it), each other line a paragraph."""
    lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
    title = lines[0] if lines else doc.source
    article.titles[doc.source] = title
    out = []
    for i, line in enumerate(lines):
        n = len(article.blocks) + 1
        article.blocks.append(Block(n, doc.source, title, key(line)))
        tag = "h1" if i == 0 else "p"
        out.append(f'<{tag} id="rb-b{n}" tabindex="-1">{html.escape(line)}</{tag}>')
    return "".join(out)


# ---------------------------------------------------------------- chat messages


def source_labels(sources: list[dict]) -> list[str]:
    """A name per source: its own heading, or its heading path where two sources share a heading."""
    labels = [s.get("heading") or s["section"].split(PATH_SEPARATOR)[-1] for s in sources]
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            labels[i] = sources[i]["section"]
    for i, label in enumerate(labels):
        if labels.count(label) > 1:
            labels[i] = f"{label} ({sources[i].get('source', '')})"
    return labels


def _marker(number: int, href: str, label: str) -> str:
    return (
        f'<a class="rb-cite" href="{html.escape(href)}" aria-label="Source {number}: {html.escape(label)}"'
        f' title="{html.escape(label)}">[{number}]</a>'
    )


def answer_html(turn: dict, article: Article) -> str:
    """The bot's message for one turn as one line of HTML: the answer with [n] markers, then its sources.

    A refusal shows the engine's own note and the first line of its offer; the offered questions become
    buttons under the message (web.py), so the offer's list is not repeated here. A hidden plain-text copy
    (``.rb-copy``) is what the page's copy button puts on the clipboard.
    """
    sources = turn.get("sources", [])
    labels = source_labels(sources)
    hrefs = [article.link(s) for s in sources]
    out = []
    for part in turn.get("parts", []):
        kind, block = part["kind"], _block(part)
        text = markdown(block) if block else part["text"]
        if kind in ("quote", "written"):  # "written": a language model's sentence (escaped by bot/writer.py)
            marks = "".join(
                _marker(n, hrefs[n - 1], labels[n - 1]) for n in part.get("sources", []) if 0 < n <= len(sources)
            )
            css = "rb-quote" if kind == "quote" else "rb-quote rb-written"
            out.append(f'<div class="{css}">{markdown_html(text, marks)}</div>')
        elif kind == "offer":
            if turn.get("suggestions"):  # the questions are buttons under the message
                text = block.lead if isinstance(block, Offer) else text.split("\n", 1)[0]
            out.append(f'<div class="rb-offer">{markdown_html(text)}</div>')
        else:
            out.append(f'<div class="rb-note">{markdown_html(text)}</div>')
    if not turn.get("parts"):
        out.append(f'<div class="rb-note">{markdown_html(turn.get("answer", ""))}</div>')
    if sources:
        items = []
        for n, (source, label, href) in enumerate(zip(sources, labels, hrefs, strict=True), 1):
            quote = html.escape(shorten(flat_quote(source["text"])))
            name = f"[{n}] {html.escape(label)}" if source.get("quoted", True) else f"Related: {html.escape(label)}"
            items.append(
                f'<li><a class="rb-source" href="{html.escape(href)}">{name}</a>'
                f' <span class="rb-source-quote">“{quote}”</span></li>'
            )
        out.append(f'<div class="rb-sources"><p class="rb-sources-title">Sources</p><ul>{"".join(items)}</ul></div>')
    kind = (
        ("rb-answer rb-partial" if turn.get("outcome") == "partial" else "rb-answer")
        if turn.get("in_scope")
        else ("rb-answer rb-declined" if turn.get("ok", True) else "rb-answer rb-error")
    )
    copy = html.escape(copy_text(turn)).replace("\n", "&#10;")  # a blank line would end the HTML block
    return f'<div class="{kind}">{"".join(out)}<div class="rb-copy" hidden>{copy}</div></div>'


def _block(part: dict) -> AnswerBlock | None:
    """A part's block (``Part.block`` as JSON); None for a part made without one (an error turn, an old one)."""
    return from_dict(part["block"]) if part.get("block") else None


def writing_html(text: str, note: str) -> str:
    """A language model's words while they arrive, before rolebot has checked them: plain text (escaped, so
    no Markdown or HTML of the model's takes effect) under ``note``, which says they are not checked yet. One
    line, like every message: a blank line would end the HTML block and let Markdown in."""
    body = html.escape(text).replace("\n", "<br>")
    return (
        f'<div class="rb-answer rb-writing" aria-busy="true"><p class="rb-writing-text">{body}</p>'
        f'<div class="rb-note"><p>{html.escape(note)}</p></div></div>'
    )


def copy_text(turn: dict) -> str:
    """What the copy button gives: the answer as plain text with its [n] markers, then a plain list of sources."""
    sources = turn.get("sources", [])
    labels = source_labels(sources)
    pieces = []
    for part in turn.get("parts", []) or [{"kind": "note", "text": turn.get("answer", ""), "sources": []}]:
        block = _block(part)
        text = plain(block) if block else plain_text(part["text"])
        if block is None and part["kind"] == "offer" and turn.get("suggestions"):
            lead = plain_text(part["text"].split("\n", 1)[0])
            text = "\n".join([lead, *(f"- {q}" for q in turn["suggestions"])])
        marks = "".join(f" [{n}]" for n in part.get("sources", []) if 0 < n <= len(sources))
        pieces.append(text + marks)
    if sources:
        lines = ["Sources:"]
        for n, (source, label) in enumerate(zip(sources, labels, strict=True), 1):
            name = f"[{n}] {label}" if source.get("quoted", True) else f"Related: {label}"
            lines.append(f"{name} — “{shorten(flat_quote(source['text']))}”")
        pieces.append("\n".join(lines))
    return "\n\n".join(pieces)


# ---------------------------------------------------------------- How it works

STEPS = (
    (
        "Find the passages.",
        "It searches the article for the passages closest to your question, both by meaning and by the "
        "words you used. A follow-up such as “and what tools do they use?” is read together with the "
        "conversation first.",
    ),
    (
        "Check that the article covers the question.",
        "If the article does not really answer it, rolebot says so and suggests questions it can answer, "
        "instead of guessing.",
    ),
    (
        "Quote it.",
        "The answer is made of the article's own sentences, list items and table rows. Each carries a "
        "number, [1], [2], that opens the place it came from in the Article tab.",
    ),
)


def how_html(turns: list[dict], article: Article, model: str = "", dimension: int = 0) -> str:
    """The "How it works" view: a fixed explanation, then what happened to the last question."""
    steps = "".join(f"<li><strong>{html.escape(t)}</strong> {html.escape(d)}</li>" for t, d in STEPS)
    out = [
        '<div class="rb-how">',
        '<h2 id="how-title">How rolebot answers</h2>',
        f'<ol class="rb-steps">{steps}</ol>',
        "<h2>Your last question</h2>",
    ]
    turn = turns[-1] if turns else None
    trace = turn.get("trace") if turn else None
    if not trace:
        out.append('<p class="rb-empty">Ask a question in the Chat tab: the passages found for it appear here.</p>')
        return "".join(out) + "</div>"
    out.append(f'<p class="rb-asked">“{html.escape(turn["question"])}”</p>')
    if trace["resolved_question"].strip() != turn["question"].strip():
        out.append(
            "<p>Read together with the conversation as: "
            f'<span class="rb-resolved">“{html.escape(trace["resolved_question"])}”</span></p>'
        )
    quoted = {s["chunk_id"] for s in turn["sources"] if s.get("quoted", True)}
    listed = {s["chunk_id"] for s in turn["sources"]}
    if turn["in_scope"]:
        count = len(quoted)
        out.append(
            f"<p>The article covers this question: the answer quotes {count} passage{'s' if count != 1 else ''}.</p>"
        )
    else:
        out.append(
            "<p>The article does not answer this question, so rolebot declined. "
            "These are still the closest passages; none of them was quoted.</p>"
        )
    items = []
    for hit in trace["hits"][:HOW_HITS]:
        label = article.label(hit)
        href = article.link({"source": hit.get("source", ""), "section": hit["section"], "text": hit["text"]})
        tag = ""
        if hit["chunk_id"] in quoted and turn["in_scope"]:
            tag = '<span class="rb-tag rb-tag-quoted">quoted in the answer</span>'
        elif hit["chunk_id"] in listed:
            tag = '<span class="rb-tag">listed as related</span>'
        items.append(
            f'<li><p class="rb-hit-head"><a class="rb-source" href="{html.escape(href)}">{html.escape(label)}</a> {tag}</p>'
            f'<div class="rb-passage">{markdown_html(hit["text"])}</div></li>'
        )
    out.append(f'<h3>Passages found, closest first</h3><ol class="rb-hits">{"".join(items)}</ol>')
    out.append(_technical(turn, trace, model, dimension))
    return "".join(out) + "</div>"


def _technical(turn: dict, trace: dict, model: str, dimension: int) -> str:
    """Scores, model and timings for the curious, collapsed: they rank passages, they are not confidence."""
    t = trace["timings_ms"]
    rows = "".join(
        f"<tr><td>{i}</td><td>{html.escape(h['section'])}</td><td>{h['dense']:.3f}</td>"
        f"<td>{h['bm25']:.2f}</td><td>{h['fused']:.3f}</td></tr>"
        for i, h in enumerate(trace["hits"], 1)
    )
    steps = (
        ("resolve", "rewrite a follow-up into a standalone question"),
        ("embed", "turn the question into a vector"),
        ("retrieve", "rank every passage by meaning and by keywords"),
        ("compose", "decide the scope and pick the sentences to quote"),
        ("total", "from question to answer"),
    )
    timing = "".join(
        f"<tr><td>{name}</td><td>{html.escape(what)}</td><td>{t.get(name, 0):.1f}</td></tr>" for name, what in steps
    )
    terms = html.escape(", ".join(trace["key_terms"])) or "–"
    uncovered = html.escape(", ".join(trace["uncovered_terms"])) or "–"
    vectors = f" ({dimension}-number vectors)" if dimension else ""
    return (
        '<details class="rb-tech"><summary>Technical details</summary>'
        f"<p>Embedding model: <code>{html.escape(model or 'unknown')}</code>{vectors}. Passages are ranked twice, "
        "by cosine similarity of the vectors (dense) and by BM25 keyword scores, and the two rankings are "
        "combined by reciprocal-rank fusion.</p>"
        f"<p>Key terms: {terms}. Not in the article: {uncovered}. "
        f"Scope decision: {'answer' if turn['in_scope'] else 'decline'} ({html.escape(trace['scope_reason'] or '–')})."
        + (" The message was cut at the length limit." if trace.get("truncated") else "")
        + "</p>"
        '<p class="rb-note-small">The fused score only orders passages (1.0 = ranked first by both searches); '
        "it does not say whether the article answers the question: a declined question's closest passage "
        "can score high too.</p>"
        '<div class="rb-table-wrap" tabindex="0" role="region" aria-label="Scores of the passages found">'
        '<table class="rb-scores"><thead><tr><th>#</th><th>passage</th>'
        "<th>dense</th><th>BM25</th><th>fused</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
        '<div class="rb-table-wrap" tabindex="0" role="region" aria-label="Time per step">'
        '<table class="rb-timings"><thead><tr><th>step</th><th>what it does</th>'
        f"<th>ms</th></tr></thead><tbody>{timing}</tbody></table></div>"
        "</details>"
    )
