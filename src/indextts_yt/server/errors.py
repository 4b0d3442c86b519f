"""Every error leaves the server as ``{"error": "<one readable line>"}`` (responses.ErrorBody)
with a fitting status.

The studio's own errors already carry a line written for the user (the CLI prints the same
text); here they only get a status: bad input 400, too large 413, unknown job 404, a state
that does not allow the action 409. Validation errors name the field. Anything unexpected
is a 500 with a generic line (the traceback goes to the server log, not to the client).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (ClipNotFound, EngineUnavailable, InputError, JobBusy, JobConflict,
                      JobNotFound, PayloadTooLarge, PresetConflict, PresetNotFound,
                      StudioError, VoiceConflict, VoiceNotFound)
from .responses import ErrorBody

log = logging.getLogger("indextts_yt.server")

# Most specific first.
_STATUS: tuple[tuple[type[StudioError], int], ...] = (
    (PayloadTooLarge, 413),
    (JobNotFound, 404),
    (ClipNotFound, 404),
    (VoiceNotFound, 404),
    (VoiceConflict, 409),
    (PresetNotFound, 404),
    (PresetConflict, 409),
    (JobBusy, 409),
    (JobConflict, 409),
    (EngineUnavailable, 400),
    (InputError, 400),
    (StudioError, 400),
)


class UnsupportedMedia(InputError):
    """A body or upload of a type the endpoint does not take (415)."""


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(error=message).model_dump(), status_code=status, headers=headers)


def status_of(exc: StudioError) -> int:
    if isinstance(exc, UnsupportedMedia):
        return 415
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def validation_message(errors: list[dict]) -> str:
    """Pydantic's error list as one line: 'body.pauses.sentence: Input should be ...'."""
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def install(app: FastAPI) -> None:
    @app.exception_handler(StudioError)
    async def _studio(_: Request, exc: StudioError) -> JSONResponse:
        return error_response(status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _validation(_: Request, exc: ValidationError) -> JSONResponse:
        return error_response(422, validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        # The log has the traceback; a client gets no Python class names.
        return error_response(500, "internal error; see the server log")
