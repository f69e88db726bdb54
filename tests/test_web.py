"""The web app through its real HTTP interface (gradio_client against live servers on 127.0.0.1) and the
HTML it renders (bot/render.py), without a browser; tests/test_browser.py drives the page itself."""

from __future__ import annotations

import html
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError
from helpers import free_port
from hypothesis import given
from hypothesis import strategies as st

from bot import feedback, render, web
from bot.corpus import Document, load_corpus

XSS = "<img src=x onerror=alert(1)>"


def serve(app: gr.Blocks) -> str:
    """Launch ``app`` on a free loopback port without blocking; returns its URL."""
    _, url, _ = app.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **web.LAUNCH_OPTIONS
    )
    return url


@pytest.fixture(scope="module")
def url(bot):
    app = web.build_app(bot)
    yield serve(app)
    app.close()


@pytest.fixture
def client(url) -> Client:
    """A fresh client is a fresh browser session: its own conversation state."""
    return Client(url, verbose=False)


@pytest.fixture(scope="module")
def article(bot) -> render.Article:
    return render.render_article(load_corpus(bot.loaded.corpus))


def last_message(chat: list[dict]) -> str:
    return chat[-1]["content"][0]["text"]


def visible_text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: text outside the hidden plain-text copy."""

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hidden = 0
            self.out: list[str] = []

        def handle_starttag(self, tag, attrs):
            if self.hidden or ("hidden", None) in attrs:
                self.hidden += 1

        def handle_endtag(self, tag):
            if self.hidden:
                self.hidden -= 1

        def handle_data(self, data):
            if not self.hidden:
                self.out.append(data)

    reader = Reader()
    reader.feed(fragment)
    return " ".join("".join(reader.out).split())


def copied(fragment: str) -> str:
    """The plain text a bot message puts on the clipboard (its hidden .rb-copy)."""
    match = re.search(r'<div class="rb-copy" hidden>(.*?)</div></div>$', fragment, re.S)
    assert match, fragment
    return html.unescape(match.group(1))


def test_ask_returns_the_python_api_reply_as_json(client, bot):
    question = "What are the key responsibilities of an AI Engineer?"
    result = client.predict(question, api_name="/ask")
    assert result == bot.ask(question, []).to_dict()  # exactly Reply.to_dict(), whatever keys it has
    assert {"question", "answer", "in_scope", "sources", "parts", "suggestions"} <= set(result)
    assert result["in_scope"] is True
    assert "Data Processing & Feature Engineering" in result["answer"]
    assert result["sources"] and {"section", "text", "score", "heading", "chunk_id"} <= set(result["sources"][0])


def test_ask_rejects_an_empty_question_with_a_clear_message(client):
    with pytest.raises(AppError, match="question is empty"):
        client.predict("   \n ", api_name="/ask")


def test_ask_is_the_only_documented_endpoint(client):
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


def test_chat_answers_with_numbered_citations_and_named_sources(client, bot):
    question = "Who do AI Engineers work with?"
    chat, _box, how = client.predict(question, api_name="/chat")
    assert [m["role"] for m in chat] == ["user", "assistant"]
    reply = bot.ask(question, [])
    answer = last_message(chat)
    shown = visible_text(answer)
    assert "Data Scientists" in shown
    cited = sorted({n for part in reply.parts for n in part.sources})
    assert cited and [int(n) for n in re.findall(r'class="rb-cite"[^>]*>\[(\d+)\]', answer)] == [
        n for part in reply.parts for n in part.sources
    ]
    for n in cited:  # each marker has its source, named by the passage's own heading
        assert f"[{n}] {reply.sources[n - 1].heading}" in shown
    assert "score" not in shown.lower()  # scores belong to "How it works", in its technical details
    assert "Passages found" in how and "Technical details" in how


def test_follow_up_uses_the_conversation(client, bot):
    first = "What does an AI Engineer do?"
    follow = "and what tools do they use?"
    client.predict(first, api_name="/chat")
    chat, _, how = client.predict(follow, api_name="/chat")
    assert len(chat) == 4
    # The page passes the engine's own answers as history, so it matches the Python API turn for turn.
    earlier = bot.ask(first, [])
    expected = bot.ask(follow, [(first, earlier.answer)])
    assert expected.trace.resolved_question != follow  # "they" was resolved: without history it would not be
    assert html.escape(expected.trace.resolved_question) in how
    assert "OpenCV" in visible_text(last_message(chat))
    assert copied(last_message(chat)).startswith(render.plain_text(expected.parts[0].text))


def test_sessions_do_not_share_a_conversation(url):
    one, two = Client(url, verbose=False), Client(url, verbose=False)
    one.predict("Who do AI Engineers work with?", api_name="/chat")
    chat, *_ = two.predict("What do ML Engineers focus on?", api_name="/chat")
    assert len(chat) == 2


def test_a_refusal_says_why_in_the_engines_words_and_offers_questions_once(client, bot):
    question = "What is the capital of France?"
    chat, *_ = client.predict(question, api_name="/chat")
    reply = bot.ask(question, [])
    shown = visible_text(last_message(chat))
    for part in reply.parts:
        if part.kind == "note":
            assert part.text in shown
    for suggestion in reply.suggestions:
        assert suggestion not in shown  # offered once: as buttons, not also as a list in the bubble
    assert "Sources" not in shown  # nothing to cite
    offered = [option["value"] for option in chat[-1]["options"]]
    assert offered == reply.suggestions and set(offered) <= set(bot.profile.examples)
    chat, *_ = client.predict(offered[0], api_name="/chat")
    assert not chat[1]["options"] and not chat[-1]["options"]  # gone once the conversation moves on
    api = client.predict(question, api_name="/ask")
    assert api["in_scope"] is False and api["sources"] == []


def test_html_in_a_message_is_shown_as_text(client):
    chat, *_ = client.predict(XSS, api_name="/chat")
    shown = chat[0]["content"][0]["text"]
    assert "<" not in shown and ">" not in shown
    assert shown == "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;"  # Markdown renders this back to the literal text
    assert client.predict(XSS, api_name="/ask")["question"] == XSS  # the API returns plain text, not markup


def test_a_long_message_is_cut_with_a_notice(client):
    chat, *_ = client.predict("What tools do ML Engineers use? " + "x " * 3000, api_name="/chat")
    assert "cut to its first 2,000 characters" in visible_text(last_message(chat))
    assert len(chat[0]["content"][0]["text"]) < 2500  # the page shows what was answered, not 6,000 characters


def test_like_is_appended_to_the_feedback_log(url, client):
    question = "Who do AI Engineers work with?"
    chat, *_ = client.predict(question, api_name="/chat")
    # gradio_client cannot send event data, so this is what the browser posts when the thumb is clicked.
    body = {
        "data": [None],
        "event_data": {"index": 1, "value": [chat[1]["content"][0]], "liked": True},
        "session_hash": client.session_hash,
    }
    response = httpx.post(f"{url}gradio_api/run/feedback", json=body, timeout=30)
    assert response.status_code == 200, response.text
    [entry] = feedback.read()
    assert entry["question"] == question
    assert entry["vote"] == "like"
    assert entry["in_scope"] is True
    assert entry["source_ids"] and all(isinstance(i, int) for i in entry["source_ids"])
    assert entry["answer"] == client.predict(question, api_name="/ask")["answer"]  # the engine's text, not the HTML
    assert set(entry) == {"time", "turn_id", "question", "answer", "source_ids", "vote", "in_scope"}
    assert re.fullmatch(r"[0-9a-f]{12}", entry["turn_id"])  # the server's name for the turn voted on


def test_the_served_page_carries_its_own_link_preview_and_icon(url, bot):
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and int(page.headers["content-length"]) == len(page.content)
    text = page.text
    title, tagline = html.escape(f"rolebot: {bot.profile.title}"), html.escape(bot.profile.tagline)
    assert f"<title>{title}</title>" in text
    assert f'<meta property="og:description" content="{tagline}">' in text
    assert f'<meta name="description" content="{tagline}">' in text
    assert "Click to try out the app!" not in text and 'content="Gradio"' not in text  # Gradio's defaults
    assert "raw.githubusercontent.com" not in text  # no preview image fetched from elsewhere
    icon = httpx.get(f"{url}favicon.ico", timeout=10)
    assert icon.headers["content-type"] == "image/png" and icon.content.startswith(b"\x89PNG")


def test_files_outside_gradio_are_not_served(url):
    readme = Path(__file__).resolve().parent.parent / "README.md"
    for path in (readme, Path("/etc/passwd")):
        response = httpx.get(f"{url}gradio_api/file={path}", timeout=10)
        assert response.status_code in (403, 404), path


def test_the_queue_is_configured_explicitly(bot):
    app = web.build_app(bot)
    assert app._queue.max_size == web.QUEUE_SIZE
    assert app._queue.default_concurrency_limit == web.CONCURRENCY_LIMIT
    assert app.api_open is False  # no direct HTTP route around the queue's limits


class SlowBot:
    """The real engine, a second slower per question, so a handful of simultaneous requests overload the queue."""

    def __init__(self, bot) -> None:
        self.bot = bot

    def __getattr__(self, name):
        return getattr(self.bot, name)  # profile, loaded: what the page reads besides ask()

    def ask(self, question, history=None, top_k=3):
        time.sleep(1.0)
        return self.bot.ask(question, history, top_k)


def test_overload_gets_busy_try_again_not_a_hang(bot):
    app = web.build_app(SlowBot(bot), concurrency_limit=1, queue_size=1)
    url = serve(app)
    try:
        client = Client(url, verbose=False)
        jobs = [client.submit("Who do AI Engineers work with?", api_name="/ask") for _ in range(6)]
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(job.result(timeout=60)["in_scope"])
            except QueueError as error:
                outcomes.append(str(error))
        busy = [o for o in outcomes if isinstance(o, str)]
        assert busy and all("try again" in o for o in busy)
        assert True in outcomes  # the requests that fit were answered
        assert client.predict("Who do AI Engineers work with?", api_name="/ask")["in_scope"] is True  # recovered
    finally:
        app.close()


class BrokenBot:
    def ask(self, question, history=None, top_k=3):
        raise RuntimeError("index exploded at /secret/path")


def test_an_engine_failure_becomes_a_friendly_message(caplog):
    chat = web.WebChat(BrokenBot())
    messages, _box, turns, _how = chat.respond("What do AI Engineers do?", [])
    reply = visible_text(messages[-1]["content"])
    assert reply.startswith("Sorry, something went wrong") and "/secret/path" not in reply
    assert turns[-1]["ok"] is False and web.history(turns) == []  # a failed turn is not fed back as history
    assert "index exploded" in caplog.text and "What do AI Engineers do?" in caplog.text  # logged for us
    with pytest.raises(gr.Error) as raised:
        chat.ask("What do AI Engineers do?")
    assert "/secret/path" not in str(raised.value)


def test_an_empty_chat_message_changes_nothing(bot):
    chat = web.WebChat(bot)
    messages, box, turns, _ = chat.respond("   ", [])
    assert messages == [] and turns == [] and box == "   "  # nothing sent, the text goes back to be fixed


def test_a_second_question_while_one_is_answered_changes_nothing(bot):
    # The page's script sends "" when a question is still being answered: every output is left alone.
    assert all(isinstance(out, type(gr.skip())) for out in web.WebChat(bot).respond("", []))


def test_undo_takes_back_the_last_turn_and_returns_its_question(bot):
    chat = web.WebChat(bot)
    _, _, turns, _ = chat.respond("Who do AI Engineers work with?", [])
    _, _, turns, _ = chat.respond("What tools do ML Engineers use?", turns)
    messages, box, turns, _ = chat.undo(turns)
    assert len(messages) == 2 and len(turns) == 1 and box == "What tools do ML Engineers use?"
    messages, _, again, _ = chat.retry(turns)
    assert len(messages) == 2 and again[0]["question"] == "Who do AI Engineers work with?" and again[0]["trace"]


def test_a_like_on_a_user_message_or_a_bad_index_is_refused_and_writes_nothing(bot):
    chat = web.WebChat(bot)
    _, _, turns, *_ = chat.respond("Who do AI Engineers work with?", [])
    for index in (0, 3, -1, "x"):
        with pytest.raises(gr.Error, match="not one of this conversation's answers"):
            chat.like(turns, gr.LikeData(None, {"index": index, "value": "", "liked": True}))
    for liked in ("x" * 10_000, "LIKE", 1, {"a": 1}):
        with pytest.raises(gr.Error, match="like, dislike or cleared"):
            chat.like(turns, gr.LikeData(None, {"index": 1, "value": "", "liked": liked}))
    assert feedback.read() == []
    chat.like(turns, gr.LikeData(None, {"index": 1, "value": "", "liked": False}))
    assert [e["vote"] for e in feedback.read()] == ["dislike"]


def test_a_long_conversation_keeps_only_the_turns_the_engine_reads(bot):
    chat = web.WebChat(bot)
    turns: list[dict] = []
    for i in range(web.KEPT_TURNS + 5):
        messages, _, turns, _ = chat.respond(f"Who do AI Engineers work with? ({i})", turns)
    assert len(turns) == web.KEPT_TURNS == 20 and len(messages) == 2 * web.KEPT_TURNS
    assert turns[-1]["question"].endswith("(24)") and turns[0]["question"].endswith("(5)")
    assert len({t["id"] for t in turns}) == len(turns)


def test_turn_400_of_one_conversation_costs_what_turn_10_does(bot):
    """Each answer re-sends the conversation: kept to KEPT_TURNS turns, turn 400's response stays under 100 KB
    and takes no longer than turn 10's. The engine's replies are memoised: the page's own cost is measured."""
    import json
    import statistics

    replies: dict[str, object] = {}

    class Memo:
        def __getattr__(self, name):
            return getattr(bot, name)

        def ask(self, question, history=None, top_k=3):
            if question not in replies:
                replies[question] = bot.ask(question, history, top_k)
            return replies[question]

    chat = web.WebChat(Memo())
    questions = QUESTIONS[:4]  # long answers: lists and table rows
    turns: list[dict] = []
    at: dict[int, list[dict]] = {}
    for n in range(1, 400):
        _, _, turns, _ = chat.respond(questions[n % len(questions)], turns)
        if n in (9, 399):
            at[n + 1] = turns  # the conversation before turn 10 and before turn 400
    sizes, times = {}, {10: [], 400: []}
    for _ in range(15):  # interleaved, so a busy moment on a shared machine hits both alike
        for n in (10, 400):
            started = time.perf_counter()
            messages, _, _, how = chat.respond(questions[0], at[n])
            times[n].append(time.perf_counter() - started)
            sizes[n] = len(json.dumps([messages, how]).encode())
    assert sizes[400] <= 100_000, sizes
    assert statistics.median(times[400]) <= statistics.median(times[10]) * 1.25 + 0.003, times


