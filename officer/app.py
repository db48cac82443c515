"""The officers' web workspace: a server-rendered Sanic app.

Why Sanic and Jinja2: Sanic 21.12 is already in the virtualenv as Rasa 3.6's own web server
(rasa pins sanic<21.13), so the workspace adds no second web framework to the environment
that must keep Rasa's pins; it runs the notification worker as a task on its own event
loop. Jinja2 (3.1.6, needs only MarkupSafe>=2.0, already installed) renders the pages with
autoescaping on, so everything a citizen typed is HTML-escaped. No front-end build step:
plain HTML forms, one CSS file, charts as inline SVG.

Settings come from the environment (see docs/officers.md): OFFICER_SECRET_KEY,
OFFICER_SESSION_HOURS, OFFICER_COOKIE_SECURE, OFFICER_LOGIN_MAX_FAILURES,
OFFICER_LOGIN_ADDRESS_MAX_FAILURES, OFFICER_LOGIN_WINDOW_MINUTES, DATABASE_URL, RASA_URL,
RASA_TOKEN, WHATSAPP_ACCESS_TOKEN, WHATSAPP_API_BASE_URL, WHATSAPP_PHONE_NUMBER_ID,
OFFICER_NOTIFY_POLL_SECONDS, OFFICER_WORKFLOW_POLL_SECONDS, OFFICER_MAP_TILE_URL (and Sanic's own SANIC_PROXIES_COUNT behind a reverse proxy, for the client address).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from civic.city import City, get_city
from civic.db import StorageUnavailable
from civic.notifications import NotificationOutbox
from civic.officers import LoginLimits, OfficerRepository
from civic.tickets import TicketRepository
from civic.workflow import StaffOutbox, Workflow
from officer.auth import (
    CSRF_FIELD,
    DEFAULT_SESSION_HOURS,
    SESSION_COOKIE,
    Clock,
    SessionCodec,
    secret_key_from_env,
    utc_now,
)
from officer.i18n import DEFAULT_LANGUAGE, UI_LANGUAGES
from officer.media import WhatsAppMedia
from officer.notifier import NotificationWorker, RasaNotifier
from officer.workflow_worker import WorkflowWorker, staff_sender_from_env

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Sign-ins (bcrypt, ~0.25 s of CPU each) run on their own threads, so a burst of them waits
# there instead of in front of every page's database work in the default executor.
SIGN_IN_THREADS = 2
# Pages load only this site's stylesheet and images; no script, no frames, forms post here.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_app_numbers = itertools.count(1)


@dataclass
class OfficerSettings:
    secret_key: bytes = field(default_factory=secret_key_from_env)
    session_hours: float = DEFAULT_SESSION_HOURS
    cookie_secure: bool = False  # set OFFICER_COOKIE_SECURE=1 behind HTTPS
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    run_notifier: bool = True
    notify_poll_seconds: float = 10.0
    workflow_poll_seconds: float = 30.0
    map_tile_url: Optional[str] = None  # None: city.yml's map.tile_url; "": no tiles
    clock: Clock = utc_now  # sessions, CSRF tokens and sign-in limits read the time here

    @classmethod
    def from_env(cls) -> OfficerSettings:
        limits = LoginLimits()
        return cls(
            session_hours=_env_number("OFFICER_SESSION_HOURS", DEFAULT_SESSION_HOURS),
            cookie_secure=os.environ.get("OFFICER_COOKIE_SECURE", "") in ("1", "true", "yes"),
            login_limits=LoginLimits(
                per_account=_env_number("OFFICER_LOGIN_MAX_FAILURES", limits.per_account, int),
                per_address=_env_number("OFFICER_LOGIN_ADDRESS_MAX_FAILURES", limits.per_address, int),
                window=timedelta(minutes=_env_number("OFFICER_LOGIN_WINDOW_MINUTES",
                                                     limits.window.total_seconds() / 60)),
            ),
            notify_poll_seconds=_env_number("OFFICER_NOTIFY_POLL_SECONDS", 10.0),
            workflow_poll_seconds=_env_number("OFFICER_WORKFLOW_POLL_SECONDS", 30.0),
            map_tile_url=os.environ.get("OFFICER_MAP_TILE_URL"),
        )

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)


def _env_number(name: str, default: float, kind: type = float) -> float:
    """A positive number from the environment, the default when unset; else a clear error."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive {'whole ' if kind is int else ''}number, not {text!r}")
    return value


