"""Tickets as CSV for spreadsheets, safe to open in Excel or LibreOffice.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
spreadsheets as a formula (OWASP: CSV injection), and citizens' text is anything they
typed; such a cell gets a leading apostrophe, which spreadsheets take as "this is text" and
do not display. The csv module quotes separators, quotes and line breaks. Citizens' numbers
are masked (civic.officers.mask_phone); the full number is only shown, and recorded, on
the ticket page.
"""
from __future__ import annotations

import csv
from typing import Any, Iterable, List, TextIO

from civic.officers import mask_phone
from civic.tickets import TicketRecord

EXPORT_FIELDS = (
    "number", "category", "department", "ward", "status", "created_at", "due_at", "resolved_at",
    "updated_at", "overdue", "location_text", "latitude", "longitude", "description",
    "photo_count", "language", "citizen", "rating",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, made plain text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def ticket_row(ticket: TicketRecord) -> List[Any]:
    return [spreadsheet_safe(value) for value in (
        ticket.number, ticket.category, ticket.department, ticket.ward, ticket.status,
        *(x.isoformat() if x else "" for x in (ticket.created_at, ticket.due_at,
                                               ticket.resolved_at, ticket.updated_at)),
        int(ticket.is_overdue()), ticket.location_text, ticket.latitude, ticket.longitude,
        ticket.description, len(ticket.photo_media_ids), ticket.language,
        mask_phone(ticket.citizen_id), ticket.rating or "",
    )]


def write_csv(handle: TextIO, tickets: Iterable[TicketRecord]) -> int:
    """The header and one row per ticket; returns the number of tickets written."""
    writer = csv.writer(handle)
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for ticket in tickets:
        writer.writerow(ticket_row(ticket))
        count += 1
    return count
