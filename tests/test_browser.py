"""The chat page in a real browser: Debian's headless Chromium driven by Playwright (never ``playwright install``).

One server and one browser per module; each test opens its own context (a fresh visitor). The views are
checked on a phone (390x844) and a desktop (1280x800), in light and dark themes, with axe-core
(`make browser` installs it under .cache/npm). Screenshots go to the git-ignored ``artifacts/``; with
ROLEBOT_UPDATE_SCREENSHOT=1 the light ones also replace ``docs/screenshot.png`` and
``docs/screenshot-phone.png``, the pictures in the README.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import CHROMIUM, free_port, unavailable

from bot import config, feedback, render, web

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The iframe test stands a page "on huggingface.co" in front of rolebot on 127.0.0.1. Chromium's Local Network
    # Access checks block a public page from framing a loopback address at all (chrome-error), which says nothing
    # about rolebot's own headers: a real Space is served from a public address. Only those checks are turned off;
    # the frame-ancestors CSP is still enforced (the same test checks that another site cannot frame the page).
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
    "PrivateNetworkAccessRespectPreflightResults,PrivateNetworkAccessSendPreflights",
]
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts"
ANSWER_TIMEOUT_MS = 30_000
PHONE = (390, 844)
DESKTOP = (1280, 800)
LONG = "What are the key responsibilities of an AI Engineer?"  # a long list: taller than a phone screen
TABLE = "How is an AI Engineer different from an ML Engineer?"  # the contrast, then the whole comparison table
REFUSED = "What is the salary of an AI engineer?"


@pytest.fixture(scope="module")
def url(bot):
    app = web.build_app(bot)
    _, address, _ = app.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, **web.LAUNCH_OPTIONS
    )
    yield address
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: `sudo apt-get install chromium` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@contextmanager
def visitor(browser, url: str, size: tuple[int, int] = DESKTOP, scheme: str = "light"):
    """A fresh page that may talk to the test server only; alerts and outside requests are recorded."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
    page = context.new_page()
    page.outside, page.dialogs = [], []

    def local_only(route):
        if route.request.url.startswith(url.rstrip("/")):
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    # A second witness besides the dialog handler: any alert() call at all sets this flag.
    page.add_init_script("window.__alerted = false; window.alert = () => { window.__alerted = true; };")
    page.goto(url, wait_until="load")
    page.locator("#question textarea").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("#chat button.example").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()
    assert page.outside == [], "the page fetched something from outside the app"


@pytest.fixture
def page(browser, url):
    with visitor(browser, url) as opened:
        yield opened


def bot_messages(page):
    return page.locator("#chat [data-testid='bot']")


def user_messages(page):
    return page.locator("#chat [data-testid='user']")


def ask(page, text: str):
    """Type ``text``, press Enter and wait for its answer; returns the answer's locator."""
    count = bot_messages(page).count()
    box = page.locator("#question textarea")
    box.fill(text)
    box.press("Enter")
    answer = bot_messages(page).nth(count)
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(150)  # the page's script scrolls on the next animation frame
    return answer


def screenshot(page, name: str, docs: str | None = None) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    if docs and os.environ.get("ROLEBOT_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(path, ROOT / "docs" / docs)
    return path


def axe(page, view: str) -> None:
    """axe-core finds no serious or critical violation (WCAG contrast, names, roles) in the current view."""
    if not AXE.exists():
        unavailable(f"axe-core is missing: `make browser` installs it under {AXE.parent} (with npm)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))"""
    )
    assert found == [], f"axe-core in {view}: {found}"


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width} px wide)"


def assert_top_visible(page, element, what: str) -> None:
    """The top of ``element`` is on screen: inside the window and inside the chat's visible area."""
    box = element.bounding_box()
    chat = page.locator("#chat .bubble-wrap").bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and chat is not None
    assert max(0, chat["y"]) - 2 <= box["y"] <= min(height, chat["y"] + chat["height"]) - 40, (
        f"{what} starts at y={box['y']:.0f}, the chat shows y={chat['y']:.0f}..{chat['y'] + chat['height']:.0f}"
    )


