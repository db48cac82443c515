"""The whole loop of issue 17 on real processes: a citizen complains on WhatsApp → the desk
officer assigns it in the browser → the field worker gets it on WhatsApp with the location pin
and the citizen's photo → taps "Done" and sends a photo → the citizen gets the resolution with
that photo and rates it. `rasa run` with the WhatsApp channel and the trained model, an
action server, the officers' workspace, headless Chromium and a fake Graph API, on loopback."""
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from whatsapp_citizen import PHONE_NUMBER_ID, RASA_TOKEN, Citizen, WhatsAppStack

from channels.fake_graph import inbound_message

from conftest import MODEL
from whatsapp_support import LoopThread

NUMBER = re.compile(r"SRN-\d{6}")
LINEMAN = "919811122233"
PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
REPLY_TIMEOUT = 60.0


@pytest.fixture
def stack(tmp_path):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not installed at {CHROMIUM} (run scripts/install_chromium.sh)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    loop = LoopThread()
    stack = WhatsAppStack(MODEL, tmp_path, loop)
    yield stack
    stack.close()
    loop.close()


def to(stack, wa_id):
    return [m for m in stack.graph.messages if m.get("to") == wa_id]


def staff_sends(stack, message) -> dict:
    """The lineman's message through the signed webhook; the staff flow's one reply."""
    before = len(to(stack, LINEMAN))
    stack.post(message)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while len(to(stack, LINEMAN)) == before:
        assert time.monotonic() < deadline, f"no reply to {message}"
        time.sleep(0.1)
    [reply] = to(stack, LINEMAN)[before:]
    return reply


def test_complaint_assigned_in_the_browser_fixed_from_whatsapp_with_a_photo_and_rated(stack, monkeypatch):
    from playwright.sync_api import sync_playwright

    import civic.officers
    from channels.staff import StaffSender
    from channels.whatsapp_output import WhatsAppClient
    from civic.db import create_engine_for, make_session_factory
    from civic.officers import FIELD_WORKER, OFFICER, OfficerRepository
    from officer.app import OfficerSettings, create_app
    from officer.notifier import RasaNotifier
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "officer"))
    from officer_support import AppServer  # the workspace on loopback, as its own tests run it

    monkeypatch.setattr(civic.officers, "BCRYPT_ROUNDS", 4)
    engine = create_engine_for(stack.database_url)
    sessions = make_session_factory(engine)
    officers = OfficerRepository(sessions)
    officers.create("safai", PASSWORD, OFFICER, "sanitation", "Sanitation Desk")
    lineman = officers.create("suresh", PASSWORD, FIELD_WORKER, "sanitation", "Suresh Pal",
                              whatsapp_number=LINEMAN, language="en")

    # 1. The citizen complains: a pin first, then the problem in words and a photo; registered.
    citizen = Citizen(stack)
    citizen.location(29.97003, 77.55218)
    citizen.say("garbage has not been picked up from our corner for a week, ward 45")
    citizen.photo(media_id="777000111222333")
    citizen.tap("Yes, register")
    number = NUMBER.search(citizen.text()).group(0)

    # The lineman is on duty: they wrote today, so WhatsApp's 24-hour window is open.
    assert "no open work" in staff_sends(stack, inbound_message(LINEMAN, "text", {"body": "hi"}))["text"]["body"]

    # 2. The desk officer assigns it in the browser.
    client = WhatsAppClient("conversation-access", PHONE_NUMBER_ID, stack.graph.base_url)
    app = create_app(OfficerSettings(secret_key=b"k" * 32, run_notifier=False), session_factory=sessions,
                     notifier=RasaNotifier(stack.base, RASA_TOKEN), staff_sender=StaffSender(client))
    server = AppServer(app).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
            page = browser.new_page(base_url=server.base_url)
            page.goto("/login")
            page.fill("#username", "safai")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url("**/tickets")
            page.goto(f"/tickets/{number}")
            page.select_option("#assignee-choice", str(lineman.id))
            page.click("#assign-submit")
            page.wait_for_url(f"**/tickets/{number}?assigned=1")
            browser.close()
        staff_report = server.run(app.ctx.workflow_worker.run_once())
        citizen_report = server.run(app.ctx.worker.run_once(), timeout=60)
        assert (staff_report.delivered, staff_report.failed, citizen_report.delivered) == (1, 0, 1)

        # 3. The lineman has it: the ticket, the buttons, the pin, the citizen's photo; never
        #    the citizen's number. The citizen hears of a title and a ward, not a person.
        work = to(stack, LINEMAN)[-3:]
        assert [m["type"] for m in work] == ["interactive", "location", "image"]
        body = work[0]["interactive"]["body"]["text"]
        assert number in body and "ward 45" in body and "garbage has not been picked up" in body
        buttons = {b["reply"]["title"]: b["reply"]["id"] for b in work[0]["interactive"]["action"]["buttons"]}
        assert list(buttons) == ["Started", "Done", "Can't fix"]
        assert (work[1]["location"]["latitude"], work[1]["location"]["longitude"]) == (29.97003, 77.55218)
        assert work[2]["image"] == {"id": "777000111222333"}
        assert citizen.wa_id not in json.dumps(to(stack, LINEMAN))
        told = " ".join(r.text for r in citizen.unread())
        assert f"{number} has been assigned to the Health and Sanitation sanitation supervisor of ward 45" in told
        assert "Suresh" not in told and LINEMAN not in told

        # 4. "Done", then the after-photo.
        tap = inbound_message(LINEMAN, "interactive", {"type": "button_reply", "button_reply": {
            "id": buttons["Done"], "title": "Done"}})
        assert "send a photo of the finished work" in staff_sends(stack, tap)["text"]["body"]
        photo = inbound_message(LINEMAN, "image", {"id": "888000111222333", "mime_type": "image/jpeg",
                                                   "sha256": "x", "caption": "Cleared and swept"})
        assert "is resolved with your photo" in staff_sends(stack, photo)["text"]["body"]
        # Rasa never had a turn from the lineman.
        assert [e for e in stack.tracker(LINEMAN).get("events", []) if e.get("event") == "user"] == []

        # 5. The citizen gets the resolution with the photo and the rating request, and rates it.
        before = len(to(stack, citizen.wa_id))
        assert server.run(app.ctx.worker.run_once(), timeout=60).failed == 0
        images = [m for m in to(stack, citizen.wa_id)[before:] if m["type"] == "image"]
        citizen.unread()
        assert [m["image"] for m in images] == [{"id": "888000111222333"}]
        assert "Cleared and swept" in citizen.text() and "How was the work?" in citizen.text()
        thanks = citizen.tap("5 ⭐ very good")
        assert "5/5" in thanks[-1].text
        ticket = stack.repository().get(number)
        assert (ticket.status, ticket.rating, ticket.resolution_media_id) == ("resolved", 5, "888000111222333")
    finally:
        server.stop()
        engine.dispose()
        stack.loop.run(client.close())
