"""The workspace's defences through real HTTP: sessions revoked on the server, sign-in limits,
security headers, strict query parameters, the remark limit, masked phone numbers with a
recorded reveal, and the admins' security log. The app's clock is the test's (web.clock)."""
from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
from officer_support import SECRET_KEY, AppServer, Client

from civic.db import create_engine_for, make_session_factory
from civic.officers import MAX_REMARK_CHARS
from civic.tickets import REGISTERED
from officer.app import CONTENT_SECURITY_POLICY, OfficerSettings, create_app
from officer.auth import SESSION_COOKIE, SessionCodec


def signed_in(web, username) -> Client:
    c = Client(web.base_url)
    assert c.login(username).status == 303
    return c


def with_cookie(web, value: str, path: str = "/tickets"):
    """A request from somewhere else carrying a copied cookie."""
    return Client(web.base_url).request("GET", path, headers={"Cookie": f"{SESSION_COOKIE}={value}"})


# --- sessions end on the server ------------------------------------------------------------


def test_a_copied_cookie_stops_working_at_logout(web):
    c = signed_in(web, "light")
    copied = c.cookie(SESSION_COOKIE).value
    assert with_cookie(web, copied).status == 200  # the copy works while the session lives
    assert c.post("/logout").status == 303
    refused = with_cookie(web, copied)
    assert refused.status == 303 and refused.location.startswith("/login")
    # Still correctly signed and young: only the server knows the session ended.
    assert web.app.ctx.codec.loads(copied)["sid"]


def test_logout_ends_only_that_session(web):
    phone, desk = signed_in(web, "light"), signed_in(web, "light")
    phone.post("/logout")
    assert phone.get("/tickets").status == 303
    assert desk.get("/tickets").status == 200


def test_a_password_change_by_an_admin_ends_the_account_sessions(web):
    light = signed_in(web, "light")
    copied = light.cookie(SESSION_COOKIE).value
    admin = signed_in(web, "admin")
    assert admin.post("/admin/officers/light/password",
                      {"password": "a brand new password"}).status == 303
    assert light.get("/tickets").status == 303
    assert with_cookie(web, copied).status == 303
    assert Client(web.base_url).login("light", "a brand new password").status == 303


def test_an_admin_changing_their_own_password_stays_signed_in_here_only(web):
    admin = signed_in(web, "admin")
    elsewhere = signed_in(web, "admin")
    copied = admin.cookie(SESSION_COOKIE).value
    assert admin.post("/admin/officers/admin/password",
                      {"password": "a brand new password"}).status == 303
    assert admin.get("/admin/officers").status == 200  # a new session, a new cookie
    assert admin.cookie(SESSION_COOKIE).value != copied
    assert with_cookie(web, copied).status == 303
    assert elsewhere.get("/tickets").status == 303


def test_disabling_an_account_ends_its_sessions(web):
    light = signed_in(web, "light")
    admin = signed_in(web, "admin")
    assert admin.post("/admin/officers/light/active", {"active": "0"}).status == 303
    assert light.get("/tickets").status == 303
    assert admin.post("/admin/officers/light/active", {"active": "1"}).status == 303
    assert light.get("/tickets").status == 303  # enabling again does not revive the session


def test_a_session_expires_after_its_hours(web):
    c = signed_in(web, "light")
    web.clock.advance(hours=8, seconds=-1)
    assert c.get("/tickets").status == 200
    web.clock.advance(seconds=1)
    assert c.get("/tickets").status == 303


def test_tampered_forged_and_old_format_cookies_get_a_fresh_anonymous_session(web):
    c = signed_in(web, "light")
    good = c.cookie(SESSION_COOKIE).value
    session = web.app.ctx.codec.loads(good)
    forged = SessionCodec(b"another key, also 32 bytes long!").dumps(session)
    tampered = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
    old_format = "eyJ1aWQiOjF9.c2lnbmF0dXJl"  # the hand-written codec's payload.signature
    unknown_sid = SessionCodec(SECRET_KEY, clock=web.clock).dumps(dict(session, sid="made-up"))
    for value in (forged, tampered, old_format, unknown_sid):
        response = with_cookie(web, value)
        assert response.status == 303 and response.location.startswith("/login"), value
        fresh = re.search(rf"{SESSION_COOKIE}=([^;]+)", response.headers["Set-Cookie"]).group(1)
        assert web.app.ctx.codec.loads(fresh)["sid"] is None
    assert with_cookie(web, good).status == 200


