"""Test harness for the officers' workspace: the real app on loopback, a browser-like client,
and loopback stand-ins for Rasa's HTTP API and the WhatsApp media endpoints.

The app runs in its own event loop on a background thread (as tests/whatsapp_support.py
does for the channel), so tests stay synchronous and send real HTTP requests.
"""
from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from sanic import Sanic

Sanic.test_mode = True  # several apps in one test process

PASSWORD = "correct horse battery"
MEDIA_TOKEN = "test-media-token"
RASA_TOKEN = "test-rasa-token"
SECRET_KEY = b"k" * 32  # the web fixture's OFFICER_SECRET_KEY
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """A clock the test moves: clock() is the time, clock.advance(minutes=…) moves it."""

    def __init__(self, start: Optional[datetime] = None) -> None:
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Awaitable, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class AppServer:
    """A Sanic app served on 127.0.0.1 from a background loop."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.loop_thread = LoopThread()
        self._server = None
        self.base_url = ""

    def start(self) -> AppServer:
        self.loop_thread.run(self._start())
        return self

    async def _start(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._server = await self.app.create_server(sock=sock, return_asyncio_server=True,
                                                    access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.base_url = f"http://127.0.0.1:{port}"

    def run(self, coroutine: Awaitable, timeout: float = 30.0) -> Any:
        return self.loop_thread.run(coroutine, timeout)

    def stop(self) -> None:
        async def _stop() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        self.loop_thread.run(_stop())
        self.loop_thread.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def csrf(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, "no CSRF token on the page"
        return match.group(1)


class Client:
    """A cookie-keeping HTTP client that does not follow redirects (tests look at them)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, method: str, path: str, data: Optional[Dict[str, str]] = None,
                headers: Optional[Dict[str, str]] = None) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base_url + path, data=body, method=method,
                                     headers=headers or {})
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=20) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read())

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: Optional[Dict[str, str]] = None, csrf: bool = True) -> Response:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.get("/login").csrf()
        return self.request("POST", path, data)

    def login(self, username: str, password: str = PASSWORD,
              headers: Optional[Dict[str, str]] = None) -> Response:
        token = self.get("/login").csrf()
        return self.request("POST", "/login", {"username": username, "password": password,
                                               "csrf_token": token, "next": "/tickets"},
                            headers=headers)

    def cookie(self, name: str) -> http.cookiejar.Cookie:
        return next(c for c in self.cookies if c.name == name)


Handler = Callable[[str, str, Dict[str, List[str]], bytes, Dict[str, str]], Tuple[int, str, bytes]]


class LoopbackHTTPServer:
    """http.server on 127.0.0.1 that records requests and answers through `handler`.

    handler(method, path, query, body, headers) -> (status, content_type, body).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: List[Dict[str, Any]] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = urllib.parse.parse_qs(url.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append({"method": self.command, "path": url.path, "query": query,
                                       "body": body, "headers": headers})
                status, content_type, payload = outer.handler(self.command, url.path, query, body, headers)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> LoopbackHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeRasa(LoopbackHTTPServer):
    """Rasa's trigger_intent endpoint: answers 200 with a tracker, or scripted failures."""

    def __init__(self, token: str = "") -> None:
        self.token = token
        self.failures: List[int] = []  # statuses to answer, in order, before succeeding
        super().__init__(self._answer)

    def _answer(self, method, path, query, body, headers):
        if self.token and query.get("token") != [self.token]:
            return 401, "application/json", b'{"status":"failure","reason":"NotAuthenticated"}'
        if self.failures:
            status = self.failures.pop(0)
            return status, "application/json", json.dumps({"status": "failure", "code": status}).encode()
        return 200, "application/json", b'{"tracker": {"sender_id": "x"}}'

    @property
    def triggers(self) -> List[Dict[str, Any]]:
        return [dict(r, json=json.loads(r["body"])) for r in self.requests if r["method"] == "POST"]


PHOTO_BYTES = b"\xff\xd8\xff\xe0" + b"fake-jpeg-bytes" * 10


class FakeWhatsAppMedia(LoopbackHTTPServer):
    """GET /v21.0/{media_id} -> {"url": ...}; GET /files/{media_id} -> the bytes (Bearer required)."""

    def __init__(self, token: str) -> None:
        self.token = token
        super().__init__(self._answer)

    def _answer(self, method, path, query, body, headers):
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, "application/json", b'{"error":{"code":190}}'
        parts = path.strip("/").split("/")
        if parts[0] == "v21.0" and len(parts) == 2:
            if parts[1] == "expired":
                return 404, "application/json", b'{"error":{"code":100}}'
            info = {"id": parts[1], "url": f"{self.url}/files/{parts[1]}", "mime_type": "image/jpeg"}
            return 200, "application/json", json.dumps(info).encode()
        if parts[0] == "files":
            return 200, "image/jpeg", PHOTO_BYTES
        return 404, "text/plain", b"not found"
