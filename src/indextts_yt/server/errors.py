"""Every error leaves the server as ``{"error": "<one readable line>"}`` (responses.ErrorBody)
with a fitting status — except on the OpenAI-compatible routes (``/v1/...``), which answer
with OpenAI's error object (``OpenAIErrorBody``), so OpenAI's clients show the reason
(they read ``error.message``; a string there shows as just "Error code: 400").

The studio's own errors already carry a line written for the user (the CLI prints the same
text); here they only get a status: bad input 400, too large 413, unknown job 404, a state
that does not allow the action 409. Validation errors name the field. Anything unexpected
is a 500 with a generic line (the traceback goes to the server log, not to the client).
On /v1, a validation error is a 400 (OpenAI's status for a bad parameter), not a 422.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (ClipNotFound, EngineUnavailable, EntryNotFound, InputError, JobBusy, JobConflict,
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
    (EntryNotFound, 404),
    (PresetConflict, 409),
    (JobBusy, 409),
    (JobConflict, 409),
    (EngineUnavailable, 400),
    (InputError, 400),
    (StudioError, 400),
)


class UnsupportedMedia(InputError):
    """A body or upload of a type the endpoint does not take (415)."""


#: The path prefix of the OpenAI-compatible routes, whose errors take OpenAI's shape.
OPENAI_PREFIX = "/v1/"


class OpenAIError(BaseModel):
    """OpenAI's error object, as its clients parse it."""

    message: str = Field(description="one readable line")
    type: str = Field(description="invalid_request_error, authentication_error or server_error")
    param: str | None = Field(description="the request field at fault, when known")
    code: str | None = Field(description="a short machine-readable code, or null")


class OpenAIErrorBody(BaseModel):
    """Every 4xx/5xx answer of a /v1 route."""

    error: OpenAIError


#: Declared for the /v1 routes instead of ERROR_RESPONSES.
OPENAI_ERROR_RESPONSES: dict[int | str, dict] = {
    "4XX": {"model": OpenAIErrorBody, "description": "a bad parameter, a wrong API key, too large"},
    "5XX": {"model": OpenAIErrorBody, "description": "an unexpected error (see the server log)"},
}


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PREFIX)


def pin(exc: StudioError, param: str | None, code: str | None = None) -> StudioError:
    """Name the request field at fault (and a short code) for OpenAI's error object."""
    setattr(exc, "param", param)  # read back by the StudioError handler, on /v1 only
    setattr(exc, "code", code)
    return exc


def openai_error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def openai_error_body(status: int, message: str, param: str | None = None,
                      code: str | None = None) -> dict:
    error = OpenAIError(message=message, type=openai_error_type(status), param=param, code=code)
    return OpenAIErrorBody(error=error).model_dump()


def openai_error_response(status: int, message: str, param: str | None = None,
                          code: str | None = None,
                          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(openai_error_body(status, message, param, code), status_code=status,
                        headers=headers)


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


def validation_param(errors: list[dict]) -> str | None:
    """The top-level body field of the first error ('speed'), for OpenAI's ``param``."""
    loc = [p for p in (errors[0].get("loc", ()) if errors else ()) if p != "body"]
    return str(loc[0]) if loc and isinstance(loc[0], str) else None


def answer_for(path: str, status: int, message: str, *, param: str | None = None,
               code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error answer in the shape the route's clients read: OpenAI's object on /v1."""
    if is_openai_path(path):
        return openai_error_response(status, message, param, code, headers)
    return error_response(status, message, headers)


def _answer(request: Request, status: int, message: str, *, param: str | None = None,
            code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return answer_for(request.url.path, status, message, param=param, code=code,
                      headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(StudioError)
    async def _studio(request: Request, exc: StudioError) -> JSONResponse:
        # openai_speech sets .param/.code on the errors it can pin to a request field.
        return _answer(request, status_of(exc), str(exc), param=getattr(exc, "param", None),
                       code=getattr(exc, "code", None))

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        status = 400 if is_openai_path(request.url.path) else 422
        return _answer(request, status, validation_message(errors),
                       param=validation_param(errors), code="invalid_value")

    @app.exception_handler(ValidationError)
    async def _validation(request: Request, exc: ValidationError) -> JSONResponse:
        status = 400 if is_openai_path(request.url.path) else 422
        return _answer(request, status, validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _answer(request, exc.status_code, str(exc.detail),
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        # The log has the traceback; a client gets no Python class names.
        return _answer(request, 500, "internal error; see the server log")
