"""`nagar-admin`: officer accounts, tickets and the notification outbox from the command line.

    nagar-admin create-admin USERNAME [--name NAME]          password prompted (or one stdin line)
    nagar-admin create-officer USERNAME --department DEPT [--role ROLE] [--whatsapp N] [--language L] [--name NAME]
    nagar-admin set-whatsapp USERNAME NUMBER|- [--language L]
    nagar-admin set-password USERNAME | disable USERNAME | enable USERNAME | officers
    nagar-admin assign SRN-000012 --to USERNAME [--remark "..."] [--actor NAME]
    nagar-admin list [--department D] [--status S] [--ward N] [--category C] [--overdue] [--limit N]
    nagar-admin show SRN-000012
    nagar-admin update SRN-000012 --status resolved --remark "..." [--actor NAME] [--no-notify]
    nagar-admin export --from 2024-06-01 --to 2024-06-30 [--department D] [--output FILE]
    nagar-admin overdue
    nagar-admin notify [--once]
    nagar-admin escalate [--once]
    nagar-admin serve [--host 127.0.0.1] [--port 8080]

Every command first brings the database (DATABASE_URL) to the newest schema.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import date, datetime, time, timedelta
from typing import Iterator, List, Optional, TextIO
from zoneinfo import ZoneInfo

from civic.city import get_city
from civic.db import StorageUnavailable, migrate
from civic.notifications import NotificationOutbox, change_status_and_notify
from civic.officers import (
    ADMIN,
    ASSIGNABLE_ROLES,
    LANGUAGES,
    MAX_REMARK_CHARS,
    OFFICER,
    AccountError,
    OfficerRepository,
    mask_phone,
)
from civic.tickets import STATUSES, TicketError, TicketRecord, TicketRepository
from civic.workflow import StaffOutbox, Workflow
from officer.export import write_csv


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        migrate()
        return args.func(args) or 0
    except (AccountError, TicketError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except StorageUnavailable as exc:
        print(f"error: the database cannot be reached: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nagar-admin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    for name, role in (("create-admin", ADMIN), ("create-officer", OFFICER)):
        p = sub.add_parser(name, help=f"create an {role} account (password prompted or from stdin)")
        p.add_argument("username")
        p.add_argument("--name", default="", help="display name")
        if role == OFFICER:
            p.add_argument("--department", required=True, choices=list(get_city().departments))
            p.add_argument("--role", choices=ASSIGNABLE_ROLES, default=OFFICER,
                           help="field_worker (on WhatsApp), officer (the desk) or department_head")
        p.add_argument("--whatsapp", help="WhatsApp number with country code (staff messages)")
        p.add_argument("--language", choices=LANGUAGES, default="hi", help="of their WhatsApp messages")
        p.set_defaults(func=cmd_create, role=role)
    p = sub.add_parser("set-whatsapp", help="store an account's WhatsApp number ('-' removes it)")
    p.add_argument("username")
    p.add_argument("number")
    p.add_argument("--language", choices=LANGUAGES)
    p.set_defaults(func=cmd_set_whatsapp)
    p = sub.add_parser("set-password", help="set an account's password (ends its sessions)")
    p.add_argument("username")
    p.set_defaults(func=cmd_set_password)
    for name, active in (("disable", False), ("enable", True)):
        p = sub.add_parser(name, help=f"{name} an account")
        p.add_argument("username")
        p.set_defaults(func=cmd_set_active, active=active)
    sub.add_parser("officers", help="list accounts").set_defaults(func=cmd_officers)

    p = sub.add_parser("list", help="list tickets, newest first")
    p.add_argument("--department")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--ward", type=int)
    p.add_argument("--category")
    p.add_argument("--overdue", action="store_true", help="only open tickets past due")
    p.add_argument("--most-overdue", action="store_true", help="order by due time")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("show", help="a ticket, its history and notifications")
    p.add_argument("number")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("update", help="change a ticket's status (as the web form does)")
    p.add_argument("number")
    p.add_argument("--status", required=True, choices=STATUSES)
    p.add_argument("--remark")
    p.add_argument("--actor", default=None, help="who is acting (default cli:$USER)")
    p.add_argument("--no-notify", action="store_true",
                   help="leave the notification in the outbox for the worker instead of sending now")
    p.set_defaults(func=cmd_update)
    p = sub.add_parser("assign", help="name who works a ticket (as the web form does)")
    p.add_argument("number")
    p.add_argument("--to", required=True, dest="assignee", help="username of the assignee")
    p.add_argument("--remark")
    p.add_argument("--actor", default=None, help="who is acting (default cli:$USER)")
    p.set_defaults(func=cmd_assign)
    p = sub.add_parser("export", help="tickets registered in a date range, as CSV")
    p.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
    p.add_argument("--to", dest="end", required=True, type=date.fromisoformat,
                   help="last day, inclusive (the city's calendar)")
    p.add_argument("--department")
    p.add_argument("--output", help="file (default: standard output)")
    p.set_defaults(func=cmd_export)
    sub.add_parser("overdue", help="overdue tickets per department").set_defaults(func=cmd_overdue)
    p = sub.add_parser("notify", help="deliver due citizen notifications to Rasa")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.set_defaults(func=cmd_notify)
    p = sub.add_parser("escalate", help="escalate overdue tickets and send staff their WhatsApp messages")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.set_defaults(func=cmd_escalate)
    p = sub.add_parser("serve", help="run the officers' web workspace")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_serve)
    return parser


# --- accounts ------------------------------------------------------------------------------


def read_password(stdin: TextIO = sys.stdin) -> str:
    """Prompted twice on a terminal; otherwise the first line of standard input."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise AccountError("the passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def cmd_create(args) -> int:
    account = OfficerRepository().create(
        args.username, read_password(), args.role, getattr(args, "department", None), args.name,
        whatsapp_number=args.whatsapp, language=args.language)
    print(f"created {account.role} {account.username}"
          + (f" ({account.department})" if account.department else "")
          + (f", WhatsApp {account.whatsapp_number}" if account.whatsapp_number else ""))
    return 0


