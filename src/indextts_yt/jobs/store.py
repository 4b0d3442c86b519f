"""The job store: SQLite (WAL) holding jobs, their segments and settings.

The store is the single source of truth. It knows nothing of engines, HTTP or the CLI; it
only records what was asked for and what is finished. Audio lives in files beside it and a
segment row is marked done only after its file is on disk (see runner.py).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..db import DB_NAME, connect, transaction
from ..errors import JobNotFound
from ..settings import JobFiles, JobSettings, StoredJob
from .state import UNFINISHED, JobState, SegmentState

# Who drives a job: "cli" (the process that created it runs it) or "server" (the server's
# worker picks it up from the queue, and resumes it after a restart).
ORIGIN_CLI, ORIGIN_SERVER = "cli", "server"
# Queue positions are times (creation time until moved); moved jobs that shared one are
# set this far apart (a microsecond: well over a float's resolution at today's epoch).
_SLOT_STEP = 1e-6
_SQLITE_INT_END = 2**63  # SQLite's integers are signed 64-bit

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id           TEXT PRIMARY KEY,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    state        TEXT NOT NULL,
    title        TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,   -- what the job renders: all segment keys + output options
    engine       TEXT NOT NULL,   -- as requested: an engine name or 'auto'
    voice        TEXT,            -- as requested, or NULL for each engine's default
    settings     TEXT NOT NULL,   -- JSON: settings.StoredJob (options, pauses, output, files)
    output_path  TEXT NOT NULL,
    srt_path     TEXT,
    streaming    INTEGER NOT NULL,
    total_chars  INTEGER NOT NULL,
    runner_pid   INTEGER,
    error        TEXT,
    origin       TEXT NOT NULL DEFAULT 'cli',
    report       TEXT,           -- JSON, once done: measured loudness, files written, warnings
    queue_pos    REAL,           -- order in the queue (creation time until reordered)
    batch_id     TEXT            -- the batch the job was queued in, if any
);
CREATE INDEX IF NOT EXISTS jobs_fingerprint ON jobs(fingerprint);
CREATE TABLE IF NOT EXISTS segments (
    job_id          TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL,
    text            TEXT NOT NULL,
    chapter         TEXT,
    pause_after     TEXT NOT NULL,
    language        TEXT NOT NULL,
    engine          TEXT NOT NULL,
    voice           TEXT NOT NULL,
    settings        TEXT NOT NULL,  -- JSON: the resolved engine settings for this segment
    key             TEXT NOT NULL,  -- hash of everything the audio depends on
    state           TEXT NOT NULL,
    audio_path      TEXT,
    audio_key       TEXT,           -- the key the file on disk was made from
    sample_rate     INTEGER,
    audio_seconds   REAL,
    compute_seconds REAL,
    reused          INTEGER NOT NULL DEFAULT 0,  -- audio taken from an identical earlier segment
    finished_at     REAL,
    error           TEXT,
    warnings        TEXT,           -- JSON list: what the engine reported about this audio
    PRIMARY KEY (job_id, idx)
);
CREATE INDEX IF NOT EXISTS segments_key ON segments(key, state);
CREATE TABLE IF NOT EXISTS takes (
    job_id          TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL,
    take            INTEGER NOT NULL,  -- 1-based; take 1 is the first render
    key             TEXT NOT NULL,     -- the segment's key it was made from
    seed            INTEGER,           -- the seed it was rendered with (NULL: no seed)
    audio_path      TEXT NOT NULL,
    sample_rate     INTEGER NOT NULL,
    audio_seconds   REAL NOT NULL,
    compute_seconds REAL NOT NULL,
    warnings        TEXT,              -- JSON list
    "check"         TEXT,              -- JSON: the check's result; NULL until checked
    made_at         REAL NOT NULL,
    PRIMARY KEY (job_id, idx, take)
);
"""


