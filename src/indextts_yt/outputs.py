"""Checks on where the user wants files written, done before any audio is made."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from .errors import InputError


def check_writable(path: Path, suffixes: tuple[str, ...], what: str) -> Path:
    """Resolve ``path`` and prove we can create a file beside it; raise InputError if not."""
    path = path.expanduser()
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{what} {path} must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise InputError(f"cannot write {what} {path}: {parent} is not a folder")
    if not parent.is_dir():
        raise InputError(f"cannot write {what} {path}: folder {parent} does not exist")
    probe = parent / f".{path.name}.probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write {what} {path}: {exc.strerror}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"cannot write {what} {path}: permission denied")
    return path.resolve()