def cmd_set_whatsapp(args) -> int:
    account = OfficerRepository().set_whatsapp(
        args.username, None if args.number.strip() in ("", "-") else args.number, args.language)
    print(f"{account.username}: WhatsApp {account.whatsapp_number or 'none'}, language {account.language}")
    return 0


def cmd_set_password(args) -> int:
    OfficerRepository().set_password(args.username, read_password())
    print(f"password of {args.username} changed")
    return 0


def cmd_set_active(args) -> int:
    account = OfficerRepository().set_active(args.username, args.active)
    print(f"{account.username} {'enabled' if account.active else 'disabled'}")
    return 0


def cmd_officers(_args) -> int:
    for a in OfficerRepository().list():
        print(f"{a.username:20} {a.role:15} {a.department or '-':16} "
              f"{'active' if a.active else 'disabled':9} {a.whatsapp_number or '-':15} {a.display_name}")
    return 0


# --- tickets -------------------------------------------------------------------------------


def _local(value: Optional[datetime]) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_city().timezone)).strftime("%Y-%m-%d %H:%M")


def cmd_list(args) -> int:
    page = TicketRepository().list_tickets(
        department=args.department, status=args.status, ward=args.ward, category=args.category,
        overdue=True if args.overdue else None,
        order="most_overdue" if args.most_overdue else "newest",
        page_size=max(1, min(args.limit, 200)),
    )
    for t in page.items:
        flag = " OVERDUE" if t.is_overdue() else ""
        print(f"{t.number}  {t.status:11} ward {t.ward:<3} {t.category:15} "
              f"created {_local(t.created_at)}  due {_local(t.due_at)}{flag}")
    print(f"{len(page.items)} of {page.total}")
    return 0


def cmd_show(args) -> int:
    repo = TicketRepository()
    number = args.number.strip().upper()
    ticket = repo.get(number)
    if ticket is None:
        print(f"error: no ticket {number}", file=sys.stderr)
        return 1
    for name in ("number", "status", "category", "department", "ward", "location_text",
                 "latitude", "longitude", "description", "language", "rating"):
        print(f"{name:14} {getattr(ticket, name)}")
    print(f"{'citizen':14} {mask_phone(ticket.citizen_id)}  (the full number: the web page, recorded)")
    print(f"{'photos':14} {', '.join(ticket.photo_media_ids) or '-'}")
    for name in ("created_at", "due_at", "resolved_at"):
        print(f"{name:14} {_local(getattr(ticket, name))}")
    print("history:")
    for e in repo.history(number):
        print(f"  {_local(e.at)}  {e.status:11} {e.actor:24} {e.remark or ''}")
    print("notifications:")
    for n in NotificationOutbox().for_ticket(number):
        print(f"  {n.status:11} {n.state:9} attempts {n.attempts}  {n.last_error or ''}")
    return 0


