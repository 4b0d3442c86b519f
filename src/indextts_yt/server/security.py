"""Who may talk to the studio: API key, Host and Origin checks, as one ASGI middleware.

- API key (when the server has one): required on every route — the API, the audio, the
  OpenAPI docs and the UI's files — except ``/api/health``. Accepted as
  ``Authorization: Bearer KEY``, ``X-API-Key: KEY``, ``?key=KEY`` (for a browser opening the
  UI, and for ``<audio src>``, which cannot send headers), or the cookie that a successful
  ``?key=`` sets, so the UI's own page, scripts and audio work after one visit. Compared in
  constant time.
- Host (loopback without a key): only ``localhost``/``127.0.0.1``/``[::1]`` Host headers,
  so a web page cannot reach the studio through DNS rebinding (a hostile name re-pointed
  at 127.0.0.1).
- Origin: a state-changing request (POST, PATCH, DELETE...) sent by a browser from another
  site is refused, so a web page the user visits cannot create, edit or cancel jobs.

A pure ASGI middleware, not Starlette's BaseHTTPMiddleware, so streamed responses and client
disconnects pass through untouched.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, unquote, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import is_openai_path, openai_error_body

COOKIE = "indextts_yt_key"
OPEN_PATHS = frozenset({"/api/health"})
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """Is this listen address reachable only from this machine?"""
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it may resolve to anything


def _host_name(host: str) -> str:
    """'127.0.0.1:8765' -> '127.0.0.1'; '[::1]:8765' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    def __init__(self, app: ASGIApp, *, api_key: str | None = None,
                 allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.api_key = api_key or None
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts) if allowed_hosts else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            await _deny(scope, send, 403, f"host {host!r} is not allowed; open the studio at"
                                   " http://127.0.0.1 or http://localhost")
            return
        if scope["method"] not in _SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
                await _deny(scope, send, 403, "cross-site request refused")
                return
        if self.api_key is None or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return

        query_key = _query_key(scope)
        given = _header_key(headers) or query_key or _cookie_key(headers)
        if given is None or not hmac.compare_digest(given.encode(), self.api_key.encode()):
            await _deny(scope, send, 401, "missing or wrong API key: send 'Authorization: Bearer"
                        " KEY' or 'X-API-Key: KEY' (a browser may add ?key=KEY to the URL)",
                        {"www-authenticate": "Bearer"}, code="invalid_api_key")
            return
        if query_key is not None and scope["method"] == "GET":
            send = _with_cookie(send, self.api_key)
        await self.app(scope, receive, send)


def _header_key(headers: Headers) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("x-api-key") or None


def _query_key(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key")
    return values[-1] if values else None


def _cookie_key(headers: Headers) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie is just no key
        return None
    morsel = cookie.get(COOKIE)
    return unquote(morsel.value) if morsel else None


def _with_cookie(send: Send, key: str) -> Send:
    # HttpOnly: page scripts never see it; SameSite=Strict: other sites' pages never send it.
    value = f"{COOKIE}={quote(key, safe='')}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value)]}
        await send(message)

    return wrapped


async def _deny(scope: Scope, send: Send, status: int, message: str,
                extra: dict[str, str] | None = None, code: str | None = None) -> None:
    # /v1 answers in OpenAI's error shape, which its clients read (errors.py).
    error = (openai_error_body(status, message, code=code) if is_openai_path(scope["path"])
             else {"error": message})
    body = json.dumps(error).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RedactKey:
    """A logging filter for uvicorn's access log: ``?key=...`` is shown as ``?key=***``, so a
    browser's key never lands in a log file."""

    def filter(self, record) -> bool:  # noqa: ANN001 - logging.LogRecord
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) \
                and "key=" in args[2]:
            import re

            path = re.sub(r"([?&]key=)[^&]*", r"\1***", args[2])
            record.args = (*args[:2], path, *args[3:])
        return True
