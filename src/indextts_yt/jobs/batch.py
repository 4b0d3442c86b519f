"""Batches: many scripts queued at once with one set of settings, each its own job.

Everything is checked before anything is stored: every script read and planned, every
output name free of clashes; one bad script refuses the whole batch with its name in the
message, so a batch is never half-queued. A batch is a queue of its own for the CLI (its
runner takes the batch's jobs in queue order) and part of the server's queue otherwise.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..audio.encode import FORMATS
from ..clips import ClipStore
from ..errors import InputError, StudioError
from ..outputs import check_writable
from ..script_input import read_script
from ..settings import JobFiles, JobSettings
from . import store as st
from .service import JobRequest, create_job, plan_request
from .store import Job, Store

SCRIPT_SUFFIXES = (".txt", ".md", ".markdown")
#: More scripts than this in one go is more likely a wrong folder than a plan.
MAX_BATCH_SCRIPTS = 500


@dataclass(frozen=True)
class Script:
    name: str  # what its output files are called (the script file's stem)
    title: str
    text: str


@dataclass(frozen=True)
class Outputs:
    """Which files each job writes beside its audio, in the batch's output folder."""

    folder: Path | None  # None: each job's own folder (the server's jobs)
    srt: bool = True
    vtt: bool = False
    chapters: bool = False
    words: bool = False


def _natural(path: Path) -> list[object]:
    """'part 2' before 'part 10'."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def collect_scripts(inputs: Sequence[Path], list_file: Path | None = None) -> list[Path]:
    """Script files from files, folders (their .txt/.md files, in natural order) and a list
    file (one path per line, relative to the list; # starts a comment)."""
    items = list(inputs)
    if list_file is not None:
        try:
            lines = list_file.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the list {list_file}: {exc}") from None
        items += [list_file.parent / line.strip() for line in lines
                  if line.strip() and not line.lstrip().startswith("#")]
    found: list[Path] = []
    for item in items:
        if item.is_dir():
            found += sorted((p for p in item.iterdir()
                             if p.is_file() and p.suffix.lower() in SCRIPT_SUFFIXES), key=_natural)
        elif not item.exists():
            raise InputError(f"script {item} does not exist")
        elif item.suffix.lower() not in SCRIPT_SUFFIXES:
            raise InputError(f"{item} is not a script: give .txt or .md files or a folder of them")
        else:
            found.append(item)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise InputError("no scripts found: give .txt or .md files, folders of them, or --list")
    if len(unique) > MAX_BATCH_SCRIPTS:
        raise InputError(f"{len(unique)} scripts in one batch; the limit is {MAX_BATCH_SCRIPTS}")
    return unique


def read_scripts(paths: Sequence[Path]) -> list[Script]:
    scripts = []
    for path in paths:
        text, title = read_script(str(path))
        scripts.append(Script(name=path.stem, title=title, text=text))
    return scripts


def new_batch_id() -> str:
    return "batch-" + time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]


def queue_batch(store: Store, scripts: Sequence[Script], settings: JobSettings,
                outputs: Outputs, *, origin: str = st.ORIGIN_SERVER,
                continue_identical: bool = False) -> tuple[str, list[Job]]:
    """Check every script, then store one job per script in one batch; returns
    (batch id, jobs in queue order). ``continue_identical``: a script whose identical job
    is unfinished continues that job (a CLI batch run again after Ctrl-C)."""
    if not scripts:
        raise InputError("a batch needs at least one script")
    if len(scripts) > MAX_BATCH_SCRIPTS:
        raise InputError(f"{len(scripts)} scripts in one batch; the limit is {MAX_BATCH_SCRIPTS}")
    settings = settings.checked()  # the format, bit rate and loudness, before naming files
    clips = ClipStore(store.data_dir)
    planned = []
    names: dict[str, str] = {}
    for script in scripts:
        try:
            paths = _paths(script.name, settings, outputs)
            # An encoded file is named here; a WAV is the job's own output (paths["wav"]).
            encoded = paths["audio"] if "audio" in paths and "wav" not in paths else None
            files = JobFiles(file=_str(encoded), vtt=_str(paths.get("vtt")),
                             chapters=_str(paths.get("chapters")),
                             words=_str(paths.get("words")))
            request = JobRequest(script.text, script.title, settings, files=files)
            planned.append((request, paths, plan_request(request, clips)))
        except StudioError as exc:
            raise type(exc)(f"{script.name}: {exc}") from None
        if outputs.folder is not None:
            key = script.name.lower()
            if key in names:
                raise InputError(f"two scripts would write the same files "
                                 f"{paths['audio'].name}: {names[key]!r} and {script.title!r}")
            names[key] = script.title

    batch_id = new_batch_id()
    jobs = []
    for request, paths, plan in planned:
        job, _ = create_job(store, request, output_path=paths.get("wav"),
                            srt_path=paths.get("srt"), origin=origin,
                            continue_identical=continue_identical, planned=plan)
        jobs.append(job)
    store.set_batch([j.id for j in jobs], batch_id)
    return batch_id, store.batch_jobs(batch_id)


def _paths(name: str, settings: JobSettings, outputs: Outputs) -> dict[str, Path]:
    """The files one script's job writes into the batch's folder (none for the server)."""
    if outputs.folder is None:
        return {}
    folder = outputs.folder
    extension = FORMATS[settings.output.format].extensions[0]
    audio = check_writable(folder / f"{name}{extension}", (extension,), "output")
    paths = {"audio": audio}
    # The job's WAV: the output itself, or the master an encoded output is made from
    # (then it lives in the job's folder).
    if settings.output.format == "wav":
        paths["wav"] = audio
    for kind, wanted in (("srt", outputs.srt), ("vtt", outputs.vtt),
                         ("chapters", outputs.chapters), ("words", outputs.words)):
        if wanted:
            suffix = {"chapters": ".chapters.txt", "words": ".words.json"}.get(kind, f".{kind}")
            paths[kind] = check_writable(folder / f"{name}{suffix}", (suffix[suffix.rfind("."):],),
                                         kind)
    return paths


def _str(path: Path | None) -> str | None:
    return str(path) if path is not None else None
