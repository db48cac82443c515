"""Pages of the officers' workspace: sign-in, ticket list and page, dashboard, accounts,
the security log.

Every ticket route loads the ticket first and answers 404 when it is missing OR belongs to
another department, so guessing URLs tells an officer nothing. Status changes go through
civic.notifications.change_status_and_notify (TicketRepository.change_status plus the
citizen's notification, one transaction). Citizens' numbers are shown masked; the full
number only in answer to a POST that records who saw it. Query parameters are parsed
strictly (ASCII digits, bounded): a bad page number is a 400 with a message, a bad filter
is ignored. Blocking database work runs off the event loop.
"""
from __future__ import annotations

import asyncio
import functools
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, raw, redirect

from civic.db import StorageUnavailable
from civic.notifications import change_status_and_notify
from civic.officers import (
    ADMIN,
    MAX_REMARK_CHARS,
    OFFICER,
    ROLES,
    AccountError,
    OfficerRecord,
    mask_phone,
)
from civic.officers import LANGUAGES as STAFF_LANGUAGES
from civic.ticket_stats import dashboard as dashboard_figures
from civic.tickets import (
    ASSIGNED,
    ASSIGNMENT_EVENT,
    ESCALATION_EVENT,
    REOPENED,
    RETURN_EVENT,
    STATUSES,
    TRANSITIONS,
    InvalidTicketData,
    ReopenWindowExpired,
    TicketRecord,
    TransitionNotAllowed,
)
from civic.workflow import AssignmentRefused, actor_of
from officer.auth import CSRF_FIELD
from officer.charts import ALERT_COLOUR, horizontal_bars, vertical_bars
from officer.i18n import DEFAULT_LANGUAGE, UI_LANGUAGES, translator
from officer.media import MediaUnavailable

bp = Blueprint("officer")

PAGE_SIZE = 20
# Age filter: key -> (at least, less than) days since registration.
AGE_FILTERS: Dict[str, Tuple[int, Optional[int]]] = {
    "today": (0, 1), "1-3": (1, 3), "3-7": (3, 7), "7-30": (7, 30), "30+": (30, None),
}
ORDERS = ("newest", "most_overdue")
ASSIGNED_FILTERS = ("me", "none")  # "My tickets", "Unassigned"
MAP_POINTS = 2000
DASHBOARD_DAYS = (7, 30, 90)
MAX_NUMBER_DIGITS = 9  # a page number: more digits is not a page anyone reaches
MAX_ID = 2**31 - 1  # SQL INTEGER: a larger id in a URL is no row (and would not fit a query)
AUDIT_ROWS = 100
REASON_REQUIRED = "a reason is required"  # TransitionNotAllowed.reason for a reject without one


# --- helpers -------------------------------------------------------------------------------


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    ctx = request.app.ctx
    language = _language(request)
    city = ctx.city
    zone = ZoneInfo(city.timezone)
    t = translator(language)
    officer = request.ctx.officer

    def local_time(value: Optional[datetime]) -> str:
        return value.astimezone(zone).strftime("%d-%m-%Y %H:%M") if value else "–"

    def department_name(key: Optional[str]) -> str:
        if not key:
            return t("nav.all_departments")
        return city.department_name(key, language) if key in city.departments else key

    def category_name(key: str) -> str:
        spec = city.categories.get(key)
        return spec.name(language) if spec else key

    page = ctx.templates.get_template(template).render(
        t=t, lang=language, officer=officer, csrf_field=CSRF_FIELD,
        csrf_token=ctx.codec.csrf_token(request.ctx.session), path=request.path,
        full_path=request.path + (f"?{request.query_string}" if request.query_string else ""),
        city_name=city.text("name", language), local_time=local_time,
        department_name=department_name, category_name=category_name,
        status_name=lambda key: t(f"status.{key}"), mask_phone=mask_phone,
        event_kinds={"assignment": ASSIGNMENT_EVENT, "returned": RETURN_EVENT,
                     "escalation": ESCALATION_EVENT}, **context,
    )
    return html(page, status=status)


def error_page(request: Request, status: int, message_key: str) -> HTTPResponse:
    return render(request, "error.html", status=status, message_key=message_key)


