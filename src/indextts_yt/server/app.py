"""The FastAPI application: routes, error bodies, security, the worker's lifetime, the UI.

``create_app`` builds one app over one data directory. Its lifespan starts the job worker
(and stops it on shutdown, which leaves a running job 'interrupted' for the next start to
resume). The web UI's files are served from ``indextts_yt/webui/static`` at ``/`` when that
folder exists; API routes are registered first, so they always win over a file name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..jobs.runner import FarmFactory
from . import errors
from .audio_stream import router as audio_router
from .context import Studio
from .limits import BodyLimit
from .openai_speech import router as speech_router
from .responses import ERROR_RESPONSES
from .routes_clips import router as clips_router
from .routes_engines import router as engines_router
from .routes_jobs import router as jobs_router
from .routes_voices import router as voices_router
from .routes_presets import router as presets_router
from .routes_dictionary import router as dictionary_router
from .routes_queue import router as queue_router
from .security import Guard
from .sse import router as sse_router

UI_DIR = Path(__file__).resolve().parent.parent / "webui" / "static"

_NO_UI = """<!doctype html><meta charset="utf-8"><title>Index-TTS-YT</title>
<h1>Index-TTS-YT</h1><p>The web UI is not installed in this build.
The API is running: see <a href="docs">/docs</a>.</p>"""


def create_app(data_dir: Path | str, api_key: str | None = None, start_worker: bool = True,
               allowed_hosts: Iterable[str] | None = None,
               farm: FarmFactory | None = None) -> FastAPI:
    """The studio's app over ``data_dir``.

    ``api_key``: required on every route but /api/health when set. ``allowed_hosts``: Host
    header names accepted (the CLI passes the loopback names when there is no key, against
    DNS rebinding); None accepts any. ``start_worker=False``: jobs are stored but not run.
    ``farm``: where the worker renders takes (engine actors on Ray: jobs.cluster); None:
    in this process.
    """
    studio = Studio(Path(data_dir), start_worker=start_worker, farm=farm)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if studio.start_worker:
            studio.worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(studio.worker.stop)

    app = FastAPI(title="Index-TTS-YT", version=__version__, lifespan=lifespan,
                  summary="Long-form narration studio: jobs, live progress, streamed audio, "
                          "and an OpenAI-compatible speech endpoint.")
    app.state.studio = studio
    errors.install(app)
    for router in (engines_router, jobs_router, queue_router, presets_router, clips_router,
                   sse_router, audio_router, speech_router, voices_router, dictionary_router):
        # Every error is an ErrorBody (errors.py); this also replaces FastAPI's 422 shape.
        app.include_router(router, responses=ERROR_RESPONSES)

    if UI_DIR.is_dir():
        app.mount("/", StaticFiles(directory=UI_DIR, html=True), name="ui")
    else:
        @app.get("/", include_in_schema=False)
        def no_ui() -> HTMLResponse:
            return HTMLResponse(_NO_UI)

    app.add_middleware(BodyLimit)  # inside Guard: a refused client's body is never read
    app.add_middleware(Guard, api_key=api_key, allowed_hosts=allowed_hosts)
    return app
