"""`indextts-yt batch` and the queue commands: many scripts, one preset, one job each.

The batch's jobs run here one after another in queue order; from another terminal,
`queue` shows position, state and ETA, `queue move` reorders, `pause`/`cancel` stop a job
(the running one after its segment in flight). Ctrl-C leaves the running job interrupted;
the same `batch` command again continues where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..jobs.state import JobState
from .common import DataDir, JsonOpt, open_store, run_with_progress
from .progress import count, fmt_duration

queue_app = typer.Typer(help="The queue: position, state and ETA; reorder jobs.",
                        no_args_is_help=False, invoke_without_command=True)


def _entries_table(entries) -> None:
    for e in entries:
        pos = f"#{e.position}" if e.position else ("now" if e.job.state == "running" else "-")
        eta = fmt_duration(e.eta_s) if e.eta_s is not None else "--:--"
        typer.echo(f"{pos:>4}  {e.job.id}  {e.job.state:<11} ETA {eta:>8}  {e.job.title}")


def batch(
    inputs: Annotated[Optional[list[Path]], typer.Argument(
        help="Script files (.txt, .md) and folders of them.", show_default=False)] = None,
    outdir: Annotated[Path, typer.Option("--output-dir", "-o", help="Folder for the outputs: "
                      "<script name>.<format> and .srt per script.")] = Path("."),
    list_file: Annotated[Optional[Path], typer.Option(
        "--list", help="A text file listing scripts, one path per line.")] = None,
    preset: Annotated[Optional[str], typer.Option(
        "--preset", "-p", help="Settings preset for every script (see `presets`).")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="wav, flac, mp3, opus or aac (default: the preset's, or wav).")] = None,
    vtt: Annotated[bool, typer.Option("--vtt", help="Also write <name>.vtt.")] = False,
    chapters: Annotated[bool, typer.Option("--chapters", help="Also write <name>.chapters.txt "
                        "(YouTube chapters from the headings).")] = False,
    words: Annotated[bool, typer.Option("--words", help="Also write <name>.words.json "
                     "(each word's time).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Queue many scripts with one preset and narrate them in order, each to its own file."""
    from ..errors import InputError
    from ..jobs import store as st
    from ..jobs.batch import Outputs, collect_scripts, queue_batch, read_scripts
    from ..jobs.queue import queue_view
    from ..jobs.service import requeue_stopped
    from ..paths import data_dir as resolve
    from ..presets import PresetLibrary
    from ..settings import JobSettings

    if not outdir.is_dir():
        raise InputError(f"output folder {outdir} does not exist")
    paths = collect_scripts(inputs or [], list_file)
    scripts = read_scripts(paths)
    settings = PresetLibrary(resolve(data_dir)).get(preset).settings if preset else JobSettings()
    if format is not None:
        settings = settings.merged({"output": {"format": format, "bitrate": None}})
    store = open_store(data_dir)
    batch_id, jobs = queue_batch(store, scripts, settings,
                                 Outputs(outdir.resolve(), srt=True, vtt=vtt, chapters=chapters,
                                         words=words),
                                 origin=st.ORIGIN_CLI, continue_identical=True)
    # Run again after a stop: what was interrupted or failed goes back in the queue.
    requeue_stopped(store, jobs)
    typer.echo(f"{batch_id}: {count(len(jobs), 'script')} -> {outdir}", err=True)
    failed = 0
    while True:
        order = store.queued_ids(st.ORIGIN_CLI, batch_id)
        if not order:
            break
        entries = queue_view(store, origin=st.ORIGIN_CLI, batch_id=batch_id)
        waiting = next(e for e in entries if e.job.id == order[0])
        typer.echo(f"-- {waiting.job.title} ({len(order)} waiting, batch ETA "
                   f"{fmt_duration(max((e.eta_s or 0) for e in entries if e.position))}) --",
                   err=True)
        try:
            last = run_with_progress(store, order[0], from_states=(JobState.QUEUED,))
        except KeyboardInterrupt:
            typer.echo(f"interrupted; run the same command again to continue {batch_id}",
                       err=True)
            raise typer.Exit(130) from None
        if last is not None and last.state == JobState.FAILED:
            failed += 1
    typer.echo("", err=True)
    _entries_table(queue_view(store, origin=st.ORIGIN_CLI, batch_id=batch_id))
    states = [j.state for j in store.batch_jobs(batch_id)]
    if any(s != JobState.DONE for s in states):
        raise typer.Exit(1)


@queue_app.callback()
def queue(ctx: typer.Context,
          json_out: JsonOpt = False, data_dir: DataDir = None) -> None:
    """What runs now and what comes next, with ETAs (the server's queue and CLI batches)."""
    if ctx.invoked_subcommand is not None:
        return
    from ..jobs import store as st
    from ..jobs.queue import queue_view

    store = open_store(data_dir)
    entries = [e for origin in (st.ORIGIN_SERVER, st.ORIGIN_CLI)
               for e in queue_view(store, origin=origin)]
    if json_out:
        typer.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
    elif not entries:
        typer.echo("the queue is empty")
    else:
        _entries_table(entries)


@queue_app.command("move")
def move(job_id: Annotated[str, typer.Argument(help="A queued job's id.")],
         position: Annotated[int, typer.Argument(help="1 = next to start.")],
         data_dir: DataDir = None) -> None:
    """Move a queued job to POSITION in its queue."""
    from ..jobs.queue import move_job

    order = move_job(open_store(data_dir), job_id, position)
    typer.echo(f"{job_id} is now #{order.index(job_id) + 1} of {len(order)}")


def pause(job_id: Annotated[str, typer.Argument(help="Job id.")],
          data_dir: DataDir = None) -> None:
    """Pause a job (a running one stops after its segment in flight); `resume` continues it."""
    from ..jobs.service import pause_job

    job = pause_job(open_store(data_dir), job_id)
    typer.echo(f"{job.id} {job.state}")


def cancel(job_id: Annotated[str, typer.Argument(help="Job id.")],
           data_dir: DataDir = None) -> None:
    """Cancel a job for good (finished segments are kept)."""
    from ..jobs.service import cancel_job

    job = cancel_job(open_store(data_dir), job_id)
    typer.echo(f"{job.id} {job.state}")
