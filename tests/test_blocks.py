"""Answers as structured blocks (bot/blocks.py): what the composer builds, and their Markdown and plain text."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from bot import render
from bot.blocks import Item, Listing, Note, Offer, RowSentence, Sentences, Table, from_dict, listing, markdown, plain
from bot.chunking import chunk_documents
from bot.corpus import load_corpus

FIXTURES = Path(__file__).resolve().parent / "fixtures"

WHOLE = "How is an AI Engineer different from an ML Engineer?"
ONE_ROW = "What tools do ML engineers use?"
LIST = "Who do AI engineers work with?"
OFF_TOPIC = "How do I grow tomatoes?"


def test_a_whole_comparison_is_a_table_block_with_every_row(bot):
    reply = bot.ask(WHOLE)
    tables = [p.block for p in reply.parts if isinstance(p.block, Table)]
    assert len(tables) == 1
    table = tables[0]
    assert table.header == ["Aspect", "AI Engineer", "ML Engineer"]
    assert [row[0] for row in table.rows] == [
        "Primary Focus",
        "Skill Set",
        "Scope of Work",
        "Tech Stack",
        "Frameworks & Tools",
        "Deployment",
    ]
    assert ["Tech Stack", "Python, Java, C++", "Python, R"] in table.rows
    assert len(table.units) == 6 and table.sources
    assert plain(table).splitlines()[3] == "Tech Stack: AI Engineer: Python, Java, C++; ML Engineer: Python, R"


def test_one_row_is_the_bots_sentence_and_its_markdown_is_the_parts_text(bot):
    reply = bot.ask(ONE_ROW)
    assert [type(p.block) for p in reply.parts] == [RowSentence]
    part = reply.parts[0]
    block = part.block
    assert block.text.startswith("For ML Engineers, the article's comparison gives Frameworks & Tools as:")
    assert block.rows == [
        [
            "Frameworks & Tools",
            "TensorFlow, PyTorch, OpenCV, NLP libraries",
            "TensorFlow, PyTorch, Scikit-learn, XGBoost",
        ]
    ]
    assert markdown(block) == part.text == reply.answer
    assert block.sources == part.sources == [1]


def test_a_list_keeps_its_lead_in_and_items(bot):
    reply = bot.ask(LIST)
    block = reply.parts[0].block
    assert isinstance(block, Listing)
    assert block.lead == "AI Engineers work closely with:"
    assert [i.content.split(" (")[0] for i in block.items] == [
        "Data Scientists",
        "Software Engineers",
        "Product Managers",
    ]
    assert {i.marker for i in block.items} == {"-"}
    assert markdown(block) == reply.parts[0].text


def test_a_declined_question_is_a_note_and_an_offer_of_the_suggestions(bot):
    reply = bot.ask(OFF_TOPIC)
    assert reply.outcome == "declined"
    note, offer = (p.block for p in reply.parts)
    assert isinstance(note, Note) and isinstance(offer, Offer)
    assert offer.questions == reply.suggestions and offer.lead.startswith("I can answer questions about")
    assert reply.answer == f"{note.text}\n\n{markdown(offer)}"


@pytest.mark.parametrize("question", [WHOLE, ONE_ROW, LIST, OFF_TOPIC, "What does an AI Engineer do?"])
def test_every_part_carries_its_block_in_the_json(bot, question):
    reply = bot.ask(question)
    for part, data in zip(reply.parts, reply.to_dict()["parts"], strict=True):
        assert data["block"]["kind"] == part.block.kind
        assert data["block"]["sources"] == data["sources"]
        assert from_dict(data["block"]) == part.block
        assert markdown(from_dict(data["block"])) == data["text"]
        # The plain text from the structure is what the page's parser makes of the block's Markdown.
        assert plain(part.block) == render.plain_text(part.text) or part.kind == "offer"


def test_the_json_api_returns_the_blocks(bot):
    from starlette.testclient import TestClient

    from bot import api

    with TestClient(api.create_api(bot)) as client:
        data = client.post("/ask", json={"question": WHOLE}).json()
    assert [p["block"]["kind"] for p in data["parts"]] == ["sentences", "table"]
    assert data["parts"][1]["block"]["rows"][3] == ["Tech Stack", "Python, Java, C++", "Python, R"]


def test_the_page_and_the_copy_text_are_rendered_from_the_block(bot):
    turn = bot.ask(WHOLE).to_dict()
    for part in turn["parts"]:
        part["text"] = "stale"  # the block, not the part's Markdown, is what the shells render
    html = render.answer_html(turn, render.Article(""))
    assert "stale" not in html and '<table class="rb-table">' in html
    copy = render.copy_text(turn)
    assert "stale" not in copy and "Tech Stack: AI Engineer: Python, Java, C++; ML Engineer: Python, R" in copy


def test_an_item_with_a_title_of_its_own_is_split():
    text = "You need:\n\n1. **SQL**: The everyday language.\n2. Statistics"
    block = listing(text, [7])
    assert block == Listing(
        lead="You need:", items=[Item("1.", "The everyday language.", "SQL"), Item("2.", "Statistics")], units=[7]
    )
    assert markdown(block) == text
    assert plain(block) == "You need:\n\n1. SQL: The everyday language.\n2. Statistics" == render.plain_text(text)


def test_text_in_another_shape_stays_whole():
    text = "You need:\n\n- one\n\n- two"  # two blank lines: not the shape the chunker writes
    assert listing(text, [1]) == Sentences(sentences=[text], units=[1])


def test_every_list_of_every_fixture_article_is_a_listing():
    """The composer quotes list units whole: each must become a lead-in and items, with the unit's text as its
    Markdown and, as plain text, what the page's parser makes of that text."""
    count = 0
    for folder in sorted(FIXTURES.iterdir()):
        if not (folder / "corpus").is_dir():
            continue
        _, units = chunk_documents(load_corpus(folder / "corpus"))
        for unit in units:
            if unit.kind == "list":
                block = listing(unit.text, [unit.id])
                assert isinstance(block, Listing), unit.text
                assert markdown(block) == unit.text
                assert all(item.marker for item in block.items)
                assert plain(block) == render.plain_text(unit.text)  # "**SQL**: …" reads "SQL: …"
                count += 1
    assert count > 20


def test_blocks_round_trip_through_json():
    blocks = [
        Sentences(sentences=["A.", "B."], units=[1, 2], sources=[1]),
        Listing(lead="L:", items=[Item("-", "x", "T")], units=[3], sources=[2]),
        RowSentence(text="For X, …", header=["Aspect", "X"], rows=[["A", "b"]], units=[4]),
        Table(header=["Aspect", "X"], rows=[["A", "b"]], units=[4], sources=[1]),
        Note(text="_(cut)_"),
        Offer(lead="Ask:", questions=["Why?"]),
    ]
    for block in blocks:
        assert from_dict(asdict(block)) == block
    assert plain(blocks[4]) == "(cut)"
    assert markdown(blocks[5]) == "Ask:\n- Why?"


def test_a_titled_item_without_content_is_its_bold_title():
    """A list of item titles whose item runs long keeps the title alone: no dangling colon."""
    from bot.blocks import Item, Listing, markdown, plain

    block = Listing(
        lead="You need:", items=[Item("1.", "Python is essential.", "Programming"), Item("2.", "", "Maths")]
    )
    assert markdown(block) == "You need:\n\n1. **Programming**: Python is essential.\n2. **Maths**"
    assert plain(block).endswith("2. Maths")