def test_the_cookie_is_httponly_and_samesite(web):
    response = Client(web.base_url).get("/login")
    cookie = response.headers["Set-Cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "max-age=28800" in cookie and "secure" not in cookie
    web.app.ctx.settings.cookie_secure = True  # OFFICER_COOKIE_SECURE=1
    assert "secure" in Client(web.base_url).get("/login").headers["Set-Cookie"].lower()


def test_an_unreachable_database_is_a_clear_503_not_a_500(web):
    engine = create_engine_for("postgresql://postgres@127.0.0.1:1/none")  # nothing listens
    app = create_app(OfficerSettings(secret_key=SECRET_KEY, run_notifier=False, clock=web.clock),
                     session_factory=make_session_factory(engine), city=web.workspace.city)
    down = AppServer(app).start()
    try:
        copied = signed_in(web, "light").cookie(SESSION_COOKIE).value  # valid on the other app
        c = Client(down.base_url)
        assert c.get("/login").status == 200  # no database needed
        for response in (c.login("light"), with_cookie(down, copied)):
            assert response.status == 503
            assert "The ticket database cannot be reached right now" in response.text
    finally:
        down.stop()
        engine.dispose()


# --- sign-in limits ------------------------------------------------------------------------


def test_an_account_is_locked_after_five_failures_for_fifteen_minutes(web):
    c = Client(web.base_url)
    for _ in range(5):
        assert c.login("light", "not the password").status == 401
    locked = c.login("light")  # the right password, not even checked
    assert locked.status == 429 and locked.headers["Retry-After"] == "900"
    assert "Too many failed sign-ins" in locked.text
    assert re.search(r"Try again after \d\d:\d\d", locked.text)
    assert c.get("/tickets").status == 303
    web.clock.advance(minutes=14, seconds=59)
    assert c.login("light").headers["Retry-After"] == "1"
    web.clock.advance(seconds=1)
    assert c.login("light").status == 303
    assert c.get("/tickets").status == 200


def test_the_lock_message_is_in_hindi_too(web):
    c = Client(web.base_url)
    c.post("/language", {"lang": "hi"})
    for _ in range(5):
        c.login("safai", "not the password")
    assert "बहुत बार गलत लॉग इन" in c.login("safai").text


def test_an_address_is_locked_after_twenty_failures_and_forwarded_for_does_not_help(web):
    c = Client(web.base_url)
    for number in range(20):  # one failure each for twenty names: no account is locked
        assert c.login(f"guess{number}", "not the password").status == 401
    assert c.login("light").status == 429
    # Without SANIC_PROXIES_COUNT the header is the client's word, and not believed.
    assert c.login("light", headers={"X-Forwarded-For": "203.0.113.9"}).status == 429
    web.clock.advance(minutes=15)
    assert c.login("light").status == 303


def test_failed_sign_ins_and_reveals_are_in_the_security_log_for_admins_only(web):
    ws = web.workspace
    Client(web.base_url).login("light", "not the password")
    light = signed_in(web, "light")
    number = ws.numbers["light_new"]
    light.post(f"/tickets/{number}/phone")
    assert light.get("/admin/security").status == 403
    page = signed_in(web, "admin").get("/admin/security")
    assert page.status == 200
    failures = page.text[page.text.index('id="login-failures"'):]
    assert "light" in failures and "127.0.0.1" in failures and "wrong username or password" in failures
    reveals = page.text[page.text.index('id="phone-reveals"'):page.text.index('id="login-failures"')]
    assert f">{number}</a>" in reveals and "<td>light</td>" in reveals


# --- headers -------------------------------------------------------------------------------


def test_security_headers_on_every_kind_of_answer(web):
    c = signed_in(web, "light")
    other = web.workspace.numbers["safai_new"]
    answers = {
        "page": c.get("/tickets"),
        "redirect": Client(web.base_url).get("/tickets"),
        "not found": c.get(f"/tickets/{other}"),
        "no route": c.get("/no/such/page"),
        "csrf refused": c.post("/logout", {"csrf_token": "forged"}),
        "stylesheet": c.get("/static/style.css"),
        "bad page": c.get("/tickets?page=x"),
    }
    for name, response in answers.items():
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
    assert answers["page"].headers["Cache-Control"] == "no-store"
    assert "no-store" not in (answers["stylesheet"].headers.get("Cache-Control") or "")
    assert "script-src" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


# --- strict query parameters ---------------------------------------------------------------


@pytest.mark.parametrize("page", [
    "²", "२", "١", "-1", "0", "1.5", "+1", "1e3", "0x10", "9" * 10, "9" * 25, "\udcff", "1 2",
])
def test_a_bad_page_number_is_a_clear_400(web, page):
    response = signed_in(web, "light").get("/tickets?page=" + quote(page, errors="surrogateescape"))
    assert response.status == 400
    assert "The page number must be a whole number from 1 to 999999999" in response.text


@pytest.mark.parametrize("page, shown", [("", 1), ("1", 1), ("01", 1), (" 1 ", 1), ("999999999", 1)])
def test_good_page_numbers(web, page, shown):
    response = signed_in(web, "light").get("/tickets?page=" + quote(page))
    assert response.status == 200 and f"Page {shown} of 1" in response.text


@pytest.mark.parametrize("path", [
    "/tickets?ward=%C2%B2", "/tickets?ward=" + "9" * 25, "/tickets?ward=%E0%A5%A8",
    "/tickets?status=%ff%fe", "/dashboard?days=%C2%B2", "/dashboard?days=" + "9" * 25,
    "/dashboard?days=-7",
])
def test_bad_filters_are_ignored_not_errors(web, path):
    response = signed_in(web, "admin").get(path)
    assert response.status == 200
    if path.startswith("/dashboard"):
        assert "Last 30 days" in response.text


def test_ids_in_paths_out_of_range_are_not_found(web):
    c = signed_in(web, "light")
    number = web.workspace.numbers["light_new"]
    for index in ("%C2%B2", "9" * 25, "-1"):
        assert c.get(f"/tickets/{number}/photos/{index}").status == 404
    token = c.get("/tickets").csrf()
    for notification in ("9" * 25, str(2**31), "-1", "0"):
        response = c.request("POST", f"/tickets/{number}/notifications/{notification}/retry",
                             {"csrf_token": token})
        assert response.status == 404, notification


# --- the remark ----------------------------------------------------------------------------


def test_the_remark_limit_is_enforced_on_the_server_and_nothing_is_lost(web):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = signed_in(web, "light")
    assert f'maxlength="{MAX_REMARK_CHARS}"' in c.get(f"/tickets/{number}").text
    too_long = "लाइनमैन भेजा गया। " * 56 + "x" * 8  # 1,016 characters
    response = c.post(f"/tickets/{number}/status", {"status": "rejected", "remark": too_long})
    assert response.status == 400
    assert ("The remark may have at most 1000 characters; this one has 1016."
            in html.unescape(response.text))
    assert too_long in html.unescape(response.text)  # still in the form, to shorten
    assert ws.tickets.get(number).status == REGISTERED and ws.outbox.for_ticket(number) == []
    exactly = "r" * MAX_REMARK_CHARS
    assert c.post(f"/tickets/{number}/status", {"status": "rejected", "remark": exactly}).status == 303
    assert ws.tickets.history(number)[-1].remark == exactly


# --- phone numbers -------------------------------------------------------------------------


def test_numbers_are_masked_in_the_list_and_the_ticket_page(web):
    ws = web.workspace
    c = signed_in(web, "light")
    listing = c.get("/tickets").text
    assert "91xxxxxx0001" in listing and "91xxxxxx0002" in listing
    assert "919800000001" not in listing
    page = c.get(f"/tickets/{ws.numbers['light_new']}").text
    assert "91xxxxxx0001" in page and "919800000001" not in page
    assert 'id="reveal-phone"' in page


def test_a_reveal_shows_the_number_once_and_is_recorded(web):
    ws = web.workspace
    number = ws.numbers["light_new"]
    c = signed_in(web, "light")
    refused = c.post(f"/tickets/{number}/phone", {"csrf_token": "forged"})
    assert refused.status == 403 and "919800000001" not in refused.text
    assert ws.officers.phone_reveals(number) == []
    shown = c.post(f"/tickets/{number}/phone")
    assert shown.status == 200 and "919800000001" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    [reveal] = ws.officers.phone_reveals(number)
    assert (reveal.username, reveal.ticket_number, reveal.address) == ("light", number, "127.0.0.1")
    assert reveal.at == web.clock()
    assert "919800000001" not in c.get(f"/tickets/{number}").text  # masked again


def test_a_number_of_another_department_cannot_be_revealed(web):
    ws = web.workspace
    other = ws.numbers["safai_new"]
    response = signed_in(web, "light").post(f"/tickets/{other}/phone")
    assert response.status == 404 and "919800000004" not in response.text
    assert ws.officers.phone_reveals() == []


def test_admins_see_who_was_shown_a_number_on_the_ticket(web):
    number = web.workspace.numbers["light_new"]
    light = signed_in(web, "light")
    light.post(f"/tickets/{number}/phone")
    assert 'id="phone-reveals"' not in light.get(f"/tickets/{number}").text
    page = signed_in(web, "admin").get(f"/tickets/{number}").text
    table = page[page.index('id="phone-reveals"'):]
    assert "<td>light</td>" in table and "127.0.0.1" in table
