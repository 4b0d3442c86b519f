"""The `indextts-yt` command line: the typer app, its commands from the modules here, and
`main`, which prints a StudioError as one line (exit 2)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import __version__
from ..errors import EntryNotFound, JobNotFound, PresetNotFound, StudioError, VoiceNotFound
from .batch import batch, cancel, pause, queue_app
from .dictionary import dict_app
from .narrate import jobs, narrate, resume, segments
from .presets import presets_app
from .review import review
from .serve import preload, serve
from .voices import voices_app

app = typer.Typer(
    name="indextts-yt",
    help="Long-form narration studio: a script and a voice in, a narration out.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# In the order `--help` lists them.
for command in (narrate, resume, jobs):
    app.command()(command)
# `voices` is a group (list, add, edit, rm, export, import); plain `voices` lists.
app.add_typer(voices_app, name="voices")
for command in (segments, review, serve, preload, batch, pause, cancel):
    app.command()(command)
app.add_typer(queue_app, name="queue")
app.add_typer(presets_app, name="presets")
app.add_typer(dict_app, name="dict")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"indextts-yt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False) -> None:
    pass


def main() -> None:
    try:
        app(standalone_mode=True)
    except StudioError as exc:
        # The messages are shared with the API; the command that lists the choices is ours.
        hint = {JobNotFound: "; `indextts-yt jobs` lists them",
                PresetNotFound: "; `indextts-yt presets list` shows them",
                EntryNotFound: "; `indextts-yt dict list` shows them",
                VoiceNotFound: "; `indextts-yt voices` lists them"}.get(type(exc), "")
        print(f"indextts-yt: error: {exc}{hint}", file=sys.stderr)
        sys.exit(2)
