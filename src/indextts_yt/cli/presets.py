"""`indextts-yt presets`: save, list, show, export, import and remove settings presets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import DataDir, open_store

presets_app = typer.Typer(help="Settings presets: every setting of a job under a name.",
                          no_args_is_help=True)


def _library(data_dir: Path | None):
    from ..paths import data_dir as resolve
    from ..presets import PresetLibrary

    return PresetLibrary(resolve(data_dir))




@presets_app.command("list")
def list_presets(json_out: Annotated[bool, typer.Option("--json")] = False,
                 data_dir: DataDir = None) -> None:
    """List the presets."""
    presets = _library(data_dir).list()
    if json_out:
        typer.echo(json.dumps([p.to_dict() for p in presets], ensure_ascii=False, indent=2))
        return
    if not presets:
        typer.echo("no presets yet: `indextts-yt presets save NAME --from-job JOB` or "
                   "`narrate ... --save-preset NAME`")
    for p in presets:
        s = p.settings
        typer.echo(f"{p.name:<24} {s.engine}/{s.voice or 'default voice'}  {s.output.format}"
                   f"{'  ' + p.description if p.description else ''}")


@presets_app.command("show")
def show(name: str, data_dir: DataDir = None) -> None:
    """Print a preset as its exported file."""
    typer.echo(_library(data_dir).get(name).to_file().to_json(), nl=False)


@presets_app.command("save")
def save(name: str,
         from_job: Annotated[str, typer.Option("--from-job", help="Save the settings this job "
                             "was made with.")],
         description: Annotated[str, typer.Option("--description")] = "",
         replace: Annotated[bool, typer.Option("--replace", help="Replace a preset of that "
                            "name.")] = False,
         data_dir: DataDir = None) -> None:
    """Save the settings of a job as preset NAME (or use `narrate --save-preset NAME`)."""
    job = open_store(data_dir).get_job(from_job)
    preset = _library(data_dir).save(name, job.settings, description=description,
                                     replace=replace)
    typer.echo(f"saved preset {preset.name!r}")


@presets_app.command("rm")
def remove(name: str, data_dir: DataDir = None) -> None:
    """Remove a preset."""
    _library(data_dir).delete(name)
    typer.echo(f"removed preset {name!r}")


@presets_app.command("export")
def export(name: str,
           output: Annotated[Optional[Path], typer.Option("--output", "-o",
                             help="File to write (default: standard output).")] = None,
           data_dir: DataDir = None) -> None:
    """Write a preset to a versioned JSON file."""
    from ..atomic import write_text_atomic
    from ..outputs import check_writable

    text = _library(data_dir).get(name).to_file().to_json()
    if output is None:
        sys.stdout.write(text)
        return
    path = check_writable(output, (".json",), "preset file")
    write_text_atomic(path, text)
    typer.echo(f"wrote {path}", err=True)


@presets_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="A preset .json file (any version).")],
            name: Annotated[Optional[str], typer.Option("--name", help="Import under this "
                            "name.")] = None,
            replace: Annotated[bool, typer.Option("--replace")] = False,
            data_dir: DataDir = None) -> None:
    """Add a preset from its file; it is checked against this studio's engines first."""
    from ..errors import InputError
    from ..presets.schema import MAX_PRESET_BYTES

    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_PRESET_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    preset = _library(data_dir).import_file(raw, source=file.name, name=name, replace=replace)
    typer.echo(f"imported preset {preset.name!r}")
