"""End to end in headless Chromium (Debian's package, never a downloaded browser):
sign in, filter, open a ticket, resolve it step by step, see the history; a status change
that is not allowed and the message it gets; a phone number revealed; and no page breaks
the Content-Security-Policy."""
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
    """A page that records what the Content-Security-Policy made the browser refuse."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=web.base_url)
            page.csp_violations = []
            page.on("console", lambda message: "Content Security Policy" in message.text
                    and page.csp_violations.append(message.text))
            yield page
        finally:
            browser.close()


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/tickets")


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

    page.select_option("#assignee-choice", label="Lighting Officer (you) · Officer")
    page.fill("#assign-remark", "Lineman assigned")
    page.click("#assign-submit")
    page.wait_for_url(f"**/tickets/{number}?assigned=1")
    assert page.inner_text("#assignee") == "Lighting Officer (Officer)"
    for status, remark in (("in_progress", "Work started"), ("resolved", "New bulb fitted")):
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

    page.click("#language-switch")
    page.wait_for_selector("html[lang=hi]")
    assert "इतिहास" in page.content()
    assert ws.tickets.get(number).status == "resolved"
    assert page.csp_violations == []
    # The stylesheet is allowed: the header has its colour.
    assert page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor") == (
        "rgb(31, 59, 92)")


def test_a_status_change_that_is_not_allowed_shows_why_in_the_browser(web, page):
    ws = web.workspace
    number = ws.numbers["light_new"]
    sign_in(page, "light")
    page.goto(f"/tickets/{number}")

    # Rejecting needs a reason: the form is sent without one.
    page.select_option("#new-status", "rejected")
    page.click("#status-submit")
    page.wait_for_selector("#status-error")
    assert page.inner_text("#status-error") == (
        f"Cannot change {number} from “Registered” to “Rejected”: a reason (remark) is required "
        "to reject. Nothing was changed.")

    # A form left open while a colleague moved the ticket on: its choice is no longer a next step.
    ws.tickets.change_status(number, "assigned", "officer:colleague")
    page.goto(f"/tickets/{number}")
    page.select_option("#new-status", "in_progress")
    page.fill("#remark", "Lineman on the way")
    ws.tickets.change_status(number, "in_progress", "officer:colleague")
    page.click("#status-submit")
    page.wait_for_selector("#status-error")
    assert page.inner_text("#status-error") == (
        f"Cannot change {number} from “In progress” to “In progress”: that is not a next step "
        "from the current status. Nothing was changed.")
    assert page.input_value("#remark") == "Lineman on the way"  # what was typed is kept
    assert page.inner_text("#ticket-status") == "In progress"
    assert [e.actor for e in ws.tickets.history(number)] == ["citizen", "officer:colleague", "officer:colleague"]
    assert page.csp_violations == []


def test_an_officer_reveals_a_number_in_the_browser(web, page):
    ws = web.workspace
    number = ws.numbers["light_new"]
    sign_in(page, "light")
    page.goto(f"/tickets/{number}")
    assert page.inner_text("#citizen-phone") == "91xxxxxx0001"
    page.click("#reveal-phone")
    page.wait_for_selector("strong#citizen-phone")
    assert page.inner_text("#citizen-phone") == "919800000001"
    assert [r.username for r in ws.officers.phone_reveals(number)] == ["light"]
    assert page.csp_violations == []


def test_assigning_and_the_map_in_the_browser_in_hindi(web, page):
    """The desk assigns a lineman and looks at the map, in Hindi; the map's markers stand
    without tiles and with a tile server that cannot be reached (no internet here)."""
    ws = web.workspace
    number = ws.numbers["light_new"]
    lineman = ws.officers.create("ramesh", PASSWORD, "field_worker", "street_lighting",
                                 "Ramesh Kumar", whatsapp_number="919811100001")
    sign_in(page, "light")
    page.click("#language-switch")
    page.wait_for_selector("html[lang=hi]")
    page.click("#nav-unassigned")
    page.wait_for_url("**/tickets?assigned=none")
    assert number in page.inner_text("#ticket-table")
    page.click(f"text={number}")
    page.select_option("#assignee-choice", str(lineman.id))
    page.fill("#assign-remark", "आज ही देखें")
    page.click("#assign-submit")
    page.wait_for_url(f"**/tickets/{number}?assigned=1")
    assert "Ramesh Kumar को सौंपी गई" in page.inner_text("#assigned-message")
    assert "Ramesh Kumar को सौंपी गई: आज ही देखें" in page.inner_text("#history")
    assert ws.tickets.get(number).assignee_id == lineman.id

    for tiles in ("", "https://127.0.0.1:9/{z}/{x}/{y}.png"):  # none; unreachable
        web.app.ctx.settings.map_tile_url = tiles
        page.goto("/map")
        page.wait_for_selector("#map[data-markers='1']")
        assert "खुली शिकायतों का नक्शा" in page.inner_text("h1")
        assert page.locator("path.ticket-marker").count() == 1
        page.locator("path.ticket-marker").click(force=True)
        page.wait_for_selector(".leaflet-popup-content a")
        assert page.inner_text(".leaflet-popup-content a") == number
        assert page.locator("#ward-table tbody tr").count() == 3
    assert page.csp_violations == []
