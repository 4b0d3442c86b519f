"""Rendering runner events in a terminal: a live bar on a TTY, one log line per step otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from ..jobs.runner import ProgressEvent


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def count(n: int, noun: str) -> str:
    """``1 segment``, ``2 segments``: a count with its noun (all ours take an s)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def log_line(ev: ProgressEvent) -> str:
    """One line of the live log; the same fields the UI log shows."""
    if ev.kind == "segment_done":
        retake = f" take {ev.take} of segment {(ev.index or 0) + 1}" if ev.take else ""
        return (f"[{ev.done}/{ev.total}{retake}] {_num(ev.segment_compute_s, '.2f')}s for "
                f"{_num(ev.segment_audio_s, '.1f')}s audio, RTF {_num(ev.segment_rtf, '.3f')} "
                f"(run {_num(ev.cumulative_rtf, '.3f')}), ETA {fmt_duration(ev.eta_s)} | {ev.text}"
                + "".join(f"\n  {line}" for line in warning_lines(ev)))
    if ev.kind == "segment_checked" and ev.status == "flagged":
        return check_line(ev)
    if ev.kind == "started":
        return f"job {ev.job_id}: {count(ev.total, 'segment')}, {ev.done} already done"
    if ev.kind == "finished":
        return _finished(ev)
    if ev.kind == "stopped":
        return f"job {ev.job_id} {ev.state}" + (f": {ev.error}" if ev.error else "")
    return ""


def warning_lines(ev: ProgressEvent) -> list[str]:
    """A finished segment's warnings (a runaway, a scaled piece), one line each."""
    index = f"segment {ev.index + 1}" if ev.index is not None else "segment"
    return [f"\u26a0 {index}: {warning}" for warning in ev.warnings or ()]


def check_line(ev: ProgressEvent) -> str:
    """A flagged take: which checks failed and why."""
    why = "; ".join(v.get("evidence") or v.get("name", "") for v in ev.verdicts or ()
                    if not v.get("ok", True))
    return f"\u26a0 segment {(ev.index or 0) + 1} take {ev.take} flagged: {why or 'see its checks'}"


def checks_line(checks: dict, job_id: str) -> str:
    """The report's proofreading counts, and where to look when something still needs ears."""
    if not checks:
        return ""
    parts = [f"{checks.get('checked', 0)} checked", f"{checks.get('flagged', 0)} flagged",
             f"{checks.get('retaken', 0)} retaken", f"{checks.get('fixed', 0)} fixed",
             f"{checks.get('still_flagged', 0)} still flagged"]
    if checks.get("not_checked"):
        parts.append(f"{checks['not_checked']} not checked")
    line = "checks: " + ", ".join(parts)
    if checks.get("still_flagged") or checks.get("not_checked"):
        line += f" -> indextts-yt review {job_id}"
    return line


#: What a job writes beside its audio (jobs/publish.py): subtitles, the chapter list and
#: the word timings.
_SIDE_FILES = (".srt", ".vtt", ".txt", ".json")


def user_files(files: list[str]) -> list[str]:
    """A report's files (the WAV first) as the user asked for them: all of them, but for
    the WAV an encoded file (mp3, ...) was made from, which lives in the job's folder."""
    encoded = any(Path(f).suffix.lower() not in _SIDE_FILES for f in files[1:])
    return files[1:] if encoded else files


def _finished(ev: ProgressEvent) -> str:
    """The files written and how loud the narration came out (the job's report)."""
    report = ev.report or {}
    files = user_files(report.get("files") or [ev.output_path])
    line = f"job {ev.job_id} done in {fmt_duration(ev.elapsed_s)} -> {', '.join(files)}"
    level = report.get("loudness") or {}
    if level.get("integrated_lufs") is not None:
        target = report.get("target_lufs")
        line += (f"\n  loudness {level['integrated_lufs']:.1f} LUFS"
                 f"{f' (target {target:g})' if target is not None else ''}, true peak "
                 f"{level['true_peak_dbtp']:.1f} dBTP, {report.get('duration_s', 0):.1f} s")
    for warning in report.get("warnings") or []:
        line += f"\n  note: {warning}"
    checks = checks_line(report.get("checks") or {}, ev.job_id)
    if checks:  # last, so the end of a run says what to listen to again
        line += f"\n  {checks}"
    return line


def render(events: Iterable[ProgressEvent], console: Console | None = None) -> ProgressEvent | None:
    """Consume the events, drawing progress; return the last one."""
    console = console or Console(stderr=True)
    last: ProgressEvent | None = None
    if not console.is_terminal:
        for ev in events:
            last = ev
            line = log_line(ev)
            if line:
                print(line, file=sys.stderr, flush=True)
        return last

    columns = (
        TextColumn("[bold]{task.completed:.0f}/{task.total:.0f}"),
        BarColumn(),
        TextColumn("{task.fields[per_seg]}/seg  RTF {task.fields[rtf]}  ETA {task.fields[eta]}"),
        TextColumn("[dim]{task.fields[text]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = None
        for ev in events:
            last = ev
            if task is None:
                task = bar.add_task("narrate", total=ev.total, completed=ev.done,
                                    per_seg="-", rtf="-", eta="--:--", text="")
            if ev.kind == "segment_started":
                bar.update(task, text=ev.text)
            elif ev.kind == "segment_done":
                bar.update(task, completed=ev.done, per_seg=f"{ev.segment_compute_s:.2f}s",
                           rtf=f"{ev.cumulative_rtf:.3f}", eta=fmt_duration(ev.eta_s))
                for line in warning_lines(ev):  # above the bar, kept in the scrollback
                    bar.console.print(line, markup=False, highlight=False)
            elif ev.kind == "segment_checked" and ev.status == "flagged":
                bar.console.print(check_line(ev), markup=False, highlight=False)
            elif ev.kind in ("finished", "stopped"):
                bar.update(task, completed=ev.done, text="", eta=fmt_duration(ev.eta_s))
    if last is not None and last.kind in ("finished", "stopped"):
        console.print(log_line(last))
    return last