def login_required(handler):
    @functools.wraps(handler)
    async def wrapper(request: Request, *args, **kwargs):
        if request.ctx.officer is None:
            return redirect("/login?" + urlencode({"next": request.path}), status=303)
        try:
            return await handler(request, *args, **kwargs)
        except StorageUnavailable:
            return error_page(request, 503, "error.storage")
    return wrapper


def admin_required(handler):
    @functools.wraps(handler)
    async def wrapper(request: Request, *args, **kwargs):
        if not request.ctx.officer.is_admin:
            return error_page(request, 403, "error.forbidden")
        return await handler(request, *args, **kwargs)
    return login_required(wrapper)


async def visible_ticket(request: Request, number: str) -> Optional[TicketRecord]:
    """The ticket if this officer may see it; None both when missing and when not theirs."""
    ticket = await asyncio.to_thread(request.app.ctx.tickets.get, (number or "").upper())
    if ticket is None or not request.ctx.officer.can_see_ticket(ticket):
        return None
    return ticket


async def people(request: Request) -> Dict[int, OfficerRecord]:
    """Every account by id, to name assignees (a few hundred rows at most)."""
    return {o.id: o for o in await asyncio.to_thread(request.app.ctx.officers.list)}


def local_path(value: Optional[str], default: str = "/tickets") -> str:
    """Only same-site paths, so `next` cannot send anyone elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def _arg(request: Request, name: str) -> str:
    return (request.args.get(name) or "").strip()


def whole_number(text: str) -> Optional[int]:
    """A number written in ASCII digits only, at most MAX_NUMBER_DIGITS long; else None.

    str.isdigit() alone accepts '²' and '२', which int() then refuses or reads.
    """
    if 0 < len(text) <= MAX_NUMBER_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _language(request: Request) -> str:
    return request.ctx.session.get("lang", DEFAULT_LANGUAGE)


def client_address(request: Request) -> str:
    """The client's address: a proxy's forwarded one only when Sanic is told to trust it
    (SANIC_PROXIES_COUNT or SANIC_REAL_IP_HEADER), else the connection's."""
    return request.remote_addr or request.ip or ""


# --- sign-in and language ------------------------------------------------------------------


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    return redirect("/tickets" if request.ctx.officer else "/login", status=303)


@bp.get("/health")
async def health(_request: Request) -> HTTPResponse:
    return html("ok")


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    return render(request, "login.html", next=local_path(_arg(request, "next")), failed=False)


