"""What a citizen hears about who works their complaint: a title, a department and a ward
("the Street Lighting lineman of ward 23"); a name only where city.yml allows it."""
from typing import Optional

from actions.common import LABELS, in_language, label, run_storage
from civic.city import get_city
from civic.officers import FIELD_WORKER, OfficerRepository
from civic.tickets import ASSIGNED, IN_PROGRESS, TicketRecord

officers = OfficerRepository()


async def assignee_words(ticket: TicketRecord, language: str) -> Optional[str]:
    """The assignee as the citizen hears of them; None when nobody is named."""
    if ticket.assignee_id is None:
        return None
    officer = await run_storage(officers.get, ticket.assignee_id)
    if officer is None:
        return None
    city = get_city()
    title = (city.workflow.field_title(officer.department, language)
             if officer.role == FIELD_WORKER else None) or label("staff_role", officer.role, language)
    if city.workflow.staff_names_to_citizens:
        title = f"{title} {officer.display_name}"
    return in_language(LABELS["assignee"], language).format(
        department=city.department_name(ticket.department, language), title=title, ward=ticket.ward)


async def status_words(ticket: TicketRecord, language: str) -> str:
    """The ticket's status for its owner, naming the assignee while one works it."""
    if ticket.status in (ASSIGNED, IN_PROGRESS):
        assignee = await assignee_words(ticket, language)
        if assignee:
            return label("status_by_assignee", ticket.status, language).format(assignee=assignee)
    return label("status", ticket.status, language)