def create_app(
    settings: Optional[OfficerSettings] = None,
    session_factory=None,
    city: Optional[City] = None,
    notifier: Optional[RasaNotifier] = None,
    media: Optional[WhatsAppMedia] = None,
    staff_sender=None,
) -> Sanic:
    """The workspace app; session_factory None means DATABASE_URL (civic.db)."""
    from officer import views

    settings = settings or OfficerSettings.from_env()
    city = city or get_city()
    number = next(_app_numbers)
    app = Sanic("nagar_officer" if number == 1 else f"nagar_officer_{number}")
    app.config.REQUEST_MAX_SIZE = 1_000_000  # forms only; nothing is uploaded
    ctx = app.ctx
    ctx.settings = settings
    ctx.city = city
    ctx.tickets = TicketRepository(session_factory, city)
    ctx.officers = OfficerRepository(session_factory, city)
    ctx.outbox = NotificationOutbox(session_factory)
    ctx.workflow = Workflow(session_factory, city)
    ctx.staff_outbox = StaffOutbox(session_factory)
    ctx.session_factory = session_factory
    ctx.media = media or WhatsAppMedia()
    ctx.sign_in_pool = ThreadPoolExecutor(SIGN_IN_THREADS, thread_name_prefix="sign-in")
    ctx.codec = SessionCodec(settings.secret_key, settings.session_lifetime.total_seconds(),
                             settings.clock)
    ctx.worker = NotificationWorker(ctx.outbox, notifier or RasaNotifier(),
                                    poll_seconds=settings.notify_poll_seconds)
    ctx.workflow_worker = WorkflowWorker(
        ctx.workflow, ctx.staff_outbox, ctx.officers, ctx.tickets,
        staff_sender if staff_sender is not None else staff_sender_from_env(),
        poll_seconds=settings.workflow_poll_seconds)
    ctx.templates = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
    )

    codec_max_age = ctx.codec.max_age_seconds
    app.static("/static", str(HERE / "static"), name="static")
    app.blueprint(views.bp)

    @app.middleware("request")
    async def load_session(request: Request) -> Optional[HTTPResponse]:
        codec: SessionCodec = request.app.ctx.codec
        session = codec.loads(request.cookies.get(SESSION_COOKIE))
        request.ctx.session_changed = session is None
        request.ctx.session = session or codec.new(_browser_language(request))
        request.ctx.officer = None
        if request.ctx.session["sid"] is not None:
            # The server decides: a revoked or expired session, or a disabled account, ends here.
            try:
                request.ctx.officer = await asyncio.to_thread(
                    request.app.ctx.officers.session_officer, request.ctx.session["sid"],
                    settings.clock())
            except StorageUnavailable:
                return views.error_page(request, 503, "error.storage")
            if request.ctx.officer is None:
                request.ctx.session = codec.new(request.ctx.session["lang"])
                request.ctx.session_changed = True
        if request.method not in SAFE_METHODS:
            submitted = request.form.get(CSRF_FIELD) if request.form else None
            if not codec.csrf_valid(request.ctx.session, submitted):
                return views.error_page(request, 403, "error.csrf")
        return None

    @app.middleware("response")
    async def save_session(request: Request, response: HTTPResponse) -> None:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if (response.content_type or "").startswith("text/html"):
            headers.setdefault("Cache-Control", "no-store")  # pages hold citizens' data
        session = getattr(request.ctx, "session", None)
        if session is not None and request.ctx.session_changed:
            response.cookies[SESSION_COOKIE] = request.app.ctx.codec.dumps(session)
            cookie = response.cookies[SESSION_COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Lax"
            cookie["path"] = "/"
            cookie["max-age"] = codec_max_age
            if settings.cookie_secure:
                cookie["secure"] = True

    @app.listener("after_server_stop")
    async def stop_sign_in_pool(app_: Sanic, _loop) -> None:
        app_.ctx.sign_in_pool.shutdown(wait=False)

    if settings.run_notifier:
        @app.listener("after_server_start")
        async def start_worker(app_: Sanic, _loop) -> None:
            app_.ctx.worker_tasks = [asyncio.ensure_future(app_.ctx.worker.run_forever()),
                                     asyncio.ensure_future(app_.ctx.workflow_worker.run_forever())]

        @app.listener("before_server_stop")
        async def stop_worker(app_: Sanic, _loop) -> None:
            for task in getattr(app_.ctx, "worker_tasks", ()):
                task.cancel()

    return app


def _browser_language(request: Request) -> str:
    accepted = (request.headers.get("accept-language") or "").lower()
    return "hi" if accepted.startswith("hi") and "hi" in UI_LANGUAGES else DEFAULT_LANGUAGE