def words_broken_across_lines(locator) -> list[str]:
    """Words that the browser split over two lines (each piece of a word gets its own rectangle)."""
    return locator.evaluate(
        """root => {
            const broken = [];
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (!node.parentElement.offsetParent) continue;
                for (const match of node.textContent.matchAll(/[^\\s]+/g)) {
                    if (match[0].includes("-")) continue;  // "Scikit-learn" may wrap at its hyphen
                    const range = document.createRange();
                    range.setStart(node, match.index);
                    range.setEnd(node, match.index + match[0].length);
                    const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                    if (lines.size > 1) broken.push(match[0]);
                }
            }
            return broken;
        }"""
    )


VIEWS = [(PHONE, "light"), (PHONE, "dark"), (DESKTOP, "light"), (DESKTOP, "dark")]


@pytest.mark.parametrize(("size", "scheme"), VIEWS, ids=[f"{w}x{h}-{s}" for (w, h), s in VIEWS])
def test_reading_answers_their_sources_and_the_article(browser, url, bot, size, scheme):
    name = f"{'phone' if size == PHONE else 'desktop'}-{scheme}"
    with visitor(browser, url, size, scheme) as page:
        # The opening view: examples and the question box on screen without scrolling, nothing sideways.
        for element in (page.locator("#chat button.example").first, page.locator("#question textarea")):
            box = element.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= size[1], "the opening view is cut"
        assert page.get_by_text(bot.profile.tagline).first.is_visible()
        assert "Conversation" not in page.locator("#chat").inner_text()  # no floating label over the messages
        no_sideways_scroll(page)
        axe(page, f"the empty chat ({name})")

        # A long answer is shown from its start, under its question.
        answer = ask(page, LONG)
        assert_top_visible(page, user_messages(page).last, "the question")
        assert_top_visible(page, answer, "the answer")
        # After scrolling back up, the next answer still opens in view (it used to land below the screen).
        page.locator("#chat .bubble-wrap").evaluate("el => { el.scrollTop = 0; }")
        answer = ask(page, TABLE)
        assert_top_visible(page, answer, "the second answer")
        no_sideways_scroll(page)
        assert words_broken_across_lines(answer.locator("table")) == []
        if size == PHONE:  # the comparison row is a card: row heading, then each column's name and value
            assert answer.locator("tr").last.evaluate("tr => getComputedStyle(tr).display") == "block"
            assert answer.locator(".rb-cell-label").first.is_visible()

        # Citations: [n] markers match a list of distinct sources, each named by its own heading.
        labels = answer.locator("a.rb-source").all_inner_texts()
        assert labels and len(labels) == len(set(labels))
        reply = bot.ask(TABLE, [])
        assert labels[0] == f"[1] {reply.sources[0].heading}"
        assert answer.locator("a.rb-cite").first.inner_text() == "[1]"
        page.wait_for_timeout(200)
        screenshot(page, f"chat-{name}.png", docs={"phone-light": "screenshot-phone.png"}.get(name))
        axe(page, f"the chat with answers ({name})")

        # "How it works" for anyone: the steps, then the passages as text; numbers only in the collapsed details.
        page.get_by_role("tab", name="How it works").click()
        how = page.locator("#how")
        how.get_by_text("Find the passages").wait_for(timeout=5000)
        assert how.locator(".rb-hits li").count() >= 3
        assert not how.locator(".rb-tech table").first.is_visible()  # collapsed until asked for
        no_sideways_scroll(page)
        axe(page, f"How it works ({name})")
        how.locator(".rb-tech summary").click()
        assert "BM25" in how.locator(".rb-tech").inner_text()
        axe(page, f"How it works, technical details open ({name})")
        screenshot(page, f"how-{name}.png")

        # A source opens the Article view at its passage, highlighted and on screen.
        page.get_by_role("tab", name="Chat").click()
        answer.locator("a.rb-source").first.click()
        page.locator("#article .rb-hl").first.wait_for(state="attached", timeout=5000)
        page.wait_for_timeout(100)
        assert page.get_by_role("tab", name="Article").get_attribute("aria-selected") == "true"
        shown = [
            (box, text)
            for row in page.locator("#article .rb-hl").all()
            if (box := row.bounding_box()) and box["height"] > 2 and (text := row.inner_text())
        ]
        assert any("Scikit-learn" in text for _, text in shown)  # the quoted table row, not just its header
        # Opened at the passage: its first highlighted piece is on screen (several table rows as phone cards
        # can be taller than the screen together).
        first = shown[0][0]
        assert first["y"] >= 0 and first["y"] + first["height"] <= size[1], "highlight off screen"
        no_sideways_scroll(page)
        axe(page, f"the Article view ({name})")
        screenshot(page, f"article-{name}.png")
        page.get_by_role("link", name="Back to the conversation").click()  # no need to scroll up to the tabs
        assert page.get_by_role("tab", name="Chat").get_attribute("aria-selected") == "true"
        box = page.locator("#question textarea").bounding_box()
        assert box and box["y"] + box["height"] <= size[1]
        if name == "desktop-light":
            page.locator("#chat .bubble-wrap").evaluate("el => { el.scrollTop = 0; }")
            ask(page, "Who do AI Engineers work with?")  # prose and a list, each with its [n]
            page.mouse.move(0, 0)
            screenshot(page, "chat-desktop-citations.png", docs="screenshot.png")


