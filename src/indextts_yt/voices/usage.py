"""Which unfinished jobs use a clip, so that a voice they still need is not deleted.

This reads the job store's tables (jobs/store.py owns them) on the library's own connection,
so that the check and the delete are one transaction: no job can start using the voice in
between. A finished job keeps its audio without the clip; an unfinished one (queued,
running, paused, interrupted or failed, all resumable) would fail without it.
"""

from __future__ import annotations

import sqlite3

from ..jobs.store import RESUMABLE, RUNNING

UNFINISHED = (*RESUMABLE, RUNNING)


def unfinished_jobs_using(db: sqlite3.Connection, clip_id: str) -> list[sqlite3.Row]:
    """(id, title, state) of the unfinished jobs whose segments speak in ``clip_id`` or take
    it as a setting (an emotion clip), oldest first."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"jobs", "segments"} <= tables:  # a data dir that never had a job
        return []
    marks = ",".join("?" * len(UNFINISHED))
    # Settings are JSON; a clip id is 21 characters of [a-z0-9-], so a quoted match is exact.
    return db.execute(
        f"SELECT id, title, state FROM jobs WHERE state IN ({marks}) AND id IN"
        " (SELECT job_id FROM segments WHERE voice = ? OR instr(settings, ?) > 0)"
        " ORDER BY created_at, id",
        (*UNFINISHED, clip_id, f'"{clip_id}"'),
    ).fetchall()
