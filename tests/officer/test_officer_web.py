"""The officers' web workspace through real HTTP: sign-in, permissions, CSRF, list, ticket page,
status changes with their history and notification, photos, dashboard, language, accounts."""
from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape
from officer_support import PASSWORD, PHOTO_BYTES, Client

from civic.tickets import ASSIGNED, IN_PROGRESS, REGISTERED, RESOLVED


def client(web, username=None) -> Client:
    c = Client(web.base_url)
    if username:
        response = c.login(username)
        assert response.status == 303 and response.location == "/tickets"
    return c


def numbers_on(page_text: str):
    return re.findall(r'href="/tickets/(SRN-\d{6})"', page_text)


# --- sign-in and sessions ------------------------------------------------------------------


def test_pages_need_sign_in(web):
    c = client(web)
    for path in ("/tickets", "/dashboard", "/admin/officers", f"/tickets/{web.workspace.numbers['light_new']}"):
        response = c.get(path)
        assert response.status == 303 and response.location.startswith("/login?next=")


def test_wrong_password_and_disabled_account_are_refused(web):
    c = client(web)
    refused = c.login("light", "not the password")
    assert refused.status == 401 and "Wrong username or password" in refused.text
    web.workspace.officers.set_active("light", False)
    assert c.login("light").status == 401
    assert c.get("/tickets").status == 303


def test_sign_in_rotates_the_session_and_logout_ends_it(web):
    c = client(web)
    before = c.get("/login").csrf()
    assert c.login("light").status == 303
    # A CSRF token planted before sign-in is worthless after it.
    assert c.post("/language", {"lang": "hi", "csrf_token": before}).status == 403
    assert c.post("/language", {"lang": "hi", "csrf_token": c.get("/tickets").csrf()}).status == 303
    assert c.post("/logout").status == 303
    assert c.get("/tickets").status == 303


def test_a_password_change_ends_open_sessions(web):
    c = client(web, "light")
    assert c.get("/tickets").status == 200
    web.workspace.officers.set_password("light", "another long password")
    assert c.get("/tickets").status == 303


# --- CSRF ----------------------------------------------------------------------------------


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(web):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = client(web, "light")
    missing = c.post(f"/tickets/{number}/status", {"status": ASSIGNED}, csrf=False)
    wrong = c.post(f"/tickets/{number}/status", {"status": ASSIGNED, "csrf_token": "forged"})
    assert missing.status == 403 and wrong.status == 403
    assert "The form expired or did not come from this site" in wrong.text
    assert ws.tickets.get(number).status == REGISTERED
    assert len(ws.tickets.history(number)) == 1
    assert ws.outbox.for_ticket(number) == []
    # Another visitor's token does not work either.
    other = client(web).get("/login").csrf()
    assert c.post(f"/tickets/{number}/status", {"status": ASSIGNED, "csrf_token": other}).status == 403
    # Sign-in itself is protected.
    assert client(web).request("POST", "/login", {"username": "light", "password": PASSWORD}).status == 403


# --- permissions ---------------------------------------------------------------------------


def test_an_officer_sees_only_the_department_tickets(web):
    ws = web.workspace
    page = client(web, "light").get("/tickets").text
    assert set(numbers_on(page)) == {ws.numbers["light_new"], ws.numbers["light_old"], ws.numbers["light_w5"]}
    # A department filter in the URL does not widen an officer's scope.
    page = client(web, "light").get("/tickets?department=sanitation").text
    assert ws.numbers["safai_new"] not in page


def test_an_officer_cannot_read_or_change_another_department_ticket_by_url(web):
    ws = web.workspace
    other = ws.numbers["safai_new"]
    c = client(web, "light")
    page = c.get(f"/tickets/{other}")
    assert page.status == 404 and "Not found, or not a ticket of your department" in page.text
    assert "sanitation complaint" not in page.text and "919800000004" not in page.text
    assert c.get(f"/tickets/{other.lower()}").status == 404
    assert c.get("/tickets/SRN-999999").status == 404  # missing looks the same as forbidden
    assert c.post(f"/tickets/{other}/status", {"status": ASSIGNED, "remark": "mine now"}).status == 404
    assert c.get(f"/tickets/{other}/photos/0").status == 404
    assert ws.tickets.get(other).status == REGISTERED
    assert len(ws.tickets.history(other)) == 1 and ws.outbox.for_ticket(other) == []