def cmd_update(args) -> int:
    if args.remark and len(args.remark.strip()) > MAX_REMARK_CHARS:
        raise TicketError(f"the remark may have at most {MAX_REMARK_CHARS} characters "
                          f"(this one has {len(args.remark.strip())})")
    actor = args.actor or f"cli:{os.environ.get('USER') or 'admin'}"
    ticket = change_status_and_notify(
        TicketRepository(), args.number.strip().upper(), args.status, actor, args.remark)
    print(f"{ticket.number} is now {ticket.status}")
    if not args.no_notify:
        report = _notify_once()
        print(f"notifications: {report.delivered} sent, {report.failed} failed (retried later)")
    return 0


def cmd_assign(args) -> int:
    if args.remark and len(args.remark.strip()) > MAX_REMARK_CHARS:
        raise TicketError(f"the remark may have at most {MAX_REMARK_CHARS} characters")
    assignee = OfficerRepository().by_username(args.assignee)
    if assignee is None:
        raise AccountError(f"no account {args.assignee!r}")
    actor = args.actor or f"cli:{os.environ.get('USER') or 'admin'}"
    ticket = Workflow().assign(args.number.strip().upper(), assignee.id, actor, None, args.remark)
    print(f"{ticket.number} is assigned to {assignee.username} ({ticket.status})")
    return 0


def cmd_export(args) -> int:
    zone = ZoneInfo(get_city().timezone)
    start = datetime.combine(args.start, time.min, zone)
    end = datetime.combine(args.end + timedelta(days=1), time.min, zone)
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as handle:
            count = write_csv(handle, _registered(args.department, start, end))
    else:
        count = write_csv(sys.stdout, _registered(args.department, start, end))
    print(f"{count} tickets exported (citizens' numbers masked)", file=sys.stderr)
    return 0


def _registered(department: Optional[str], start: datetime, end: datetime) -> Iterator[TicketRecord]:
    """Tickets registered in [start, end), oldest first within each page of 200."""
    repo = TicketRepository()
    page_number = 1
    while True:
        page = repo.list_tickets(department=department, created_after=start, created_before=end,
                                 page=page_number, page_size=200)
        yield from reversed(page.items)
        if page_number >= page.pages:
            return
        page_number += 1


def cmd_overdue(_args) -> int:
    city = get_city()
    counts = TicketRepository().overdue_counts()
    for department, count in sorted(counts.items(), key=lambda item: -item[1]):
        print(f"{count:6}  {city.department_name(department, 'en')} ({department})")
    print(f"{sum(counts.values()):6}  total")
    return 0


# --- notifications and the web app ---------------------------------------------------------


def _notify_once():
    from officer.notifier import NotificationWorker, RasaNotifier

    return asyncio.run(NotificationWorker(NotificationOutbox(), RasaNotifier()).run_once())


def cmd_notify(args) -> int:
    from officer.notifier import NotificationWorker, RasaNotifier

    if args.once:
        report = _notify_once()
        print(f"{report.delivered} sent, {report.failed} failed (retried later)")
        return 0
    worker = NotificationWorker(NotificationOutbox(), RasaNotifier())
    try:
        asyncio.run(worker.run_forever())
    except KeyboardInterrupt:
        pass
    return 0


def _workflow_worker():
    from officer.workflow_worker import WorkflowWorker, staff_sender_from_env

    return WorkflowWorker(Workflow(), StaffOutbox(), OfficerRepository(), TicketRepository(),
                          staff_sender_from_env())


def cmd_escalate(args) -> int:
    worker = _workflow_worker()
    if args.once:
        report = asyncio.run(worker.run_once())
        print(f"{report.escalated} escalation steps; staff messages: {report.delivered} sent, "
              f"{report.failed} failed (retried later)"
              + ("" if worker.sender else "; WhatsApp is not configured, staff messages wait"))
        return 0
    try:
        asyncio.run(worker.run_forever())
    except KeyboardInterrupt:
        pass
    return 0


def cmd_serve(args) -> int:
    import logging

    from officer.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One worker process: the notification worker runs as a task inside it.
    create_app().run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
