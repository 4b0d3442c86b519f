"""Reading a script from a file or stdin, refusing what is not a reasonable text."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import InputError, PayloadTooLarge

# About 140 hours of narration: far beyond any video or audiobook chapter, small enough that
# a mistaken upload (a video, a disk image) is refused before it is read into memory.
MAX_SCRIPT_BYTES = 5 * 1024 * 1024


def decode_script(data: bytes, name: str) -> str:
    """Bytes to text, or an InputError saying why they are not a script."""
    if len(data) > MAX_SCRIPT_BYTES:
        raise PayloadTooLarge(f"{name} is larger than the {MAX_SCRIPT_BYTES // (1024 * 1024)} MB script limit")
    if b"\x00" in data:
        raise InputError(f"{name} looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (invalid byte at offset {exc.start})") from None
    if not text.strip():
        raise InputError(f"{name} is empty")
    return text


def read_script(source: str) -> tuple[str, str]:
    """Return (text, title) for a path, or ``-`` for standard input."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_SCRIPT_BYTES + 1)
        return decode_script(data, "standard input"), "stdin"
    path = Path(source)
    if not path.exists():
        raise InputError(f"script {source} does not exist")
    if not path.is_file():
        raise InputError(f"script {source} is not a file")
    if path.stat().st_size > MAX_SCRIPT_BYTES:
        raise PayloadTooLarge(f"{source} is larger than the {MAX_SCRIPT_BYTES // (1024 * 1024)} MB script limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}") from None
    return decode_script(data, source), path.stem