def test_copy_gives_the_answer_and_its_sources_as_plain_text(browser, url, bot):
    with visitor(browser, url) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        for question in (TABLE, "Who do AI Engineers work with?", REFUSED):
            answer = ask(page, question)
            answer.hover()
            page.locator("#chat .message-buttons-left button[title^='Copy']").last.click()
            page.wait_for_timeout(200)
            text = page.evaluate("navigator.clipboard.readText()")
            for markup in ("|", "<", ">", "---", "**", "&amp;", "&#"):
                assert markup not in text, (markup, text)
            if question == TABLE:  # a table comes out as "Aspect: Role: cell" lines, as render.copy_text makes them
                first_line = render.copy_text(bot.ask(TABLE).to_dict()).splitlines()[0]
                assert (
                    text.startswith(first_line)
                    and "Tech Stack: AI Engineer: Python, Java, C++; ML Engineer: Python, R" in text
                )
            if question != REFUSED:
                assert "\n\nSources:\n[1] " in text
        typed = "Do AI Engineers use C++ (or R) & <TensorFlow>?"  # stored escaped (web.as_text), copied as typed
        ask(page, typed)
        user_messages(page).last.hover()
        page.locator("#chat .message-buttons-right button[title^='Copy']").last.click()
        page.wait_for_timeout(200)
        assert page.evaluate("navigator.clipboard.readText()") == typed


def test_a_question_shows_at_once_with_a_typing_indicator_on_a_slow_network(browser, url):
    with visitor(browser, url) as page:
        page.evaluate(
            """() => { window.__seen = {};
            new MutationObserver(() => {
              for (const [name, selector] of [["question", "#chat [data-testid=user]"], ["typing", "#chat .pending"],
                                              ["answer", "#chat [data-testid=bot]"]])
                if (!window.__seen[name] && document.querySelector(selector)) window.__seen[name] = performance.now();
            }).observe(document.body, {subtree: true, childList: true}); }"""
        )
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 1000, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        page.locator("#question textarea").fill(LONG)
        page.evaluate("window.__sent = performance.now()")
        page.locator("#question textarea").press("Enter")
        bot_messages(page).first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        seen = page.evaluate(
            "Object.fromEntries(Object.entries(window.__seen).map(([k, t]) => [k, t - window.__sent]))"
        )
        assert seen["question"] < 500 and seen["typing"] < 500, seen  # no round trip before the echo
        assert seen["answer"] > 1000, seen  # the answer did wait for the network
        assert page.locator("#question textarea").input_value() == ""

        # Without the delay: Enter to answer on screen, measured in the page, for the README's figures.
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        timings = []
        for question in ("Who do AI Engineers work with?", TABLE, REFUSED, "and what about AI Engineers?"):
            count = bot_messages(page).count()
            page.locator("#question textarea").fill(question)
            page.evaluate(
                """count => { window.__answered = new Promise(done => { const start = performance.now();
                  const seen = () => document.querySelectorAll("#chat [data-testid=bot]").length > count;
                  new MutationObserver((_, observer) => { if (seen()) { observer.disconnect(); done(performance.now() - start); } })
                    .observe(document.body, {subtree: true, childList: true}); }); }""",
                count,
            )
            page.locator("#question textarea").press("Enter")
            timings.append(page.evaluate("window.__answered"))
        print(f"\nEnter to answer on screen: {', '.join(f'{t:.0f} ms' for t in timings)}")


