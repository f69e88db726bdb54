"""Render bot/static/favicon.svg to the PNG the web page serves as its favicon (browsers and Gradio's PWA
manifest resize a PNG; not every consumer reads SVG). Uses the same headless Chromium as the browser tests.

    .venv/bin/python scripts/make_favicon.py
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "bot" / "static"
SIZE = 180  # large enough for a home-screen icon; browsers scale it down for the tab

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
    page = browser.new_page(viewport={"width": SIZE, "height": SIZE})
    svg = (
        (STATIC / "favicon.svg")
        .read_text(encoding="utf-8")
        .replace('width="64" height="64"', f'width="{SIZE}" height="{SIZE}"')
    )
    page.set_content(f"<html><body style='margin:0;background:transparent'>{svg}</body></html>")
    page.locator("svg").screenshot(path=str(STATIC / "favicon.png"), omit_background=True)
    browser.close()
