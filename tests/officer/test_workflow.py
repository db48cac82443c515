"""The officers' workflow on SQLite and PostgreSQL: roles and WhatsApp numbers, a named
assignee, field staff's steps from WhatsApp (civic.staff_flow), the lists, and escalation
with a clock the test moves, across a restart of the worker, delivered to a fake Graph API."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from officer_support import PASSWORD, LoopThread

from channels.fake_graph import FakeGraphAPI
from channels.staff import StaffSender
from channels.whatsapp_output import WhatsAppClient
from civic.db import create_engine_for, make_session_factory
from civic.officers import ADMIN, DEPARTMENT_HEAD, FIELD_WORKER, AccountError, OfficerRepository
from civic.staff_flow import StaffFlow, StaffInput
from civic.tickets import ASSIGNED, IN_PROGRESS, REGISTERED, RESOLVED, TicketRepository
from civic.workflow import AssignmentRefused, StaffOutbox, Workflow, actor_of
from officer.workflow_worker import WorkflowWorker

LINEMAN = "919811100001"
HEAD = "919811100002"
COMMISSIONER = "919811100003"


@pytest.fixture
def staffed(workspace):
    """The seeded workspace plus a lineman, a head of street lighting and the commissioner's
    office (an admin), each with a WhatsApp number."""
    officers = workspace.officers
    workspace.lineman = officers.create("ramesh", PASSWORD, FIELD_WORKER, "street_lighting",
                                        "Ramesh Kumar", whatsapp_number="+91 98111-00001")
    workspace.head = officers.create("head", PASSWORD, DEPARTMENT_HEAD, "street_lighting",
                                     "Head of Lighting", whatsapp_number=HEAD, language="en")
    workspace.commissioner = officers.create("commissioner", PASSWORD, ADMIN,
                                             display_name="Commissioner's Office",
                                             whatsapp_number=COMMISSIONER, language="en")
    workspace.light = officers.by_username("light")
    workspace.workflow = Workflow(workspace.session_factory, workspace.city)
    workspace.staff_outbox = StaffOutbox(workspace.session_factory)
    return workspace


def test_whatsapp_numbers_are_stored_in_one_form_and_belong_to_one_account(staffed):
    assert staffed.lineman.whatsapp_number == LINEMAN and staffed.lineman.language == "hi"
    officers = staffed.officers
    for bad in ("9811100001", "+91 98111 0000x", "0091981110000", "1" * 16):
        with pytest.raises(AccountError, match="country code"):
            officers.set_whatsapp("safai", bad)
    with pytest.raises(AccountError, match="belongs to the account 'ramesh'"):
        officers.create("other", PASSWORD, FIELD_WORKER, "street_lighting", whatsapp_number=LINEMAN)
    assert officers.set_whatsapp("ramesh", None).whatsapp_number is None
    assert staffed.workflow.staff_for_number(LINEMAN) is None
    officers.set_whatsapp("ramesh", LINEMAN, "en")
    assert staffed.workflow.staff_for_number(LINEMAN).username == "ramesh"
    officers.set_active("ramesh", False)
    assert staffed.workflow.staff_for_number(LINEMAN) is None  # a disabled account is nobody


def test_assigning_names_someone_tells_the_citizen_and_the_assignee(staffed):
    ws, workflow = staffed, staffed.workflow
    number = ws.numbers["light_new"]
    assert [o.username for o in workflow.assignable("street_lighting")] == ["ramesh", "light", "head"]

    ticket = workflow.assign(number, ws.lineman.id, actor_of(ws.light), ws.light.id, "Go today")
    assert (ticket.status, ticket.assignee_id) == (ASSIGNED, ws.lineman.id)
    event = ws.tickets.history(number)[-1]
    assert (event.kind, event.assignee_id, event.actor, event.remark) == (
        "assignment", ws.lineman.id, "officer:light", "Go today")
    assert event.for_citizen
    assert [n.status for n in ws.outbox.for_ticket(number)] == [ASSIGNED]
    assert [(m.kind, m.officer_id) for m in ws.staff_outbox.for_ticket(number)] == [
        ("assignment", ws.lineman.id)]

    # Reassigning (to themself) keeps the status; nobody is told twice, nobody messages themself.
    ticket = workflow.assign(number, ws.light.id, actor_of(ws.light), ws.light.id)
    assert (ticket.status, ticket.assignee_id) == (ASSIGNED, ws.light.id)
    assert len(ws.outbox.for_ticket(number)) == 1 and len(ws.staff_outbox.for_ticket(number)) == 1

    refusals = [
        (number, ws.light.id, "same"),
        (number, ws.officers.by_username("safai").id, "not_staff"),  # another department
        (number, ws.commissioner.id, "not_staff"),  # admins are not assigned tickets
        (number, 999_999, "not_staff"),
    ]
    for ticket_number, assignee, reason in refusals:
        with pytest.raises(AssignmentRefused) as refused:
            workflow.assign(ticket_number, assignee, "officer:light", ws.light.id)
        assert refused.value.reason == reason
    ws.officers.set_active("ramesh", False)
    with pytest.raises(AssignmentRefused, match="not_staff"):
        workflow.assign(number, ws.lineman.id, "officer:light", ws.light.id)


def test_field_steps_from_whatsapp(staffed):
    ws, workflow = staffed, staffed.workflow
    flow = StaffFlow(workflow)
    lineman = ws.lineman
    done_number, cant_number = ws.numbers["light_new"], ws.numbers["light_w5"]
    for number in (done_number, cant_number):
        workflow.assign(number, lineman.id, "officer:light", ws.light.id)

    def say(**item):
        return [(r.key, r.number) for r in flow.handle(lineman, StaffInput(**item))]

    assert say(kind="text", text="hello") == [("help", None)]
    assert say(kind="tap", action="started", number=done_number) == [("started", done_number)]
    assert say(kind="tap", action="started", number=done_number) == [("already_started", done_number)]
    assert say(kind="tap", action="done", number=done_number) == [("send_photo", done_number)]
    assert say(kind="text", text="ho gaya") == [("photo_needed", done_number)]
    assert say(kind="photo", media_id="after123", text="naya bulb") == [("resolved", done_number)]
    resolved = ws.tickets.get(done_number)
    assert (resolved.status, resolved.resolution_media_id) == (RESOLVED, "after123")
    assert ws.tickets.history(done_number)[-1].remark == "naya bulb"
    assert [n.status for n in ws.outbox.for_ticket(done_number)] == [ASSIGNED, IN_PROGRESS, RESOLVED]

    assert say(kind="tap", action="cant_fix", number=cant_number) == [("ask_reason", cant_number)]
    assert say(kind="photo", media_id="x") == [("reason_needed", cant_number)]
    assert say(kind="text", text="Pole is broken, needs a crane") == [("returned", cant_number)]
    returned = ws.tickets.get(cant_number)
    assert (returned.status, returned.assignee_id) == (REGISTERED, None)
    event = ws.tickets.history(cant_number)[-1]
    assert (event.kind, event.remark, event.for_citizen) == (
        "returned", "Pole is broken, needs a crane", False)
    assert [n.status for n in ws.outbox.for_ticket(cant_number)] == [ASSIGNED]  # not told

    # Taps on tickets that are no longer theirs or no longer open change nothing.
    assert say(kind="tap", action="done", number=cant_number) == [("not_yours", cant_number)]
    assert say(kind="tap", action="started", number=done_number) == [("not_open", done_number)]
    assert say(kind="tap", action="done", number="SRN-999999") == [("not_yours", "SRN-999999")]
    assert say(kind="other") == [("no_work", None)]


def test_lists_map_and_ward_table_follow_the_assignee(staffed):
    ws, workflow, tickets = staffed, staffed.workflow, staffed.tickets
    workflow.assign(ws.numbers["light_new"], ws.lineman.id, "officer:light", ws.light.id)
    mine = tickets.list_tickets(assignee_id=ws.lineman.id)
    assert [t.number for t in mine.items] == [ws.numbers["light_new"]]
    unassigned = tickets.list_tickets(department="street_lighting", unassigned=True)
    assert {t.number for t in unassigned.items} == {ws.numbers["light_old"], ws.numbers["light_w5"]}
    [point] = tickets.map_points(department="street_lighting")  # the only one with a pin
    assert (point.number, point.ward, point.overdue) == (ws.numbers["light_new"], 12, False)
    assert tickets.ward_counts(department="street_lighting") == [(5, 1, 0), (12, 1, 0), (23, 1, 1)]
    assert tickets.map_points(assignee_id=ws.head.id) == []


def test_escalation_with_a_clock_across_a_restart(staffed, migrated_url):
    """Overdue → the head is told once → the commissioner's office after the second period;
    a restarted worker (new engine, new objects) escalates nothing twice."""
    ws = staffed
    number = ws.numbers["light_w5"]  # registered two days ago, due 72 hours after
    due = ws.tickets.get(number).due_at
    hours = ws.city.workflow.commissioner_after_hours
    loop = LoopThread()
    graph = FakeGraphAPI()
    loop.run(graph.start())
    engines, clients = [], []

    def fresh_worker():
        engine = create_engine_for(migrated_url)
        engines.append(engine)
        sessions = make_session_factory(engine)
        client = WhatsAppClient("token", "100000000000077", graph.base_url, max_attempts=1)
        clients.append(client)
        return WorkflowWorker(Workflow(sessions, ws.city), StaffOutbox(sessions),
                              OfficerRepository(sessions, ws.city), TicketRepository(sessions, ws.city),
                              StaffSender(client, ws.city))

    def to(number_):
        return [m for m in graph.messages if m["to"] == number_]

    for other in ("light_new", "light_old", "safai_new", "water"):  # only this one runs late
        ws.tickets.change_status(ws.numbers[other], "rejected", "officer:light", "not ours")
    try:
        worker = fresh_worker()
        assert loop.run(worker.run_once(due - timedelta(seconds=1))).escalated == 0
        report = loop.run(worker.run_once(due + timedelta(minutes=1)))
        assert (report.escalated, report.delivered, report.failed) == (1, 1, 0)
        [head_message] = to(HEAD)
        assert head_message["type"] == "template"
        assert head_message["template"]["name"] == "nagar_ticket_escalated"
        params = [p["text"] for p in head_message["template"]["components"][0]["parameters"]]
        assert params[0] == number and params[2] == "5" and "919800000003" not in str(head_message)

        worker = fresh_worker()  # a restart: nothing is remembered but the database
        for minutes in (2, 60, hours * 60):
            report = loop.run(worker.run_once(due + timedelta(minutes=minutes)))
            assert (report.escalated, report.delivered) == (0, 0), minutes
        report = loop.run(worker.run_once(due + timedelta(minutes=1, hours=hours)))
        assert (report.escalated, report.delivered) == (1, 1)
        assert len(to(HEAD)) == 1 and len(to(COMMISSIONER)) == 1
        assert loop.run(fresh_worker().run_once(due + timedelta(days=30))).escalated == 0

        ticket = ws.tickets.get(number)
        assert ticket.escalation_level == 2
        steps = [(e.kind, e.actor, e.at) for e in ws.tickets.history(number) if e.kind == "escalation"]
        assert steps == [("escalation", "escalation:department_head", due + timedelta(minutes=1)),
                         ("escalation", "escalation:commissioner", due + timedelta(minutes=1, hours=hours))]
        assert ws.tickets.escalated_counts("street_lighting")["street_lighting"] == (0, 1)
        assert number in [t.number for t in ws.tickets.list_tickets(escalated=True).items]
    finally:
        for client in clients:
            loop.run(client.close())
        loop.run(graph.stop())
        loop.close()
        for engine in engines:
            engine.dispose()


def test_workers_running_together_escalate_once(staffed, migrated_url):
    ws = staffed
    due = ws.tickets.get(ws.numbers["light_w5"]).due_at
    engines = [create_engine_for(migrated_url) for _ in range(3)]
    workflows = [Workflow(make_session_factory(e), ws.city) for e in engines]
    start = threading.Barrier(len(workflows))
    steps = []

    def run(workflow):
        start.wait()
        steps.extend(workflow.escalate_due(due + timedelta(minutes=1)))

    try:
        threads = [threading.Thread(target=run, args=(w,)) for w in workflows]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for engine in engines:
            engine.dispose()
    # Every overdue ticket escalated exactly once (the seeded 10-day-old one, light_w5, and
    # water, whose 24 hours passed), whichever worker took it.
    numbers = sorted(s.ticket_number for s in steps)
    assert len(numbers) == len(set(numbers))
    assert ws.numbers["light_w5"] in numbers
    messages = ws.staff_outbox.for_ticket(ws.numbers["light_w5"])
    assert [(m.kind, m.level, m.officer_id) for m in messages] == [("escalation", 1, ws.head.id)]