def test_a_question_the_server_never_got_goes_back_into_the_box(page):
    page.route("**/gradio_api/queue/join*", lambda route: route.fulfill(status=503, body="busy"))
    page.locator("#question textarea").fill(TABLE)
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(f"document.querySelector('#question textarea').value === {TABLE!r}", timeout=10_000)
    assert user_messages(page).count() == 0  # the echo was taken back
    page.unroute("**/gradio_api/queue/join*")
    ask(page, TABLE)  # and it can be sent again at once
    assert user_messages(page).count() == 1


def test_votes_expose_their_state_and_reach_the_feedback_log(page):
    ask(page, "Who do AI Engineers work with?")
    like = page.locator("#chat button[aria-label='Like']").last
    dislike = page.locator("#chat button[aria-label='Dislike']").last
    assert like.get_attribute("aria-pressed") == "false" and dislike.get_attribute("aria-pressed") == "false"
    assert like.bounding_box()["x"] < dislike.bounding_box()["x"]  # thumbs up comes first
    like.click()
    page.wait_for_function(
        "document.querySelector(\"#chat button[aria-label='Like']\").getAttribute('aria-pressed') === 'true'"
    )
    deadline = time.monotonic() + 10
    while not feedback.read() and time.monotonic() < deadline:
        time.sleep(0.2)
    [vote] = feedback.read()
    assert vote["question"] == "Who do AI Engineers work with?" and vote["vote"] == "like"


def test_retry_undo_and_new_chat(page, bot):
    ask(page, "Who do AI Engineers work with?")
    ask(page, TABLE)
    page.locator("#chat button[aria-label='Undo']").click()
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=bot]').length === 1")
    assert page.locator("#question textarea").input_value() == TABLE  # back in the box, to be changed
    page.locator("#chat button[aria-label='Retry']").click()
    page.wait_for_timeout(500)
    bot_messages(page).first.wait_for()
    assert user_messages(page).count() == 1 and "Data Scientists" in bot_messages(page).first.inner_text()
    page.get_by_role("button", name="New chat").click()
    page.locator("#chat button.example").first.wait_for(timeout=5000)
    assert bot_messages(page).count() == 0
    assert page.locator("#chat button[aria-label='Clear']").is_hidden()  # one way to start over, not two


def test_a_refusal_explains_and_offers_questions_once_on_the_bots_side(page, bot):
    answer = ask(page, REFUSED)
    reply = bot.ask(REFUSED, [])
    text = answer.inner_text()
    assert reply.parts[0].text in text
    offered = page.locator("#chat button.option")
    assert offered.all_inner_texts() == reply.suggestions
    for suggestion in reply.suggestions:
        assert suggestion not in text  # not also listed in the bubble
    chat = page.locator("#chat").bounding_box()
    assert offered.first.bounding_box()["x"] < chat["x"] + chat["width"] / 3  # on the bot's (left) side
    question = reply.suggestions[0]
    offered.first.click()
    bot_messages(page).nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert user_messages(page).nth(1).inner_text().strip() == question
    assert page.locator("#chat button.option").count() == 0  # answered: no suggestions any more


def test_a_long_paste_keeps_send_on_screen_and_warns_before_the_limit(browser, url):
    limit = config.max_question_chars()
    with visitor(browser, url, PHONE) as page:
        box = page.locator("#question textarea")
        box.fill("What tools do ML Engineers use?\n" * 120)
        page.wait_for_timeout(200)
        assert box.bounding_box()["height"] < 140  # a few lines, then it scrolls
        send = page.get_by_role("button", name="Send question")
        assert send.is_visible() and send.bounding_box()["y"] + send.bounding_box()["height"] <= PHONE[1]
        counter = page.locator("#rb-counter")
        assert f"/ {limit:,} characters: only the first {limit:,} will be read" in counter.inner_text()
        box.fill("x" * int(limit * 0.5))
        assert counter.inner_text() == ""  # quiet far from the limit
        box.fill("x" * int(limit * 0.9))
        assert counter.inner_text() == f"{int(limit * 0.9):,} / {limit:,} characters"


