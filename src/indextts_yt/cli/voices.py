"""`indextts-yt voices ...`: the voice library on the command line.

A voice is given by its id (clip-…, or engine:voice for a bundled one) or by its name. Bad
input raises a StudioError, which the cli package's main() prints as one line (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DataDir, JsonOpt

voices_app = typer.Typer(help="The voice library: your reference clips by name, and the engines' "
                       "own voices (read-only).",
                  invoke_without_command=True, no_args_is_help=False)

EngineOpt = Annotated[Optional[str], typer.Option("--engine", "-e", help="Only the voices this "
                      "engine speaks (a cloning engine: the library's).")]
Ref = Annotated[str, typer.Argument(help="Voice id or name.")]


def _library(data_dir: Path | None):
    from ..paths import data_dir as resolve
    from ..voices import VoiceLibrary

    return VoiceLibrary(resolve(data_dir))


def _describe(voice) -> str:
    bits = [f"{voice.seconds:.1f} s" if voice.seconds is not None else None,
            voice.language, ", ".join(f"#{t}" for t in voice.tags) or None]
    return f"{voice.name} ({voice.id}; {'; '.join(b for b in bits if b)})"


def _list(engine: str | None, tag: str | None, query: str | None, json_out: bool,
          data_dir: Path | None) -> None:
    from ..engines import registry
    from ..errors import EngineUnavailable

    with _library(data_dir) as library:
        voices = library.list(engine=engine, tag=tag, query=query)
    if json_out:
        typer.echo(json.dumps([v.to_dict() for v in voices], ensure_ascii=False, indent=2))
        return
    for v in voices:
        if v.read_only:
            typer.echo(f"{v.engine:<11} {v.voice:<21} {v.language or '':<5} {'no cloning':<10} "
                       f"{v.name}  (bundled, read-only)" + (f"  — {v.terms}" if v.terms else ""))
        else:
            seconds = "?" if v.seconds is None else f"{v.seconds:.1f} s"
            tags = " ".join(f"#{t}" for t in v.tags)
            typer.echo(f"{'library':<11} {v.id:<21} {v.language or '':<5} {seconds:<10} "
                       f"{v.name}" + (f"  {tags}" if tags else ""))
    if not voices:
        typer.echo("no voices match" if engine or tag or query else "no voices")
    # Engines that cannot start here, and why (as `voices` always said).
    for name in [engine] if engine else registry.engine_names():
        try:
            registry.get_engine(name)
        except EngineUnavailable as exc:
            typer.echo(f"(not available) {exc}")


@voices_app.callback()
def voices(ctx: typer.Context, engine: EngineOpt = None, json_out: JsonOpt = False,
           data_dir: DataDir = None) -> None:
    """The voice library. Without a command: list the voices (as `voices list`)."""
    if ctx.invoked_subcommand is None:
        _list(engine, None, None, json_out, data_dir)


@voices_app.command("list")
def list_voices(engine: EngineOpt = None,
                tag: Annotated[Optional[str], typer.Option("--tag", help="Only voices with this tag.")] = None,
                query: Annotated[Optional[str], typer.Option("--query", "-q", help="Only voices whose name, tags or notes contain this.")] = None,
                json_out: JsonOpt = False, data_dir: DataDir = None) -> None:
    """List library voices (by name) and the engines' bundled voices."""
    _list(engine, tag, query, json_out, data_dir)


@voices_app.command()
def add(file: Annotated[Path, typer.Argument(help="Recording: WAV, FLAC, MP3, OGG or M4A with "
                                                   "1-15 s of clean speech (3-10 s is best).")],
        name: Annotated[Optional[str], typer.Option("--name", "-n", help="Its name (default: the file's name).")] = None,
        language: Annotated[Optional[str], typer.Option("--language", "-l", help="Language tag, e.g. en or zh.")] = None,
        tag: Annotated[Optional[list[str]], typer.Option("--tag", "-t", help="A tag (repeatable).")] = None,
        notes: Annotated[str, typer.Option("--notes", help="Free text.")] = "",
        data_dir: DataDir = None) -> None:
    """Add a recording to the library as a named voice (trimmed, at one loudness)."""
    with _library(data_dir) as library:
        voice = library.add_file(file, name=file.stem if name is None else name,
                                 language=language, tags=tag or [], notes=notes)
    typer.echo(f"added {_describe(voice)}")


@voices_app.command()
def edit(voice: Ref,
         name: Annotated[Optional[str], typer.Option("--name", "-n", help="New name.")] = None,
         language: Annotated[Optional[str], typer.Option("--language", "-l", help="Language tag ('' for none).")] = None,
         tags: Annotated[Optional[str], typer.Option("--tags", help="All its tags, comma-separated ('' for none).")] = None,
         notes: Annotated[Optional[str], typer.Option("--notes", help="New notes ('' for none).")] = None,
         data_dir: DataDir = None) -> None:
    """Rename a voice, re-tag it, or change its language or notes."""
    from ..voices.fields import parse_tags

    changes = {k: v for k, v in (("name", name), ("language", language), ("notes", notes))
               if v is not None}
    if tags is not None:
        changes["tags"] = parse_tags(tags, "--tags")
    with _library(data_dir) as library:
        updated = library.edit(library.resolve(voice).id, **changes)
    typer.echo(f"updated {_describe(updated)}")


@voices_app.command("rm")
def remove(voice: Ref, data_dir: DataDir = None) -> None:
    """Delete a voice and its recording (refused while an unfinished job uses it)."""
    with _library(data_dir) as library:
        gone = library.delete(library.resolve(voice).id)
    typer.echo(f"deleted {gone.name} ({gone.id})")


@voices_app.command()
def export(voice: Ref,
           output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write "
                             "(default: NAME.voice.zip here).")] = None,
           data_dir: DataDir = None) -> None:
    """Write a voice to one file (.voice.zip: its recording and its metadata)."""
    from ..atomic import atomic_file
    from ..outputs import check_writable

    with _library(data_dir) as library:
        file_name, data = library.export(library.resolve(voice).id)
    path = check_writable(output or Path(file_name), (".zip",), "voice file")
    with atomic_file(path) as handle:
        handle.write(data)
    typer.echo(f"wrote {path}")


@voices_app.command("import")
def import_voice(file: Annotated[Path, typer.Argument(help="A .voice.zip made by `voices export`.")],
                 name: Annotated[Optional[str], typer.Option("--name", "-n", help="Import under this name instead.")] = None,
                 data_dir: DataDir = None) -> None:
    """Add the voice a .voice.zip holds (checked like any upload)."""
    from ..errors import InputError, PayloadTooLarge
    from ..voices.archive import MAX_ARCHIVE_BYTES

    try:
        if file.stat().st_size > MAX_ARCHIVE_BYTES:  # before reading it into memory
            raise PayloadTooLarge(f"{file.name}: a voice file is limited to "
                                  f"{MAX_ARCHIVE_BYTES // (1024 * 1024)} MB")
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {str(file)!r}: {exc.strerror or exc}") from None
    with _library(data_dir) as library:
        voice = library.import_file(data, name=name, rename_hint="--name")
    typer.echo(f"imported {_describe(voice)}")