@dataclass(frozen=True)
class Job:
    id: str
    created_at: float
    updated_at: float
    state: JobState
    title: str
    fingerprint: str
    engine: str  # as requested: an engine name or 'auto' (also in settings)
    voice: str | None
    settings: JobSettings  # checked (see settings.JobSettings.checked)
    files: JobFiles
    output_path: str
    srt_path: str | None
    streaming: bool
    total_chars: int
    runner_pid: int | None
    error: str | None
    origin: str = ORIGIN_CLI
    report: dict[str, Any] | None = None
    queue_pos: float | None = None
    batch_id: str | None = None
    #: What the plan told the user (see plan.plan_notes).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentRow:
    job_id: str
    idx: int
    text: str
    chapter: str | None
    pause_after: str
    language: str
    engine: str
    voice: str
    settings: dict[str, float]
    key: str
    state: SegmentState
    audio_path: str | None
    audio_key: str | None
    sample_rate: int | None
    audio_seconds: float | None
    compute_seconds: float | None
    reused: bool
    finished_at: float | None
    error: str | None
    #: What the engine reported about this audio (e.g. "runaway: ...", "clipping: ...");
    #: cleared whenever the segment is rendered again or edited.
    warnings: tuple[str, ...] = ()
    take: int | None = None  # the chosen take, whose audio the columns above describe
    approved: bool = False  # a person approved it: never retaken
    retake_asked: bool = False  # a person asked for one more take, not rendered yet
    start_s: float | None = None  # where it starts in the last published narration
    #: The cast name that speaks it (text/directions.py); None: the narrator.
    speaker: str | None = None
    #: The text the engine reads, where the pronunciation dictionary changed it (None: the
    #: text itself); ``text`` stays the script's words, for subtitles and review.
    engine_text: str | None = None

    @property
    def spoken(self) -> str:
        """What the engine is given: the text with the dictionary applied."""
        return self.engine_text or self.text

    @property
    def has_valid_audio(self) -> bool:
        """Done, made from exactly this text and these settings, and the file is there."""
        return (
            self.state == SegmentState.DONE
            and self.audio_key == self.key
            and self.audio_path is not None
            and os.path.exists(self.audio_path)
        )


@dataclass(frozen=True)
class TakeRow:
    """One rendering of a segment (its key); retakes differ by seed. ``check`` is the
    proofreading result (checks.CheckResult.to_dict()), None until checked."""

    job_id: str
    idx: int
    take: int
    key: str
    seed: int | None
    audio_path: str
    sample_rate: int
    audio_seconds: float
    compute_seconds: float
    warnings: tuple[str, ...] = ()
    check: dict[str, Any] | None = None
    made_at: float = 0.0
    #: A person asked for another take while this one existed: it is chosen only if no
    #: later take is better.
    rejected: bool = False

    @property
    def status(self) -> str | None:
        """ok, flagged or not_checked; None until checked."""
        return self.check.get("status") if self.check else None


@dataclass(frozen=True)
class NewSegment:
    """A segment as the planner hands it to the store."""

    text: str
    chapter: str | None
    pause_after: str
    language: str
    engine: str
    voice: str
    settings: dict[str, float]
    key: str
    #: The cast name that speaks it (text/directions.py); None: the narrator. Stored with
    #: the segment, shown by the preview, the segments API and review.
    speaker: str | None = None
    #: What the engine reads where the pronunciation dictionary changed the text (the key
    #: is of this); None: the text itself.
    engine_text: str | None = None
    #: Words with dictionary entries of no form this engine takes (for the plan's notes;
    #: not stored).
    unsaid: tuple[str, ...] = ()

    @property
    def spoken(self) -> str:
        return self.engine_text or self.text