def test_the_page_names_itself_and_its_controls(page, bot, url):
    assert page.title() == f"rolebot: {bot.profile.title}"
    assert page.get_by_role("textbox", name="Your question").count() == 1
    assert page.get_by_role("button", name="Send question").count() == 1
    assert page.get_by_role("button", name="New chat").count() == 1
    assert page.locator("#question textarea").get_attribute("placeholder") == bot.profile.placeholder
    for question in bot.profile.examples:
        assert page.get_by_text(question, exact=True).first.is_visible()
    icon = page.request.get(f"{url}favicon.ico")
    assert icon.ok and icon.headers["content-type"] == "image/png"
    assert icon.body() == (ROOT / "bot" / "static" / "favicon.png").read_bytes()
    html = page.request.get(url).text()
    assert f'content="{bot.profile.tagline}"' in html  # og:description for link previews, before any script runs
    page.locator("#question textarea").focus()
    ring = page.locator("#question").evaluate("el => getComputedStyle(el).boxShadow")
    assert ring != "none" and "3px" in ring  # the focused box is visibly focused


def test_html_in_a_message_shows_as_text_and_runs_no_script(page):
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload)
    ask(page, "<svg onload=alert(2)></svg> **bold?**")
    page.wait_for_timeout(500)  # give a would-be onerror handler time to fire
    assert user_messages(page).nth(0).inner_text().strip() == payload
    assert user_messages(page).nth(1).inner_text().strip() == "<svg onload=alert(2)></svg> **bold?**"
    assert page.locator("#chat img, #chat svg[onload]").count() == 0
    assert page.dialogs == []
    assert page.evaluate("window.__alerted") is False
    assert re.search(r"doesn.t|does not", bot_messages(page).first.inner_text())  # declined in the engine's words
    page.get_by_role("tab", name="How it works").click()
    assert "<svg onload=alert(2)></svg> **bold?**" in page.locator("#how .rb-asked").inner_text()  # text there too
    assert page.locator("#how img").count() == 0
    screenshot(page, "html-as-text.png")


def test_an_empty_message_is_not_sent(page):
    page.locator("#question textarea").fill("   ")
    page.locator("#question textarea").press("Enter")
    page.get_by_text("The question is empty").first.wait_for(timeout=5000)  # a warning toast, not a message
    assert bot_messages(page).count() == 0
    assert user_messages(page).count() == 0


# --- framed on Hugging Face (issue 26) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(bot):
    """The page wired as ``web.launch()`` wires it, security headers included (``url`` above has Gradio's own)."""
    from helpers import serve_site

    app, address = serve_site(bot)
    yield address
    app.close()


def framed(browser, site: str, outer: str):
    """A page at ``outer`` (served by the test, never fetched) that shows ``site`` in an iframe, as a Space's
    page on huggingface.co does; requests anywhere else are refused."""
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    page = context.new_page()
    frame_html = (
        f'<!doctype html><title>Space</title><iframe id="space" src="{site}" width="1200" height="760"></iframe>'
    )

    def serve(route):
        if route.request.url == outer:
            route.fulfill(status=200, content_type="text/html", body=frame_html)
        elif route.request.url.startswith(site.rstrip("/")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", serve)
    page.goto(outer, wait_until="load")
    return context, page


def test_the_page_works_inside_a_hugging_face_iframe_and_no_other_site_frames_it(browser, site):
    context, page = framed(browser, site, "https://huggingface.co/spaces/someone/rolebot")
    try:
        space = page.frame_locator("#space")
        box = space.locator("#question textarea")
        box.wait_for(timeout=ANSWER_TIMEOUT_MS)
        box.fill("Who do AI Engineers work with?")
        box.press("Enter")
        space.get_by_text("Data Scientists").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    finally:
        context.close()
    context, page = framed(browser, site, "https://elsewhere.example/")
    try:
        time.sleep(2)
        [frame] = [f for f in page.frames if f != page.main_frame]
        assert frame.url.startswith("chrome-error://") or frame.locator("#question").count() == 0
    finally:
        context.close()