def test_an_admin_sees_all_departments_and_officers_cannot_manage_accounts(web):
    ws = web.workspace
    page = client(web, "admin").get("/tickets").text
    assert set(numbers_on(page)) == set(ws.numbers.values())
    c = client(web, "light")
    assert c.get("/admin/officers").status == 403
    assert c.post("/admin/officers", {"username": "intruder", "password": PASSWORD, "role": "admin"}).status == 403
    assert ws.officers.by_username("intruder") is None


def test_an_admin_creates_and_disables_accounts(web):
    ws = web.workspace
    c = client(web, "admin")
    created = c.post("/admin/officers", {"username": "Jal.Officer", "display_name": "Jal",
                                         "role": "officer", "department": "water_works",
                                         "password": "a long enough password"})
    assert created.status == 303
    assert ws.officers.by_username("jal.officer").department == "water_works"
    weak = c.post("/admin/officers", {"username": "weak", "role": "officer",
                                      "department": "water_works", "password": "short"})
    assert weak.status == 400 and "at least 10 characters" in weak.text
    assert c.post("/admin/officers/jal.officer/active", {"active": "0"}).status == 303
    assert ws.officers.by_username("jal.officer").active is False


# --- the list ------------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("status=registered", {"light_new", "light_old", "light_w5"}),
    ("ward=12", {"light_new"}),
    ("overdue=1", {"light_old"}),
    ("overdue=0", {"light_new", "light_w5"}),
    ("age=today", {"light_new"}),
    ("age=1-3", {"light_w5"}),
    ("age=7-30", {"light_old"}),
    ("category=street_light&ward=5", {"light_w5"}),
    ("status=resolved", set()),
    ("ward=999&status=bogus", {"light_new", "light_old", "light_w5"}),  # invalid filters ignored
])
def test_list_filters(web, query, expected):
    ws = web.workspace
    page = client(web, "light").get(f"/tickets?{query}").text
    assert set(numbers_on(page)) == {ws.numbers[label] for label in expected}


def test_list_order_and_pages(web):
    ws = web.workspace
    c = client(web, "admin")
    newest = numbers_on(c.get("/tickets").text)
    assert newest[0] == ws.numbers["light_new"]
    most_overdue = numbers_on(c.get("/tickets?order=most_overdue").text)
    assert most_overdue[0] == ws.numbers["light_old"]
    import officer.views

    original = officer.views.PAGE_SIZE
    officer.views.PAGE_SIZE = 2
    try:
        first, second, third = (numbers_on(c.get(f"/tickets?page={p}").text) for p in (1, 2, 3))
        assert len(first) == 2 and len(second) == 2 and len(third) == 1
        assert set(first + second + third) == set(ws.numbers.values())
        assert numbers_on(c.get("/tickets?page=99").text) == third  # past the end: the last page
    finally:
        officer.views.PAGE_SIZE = original


# --- the ticket page -----------------------------------------------------------------------


def test_ticket_page_shows_what_the_citizen_gave_escaped(web):
    ws = web.workspace
    number = ws.numbers["light_new"]
    page = client(web, "light").get(f"/tickets/{number}")
    assert page.status == 200
    description = ws.tickets.get(number).description
    assert str(escape(description)) in page.text  # exactly as typed, HTML-escaped
    assert "<script>alert" not in page.text
    assert "https://www.openstreetmap.org/?mlat=29.968000&amp;mlon=77.551000#map=18/29.968000/77.551000" in page.text
    assert f'src="/tickets/{number}/photos/0"' in page.text
    assert "Registered" in page.text and "citizen" in page.text  # the history


def test_photo_proxy_fetches_the_bytes_through_the_media_id(web, fake_media):
    number = web.workspace.numbers["light_new"]
    c = client(web, "light")
    photo = c.get(f"/tickets/{number}/photos/0")
    assert photo.status == 200 and photo.body == PHOTO_BYTES
    assert photo.headers["Content-Type"] == "image/jpeg"
    lookups = [r["path"] for r in fake_media.requests]
    assert lookups == ["/v21.0/mediaA1", "/files/mediaA1"]  # the token never reaches the browser
    assert c.get(f"/tickets/{number}/photos/1").status == 502  # an expired media id
    assert c.get(f"/tickets/{number}/photos/2").status == 404  # no such photo


