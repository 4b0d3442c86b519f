"""`indextts-yt review JOB`: what still needs ears, and the actions on it.

Without actions it lists the segments a person should listen to (flagged, not checked), each
with where it is in the narration, its verdicts, and the script against what was heard.
Actions are checked all together before any is applied; those that change the narration's
audio (a take chosen, one more take, an edit) run the job here to its end, as `narrate`
does, so the command ends with the published narration.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from ..errors import InputError
from ..jobs import review as rv
from ..jobs.review import ReviewAction
from ..jobs.store import ORIGIN_CLI
from .common import DataDir, EngineLoad, option_groups, open_store, run_to_end
from .progress import count, fmt_duration

ApproveOpt = Annotated[Optional[list[int]], typer.Option(
    "--approve", metavar="N", help="Keep segment N as it is: never retaken (repeatable).")]
RetakeOpt = Annotated[Optional[list[int]], typer.Option(
    "--retake", metavar="N", help="One more take of segment N, with a new seed (repeatable).")]


def _index(n: int, total: int) -> int:
    if not 1 <= n <= total:
        raise InputError(f"there is no segment {n}: the job has {count(total, 'segment')}"
                         " (numbered from 1)")
    return n - 1


def _take_spec(spec: str, total: int) -> tuple[int, int]:
    number, sep, take = spec.partition(":")
    try:
        n, k = int(number), int(take)
    except ValueError:
        raise InputError(f"--take {spec!r} must look like N:K (segment N, take K)") from None
    if not sep or k < 1:
        raise InputError(f"--take {spec!r} must look like N:K (segment N, take K)")
    return _index(n, total), k


def _actions(total: int, approve: list[int], retake: list[int], take: list[str],
             edit: tuple[int, str] | None) -> list[ReviewAction]:
    actions = [ReviewAction("approve", _index(n, total)) for n in approve]
    actions += [ReviewAction("retake", _index(n, total)) for n in retake]
    actions += [ReviewAction("take", *_take_spec(spec, total)) for spec in take]
    if edit is not None:
        actions.append(ReviewAction("edit", _index(edit[0], total), text=edit[1]))
    touched = [a.idx for a in actions]
    twice = sorted({i + 1 for i in touched if touched.count(i) > 1})
    if twice:
        raise InputError(f"one action per segment: segment {twice[0]} is given more than one")
    return actions


def diff_text(diff: dict[str, Any] | None) -> tuple[str, str]:
    """Script and heard, with what differs marked: [word] in the script is missing or
    changed, {word} in what was heard is added or changed."""
    if not diff:
        return "", ""
    sep = "" if diff.get("unit") == "char" else " "
    script, heard = [], []
    for op in diff.get("ops", []):
        ref, got = sep.join(op["reference"]), sep.join(op["heard"])
        if op["kind"] == "equal":
            script.append(ref)
            heard.append(got)
            continue
        if ref:
            script.append(f"[{ref}]")
        if got:
            heard.append(f"{{{got}}}")
    return sep.join(script), sep.join(heard)


def _listing(review: dict[str, Any], show_all: bool) -> None:
    rows = [r for r in review["segments"] if show_all or rv.needs_ears(r)]
    for r in rows:
        where = fmt_duration(r["start_s"]) if r["start_s"] is not None else "--:--"
        chosen = next((t for t in r["takes"] if t["take"] == r["take"]), None)
        takes = f"take {r['take']} of {len(r['takes'])}" if r["takes"] else "no audio yet"
        speaker = f"  ({r['speaker']})" if r.get("speaker") else ""
        typer.echo(f"#{r['index'] + 1:<4} {where}  {r['status']:<11} {takes}{speaker}")
        failed = [v["evidence"] for v in (chosen or {}).get("verdicts", []) if not v["ok"]]
        for line in failed + list((chosen or {}).get("notes", [])):
            typer.echo(f"      {line}")
        script, heard = diff_text((chosen or {}).get("diff"))
        typer.echo(f"      script: {script or r['text']}")
        if heard or (chosen and chosen.get("heard") is not None):
            typer.echo(f"      heard:  {heard or chosen.get('heard') or '(nothing)'}")
    c = review["counts"]
    summary = (f"{count(len(review['segments']), 'segment')}: {c['ok']} ok, "
               f"{c['approved']} approved, {c['flagged']} flagged, "
               f"{c['not_checked'] + c['unchecked']} not checked")
    typer.echo(summary, err=True)
    if any(rv.needs_ears(r) for r in review["segments"]):
        typer.echo("listen, then: --approve N, --take N:K, --retake N or --edit N TEXT",
                   err=True)


@option_groups
def review(
    job_id: Annotated[str, typer.Argument(help="Job id (see `jobs`).")],
    approve: ApproveOpt = None,
    retake: RetakeOpt = None,
    take: Annotated[Optional[list[str]], typer.Option(
        "--take", metavar="N:K", help="Use take K of segment N (approves it; repeatable).")] = None,
    edit: Annotated[Optional[tuple[int, str]], typer.Option(
        "--edit", metavar="N TEXT", help="New text for segment N; it is rendered again.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every segment, not only those "
                        "that need ears.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Every segment with its status, "
                        "verdicts and takes (stable JSON, see README).")] = False,
    load: EngineLoad = EngineLoad(),
    data_dir: DataDir = None,
) -> None:
    """List the segments of JOB that still need ears, or act on them: --approve N (keep it,
    never retaken; repeatable), --retake N (one more take; repeatable), --take N:K, --edit N
    TEXT. Segments are numbered from 1, as in the live log."""
    store = open_store(data_dir)
    store.get_job(job_id)  # JobNotFound first
    actions = _actions(len(store.segments(job_id)), approve or [], retake or [], take or [],
                       edit)
    if rv.apply_actions(store, job_id, actions, origin=ORIGIN_CLI):
        load.configure()
        run_to_end(store, job_id)
    result = rv.review_json(store, job_id)
    if json_out:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    elif not actions or any(rv.needs_ears(r) for r in result["segments"]):
        _listing(result, show_all)
