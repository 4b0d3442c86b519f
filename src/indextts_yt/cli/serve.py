"""`serve` (the web UI and the API) and `preload` (a voice analysed ahead of its jobs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError
from .common import DataDir, EngineLoad, Workers, option_groups

SERVER_LOCK = "server.lock"  # in the data folder, held while a server runs on it


@option_groups
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but "
                    "loopback needs an API key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8765,
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="INDEXTTS_YT_API_KEY",
                       show_envvar=True, help="Key every API route requires.")] = None,
    load: EngineLoad = EngineLoad(),
    workers: Workers = Workers(),
    data_dir: DataDir = None,
) -> None:
    """Serve the web UI, the JSON API and the audio (one server; loopback by default)."""
    from ..paths import data_dir as resolve
    from ..server.security import LOOPBACK_HOSTS, is_loopback

    if not is_loopback(host) and not api_key:
        raise InputError(f"refusing to listen on {host} without an API key: pass --api-key KEY "
                         "or set INDEXTTS_YT_API_KEY (or listen on 127.0.0.1)")
    load.configure()
    workers.check()
    import logging

    import uvicorn

    from ..server import create_app
    from ..server.security import RedactKey

    logging.getLogger("uvicorn.access").addFilter(RedactKey())

    folder = resolve(data_dir)
    with _only_server(folder), workers.pool() as farm:
        server_app = create_app(folder, api_key=api_key,
                                allowed_hosts=None if api_key else LOOPBACK_HOSTS, farm=farm)
        shown = f"[{host}]" if ":" in host else host
        key_hint = "?key=<your key>" if api_key else ""
        typer.echo(f"Index-TTS-YT studio on http://{shown}:{port}/{key_hint}  (API docs: /docs)",
                   err=True)
        # A short graceful shutdown: open audio and event streams would otherwise hold Ctrl-C
        # until they end; the worker then stops after its segment in flight.
        uvicorn.run(server_app, host=host, port=port, log_level="info",
                    timeout_graceful_shutdown=3)


@contextmanager
def _only_server(folder: Path) -> Iterator[None]:
    """Hold the studio's server lock: two servers on one studio would both run its queue.
    An OS lock, so it dies with the process, even on SIGKILL. (A CLI narrate does not
    take it: it runs its own job under that job's lock.)"""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / SERVER_LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(f"another server is already running on {folder}; stop it first,"
                         " or give this one its own --data-dir") from None
    try:
        yield
    finally:
        lock.release()


@option_groups
def preload(
    clip: Annotated[str, typer.Argument(help="Reference clip: an audio file or a clip id.")],
    engine: Annotated[str, typer.Option("--engine", "-e", help="indextts2 or indextts2.5.")],
    load: EngineLoad = EngineLoad(),
    data_dir: DataDir = None,
) -> None:
    """Store a reference clip and analyse it now (no speech is made), so jobs in its voice
    start without the analysis; the result is kept on disk for later runs and the server."""
    import time

    from ..clips import ClipStore
    from ..engine_setup import clip_option, preload_clip
    from ..paths import data_dir as resolve

    load.configure()
    clips = ClipStore(resolve(data_dir))
    clip_id = clip_option(clips, clip, "the clip", engine=engine)
    started = time.monotonic()
    how = preload_clip(engine, clips.get(clip_id))
    typer.echo(f"{clip_id}: {how} in {time.monotonic() - started:.1f} s "
               f"(use it with --engine {engine} --voice {clip_id})")