def _marks(values: Iterable[object]) -> str:
    """``?,?,?``: one SQL parameter per value."""
    return ",".join("?" for _ in values)


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    stored = StoredJob.read(json.loads(data["settings"]), data["engine"], data["voice"])
    data["settings"], data["files"], data["notes"] = stored.settings, stored.files, stored.notes
    data["state"] = JobState(data["state"])
    data["streaming"] = bool(data["streaming"])
    data["report"] = json.loads(data["report"]) if data.get("report") else None
    return Job(**data)


def _segment(row: sqlite3.Row) -> SegmentRow:
    data = dict(row)
    data["settings"] = json.loads(data["settings"])
    data["state"] = SegmentState(data["state"])
    data["reused"] = bool(data["reused"])
    data["warnings"] = tuple(json.loads(data["warnings"])) if data.get("warnings") else ()
    data["approved"] = bool(data.get("approved"))
    data["retake_asked"] = bool(data.get("retake_asked"))
    return SegmentRow(**data)


def _take(row: sqlite3.Row) -> TakeRow:
    data = dict(row)
    data["warnings"] = tuple(json.loads(data["warnings"])) if data["warnings"] else ()
    data["check"] = json.loads(data["check"]) if data["check"] else None
    data["rejected"] = bool(data.get("rejected"))
    return TakeRow(**data)