def test_the_page_cuts_a_huge_question_before_anything_keeps_it(bot):
    seen = []

    class Recording:
        def __getattr__(self, name):
            return getattr(bot, name)

        def ask(self, question, history=None, top_k=3):
            seen.append(question)
            return bot.ask(question, history, top_k)

    chat = web.WebChat(Recording())
    _, _, turns, _ = chat.respond("What tools do ML Engineers use? " + "x" * 1_000_000, [])
    assert len(seen[0]) == 4 * 2000 and len(turns[0]["question"]) <= 2000
    assert "cut to its first 2,000 characters" in turns[0]["answer"]


def test_server_address_follows_gradio_and_spaces_conventions(monkeypatch):
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "SPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    assert web.server_address() == ("127.0.0.1", 7860)
    monkeypatch.setenv("SPACE_ID", "someone/rolebot")
    assert web.server_address() == ("0.0.0.0", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "127.0.0.2")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    assert web.server_address() == ("127.0.0.2", 8123)
    assert web.server_address("127.0.0.3", 9000) == ("127.0.0.3", 9000)


@given(st.text(max_size=200))
def test_user_text_never_becomes_markup(text):
    shown = web.as_text(text)
    assert "<" not in shown and ">" not in shown
    assert "*" not in shown.replace("\\*", "")  # no unescaped emphasis


