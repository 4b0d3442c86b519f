"""Atomic file replacement: a file appears complete at its final path, or not at all.

Every file the studio writes (audio, subtitles, clips, exported presets and voices, the
engines' analysis cache) is written to ``<final>.tmp-<pid>`` next to its final path, fsynced,
renamed over the final path, and the directory is fsynced, so that a crash at any moment
leaves either the old file or the new one (DESIGN.md, Storage).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_MARK = ".tmp-"
# The pid in the name lets a sweep tell a crashed writer's leftovers from live work.
_TEMP_NAME = re.compile(re.escape(TEMP_MARK) + r"(\d+)$")


def temp_path(final: Path) -> Path:
    """The temp file for ``final``: same directory, so the rename never crosses filesystems.

    One writer per final path per process: two threads of one process writing the same
    final path would share this name.
    """
    final = Path(final)
    return final.with_name(f"{final.name}{TEMP_MARK}{os.getpid()}")


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (the rename lives in the directory's entries)."""
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a directory; NTFS journals it.
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicWriter:
    """:func:`atomic_file` for a file written over a while (a narration as it is made):
    open on its temp path now (``tmp``, default :func:`temp_path`), then :meth:`commit`
    (fsync, rename over ``final``) or :meth:`discard` (removed) later. Until the commit
    ``final`` is as it was; a process killed meanwhile leaves the temp file, for a sweep."""

    def __init__(self, final: Path, tmp: Path | None = None) -> None:
        self.final = Path(final)
        self.tmp = Path(tmp) if tmp is not None else temp_path(self.final)
        self.file: BinaryIO = open(self.tmp, "w+b")  # w+b: the wave module seeks back
        self.committed = False

    def close(self) -> None:
        """Flush and fsync the temp file and close it (it stays at ``tmp``). Idempotent."""
        if self.file.closed:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
        finally:
            self.file.close()

    def commit(self) -> None:
        """The file complete: it replaces ``final``, durably."""
        self.close()
        replace_durably(self.tmp, self.final)
        self.committed = True

    def discard(self) -> None:
        """Close and remove the temp file; ``final`` is left as it was. Idempotent, and
        nothing once committed."""
        self.file.close()
        if not self.committed:
            self.tmp.unlink(missing_ok=True)


def replace_durably(tmp: Path, final: Path) -> None:
    """Rename the complete, fsynced ``tmp`` over ``final`` and make the rename durable."""
    os.replace(tmp, final)
    fsync_dir(Path(final).parent)


@contextmanager
def atomic_file(final: Path) -> Iterator[BinaryIO]:
    """Yield a binary file open on the temp path; on a clean exit it replaces ``final``.

    If the body raises, the temp file is removed and the error propagates; ``final`` is
    left as it was (absent, or its previous complete content).
    """
    writer = AtomicWriter(final)
    try:
        yield writer.file
        writer.close()
        os.replace(writer.tmp, writer.final)
    except BaseException:
        writer.discard()
        raise
    fsync_dir(writer.final.parent)


def write_bytes_atomic(final: Path, data: bytes) -> None:
    with atomic_file(final) as f:
        f.write(data)


def write_text_atomic(final: Path, text: str) -> None:
    write_bytes_atomic(final, text.encode("utf-8"))


def link_or_copy_atomic(source: Path, final: Path) -> None:
    """Make ``final`` hold ``source``'s content, atomically: a hard link where the filesystem
    allows one, else a copy.

    The link shares ``source``'s data, so only for files that are never modified in place
    (the studio replaces files, never rewrites them). The linked data is already durable;
    the rename is made durable by the directory fsync.
    """
    final = Path(final)
    tmp = temp_path(final)
    tmp.unlink(missing_ok=True)  # left by an earlier try of this process; os.link will not overwrite
    try:
        os.link(source, tmp)
    except OSError:  # another filesystem, or one without hard links
        with atomic_file(final) as f, open(source, "rb") as src:
            shutil.copyfileobj(src, f)
        return
    try:
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)


def _writer_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # our own temp files are in flight, never orphans
    if os.name != "posix":
        # os.kill(pid, 0) would send CTRL_C on Windows; there an open file cannot be
        # deleted anyway, so the unlink below fails for live writers and we skip them.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def sweep_temp_files(root: Path) -> int:
    """Remove ``*.tmp-<pid>`` files under ``root`` whose writer process is gone.

    Returns how many were removed. Files of a live pid are kept (they may be in flight); a
    pid reused by an unrelated process only delays the sweep of that file, never loses work.
    Names that do not end in ``.tmp-<digits>`` are not ours and are left alone.
    """
    removed = 0
    for path in Path(root).rglob(f"*{TEMP_MARK}*"):
        match = _TEMP_NAME.search(path.name)
        if match is None or not path.is_file() or _writer_alive(int(match.group(1))):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # another sweeper got it first
        except PermissionError:
            continue  # still open by a live writer (Windows)
        removed += 1
    return removed
