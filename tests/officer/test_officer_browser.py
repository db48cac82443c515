"""End to end in headless Chromium (Debian's package, never a downloaded browser):
sign in, filter, open a ticket, resolve it step by step, see the history."""
from __future__ import annotations

import os
import shutil

import pytest
from officer_support import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

if not os.path.exists(CHROMIUM):
    pytest.skip(f"Chromium not installed at {CHROMIUM} (run scripts/install_chromium.sh)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture
def page(web):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(base_url=web.base_url)
        finally:
            browser.close()


def test_officer_resolves_a_ticket_in_the_browser(web, page, fake_rasa):
    ws = web.workspace
    number = ws.numbers["light_w5"]

    page.goto("/tickets")
    assert page.url.endswith("/login?next=%2Ftickets")
    page.fill("#username", "light")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/tickets")

    page.select_option("#filter-ward", "5")
    page.click("#filter-submit")
    page.wait_for_url("**/tickets?*ward=5*")
    rows = page.locator("#ticket-table tbody tr")
    assert rows.count() == 1
    page.click(f"text={number}")
    page.wait_for_url(f"**/tickets/{number}")

    for status, remark in (("assigned", "Lineman assigned"), ("in_progress", "Work started"),
                           ("resolved", "New bulb fitted")):
        page.select_option("#new-status", status)
        page.fill("#remark", remark)
        page.click("#status-submit")
        page.wait_for_url(f"**/tickets/{number}?changed={status}")
        assert "Status changed to" in page.inner_text("#changed-message")

    assert page.inner_text("#ticket-status") == "Resolved"
    history = page.inner_text("#history")
    for text in ("Registered", "Assigned", "In progress", "Resolved", "officer:light",
                 "Lineman assigned", "New bulb fitted"):
        assert text in history
    assert page.locator("#notifications tbody tr").count() == 3

    # A step that is not allowed shows a clear message and changes nothing.
    page.select_option("#new-status", "closed")
    page.click("#language-switch")
    page.wait_for_selector("html[lang=hi]")
    assert "इतिहास" in page.content()
    assert ws.tickets.get(number).status == "resolved"
