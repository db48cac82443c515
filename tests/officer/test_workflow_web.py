"""The workspace side of the workflow: who may assign and to whom, what a field worker sees,
"My tickets" and "Unassigned", the map page (its data, its ward table, its own
Content-Security-Policy, tiles or none) and the accounts' WhatsApp numbers."""
from __future__ import annotations

import html
import json
import re

import pytest
from officer_support import PASSWORD, Client

from civic.officers import FIELD_WORKER
from officer.app import CONTENT_SECURITY_POLICY
from officer.views import map_policy

MAP_DATA = re.compile(r'<script type="application/json" id="map-data">(.*?)</script>', re.S)


def client(web, username) -> Client:
    c = Client(web.base_url)
    assert c.login(username).status == 303
    return c


@pytest.fixture
def lineman(web):
    return web.workspace.officers.create("ramesh", PASSWORD, FIELD_WORKER, "street_lighting",
                                         "Ramesh Kumar", whatsapp_number="919811100001")


def test_assigning_in_the_workspace(web, lineman):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = client(web, "light")
    page = c.get(f"/tickets/{number}").text
    assert 'id="assign-form"' in page and "Ramesh Kumar · Field worker" in page
    response = c.post(f"/tickets/{number}/assign", {"assignee": str(lineman.id), "remark": "Today"})
    assert response.status == 303 and response.location == f"/tickets/{number}?assigned=1"
    page = html.unescape(c.get(response.location).text)
    assert "Assigned to Ramesh Kumar. They get it on WhatsApp; the citizen is told." in page
    assert "assigned to Ramesh Kumar: Today" in page  # the history names the assignee
    assert [m.kind for m in web.app.ctx.staff_outbox.for_ticket(number)] == ["assignment"]

    # Refusals say why and change nothing.
    for form, status, message in (
        ({"assignee": str(lineman.id)}, 409, "already assigned to them"),
        ({"assignee": str(ws.officers.by_username("safai").id)}, 409, "Choose someone of this ticket"),
        ({"assignee": "x"}, 400, "Choose someone of this ticket"),
        ({"assignee": "9" * 12}, 400, "Choose someone of this ticket"),
    ):
        answer = c.post(f"/tickets/{number}/assign", form)
        assert answer.status == status and message in html.unescape(answer.text), form
    # Another department's ticket is not found; a field worker may not assign.
    assert client(web, "safai").post(f"/tickets/{number}/assign", {"assignee": str(lineman.id)}).status == 404
    assert client(web, "ramesh").post(f"/tickets/{number}/assign", {"assignee": str(lineman.id)}).status == 403
    assert ws.tickets.history(number)[-1].assignee_id == lineman.id


def test_field_workers_see_only_their_tickets_and_the_lists_follow_the_assignee(web, lineman):
    ws = web.workspace
    mine, other = ws.numbers["light_new"], ws.numbers["light_w5"]
    c = client(web, "light")
    c.post(f"/tickets/{mine}/assign", {"assignee": str(lineman.id)})
    field = client(web, "ramesh")
    listing = field.get("/tickets").text
    assert mine in listing and other not in listing
    assert field.get(f"/tickets/{other}").status == 404
    ticket_page = field.get(f"/tickets/{mine}").text
    assert 'id="assign-form"' not in ticket_page and 'id="status-form"' not in ticket_page
    assert field.post(f"/tickets/{mine}/status", {"status": "in_progress"}).status == 403

    unassigned = c.get("/tickets?assigned=none").text
    assert other in unassigned and mine not in unassigned and "<h1>Unassigned" in unassigned
    assert mine not in c.get("/tickets?assigned=me").text


def test_the_map_page(web, lineman, monkeypatch):
    ws = web.workspace
    c = client(web, "light")
    response = c.get("/map")
    assert response.status == 200
    # Only this page may run a script, only this site's, and load the tile server's images.
    policy = response.headers["Content-Security-Policy"]
    assert policy == map_policy("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "script-src 'self';" in policy and "img-src 'self' data: https://tile.openstreetmap.org;" in policy
    assert "unsafe-inline" not in policy
    assert c.get("/tickets").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    data = json.loads(html.unescape(MAP_DATA.search(response.text).group(1)))
    [point] = data["points"]  # street lighting's only ticket with a pin
    assert (point["number"], point["lat"], point["lon"]) == (ws.numbers["light_new"], 29.968, 77.551)
    assert "<script>" not in response.text.split('id="map-data">')[1].split("</script>")[0]
    wards = re.findall(r"<tr class=\"[a-z]*\"><td><a [^>]*>(\d+)</a></td><td>(\d+)</td><td>(\d+)</td>",
                       response.text)
    assert wards == [("5", "1", "0"), ("12", "1", "0"), ("23", "1", "1")]
    # Filtered like the list: ward 5 has no pin; and the static files are this site's.
    assert json.loads(html.unescape(MAP_DATA.search(c.get("/map?ward=5").text).group(1)))["points"] == []
    for path in ("/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css", "/static/map.js"):
        assert c.get(path).status == 200, path


def test_the_map_without_tiles_and_with_subdomain_tiles(web):
    web.app.ctx.settings.map_tile_url = ""
    response = client(web, "light").get("/map")
    assert "img-src 'self';" in response.headers["Content-Security-Policy"]
    assert json.loads(html.unescape(MAP_DATA.search(response.text).group(1)))["tiles"] == ""
    assert "img-src 'self' data: https://*.tiles.example.org;" in map_policy(
        "https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self';" in map_policy("http://insecure.example.org/{z}/{x}/{y}.png")


def test_accounts_get_roles_and_whatsapp_numbers(web):
    c = client(web, "admin")
    page = c.get("/admin/officers").text
    for role in ("Field worker", "Officer", "Department head", "Administrator"):
        assert role in page
    created = c.post("/admin/officers", {
        "username": "suresh", "display_name": "Suresh", "role": "field_worker",
        "department": "sanitation", "password": PASSWORD, "whatsapp_number": "+91 98111 00009",
        "language": "hinglish"})
    assert created.status == 303
    account = web.workspace.officers.by_username("suresh")
    assert (account.role, account.whatsapp_number, account.language) == (
        "field_worker", "919811100009", "hinglish")
    refused = c.post("/admin/officers/light/whatsapp", {"whatsapp_number": "98111 00009"})
    assert refused.status == 400 and "country code" in refused.text
    taken = c.post("/admin/officers/light/whatsapp", {"whatsapp_number": "919811100009"})
    assert taken.status == 400 and "belongs to the account" in html.unescape(taken.text)
    assert c.post("/admin/officers/suresh/whatsapp", {"whatsapp_number": "", "language": "en"}).status == 303
    assert web.workspace.officers.by_username("suresh").whatsapp_number is None


def test_the_workflow_pages_in_hindi(web, lineman):
    c = client(web, "light")
    token = c.get("/tickets").csrf()
    c.request("POST", "/language", {"lang": "hi", "next": "/map", "csrf_token": token})
    page = c.get("/map").text
    assert "खुली शिकायतों का नक्शा" in page and "वार्ड के अनुसार खुली शिकायतें" in page
    number = web.workspace.numbers["light_new"]
    ticket = c.get(f"/tickets/{number}").text
    assert "किसे सौंपें" in ticket and "फ़ील्ड कर्मचारी" in ticket
    assert "मेरी शिकायतें" in ticket and "किसी को नहीं सौंपी" in ticket
