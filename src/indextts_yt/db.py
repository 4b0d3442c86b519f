"""The studio's one SQLite database, ``<data dir>/studio.sqlite3``.

Jobs, the voice library and presets each keep their tables here (each module creates its
own); this opens a connection the way all of them need it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_NAME = "studio.sqlite3"


def connect(data_dir: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode (group writes with BEGIN IMMEDIATE ... COMMIT),
    WAL, rows as sqlite3.Row. One user at a time: a connection is never used by two
    threads at once, but it may move between them (a server request's connection is
    opened, used and closed on different pool threads), hence check_same_thread=False."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data_dir / DB_NAME, timeout=30, isolation_level=None,
                         check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across process crashes in WAL mode; only power loss can drop the
    # last commits, and then the rows merely claim less than the disk has.
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Writes that belong together: BEGIN IMMEDIATE takes the database's write lock (across
    processes) at once, so what is read inside still holds when it commits."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