@bp.post("/login")
async def login(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    form = request.form
    username, password = form.get("username", ""), form.get("password", "")
    next_path = local_path(form.get("next"))
    now = ctx.settings.clock()
    try:
        result = await asyncio.get_running_loop().run_in_executor(ctx.sign_in_pool, functools.partial(
            ctx.officers.sign_in, username, password, client_address(request),
            ctx.settings.login_limits, now))
        if result.officer is not None:
            await start_session(request, result.officer.id)
    except StorageUnavailable:
        return error_page(request, 503, "error.storage")
    if result.locked_until is not None:
        zone = ZoneInfo(ctx.city.timezone)
        response = render(request, "login.html", status=429, next=next_path, username=username,
                          locked_until=result.locked_until.astimezone(zone).strftime("%H:%M"))
        response.headers["Retry-After"] = str(math.ceil((result.locked_until - now).total_seconds()))
        return response
    if result.officer is None:
        return render(request, "login.html", status=401, next=next_path, failed=True,
                      username=username)
    return redirect(next_path, status=303)


async def start_session(request: Request, officer_id: int) -> None:
    """A new server-side session and a new cookie (and CSRF value): whatever was planted
    in the browser before sign-in is worthless."""
    ctx = request.app.ctx
    token = await asyncio.to_thread(ctx.officers.open_session, officer_id,
                                    ctx.settings.session_lifetime, client_address(request),
                                    ctx.settings.clock())
    session = ctx.codec.new(_language(request))
    session["sid"] = token
    request.ctx.session, request.ctx.session_changed = session, True


@bp.post("/logout")
async def logout(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    try:
        await asyncio.to_thread(ctx.officers.revoke_session, request.ctx.session["sid"],
                                ctx.settings.clock())
    except StorageUnavailable:
        return error_page(request, 503, "error.storage")
    request.ctx.session = ctx.codec.new(_language(request))
    request.ctx.session_changed = True
    return redirect("/login", status=303)


@bp.post("/language")
async def set_language(request: Request) -> HTTPResponse:
    language = request.form.get("lang", "")
    if language in UI_LANGUAGES:
        request.ctx.session["lang"] = language
        request.ctx.session_changed = True
    return redirect(local_path(request.form.get("next")), status=303)


# --- tickets -------------------------------------------------------------------------------


def list_filters(request: Request) -> Dict[str, str]:
    """The list's query parameters, each kept only when valid."""
    city = request.app.ctx.city
    raw_values = {name: _arg(request, name) for name in
                  ("status", "ward", "category", "age", "overdue", "order", "department",
                   "assigned", "escalated")}
    ward = whole_number(raw_values["ward"])
    valid = {
        "status": raw_values["status"] in STATUSES,
        "ward": ward is not None and city.valid_ward(ward),
        "category": raw_values["category"] in city.categories,
        "age": raw_values["age"] in AGE_FILTERS,
        "overdue": raw_values["overdue"] in ("1", "0"),
        "order": raw_values["order"] in ORDERS,
        "department": raw_values["department"] in city.departments and request.ctx.officer.is_admin,
        "assigned": raw_values["assigned"] in ASSIGNED_FILTERS,
        "escalated": raw_values["escalated"] == "1",
    }
    return {name: value for name, value in raw_values.items() if valid[name]}


def ticket_query(request: Request, filters: Dict[str, str], now: datetime) -> Dict[str, Any]:
    """The repository's filter arguments for the list, the map and the ward table. A field
    worker sees only their own tickets; a desk account its department's (an admin: all)."""
    officer = request.ctx.officer
    created_after = created_before = None
    if "age" in filters:
        low, high = AGE_FILTERS[filters["age"]]
        created_before = now - timedelta(days=low) if low else None
        created_after = now - timedelta(days=high) if high else None
    mine = officer.is_field_worker or filters.get("assigned") == "me"
    return dict(
        department=officer.scope or filters.get("department"),
        status=filters.get("status"), ward=filters.get("ward"), category=filters.get("category"),
        overdue={"1": True, "0": False}.get(filters.get("overdue", "")), now=now,
        created_after=created_after, created_before=created_before,
        assignee_id=officer.id if mine else None,
        unassigned=filters.get("assigned") == "none" and not officer.is_field_worker,
        escalated=filters.get("escalated") == "1",
    )


@bp.get("/tickets")
@login_required
async def ticket_list(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    filters = list_filters(request)
    page_arg = _arg(request, "page")
    page = whole_number(page_arg) if page_arg else 1
    if not page:  # not digits, too long, or 0
        return error_page(request, 400, "error.bad_page")
    now = datetime.now(timezone.utc)
    query = dict(ticket_query(request, filters, now), order=filters.get("order", "newest"),
                 page_size=PAGE_SIZE)
    result = await asyncio.to_thread(ctx.tickets.list_tickets, page=page, **query)
    if page > result.pages:  # past the end (filters narrowed): show the last page
        result = await asyncio.to_thread(ctx.tickets.list_tickets, page=result.pages, **query)
    def page_url(number: int) -> str:
        return "/tickets?" + urlencode({**filters, "page": number})

    return render(
        request, "tickets.html", result=result, filters=filters, now=now,
        page_url=page_url, people=await people(request), **filter_choices(request),
    )


def filter_choices(request: Request) -> Dict[str, Any]:
    """What the filter form (list and map) offers."""
    city = request.app.ctx.city
    officer = request.ctx.officer
    categories = [key for key, spec in city.categories.items()
                  if officer.is_admin or spec.department == officer.department]
    return dict(statuses=STATUSES, categories=categories, wards=range(1, city.wards + 1),
                departments=list(city.departments), ages=list(AGE_FILTERS), orders=ORDERS,
                assigned_filters=ASSIGNED_FILTERS)


@bp.get("/tickets/<number>")
@login_required
async def ticket_page(request: Request, number: str) -> HTTPResponse:
    ticket = await visible_ticket(request, number)
    if ticket is None:
        return error_page(request, 404, "error.not_found")
    changed = _arg(request, "changed")
    return await _ticket_response(request, ticket, changed=changed if changed in STATUSES else None,
                                  assigned=_arg(request, "assigned") == "1")


@bp.post("/tickets/<number>/phone")
@login_required
async def reveal_phone(request: Request, number: str) -> HTTPResponse:
    """The citizen's full number, once, and a record of who saw it when."""
    ticket = await visible_ticket(request, number)
    if ticket is None:
        return error_page(request, 404, "error.not_found")
    ctx = request.app.ctx
    await asyncio.to_thread(ctx.officers.record_phone_reveal, request.ctx.officer.id,
                            ticket.number, client_address(request), ctx.settings.clock())
    return await _ticket_response(request, ticket, phone_revealed=True)


async def _ticket_response(request: Request, ticket: TicketRecord, status: int = 200,
                           error: Optional[str] = None, changed: Optional[str] = None,
                           remark: str = "", phone_revealed: bool = False,
                           assigned: bool = False) -> HTTPResponse:
    ctx = request.app.ctx
    officer = request.ctx.officer
    history = await asyncio.to_thread(ctx.tickets.history, ticket.number)
    notifications = await asyncio.to_thread(ctx.outbox.for_ticket, ticket.number)
    staff_messages = await asyncio.to_thread(ctx.staff_outbox.for_ticket, ticket.number)
    reveals = (await asyncio.to_thread(ctx.officers.phone_reveals, ticket.number)
               if officer.is_admin else [])
    assignable = (await asyncio.to_thread(ctx.workflow.assignable, ticket.department)
                  if officer.can_assign and ticket.is_open else [])
    # Reopening is the citizen's own step (with its own window), not an officer's; assigning
    # names someone, with the assignment form. Field workers act from WhatsApp.
    next_statuses = [s for s in TRANSITIONS[ticket.status] if s not in (REOPENED, ASSIGNED)
                     and officer.can_assign]
    map_url = None
    if ticket.latitude is not None and ticket.longitude is not None:
        map_url = ("https://www.openstreetmap.org/?" + urlencode(
            {"mlat": f"{ticket.latitude:.6f}", "mlon": f"{ticket.longitude:.6f}"})
            + f"#map=18/{ticket.latitude:.6f}/{ticket.longitude:.6f}")
    return render(
        request, "ticket.html", status=status, ticket=ticket, history=history,
        notifications=notifications, next_statuses=next_statuses, map_url=map_url,
        error=error, changed=changed, remark=remark, now=datetime.now(timezone.utc),
        phone_revealed=phone_revealed, reveals=reveals, max_remark=MAX_REMARK_CHARS,
        assignable=assignable, people=await people(request), staff_messages=staff_messages,
        assigned=assigned,
    )


@bp.post("/tickets/<number>/status")
@login_required
async def change_status(request: Request, number: str) -> HTTPResponse:
    ticket = await visible_ticket(request, number)
    if ticket is None:
        return error_page(request, 404, "error.not_found")
    officer = request.ctx.officer
    if not officer.can_assign:  # field workers act from WhatsApp
        return error_page(request, 403, "error.forbidden_role")
    new_status = request.form.get("status", "")
    remark = (request.form.get("remark") or "").strip()
    t = translator(_language(request))
    if new_status not in STATUSES or new_status in (REOPENED, ASSIGNED):
        return await _ticket_response(request, ticket, 400, t("error.unknown_status"), remark=remark)
    if len(remark) > MAX_REMARK_CHARS:  # the form says so too; this is the rule
        return await _ticket_response(request, ticket, 400, t(
            "error.remark_too_long", limit=MAX_REMARK_CHARS, length=len(remark)), remark=remark)
    try:
        await asyncio.to_thread(
            change_status_and_notify, request.app.ctx.tickets, ticket.number, new_status,
            f"{officer.role}:{officer.username}", remark or None,
        )
    except TransitionNotAllowed as exc:
        reason = ("error.reopen_window" if isinstance(exc, ReopenWindowExpired)
                  else "error.reason_required" if exc.reason == REASON_REQUIRED
                  else "error.not_next")
        message = t("error.transition", number=ticket.number, current=t(f"status.{exc.current}"),
                    requested=t(f"status.{exc.requested}"), reason=t(reason))
        current = await visible_ticket(request, number)
        return await _ticket_response(request, current, 409, message, remark=remark)
    except InvalidTicketData:
        return await _ticket_response(request, ticket, 400, t("error.unknown_status"), remark=remark)
    request.app.ctx.worker.wake()
    return redirect(f"/tickets/{ticket.number}?changed={new_status}", status=303)


@bp.post("/tickets/<number>/assign")
@login_required
async def assign(request: Request, number: str) -> HTTPResponse:
    """Name the assignee: a field worker, officer or head of the ticket's department."""
    ticket = await visible_ticket(request, number)
    if ticket is None:
        return error_page(request, 404, "error.not_found")
    officer = request.ctx.officer
    if not officer.can_assign:
        return error_page(request, 403, "error.forbidden_role")
    t = translator(_language(request))
    remark = (request.form.get("remark") or "").strip()
    assignee_id = whole_number(request.form.get("assignee") or "")
    if len(remark) > MAX_REMARK_CHARS:
        return await _ticket_response(request, ticket, 400, t(
            "error.remark_too_long", limit=MAX_REMARK_CHARS, length=len(remark)), remark=remark)
    if assignee_id is None or assignee_id > MAX_ID:
        return await _ticket_response(request, ticket, 400, t("error.assign.not_staff"), remark=remark)
    try:
        await asyncio.to_thread(request.app.ctx.workflow.assign, ticket.number, assignee_id,
                                actor_of(officer), officer.id, remark or None)
    except AssignmentRefused as refused:
        current = await visible_ticket(request, number)
        return await _ticket_response(request, current or ticket, 409,
                                      t(f"error.assign.{refused.reason}"), remark=remark)
    request.app.ctx.worker.wake()  # the citizen's "assigned"
    request.app.ctx.workflow_worker.wake()  # the assignee's WhatsApp message
    return redirect(f"/tickets/{ticket.number}?assigned=1", status=303)


@bp.get("/tickets/<number>/resolution-photo")
@login_required
async def resolution_photo(request: Request, number: str) -> HTTPResponse:
    """The field worker's photo of the finished work."""
    ticket = await visible_ticket(request, number)
    if ticket is None or not ticket.resolution_media_id:
        return error_page(request, 404, "error.not_found")
    return await _media_response(request, ticket.resolution_media_id)


@bp.post("/tickets/<number>/notifications/<notification_id:int>/retry")
@login_required
async def retry_notification(request: Request, number: str, notification_id: int) -> HTTPResponse:
    ticket = await visible_ticket(request, number)
    if ticket is None or not 0 < notification_id <= MAX_ID:  # beyond any row id
        return error_page(request, 404, "error.not_found")
    notification = await asyncio.to_thread(request.app.ctx.outbox.get, notification_id)
    if notification is None or notification.ticket_number != ticket.number:
        return error_page(request, 404, "error.not_found")
    await asyncio.to_thread(request.app.ctx.outbox.retry, notification_id)
    request.app.ctx.worker.wake()
    return redirect(f"/tickets/{ticket.number}", status=303)


@bp.get("/tickets/<number>/photos/<index:int>")
@login_required
async def photo(request: Request, number: str, index: int) -> HTTPResponse:
    ticket = await visible_ticket(request, number)
    if ticket is None or not 0 <= index < len(ticket.photo_media_ids):
        return error_page(request, 404, "error.not_found")
    return await _media_response(request, ticket.photo_media_ids[index])


async def _media_response(request: Request, media_id: str) -> HTTPResponse:
    try:
        media = await request.app.ctx.media.fetch(media_id)
    except MediaUnavailable:
        return error_page(request, 502, "error.photo")
    # Only images are shown inline; anything else downloads, so it cannot run as a page.
    is_image = media.content_type.startswith("image/") and "svg" not in media.content_type
    headers = {"Cache-Control": "private, max-age=300"}
    if not is_image:
        headers["Content-Disposition"] = "attachment"
    return raw(media.content, content_type=media.content_type if is_image
               else "application/octet-stream", headers=headers)


# --- map -----------------------------------------------------------------------------------


def tile_source(tile_url: str) -> str:
    """The CSP source of a tile server URL: its origin, `{s}` subdomains as a wildcard."""
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}" if parts.scheme == "https" else ""


def map_policy(tile_url: str) -> str:
    """The map page's CSP: the default one plus this site's script, and the tile server's
    images when there is one (with `data:`: Leaflet puts an empty data-URI image in place of
    a tile that failed or left the view). Nothing else on any page may run a script."""
    source = tile_source(tile_url)
    images = f"'self' data: {source}" if source else "'self'"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@bp.get("/map")
@login_required
async def ticket_map(request: Request) -> HTTPResponse:
    """Open tickets with a location pin on a map (Leaflet, served from /static), under the
    list's filters, and a table of open and overdue tickets per ward."""
    ctx = request.app.ctx
    language = _language(request)
    t = translator(language)
    filters = list_filters(request)
    now = datetime.now(timezone.utc)
    query = ticket_query(request, filters, now)
    points = await asyncio.to_thread(ctx.tickets.map_points, MAP_POINTS, **query)
    wards = await asyncio.to_thread(ctx.tickets.ward_counts, **query)
    settings = ctx.city.map
    tile_url = settings.tile_url if ctx.settings.map_tile_url is None else ctx.settings.map_tile_url
    data = {
        "center": list(settings.center), "zoom": settings.zoom, "tiles": tile_url,
        "attribution": settings.attribution if tile_url == settings.tile_url else "",
        "points": [{
            "number": p.number, "lat": p.latitude, "lon": p.longitude, "overdue": p.overdue,
            "text": " · ".join(filter(None, (
                ctx.city.categories[p.category].name(language) if p.category in ctx.city.categories else p.category,
                f"{t('list.ward')} {p.ward}", t(f"status.{p.status}"),
                t("list.overdue_badge") if p.overdue else "",
                t(f"escalation.level{p.escalation_level}") if p.escalation_level else ""))),
        } for p in points],
    }
    response = render(request, "map.html", filters=filters, data=data, wards_table=wards,
                      point_count=len(points), **filter_choices(request))
    response.headers["Content-Security-Policy"] = map_policy(tile_url)
    return response


# --- dashboard -----------------------------------------------------------------------------


@bp.get("/dashboard")
@login_required
async def dashboard(request: Request) -> HTTPResponse:
    ctx = request.app.ctx
    officer = request.ctx.officer
    days = whole_number(_arg(request, "days"))
    days = days if days in DASHBOARD_DAYS else 30
    figures = await asyncio.to_thread(
        dashboard_figures, ctx.session_factory, ctx.city, officer.scope, days)
    escalated = await asyncio.to_thread(ctx.tickets.escalated_counts, officer.scope)
    language = _language(request)
    t = translator(language)

    def cat_name(key: str) -> str:
        return ctx.city.categories[key].name(language)

    def dept_name(key: str) -> str:
        return ctx.city.department_name(key, language)

    wards = sorted(figures.per_ward.items(), key=lambda item: (-item[1], item[0]))[:20]
    charts = {
        "per_category": horizontal_bars(
            [(cat_name(k), v) for k, v in figures.per_category.items()], t("dash.per_category")),
        "per_ward": horizontal_bars(
            [(f"{t('list.ward')} {w}", v) for w, v in wards], t("dash.per_ward"), label_width=110),
        "per_day": vertical_bars(
            [(d.strftime("%d-%m"), v) for d, v in figures.per_day], t("dash.per_day"),
            label_every=max(1, math.ceil(days / 6))),
        "median_resolution": horizontal_bars(
            [(dept_name(k), v) for k, v in figures.median_resolution_hours.items()],
            t("dash.median_resolution")),
        "overdue": horizontal_bars(
            [(dept_name(k), v) for k, v in figures.overdue.items()], t("dash.overdue"),
            colour=ALERT_COLOUR),
        "escalated_head": horizontal_bars(
            [(dept_name(k), v[0]) for k, v in escalated.items()], t("dash.escalated_head"),
            colour=ALERT_COLOUR),
        "escalated_commissioner": horizontal_bars(
            [(dept_name(k), v[1]) for k, v in escalated.items()], t("dash.escalated_commissioner"),
            colour=ALERT_COLOUR),
    }
    return render(request, "dashboard.html", figures=figures, charts=charts, days=days,
                  day_choices=DASHBOARD_DAYS, has_wards=bool(wards))


# --- accounts (admins) ---------------------------------------------------------------------


@bp.get("/admin/officers")
@admin_required
async def officers_page(request: Request) -> HTTPResponse:
    return await _officers_response(request)


async def _officers_response(request: Request, status: int = 200, error: str = "",
                             message: str = "") -> HTTPResponse:
    accounts = await asyncio.to_thread(request.app.ctx.officers.list)
    return render(request, "officers.html", status=status, accounts=accounts, roles=ROLES,
                  departments=list(request.app.ctx.city.departments), error=error,
                  message=message or _officer_message(request), staff_languages=STAFF_LANGUAGES)


def _officer_message(request: Request) -> str:
    done, username = _arg(request, "done"), _arg(request, "username")
    if done in ("created_ok", "updated_ok") and username:
        return translator(_language(request))(f"officers.{done}", username=username)
    return ""


@bp.post("/admin/officers")
@admin_required
async def create_officer(request: Request) -> HTTPResponse:
    form = request.form
    role = form.get("role", OFFICER)
    try:
        account = await asyncio.to_thread(
            request.app.ctx.officers.create, form.get("username", ""), form.get("password", ""),
            role, form.get("department") if role != ADMIN else None, form.get("display_name", ""),
            None, form.get("whatsapp_number", "").strip() or None, form.get("language", "hi"))
    except AccountError as exc:
        return await _officers_response(request, 400, error=str(exc))
    return redirect("/admin/officers?" + urlencode(
        {"done": "created_ok", "username": account.username}), status=303)


@bp.post("/admin/officers/<username>/active")
@admin_required
async def set_active(request: Request, username: str) -> HTTPResponse:
    try:
        await asyncio.to_thread(request.app.ctx.officers.set_active, username,
                                request.form.get("active") == "1")
    except AccountError as exc:
        return await _officers_response(request, 400, error=str(exc))
    return redirect("/admin/officers?" + urlencode({"done": "updated_ok", "username": username}),
                    status=303)


@bp.post("/admin/officers/<username>/whatsapp")
@admin_required
async def set_whatsapp(request: Request, username: str) -> HTTPResponse:
    """A staff member's WhatsApp number (empty: none) and the language of their messages."""
    try:
        await asyncio.to_thread(request.app.ctx.officers.set_whatsapp, username,
                                request.form.get("whatsapp_number", "").strip() or None,
                                request.form.get("language") or None)
    except AccountError as exc:
        return await _officers_response(request, 400, error=str(exc))
    return redirect("/admin/officers?" + urlencode({"done": "updated_ok", "username": username}),
                    status=303)


@bp.post("/admin/officers/<username>/password")
@admin_required
async def set_password(request: Request, username: str) -> HTTPResponse:
    ctx = request.app.ctx
    try:
        account = await asyncio.to_thread(ctx.officers.set_password, username,
                                          request.form.get("password", ""), ctx.settings.clock())
    except AccountError as exc:
        return await _officers_response(request, 400, error=str(exc))
    if account.id == request.ctx.officer.id:
        # Every session of the account was revoked, this one too: carry on in a new one.
        await start_session(request, account.id)
    return redirect("/admin/officers?" + urlencode({"done": "updated_ok", "username": username}),
                    status=303)


@bp.get("/admin/security")
@admin_required
async def security_log(request: Request) -> HTTPResponse:
    """Who was shown which citizen's number, and the failed or refused sign-ins."""
    officers = request.app.ctx.officers
    reveals = await asyncio.to_thread(officers.phone_reveals, None, AUDIT_ROWS)
    failures = await asyncio.to_thread(officers.login_failures, AUDIT_ROWS)
    return render(request, "security.html", reveals=reveals, failures=failures)