def test_status_change_writes_history_and_notifies_the_citizen(web, fake_rasa):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = client(web, "light")
    light = ws.officers.by_username("light")
    response = c.post(f"/tickets/{number}/assign", {"assignee": str(light.id), "remark": "Lineman sent"})
    assert response.status == 303 and response.location == f"/tickets/{number}?assigned=1"
    assert ws.tickets.get(number).status == ASSIGNED
    event = ws.tickets.history(number)[-1]
    assert (event.status, event.actor, event.remark, event.kind, event.assignee_id) == (
        ASSIGNED, "officer:light", "Lineman sent", "assignment", light.id)
    [pending] = ws.outbox.for_ticket(number)
    assert pending.state == "pending" and pending.status == ASSIGNED
    page = c.get(response.location).text
    assert "Assigned to Lighting Officer." in page and "waiting to be sent" in page

    report = web.run(web.app.ctx.worker.run_once())
    assert (report.delivered, report.failed) == (1, 0)
    [trigger] = fake_rasa.triggers
    assert trigger["path"] == "/conversations/919800000001/trigger_intent"
    assert trigger["json"] == {"name": "EXTERNAL_ticket_update",
                               "entities": {"complaint_id": number, "ticket_status": "assigned"}}
    assert "sent" in c.get(f"/tickets/{number}").text


def test_a_failed_notification_is_visible_and_retried(web, fake_rasa):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = client(web, "light")
    fake_rasa.failures = [500]
    c.post(f"/tickets/{number}/status", {"status": "rejected", "remark": "Not ours"})
    report = web.run(web.app.ctx.worker.run_once())
    assert (report.delivered, report.failed) == (0, 1)
    page = c.get(f"/tickets/{number}").text
    assert "Rasa answered 500" in page and "Retry now" in page
    [notification] = ws.outbox.for_ticket(number)
    assert c.post(f"/tickets/{number}/notifications/{notification.id}/retry").status == 303
    report = web.run(web.app.ctx.worker.run_once())
    assert report.delivered == 1
    assert ws.outbox.for_ticket(number)[0].state == "delivered"


def test_a_transition_that_is_not_allowed_changes_nothing(web):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = client(web, "light")
    response = c.post(f"/tickets/{number}/status", {"status": RESOLVED, "remark": "done"})
    assert response.status == 409
    assert (f"Cannot change {number} from “Registered” to “Resolved”: that is not a next step "
            "from the current status. Nothing was changed.") in html.unescape(response.text)
    rejected = c.post(f"/tickets/{number}/status", {"status": "rejected", "remark": "  "})
    assert rejected.status == 409 and "a reason (remark) is required to reject" in rejected.text
    for bogus in ("reopened", "deleted"):
        assert c.post(f"/tickets/{number}/status", {"status": bogus}).status == 400
    assert ws.tickets.get(number).status == REGISTERED
    assert len(ws.tickets.history(number)) == 1 and ws.outbox.for_ticket(number) == []


def test_resolving_through_the_steps(web):
    ws = web.workspace
    number = ws.numbers["light_w5"]
    c = client(web, "light")
    light = ws.officers.by_username("light")
    assert c.post(f"/tickets/{number}/assign", {"assignee": str(light.id)}).status == 303
    for status in (IN_PROGRESS, RESOLVED):
        assert c.post(f"/tickets/{number}/status", {"status": status, "remark": f"to {status}"}).status == 303
    assert [e.status for e in ws.tickets.history(number)] == [REGISTERED, ASSIGNED, IN_PROGRESS, RESOLVED]
    assert [n.status for n in ws.outbox.for_ticket(number)] == [ASSIGNED, IN_PROGRESS, RESOLVED]
    assert ws.tickets.get(number).resolved_at is not None


# --- dashboard and language ----------------------------------------------------------------


def test_dashboard_draws_charts_for_the_officer_scope(web):
    page = client(web, "light").get("/dashboard").text
    assert page.count("<svg") == 7  # five charts and the two of escalations
    assert "3 complaints in this period" in page  # street lighting only
    assert "Health and Sanitation" not in page
    admin_page = client(web, "admin").get("/dashboard?days=7").text
    assert "4 complaints in this period" in admin_page  # the 10-day-old one is outside 7 days
    assert "Health and Sanitation" in admin_page


def test_language_switch_to_hindi(web):
    c = client(web, "light")
    token = c.get("/tickets").csrf()
    response = c.request("POST", "/language", {"lang": "hi", "next": "/tickets?ward=12",
                                               "csrf_token": token})
    assert response.status == 303 and response.location == "/tickets?ward=12"
    page = c.get("/tickets").text
    assert "शिकायतें" in page and "लॉग आउट" in page and 'lang="hi"' in page
    assert "स्ट्रीट लाइट" in page  # category names from city.yml in Hindi
    # `next` may not leave the site.
    token = c.get("/tickets").csrf()
    away = c.request("POST", "/language", {"lang": "en", "next": "//evil.example/", "csrf_token": token})
    assert away.location == "/tickets"