class Store:
    """One data directory: ``studio.sqlite3`` plus ``jobs/<id>/`` folders of segment audio."""

    def __init__(self, data_dir: Path | str, *, create: bool = True):
        """``create=False``: only connect, for a data dir already opened once with the
        default (the server opens a Store per request; the schema is made at its start)."""
        self.data_dir = Path(data_dir)
        self.jobs_dir = self.data_dir / "jobs"
        self.db_path = self.data_dir / DB_NAME
        if create:
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._db = connect(self.data_dir)
        if create:
            self._db.executescript(SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Columns added after a data dir may have been created get added to it."""
        self._add_columns("jobs", (("origin", "TEXT NOT NULL DEFAULT 'cli'"), ("report", "TEXT"),
                                   ("queue_pos", "REAL"), ("batch_id", "TEXT")))
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(state, created_at)")
        self._add_columns("segments", (("warnings", "TEXT"), ("take", "INTEGER"),
                                       ("approved", "INTEGER NOT NULL DEFAULT 0"),
                                       ("retake_asked", "INTEGER NOT NULL DEFAULT 0"),
                                       ("start_s", "REAL"), ("engine_text", "TEXT")))
        self._add_speaker_column()
        self._add_columns("takes", (("rejected", "INTEGER NOT NULL DEFAULT 0"),))

    def _add_speaker_column(self) -> None:
        """Segments remember who speaks them (a cast name; NULL: the narrator)."""
        self._add_columns("segments", (("speaker", "TEXT"),))

    def _add_columns(self, table: str, columns: tuple[tuple[str, str], ...]) -> None:
        present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        for name, definition in columns:
            if name in present:
                continue
            try:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
            except sqlite3.OperationalError as exc:  # another process added it just now
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db)

    # -- jobs -------------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    @staticmethod
    def new_job_id() -> str:
        """Sortable by creation time, unique by its random tail."""
        return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]

    def create_job(
        self,
        *,
        title: str,
        fingerprint: str,
        settings: StoredJob,
        output_path: str | None,
        srt_path: str | None,
        streaming: bool,
        segments: Iterable[NewSegment],
        job_id: str | None = None,
        origin: str = ORIGIN_CLI,
        batch_id: str | None = None,
    ) -> Job:
        job_id = job_id or self.new_job_id()
        job_dir = self.job_dir(job_id)
        job_dir.mkdir(parents=True)
        output = output_path or str(job_dir / "narration.wav")
        now = time.time()
        segments = list(segments)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, created_at, updated_at, state, title, fingerprint, engine,"
                " voice, settings, output_path, srt_path, streaming, total_chars, origin,"
                " queue_pos, batch_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (job_id, now, now, JobState.QUEUED, title, fingerprint,
                 settings.settings.engine, settings.settings.voice, settings.to_json(), output,
                 srt_path, int(streaming),
                 sum(len(s.text) for s in segments), origin, now, batch_id),
            )
            db.executemany(
                "INSERT INTO segments (job_id, idx, text, chapter, pause_after, language, engine,"
                " voice, settings, key, state, speaker, engine_text)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(job_id, i, s.text, s.chapter, s.pause_after, s.language, s.engine, s.voice,
                  json.dumps(s.settings, sort_keys=True), s.key, SegmentState.PENDING,
                  s.speaker, s.engine_text)
                 for i, s in enumerate(segments)],
            )
        return self.get_job(job_id)

    def get_job(self, job_id: str) -> Job:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(f"no job {job_id!r}")
        return _job(row)

    def list_jobs(self) -> list[Job]:
        rows = self._db.execute("SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC")
        return [_job(r) for r in rows]

    def find_unfinished(self, fingerprint: str) -> Job | None:
        """The newest job rendering exactly this that has not finished, to continue it."""
        row = self._db.execute(
            f"SELECT * FROM jobs WHERE fingerprint = ? AND state IN ({_marks(UNFINISHED)})"
            " ORDER BY created_at DESC LIMIT 1",
            (fingerprint, *UNFINISHED),
        ).fetchone()
        return _job(row) if row else None

    def set_report(self, job_id: str, report: dict[str, Any] | None) -> None:
        """What the finished job made: measured loudness, files, warnings (JSON)."""
        self._db.execute("UPDATE jobs SET report = ?, updated_at = ? WHERE id = ?",
                         (json.dumps(report, ensure_ascii=False) if report else None,
                          time.time(), job_id))

    def transition(self, job_id: str, state: str, *, from_states: Iterable[str],
                   error: str | None = None, runner_pid: int | None = None,
                   origin: str | None = None) -> bool:
        """Set ``state`` only if the job is in one of ``from_states``, atomically; True if it
        was. Concurrent actors (the worker, API requests, another process) use this so that
        one never silently overwrites a state another has just set (a pause, a cancel).
        jobs/state.py decides which changes are allowed; this only carries them out."""
        states = tuple(from_states)
        cur = self._db.execute(
            f"UPDATE jobs SET state = ?, error = ?, runner_pid = ?, updated_at = ?,"
            f" origin = COALESCE(?, origin)"
            f" WHERE id = ? AND state IN ({_marks(states)})",
            (state, error, runner_pid, time.time(), origin, job_id, *states),
        )
        return cur.rowcount == 1

    _QUEUE_ORDER = "ORDER BY coalesce(queue_pos, created_at), created_at, rowid"

    def next_queued(self, origin: str = ORIGIN_SERVER) -> Job | None:
        """The first queued job of ``origin`` in queue order (creation order unless moved)."""
        row = self._db.execute(
            f"SELECT * FROM jobs WHERE state = ? AND origin = ? {self._QUEUE_ORDER} LIMIT 1",
            (JobState.QUEUED, origin),
        ).fetchone()
        return _job(row) if row else None

    def queued_ids(self, origin: str = ORIGIN_SERVER, batch_id: str | None = None) -> list[str]:
        """Queued jobs of ``origin`` (of one batch, if given) in the order they will run."""
        batch = " AND batch_id = ?" if batch_id else ""
        rows = self._db.execute(
            f"SELECT id FROM jobs WHERE state = ? AND origin = ?{batch} {self._QUEUE_ORDER}",
            (JobState.QUEUED, origin, *((batch_id,) if batch_id else ())),
        )
        return [r[0] for r in rows]

    def batch_jobs(self, batch_id: str) -> list[Job]:
        """A batch's jobs in queue order."""
        rows = self._db.execute(f"SELECT * FROM jobs WHERE batch_id = ? {self._QUEUE_ORDER}",
                                (batch_id,))
        return [_job(r) for r in rows]

    def reorder(self, ordered_ids: list[str]) -> None:
        """Put these jobs in this order, reusing their own queue positions (so every other
        job keeps its place relative to them)."""
        with self.transaction() as db:
            marks = ",".join("?" * len(ordered_ids))
            slots = sorted(r[0] for r in db.execute(
                f"SELECT coalesce(queue_pos, created_at) FROM jobs WHERE id IN ({marks})",
                ordered_ids))
            if len(slots) != len(ordered_ids):
                raise JobNotFound("a job in that order no longer exists")
            # Jobs created within one tick of a coarse clock share a slot: spread them, or
            # the new order would fall back to creation order.
            for i in range(1, len(slots)):
                slots[i] = max(slots[i], slots[i - 1] + _SLOT_STEP)
            db.executemany("UPDATE jobs SET queue_pos = ?, updated_at = ? WHERE id = ?",
                           [(pos, time.time(), job_id)
                            for pos, job_id in zip(slots, ordered_ids)])

    def set_batch(self, job_ids: Iterable[str], batch_id: str) -> None:
        self._db.executemany("UPDATE jobs SET batch_id = ? WHERE id = ?",
                             [(batch_id, job_id) for job_id in job_ids])

    def remaining_chars(self) -> dict[str, dict[str, int]]:
        """job id -> engine -> characters still without current audio (unfinished jobs)."""
        rows = self._db.execute(
            "SELECT s.job_id, s.engine, sum(length(s.text)) FROM segments s"
            " JOIN jobs j ON j.id = s.job_id"
            f" WHERE j.state IN ({_marks(UNFINISHED)})"
            " AND NOT (s.state = ? AND s.audio_key = s.key) GROUP BY s.job_id, s.engine",
            (*UNFINISHED, SegmentState.DONE))
        remaining: dict[str, dict[str, int]] = {}
        for job_id, engine, chars in rows:
            remaining.setdefault(job_id, {})[engine] = int(chars)
        return remaining

    def seconds_per_char(self, recent: int = 200) -> dict[str, float]:
        """engine -> compute seconds per character over its most recent rendered segments
        (audio reused from another job took no time, so it is left out)."""
        rows = self._db.execute(
            "SELECT engine, sum(compute_seconds), sum(length(text)) FROM ("
            "  SELECT engine, compute_seconds, text, row_number() OVER ("
            "    PARTITION BY engine ORDER BY finished_at DESC) AS n"
            "  FROM segments WHERE state = ? AND reused = 0 AND compute_seconds > 0)"
            " WHERE n <= ? GROUP BY engine", (SegmentState.DONE, recent))
        return {engine: secs / chars for engine, secs, chars in rows if chars}

    def progress(self, job_id: str | None = None) -> dict[str, tuple[int, int, float]]:
        """job id -> (segments, segments with current audio, seconds of that audio), in one
        query (the file check of has_valid_audio is left to callers that need it)."""
        rows = self._db.execute(
            "SELECT job_id, count(*),"
            " sum(state = ? AND audio_key = key),"
            " coalesce(sum(CASE WHEN state = ? AND audio_key = key"
            "              THEN audio_seconds END), 0)"
            " FROM segments" + (" WHERE job_id = ?" if job_id else "") + " GROUP BY job_id",
            (SegmentState.DONE, SegmentState.DONE, *((job_id,) if job_id else ())),
        )
        return {r[0]: (r[1], r[2] or 0, float(r[3])) for r in rows}

    def delete_job(self, job_id: str) -> None:
        """Remove the job and its segments from the database (files are the caller's)."""
        with self.transaction() as db:
            db.execute("DELETE FROM takes WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM segments WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def job_state(self, job_id: str) -> JobState:
        row = self._db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(f"no job {job_id!r}")
        return JobState(row[0])

    # -- segments ---------------------------------------------------------------------------

    def segments(self, job_id: str) -> list[SegmentRow]:
        rows = self._db.execute(
            "SELECT * FROM segments WHERE job_id = ? ORDER BY idx", (job_id,)
        )
        return [_segment(r) for r in rows]

    def segment(self, job_id: str, idx: int) -> SegmentRow:
        if not 0 <= idx < _SQLITE_INT_END:  # SQLite cannot even look up a larger number
            raise JobNotFound(f"job {job_id!r} has no segment {idx}")
        row = self._db.execute(
            "SELECT * FROM segments WHERE job_id = ? AND idx = ?", (job_id, idx)
        ).fetchone()
        if row is None:
            raise JobNotFound(f"job {job_id!r} has no segment {idx}")
        return _segment(row)

    def mark_segment_running(self, job_id: str, idx: int) -> None:
        self._db.execute(
            "UPDATE segments SET state = ?, error = NULL, warnings = NULL"
            " WHERE job_id = ? AND idx = ?",
            (SegmentState.RUNNING, job_id, idx),
        )

    def mark_segment_done(self, job_id: str, idx: int, *, key: str, audio_path: str,
                          sample_rate: int, audio_seconds: float, compute_seconds: float,
                          reused: bool = False, warnings: Iterable[str] = ()) -> bool:
        """Record finished audio. Call only after the file is durably on disk. ``warnings``:
        what the engine reported about this audio (replacing any earlier ones).

        Returns False (and records nothing) if the segment's key changed meanwhile: its text
        or settings were edited while this audio was being made, so the audio is stale.
        """
        warnings = list(warnings)
        cur = self._db.execute(
            "UPDATE segments SET state = ?, audio_path = ?, audio_key = ?, sample_rate = ?,"
            " audio_seconds = ?, compute_seconds = ?, reused = ?, finished_at = ?, error = NULL,"
            " warnings = ? WHERE job_id = ? AND idx = ? AND key = ?",
            (SegmentState.DONE, audio_path, key, sample_rate, audio_seconds, compute_seconds,
             int(reused), time.time(),
             json.dumps(warnings, ensure_ascii=False) if warnings else None, job_id, idx, key),
        )
        return cur.rowcount == 1

    def edit_segment(self, job_id: str, idx: int, *, text: str, settings: dict[str, float],
                     key: str, job_state: str, from_states: Iterable[str],
                     origin: str | None = None, engine_text: str | None = None) -> bool:
        """New text/settings for one segment: it goes back to pending (its old audio stays
        on disk, no longer valid since its key differs, until the new audio replaces it) and
        the job takes ``job_state``, in one transaction, only if the job is in one of
        ``from_states`` (a compare-and-set, as ``transition``); True if it was. The job's
        fingerprint is marked edited so a `narrate` of the original script never continues
        this job."""
        states = tuple(from_states)
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE jobs SET state = ?, error = NULL, updated_at = ?,"
                " origin = COALESCE(?, origin),"
                " fingerprint = CASE WHEN fingerprint LIKE 'edited:%' THEN fingerprint"
                "                    ELSE 'edited:' || fingerprint END"
                f" WHERE id = ? AND state IN ({_marks(states)})",
                (job_state, time.time(), origin, job_id, *states),
            )
            if cur.rowcount != 1:
                return False
            db.execute(
                "UPDATE segments SET text = ?, settings = ?, key = ?, state = ?, error = NULL,"
                " warnings = NULL, take = NULL, approved = 0, retake_asked = 0, engine_text = ?"
                " WHERE job_id = ? AND idx = ?",
                (text, json.dumps(settings, sort_keys=True), key, SegmentState.PENDING,
                 engine_text, job_id, idx),
            )
            # Takes say the old text: gone with it (their files are the caller's).
            db.execute("DELETE FROM takes WHERE job_id = ? AND idx = ?", (job_id, idx))
            db.execute(
                "UPDATE jobs SET total_chars = (SELECT sum(length(text)) FROM segments"
                " WHERE job_id = ?) WHERE id = ?", (job_id, job_id))
        return True

    def mark_segment_failed(self, job_id: str, idx: int, error: str) -> None:
        self._db.execute(
            "UPDATE segments SET state = ?, error = ? WHERE job_id = ? AND idx = ?",
            (SegmentState.FAILED, error, job_id, idx),
        )

    def reset_running_segments(self, job_id: str) -> None:
        self._db.execute(
            "UPDATE segments SET state = ? WHERE job_id = ? AND state = ?",
            (SegmentState.PENDING, job_id, SegmentState.RUNNING),
        )

    # -- takes ------------------------------------------------------------------------------

    def takes(self, job_id: str, idx: int | None = None) -> list[TakeRow]:
        """A segment's takes (or all of a job's) made from its current key, in order."""
        where = " AND t.idx = ?" if idx is not None else ""
        rows = self._db.execute(
            "SELECT t.* FROM takes t JOIN segments s ON s.job_id = t.job_id AND s.idx = t.idx"
            f" WHERE t.job_id = ? AND t.key = s.key{where} ORDER BY t.idx, t.take",
            (job_id, *((idx,) if idx is not None else ())))
        return [_take(r) for r in rows]

    def take_files(self, job_id: str, idx: int) -> list[str]:
        """Every take file of a segment, whatever key it was made from."""
        return [r[0] for r in self._db.execute(
            "SELECT audio_path FROM takes WHERE job_id = ? AND idx = ?", (job_id, idx))]

    def add_take(self, take: TakeRow, *, choose: bool = False) -> bool:
        """Record a take whose file is durably on disk; ``choose``: also make it the
        segment's audio (done), in the same transaction. Returns False (recording nothing)
        if the segment's key changed meanwhile: an edit made this take stale."""
        with self.transaction() as db:
            current = db.execute("SELECT key FROM segments WHERE job_id = ? AND idx = ?",
                                 (take.job_id, take.idx)).fetchone()
            if current is None or current[0] != take.key:
                return False
            db.execute(
                "INSERT OR REPLACE INTO takes (job_id, idx, take, key, seed, audio_path,"
                " sample_rate, audio_seconds, compute_seconds, warnings, \"check\", made_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (take.job_id, take.idx, take.take, take.key, take.seed, take.audio_path,
                 take.sample_rate, take.audio_seconds, take.compute_seconds,
                 json.dumps(list(take.warnings), ensure_ascii=False) if take.warnings else None,
                 json.dumps(take.check, sort_keys=True) if take.check else None,
                 take.made_at or time.time()))
            if take.take > 1:  # the take a person asked for (if any) is made
                db.execute("UPDATE segments SET retake_asked = 0 WHERE job_id = ? AND idx = ?",
                           (take.job_id, take.idx))
            if choose:
                self._choose(db, take.job_id, take.idx, take.take)
        return True

    def set_check(self, job_id: str, idx: int, take: int, key: str, check: dict[str, Any]
                  ) -> bool:
        """Store a take's check result; False if the take is gone or of another key."""
        cur = self._db.execute(
            "UPDATE takes SET \"check\" = ? WHERE job_id = ? AND idx = ? AND take = ?"
            " AND key = ?", (json.dumps(check, sort_keys=True, ensure_ascii=False), job_id, idx,
                             take, key))
        return cur.rowcount == 1

    def choose_take(self, job_id: str, idx: int, take: int) -> bool:
        """Make ``take`` the segment's audio (what assembly and the API use)."""
        with self.transaction() as db:
            return self._choose(db, job_id, idx, take)

    @staticmethod
    def _choose(db: sqlite3.Connection, job_id: str, idx: int, take: int) -> bool:
        cur = db.execute(
            "UPDATE segments SET (state, audio_path, audio_key, sample_rate, audio_seconds,"
            " compute_seconds, reused, finished_at, error, warnings, take) = (SELECT ?,"
            " t.audio_path, t.key, t.sample_rate, t.audio_seconds, t.compute_seconds,"
            " CASE WHEN t.compute_seconds > 0 THEN 0 ELSE segments.reused END,"
            " ?, NULL, t.warnings, t.take FROM takes t WHERE t.job_id = segments.job_id AND"
            " t.idx = segments.idx AND t.take = ?)"
            " WHERE job_id = ? AND idx = ? AND EXISTS (SELECT 1 FROM takes t WHERE"
            " t.job_id = segments.job_id AND t.idx = segments.idx AND t.take = ?"
            " AND t.key = segments.key)",
            (SegmentState.DONE, time.time(), take, job_id, idx, take))
        return cur.rowcount == 1

    def set_starts(self, job_id: str, starts: Iterable[tuple[int, float]]) -> None:
        """Where each segment starts in the narration just published (review shows it)."""
        with self.transaction() as db:
            db.executemany("UPDATE segments SET start_s = ? WHERE job_id = ? AND idx = ?",
                           [(round(start, 3), job_id, idx) for idx, start in starts])

    def set_approved(self, job_id: str, idx: int, approved: bool = True) -> None:
        """A person's approval of the segment's chosen take: it is never retaken."""
        self._db.execute("UPDATE segments SET approved = ? WHERE job_id = ? AND idx = ?",
                         (int(approved), job_id, idx))

    def choose_approved(self, job_id: str, idx: int, take: int) -> bool:
        """A person picked ``take``: it becomes the audio, approved, in one transaction."""
        with self.transaction() as db:
            if not self._choose(db, job_id, idx, take):
                return False
            db.execute("UPDATE segments SET approved = 1, retake_asked = 0"
                       " WHERE job_id = ? AND idx = ?", (job_id, idx))
        return True

    def ask_retake(self, job_id: str, idx: int, key: str) -> bool:
        """A person asked for one more take of the segment (made from ``key``): its takes so
        far are rejected and its approval withdrawn; False if the key changed meanwhile."""
        with self.transaction() as db:
            cur = db.execute("UPDATE segments SET retake_asked = 1, approved = 0"
                             " WHERE job_id = ? AND idx = ? AND key = ?", (job_id, idx, key))
            if cur.rowcount != 1:
                return False
            db.execute("UPDATE takes SET rejected = 1 WHERE job_id = ? AND idx = ? AND key = ?",
                       (job_id, idx, key))
        return True

    def find_audio_for_key(self, key: str) -> SegmentRow | None:
        """A finished segment anywhere in the store whose audio was made from exactly ``key``."""
        rows = self._db.execute(
            "SELECT * FROM segments WHERE key = ? AND state = ? AND audio_key = key"
            " ORDER BY finished_at DESC LIMIT 5",
            (key, SegmentState.DONE),
        )
        for row in rows:
            seg = _segment(row)
            if seg.has_valid_audio:
                return seg
        return None


def unfinished_jobs_using(db: sqlite3.Connection, clip_id: str) -> list[sqlite3.Row]:
    """(id, title, state) of the unfinished jobs whose segments speak in ``clip_id`` or take
    it as a setting (an emotion clip), oldest first.

    It runs on the caller's connection: the voice library checks and deletes a voice in one
    transaction of its own, so no job can start using the voice in between. A finished job
    keeps its audio without the clip; an unfinished one would fail without it."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"jobs", "segments"} <= tables:  # a data dir that never had a job
        return []
    # Settings are JSON; a clip id is 21 characters of [a-z0-9-], so a quoted match is exact.
    return db.execute(
        f"SELECT id, title, state FROM jobs WHERE state IN ({_marks(UNFINISHED)}) AND id IN"
        " (SELECT job_id FROM segments WHERE voice = ? OR instr(settings, ?) > 0)"
        " ORDER BY created_at, id",
        (*UNFINISHED, clip_id, f'"{clip_id}"'),
    ).fetchall()
