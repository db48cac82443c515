"""The WhatsApp channel's one routing decision: a registered staff number's messages go to
the staff flow (answered from domain/staff.yml), never to the citizens' assistant; everyone
else's go to Rasa as before. Through Rasa's app, signed webhooks and a fake Graph API."""
from __future__ import annotations

import pytest

from channels.fake_graph import inbound_message, text_message, webhook_payload
from channels.staff import StaffDesk
from civic.city import load_city
from civic.db import StorageUnavailable, create_engine_for, make_session_factory, migrate
from civic.officers import FIELD_WORKER, OFFICER, OfficerRepository
from civic.tickets import RESOLVED, TicketRepository
from civic.workflow import Workflow

from whatsapp_support import WhatsAppTestServer

LINEMAN = "919811100001"
CITIZEN = "919800000001"


@pytest.fixture
def staff_server(tmp_path, sqlite_url, monkeypatch):
    import civic.officers

    monkeypatch.setattr(civic.officers, "BCRYPT_ROUNDS", 4)
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    sessions = make_session_factory(engine)
    city = load_city()
    officers = OfficerRepository(sessions, city)
    desk = officers.create("desk", "correct horse battery", OFFICER, "street_lighting")
    lineman = officers.create("ramesh", "correct horse battery", FIELD_WORKER, "street_lighting",
                              "Ramesh", whatsapp_number=LINEMAN, language="en")
    tickets = TicketRepository(sessions, city)
    number = tickets.create_ticket(CITIZEN, "street_light", 12, "Court Road", "bulb fused", "hi",
                                   latitude=29.96, longitude=77.55).ticket.number
    workflow = Workflow(sessions, city)
    workflow.assign(number, lineman.id, "officer:desk", desk.id)
    server = WhatsAppTestServer(f"sqlite:///{tmp_path / 'dedupe.db'}").start()
    server.channel.staff = StaffDesk(server.channel.client, workflow)
    server.number, server.tickets, server.workflow = number, tickets, workflow
    yield server
    server.stop()
    engine.dispose()


def sent_to(server, wa_id):
    return [m for m in server.fake_graph.messages if m.get("to") == wa_id]


def tap(wa_id, button_id, title):
    return inbound_message(wa_id, "interactive", {"type": "button_reply",
                                                  "button_reply": {"id": button_id, "title": title}})


def test_staff_messages_never_reach_the_assistant_and_citizens_still_do(staff_server):
    s = staff_server
    number = s.number
    for message in (tap(LINEMAN, f"staff:done:{number}", "Done"),
                    inbound_message(LINEMAN, "image", {"id": "4455667788", "mime_type": "image/jpeg",
                                                       "caption": "new bulb"})):
        assert s.post_payload(webhook_payload([message])) == 200
        s.settle()
    assert s.agent.messages == []  # Rasa never saw the lineman
    replies = [m["text"]["body"] for m in sent_to(s, LINEMAN)]
    assert replies == [
        f"📷 {number}: send a photo of the finished work. The citizen will see this photo.",
        f"✅ {number} is resolved with your photo, and the citizen has been told. Thank you!"]
    ticket = s.tickets.get(number)
    assert (ticket.status, ticket.resolution_media_id) == (RESOLVED, "4455667788")

    # Typed words that look like a button are text, not a tap.
    s.post_payload(webhook_payload([text_message(LINEMAN, f"staff:started:{number}")]))
    s.settle()
    assert sent_to(s, LINEMAN)[-1]["text"]["body"].startswith("You have no open work")

    s.post_payload(webhook_payload([text_message(CITIZEN, "status")]))
    s.settle()
    assert [m.sender_id for m in s.agent.messages] == [CITIZEN]


def test_a_known_staff_number_stays_staff_while_the_database_is_away(staff_server, monkeypatch):
    s = staff_server
    s.post_payload(webhook_payload([text_message(LINEMAN, "hello")]))
    s.settle()

    def away(*_args, **_kwargs):
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(s.workflow, "staff_for_number", away)
    monkeypatch.setattr(s.workflow, "note_message", away)
    s.post_payload(webhook_payload([text_message(LINEMAN, "are you there?")]))
    s.settle()
    assert s.agent.messages == []
    assert sent_to(s, LINEMAN)[-1]["text"]["body"].startswith("Sorry, this could not be saved")
    # A number never seen as staff goes to the assistant (citizens keep being answered).
    s.post_payload(webhook_payload([text_message(CITIZEN, "hello")]))
    s.settle()
    assert [m.sender_id for m in s.agent.messages] == [CITIZEN]
