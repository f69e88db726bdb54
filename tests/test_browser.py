"""The chat page in a real browser: Debian's headless Chromium driven by Playwright (never ``playwright install``).

Screenshots go to the git-ignored ``artifacts/``; with ROLEBOT_UPDATE_SCREENSHOT=1 the chat screenshot
also replaces ``docs/screenshot.png``, the picture in the README.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from helpers import free_port

from bot import EXAMPLE_QUESTIONS, feedback, web

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts"
ANSWER_TIMEOUT_MS = 30_000


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
        message = f"{CHROMIUM} is missing: `make browser` (as root) or `apt-get install chromium` installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, url):
    """A fresh page that may talk to the test server only; alerts and outside requests are recorded."""
    context = browser.new_context(viewport={"width": 1100, "height": 880})
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
    yield page
    context.close()
    assert page.outside == [], "the page fetched something from outside the app"


def bot_messages(page):
    return page.locator("#chat [data-testid='bot']")


def ask(page, text: str) -> None:
    count = bot_messages(page).count()
    box = page.locator("#question textarea")
    box.fill(text)
    box.press("Enter")
    bot_messages(page).nth(count).wait_for(timeout=ANSWER_TIMEOUT_MS)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def test_a_conversation_in_the_browser(page):
    assert page.get_by_role("heading", name="rolebot").is_visible()
    assert "AI Engineer" in page.locator("body").inner_text()
    for question in EXAMPLE_QUESTIONS:
        assert page.get_by_text(question, exact=True).first.is_visible()

    # An example question is asked as soon as it is clicked.
    page.get_by_text("What are the key responsibilities of an AI Engineer?", exact=True).first.click()
    first = bot_messages(page).first
    first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Designing & Developing AI Solutions" in first.inner_text()
    assert "Ethical AI & Bias Mitigation" in first.inner_text()
    sources = first.locator("details")
    assert sources.locator("summary").inner_text() == "Sources (3)"
    assert sources.get_attribute("open") is None  # collapsed until asked for
    assert not sources.locator("li").first.is_visible()
    sources.locator("summary").click()
    assert sources.locator("li").first.is_visible()
    assert "Roles & Responsibilities of an AI Engineer" in sources.locator("li").first.inner_text()
    assert "score" in sources.locator("li").first.inner_text()

    # A typed follow-up is read in the context of the conversation.
    ask(page, "and what tools do they use?")
    follow = bot_messages(page).nth(1)
    assert "OpenCV" in follow.inner_text() and "TensorFlow" in follow.inner_text()
    assert follow.locator("details summary").inner_text().startswith("Sources")
    sources.locator("summary").click()  # fold the first answer's sources again for the picture
    page.locator("#chat .bubble-wrap").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    page.wait_for_timeout(500)
    shot = screenshot(page, "chat.png")
    if os.environ.get("ROLEBOT_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "screenshot.png")

    # Thumbs up on the follow-up's answer lands in the feedback log.
    page.locator("#chat button[aria-label='Like']").last.click()
    deadline = time.monotonic() + 10
    while not feedback.read() and time.monotonic() < deadline:
        time.sleep(0.2)
    [vote] = feedback.read()
    assert vote["question"] == "and what tools do they use?" and vote["vote"] == "like"

    # "How it works" shows the last question's retrieval: resolved question, scores, timings.
    page.get_by_role("tab", name="How it works").click()
    summary = page.locator("#how-summary")
    summary.get_by_text("Resolved question").wait_for(timeout=5000)
    assert "and what tools do AI Engineers use?" in summary.inner_text()
    assert "total" in summary.inner_text()
    hits = page.locator("#how-hits")
    for header in ("dense", "BM25", "fused"):
        assert hits.get_by_text(header, exact=True).first.is_visible()
    assert "AI Engineer vs. ML Engineer" in hits.inner_text()
    screenshot(page, "how-it-works.png")

    # New chat: an empty conversation with the examples back.
    page.get_by_role("tab", name="Chat").click()
    page.locator("#new-chat").click()
    page.get_by_text(EXAMPLE_QUESTIONS[0], exact=True).first.wait_for(timeout=5000)
    assert bot_messages(page).count() == 0


def test_html_in_a_message_shows_as_text_and_runs_no_script(page):
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload)
    ask(page, "<svg onload=alert(2)></svg> **bold?**")
    page.wait_for_timeout(500)  # give a would-be onerror handler time to fire
    users = page.locator("#chat [data-testid='user']")
    assert users.nth(0).inner_text().strip() == payload
    assert users.nth(1).inner_text().strip() == "<svg onload=alert(2)></svg> **bold?**"
    assert page.locator("#chat img, #chat svg[onload]").count() == 0
    assert page.dialogs == []
    assert page.evaluate("window.__alerted") is False
    assert "Not covered by the article" in bot_messages(page).first.inner_text()
    screenshot(page, "html-as-text.png")


def test_an_empty_message_is_not_sent(page):
    page.locator("#question textarea").fill("   ")
    page.locator("#question textarea").press("Enter")
    page.get_by_text("The question is empty").first.wait_for(timeout=5000)  # a warning toast, not a message
    assert bot_messages(page).count() == 0
    assert page.locator("#chat [data-testid='user']").count() == 0


def test_a_refusal_offers_questions_to_click(page):
    ask(page, "What is the capital of France?")
    assert "Not covered by the article" in bot_messages(page).first.inner_text()
    offered = page.locator("#chat button.option")
    assert offered.count() >= 2
    question = offered.first.inner_text().strip()
    assert question in EXAMPLE_QUESTIONS
    offered.first.click()
    bot_messages(page).nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#chat [data-testid='user']").nth(1).inner_text().strip() == question
    assert "Not covered" not in bot_messages(page).nth(1).inner_text()
    assert page.locator("#chat button.option").count() == 0  # answered: no suggestions any more