QUESTIONS = [
    "How is an AI Engineer different from an ML Engineer?",
    "What tools and frameworks do ML Engineers use?",
    "Who do AI Engineers work with?",
    "How do AI Engineers optimize and deploy models?",
    "What skills do I need to become an AI Engineer?",
    "What is the salary of an AI engineer?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_an_answer_is_one_html_block_with_unique_sources_linked_to_their_passages(bot, article, question):
    turn = web._turn(bot.ask(question, []))
    fragment = render.answer_html(turn, article)
    assert "\n" not in fragment  # a newline could end Markdown's raw HTML block mid-way
    labels = re.findall(r'class="rb-source" href="[^"]*">(?:\[\d+\] |Related: )([^<]*)<', fragment)
    assert len(labels) == len(turn["sources"]) == len(set(labels))  # one line per source, no label twice
    ids = set(re.findall(r'id="rb-b(\d+)"', article.html))
    for href in re.findall(r'href="#passage-([\d.]+)"', fragment):
        assert set(href.split(".")) <= ids
    for source in turn["sources"]:  # a citation lands on blocks that hold what the source quotes
        blocks = article.passage(source["source"], source["section"], source["text"])
        quote = render.key(source["text"])
        held = [b.key for b in article.blocks if b.number in blocks]
        assert held and any((k and k in quote) or quote[:40] in k for k in held)


@pytest.mark.parametrize("question", QUESTIONS)
def test_copied_text_has_no_markup(bot, article, question):
    turn = web._turn(bot.ask(question, []))
    text = copied(render.answer_html(turn, article))
    assert text.strip()
    for markup in ("|", "<", ">", "---", "**", "&amp;", "&lt;"):
        assert markup not in text, (markup, text)
    if turn["sources"]:
        assert "\n\nSources:\n[1] " in text


def test_every_chunk_points_at_blocks_of_its_own_section(bot, article):
    for chunk in bot.index.chunks:
        blocks = article.passage(chunk.source, chunk.section, chunk.text)
        assert blocks, chunk.section
        assert all(article.blocks[n - 1].section == chunk.section for n in blocks)
        heading_only = len(blocks) == 1 and article.blocks[blocks[0] - 1].key == render.key(
            chunk.section.split(" › ")[-1]
        )
        assert not heading_only, f"chunk {chunk.id} found no passage, only its heading"


def test_table_rows_stack_with_their_column_names_for_phones():
    fragment = render.markdown_html("| Aspect | A | B |\n|---|---|---|\n| Focus | one | two |")
    assert '<table class="rb-table">' in fragment and '<div class="rb-table-wrap">' in fragment
    assert '<td><span class="rb-cell-label">A</span>one</td>' in fragment


def test_article_markdown_is_rendered_not_injected():
    article = render.render_article(
        [Document("a.md", "# T\n\nText <script>alert(1)</script> [x](javascript:alert(1))\n")]
    )
    assert "<script>" not in article.html and "&lt;script&gt;" in article.html
    assert 'href="javascript' not in article.html


def test_plain_text_reads_tables_and_lists():
    assert render.plain_text("| Aspect | A |\n|---|---|\n| Focus | *one* |") == "Focus: A: one"
    assert render.plain_text("Lead:\n\n- x\n- **y**") == "Lead:\n\n- x\n- y"
    assert render.plain_text("1. a\n2. b") == "1. a\n2. b"


def test_how_it_works_explains_before_any_question_and_hides_scores_in_details(bot, article):
    empty = render.how_html([], article, "some/model", 384)
    assert "Find the passages" in empty and "<table" not in empty and "some/model" not in empty
    turn = web._turn(bot.ask("What is the salary of an AI engineer?", []))
    full = render.how_html([turn], article, "some/model", 384)
    head, details = full.split('<details class="rb-tech">')
    assert "declined" in head and "some/model" not in head and "BM25" not in head and "0." not in visible_text(head)
    assert "some/model" in details and "fused" in details


def test_user_text_in_how_it_works_is_escaped(bot, article):
    turn = web._turn(bot.ask(XSS, []))
    assert "<img" not in render.how_html([turn], article) and "&lt;img" in render.how_html([turn], article)


def test_the_page_names_its_article_only_through_the_profile():
    root = Path(web.__file__).parent
    for path in [root / "web.py", root / "render.py", *sorted((root / "static").glob("*.*"))]:
        if path.suffix in (".py", ".js", ".css", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\b(AI|ML) Engineer", text, re.I), path
