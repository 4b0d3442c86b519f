"""How large a request body each route takes, enforced while the body arrives.

One ASGI middleware over the whole app: a Content-Length above the route's limit is refused
before anything is read, and a body that grows past it (chunked, or lying about its length)
is cut off as soon as the bytes read exceed it. Either way the answer is 413 with the usual
``{"error": ...}`` body, and the server never holds more than the limit of one request.

The upload routes check their own, tighter caps with a message that names the file's limit
(uploads.capped); their entries here sit above those caps by ``_SLACK``, so the route's
message is the one a client normally sees, and this is the backstop for every other route.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..clips import MAX_CLIP_BYTES
from ..presets.schema import MAX_PRESET_BYTES
from ..script_input import MAX_SCRIPT_BYTES
from ..voices.archive import MAX_ARCHIVE_BYTES
from .errors import answer_for
from .openai_speech import MAX_SPEECH_CHARS
from .routes_queue import MAX_BATCH_BYTES

_KB, _MB = 1024, 1024 * 1024
#: Any route not in the table: small JSON bodies (a segment edit, a preset, a move).
DEFAULT_LIMIT = 256 * _KB
# Above each route's own cap (whose form fields and framing take up to 256 KB).
_SLACK = 1 * _MB
# A JSON string may escape each character: \uXXXX is 6 bytes for up to 3 bytes of UTF-8
# (so a script's JSON is at most about twice its UTF-8), and 12 bytes for a character
# beyond the BMP (a surrogate pair), which the speech input counts as one character.
_SCRIPT_JSON = 2 * MAX_SCRIPT_BYTES + _SLACK

#: (method, path) -> the most bytes its body may have.
ROUTE_LIMITS: dict[tuple[str, str], int] = {
    ("POST", "/api/jobs"): _SCRIPT_JSON,
    ("POST", "/api/preview"): _SCRIPT_JSON,
    ("POST", "/api/batches"): MAX_BATCH_BYTES + _SLACK,
    ("POST", "/api/clips"): MAX_CLIP_BYTES + _SLACK,
    ("POST", "/api/voices"): MAX_CLIP_BYTES + _SLACK,
    ("POST", "/api/voices/import"): MAX_ARCHIVE_BYTES + _SLACK,
    ("POST", "/api/presets/import"): MAX_PRESET_BYTES + _SLACK,
    ("POST", "/v1/audio/speech"): 12 * MAX_SPEECH_CHARS + 64 * _KB,
}


# An answer sent before the whole body was read ends the connection: otherwise the server
# would go on reading (and dropping) the rest of the body to keep the connection alive.
_CLOSE_HEADER = {"connection": "close"}
_CLOSE = (b"connection", b"close")


def limit_for(method: str, path: str) -> int:
    return ROUTE_LIMITS.get((method, path.rstrip("/")), DEFAULT_LIMIT)


def _too_large(limit: int) -> str:
    size = f"{round(limit / _MB, 1):g} MB" if limit >= _MB else f"{limit // _KB} KB"
    return f"the request body is larger than this route's {size} limit"


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: an HTTPException, so FastAPI's body parsing passes it on to
    the app's handler (errors.py), which answers 413 with the JSON error body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["method"], scope["path"])
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await answer_for(scope["path"], 413, _too_large(limit),
                             headers=_CLOSE_HEADER)(scope, receive, send)
            return
        seen = 0
        started = False
        # A body is coming (chunked, or a length) and is not all read yet.
        unread = "transfer-encoding" in headers or declared not in ("", "0")

        async def limited_receive() -> Message:
            nonlocal seen, unread
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
                unread = unread and message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if unread:  # answered early (an error): close rather than read the rest
                    message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:
            # Only if nothing inside answered it (an app without the handler).
            if started:
                raise
            await answer_for(scope["path"], 413, str(exc.detail),
                             headers=_CLOSE_HEADER)(scope, receive, send)
