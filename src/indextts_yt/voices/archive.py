"""A voice as one file to share or back up: ``<name>.voice.zip`` holding ``voice.json``
(what the voice is called, and how) and ``clip.wav`` (its reference recording).

``voice.json``::

    {"schema": "indextts-yt.voice", "version": 1, "name": "Narrator", "language": "en",
     "tags": ["calm"], "notes": "", "clip": "clip-0123456789abcdef"}

Reading one is reading untrusted input: the file's size is checked before it is opened, the
members are exactly those two (by name, nothing else), each member's declared size is
checked and its real size too, by reading at most the limit plus one byte (a zip's headers
can lie; Python's reader stops at the declared size and then fails the CRC check, which is
reported as a damaged file). The JSON is checked key by key; the clip is then decoded and
normalised like any other clip by the library.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from ..clips import MAX_CLIP_BYTES, is_clip_id
from ..errors import InputError, PayloadTooLarge
from .fields import check_language, check_name, check_notes, check_tags
from .model import Voice

SCHEMA = "indextts-yt.voice"
VERSION = 1
SUFFIX = ".voice.zip"
META, CLIP = "voice.json", "clip.wav"
MAX_META_BYTES = 64 * 1024
#: The two members at their limits, plus the zip's own headers.
MAX_ARCHIVE_BYTES = MAX_CLIP_BYTES + MAX_META_BYTES + 64 * 1024
_LIMITS = {META: MAX_META_BYTES, CLIP: MAX_CLIP_BYTES}
_REQUIRED = {"schema": str, "version": int, "name": str, "clip": str}
_OPTIONAL = {"language": (str, type(None)), "tags": list, "notes": str}


@dataclass(frozen=True)
class VoiceFile:
    """What a voice file says, checked; ``wav`` is its clip, not yet decoded."""

    name: str
    language: str | None
    tags: tuple[str, ...]
    notes: str
    clip: str
    wav: bytes


def file_name(voice: Voice) -> str:
    """'Narrator (calm).voice.zip' -> 'Narrator-calm.voice.zip': letters of any script,
    digits, '.', '_' and '-' only, so it is a safe name on every system."""
    stem = re.sub(r"[^\w.-]+", "-", voice.name).strip("-.")[:60] or voice.id
    return stem + SUFFIX


def build(voice: Voice, wav: bytes) -> bytes:
    meta = {"schema": SCHEMA, "version": VERSION, "name": voice.name, "language": voice.language,
            "tags": list(voice.tags), "notes": voice.notes, "clip": voice.id}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(META, json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        archive.writestr(CLIP, wav)
    return buffer.getvalue()


def read(data: bytes, what: str = "voice file") -> VoiceFile:
    """Check a voice file and return what it holds; InputError (naming the problem) if it
    is not one, is damaged, or holds anything unexpected."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise PayloadTooLarge(f"{what}: a voice file is limited to "
                              f"{MAX_ARCHIVE_BYTES // (1024 * 1024)} MB, got {len(data) / 1e6:.1f} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InputError(f"{what}: not a voice file (a {SUFFIX} exported from a voice "
                         "library)") from None
    with archive:
        members = _check_members(archive, what)
        meta = _parse_meta(members[META], what)
    return VoiceFile(wav=members[CLIP], **meta)


def _check_members(archive: zipfile.ZipFile, what: str) -> dict[str, bytes]:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    for name in names:
        if name not in _LIMITS:
            raise InputError(f"{what}: unexpected member {name[:80]!r}; a voice file holds "
                             f"only {META} and {CLIP}")
    if sorted(names) != sorted(_LIMITS):  # one missing, or one twice
        missing = [n for n in _LIMITS if names.count(n) != 1]
        raise InputError(f"{what}: it must hold {META} and {CLIP} once each ({missing[0]} is "
                         f"{'missing' if missing[0] not in names else 'there twice'})")
    out = {}
    for info in infos:
        limit = _LIMITS[info.filename]
        if info.flag_bits & 0x1:
            raise InputError(f"{what}: {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InputError(f"{what}: {info.filename} is compressed in a way voice files "
                             "do not use")
        if info.file_size > limit:
            raise PayloadTooLarge(f"{what}: {info.filename} declares {info.file_size / 1e6:.1f} MB;"
                                  f" the limit is {limit / 1e6:.2f} MB")
        try:
            with archive.open(info) as member:
                content = member.read(limit + 1)  # never more than the limit, whatever it says
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise InputError(f"{what}: {info.filename} is damaged ({exc})") from None
        if len(content) > limit:
            raise PayloadTooLarge(f"{what}: {info.filename} is larger than "
                                  f"{limit / 1e6:.2f} MB")
        if len(content) != info.file_size:
            raise InputError(f"{what}: {info.filename} is damaged (its size does not match "
                             "its header)")
        out[info.filename] = content
    return out


def _parse_meta(raw: bytes, what: str) -> dict[str, Any]:
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{what}: {META} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{what}: {META} must be a JSON object")
    unknown = sorted(set(meta) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise InputError(f"{what}: unknown field {unknown[0]!r} in {META}")
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in meta:
            if key in _REQUIRED:
                raise InputError(f"{what}: {META} has no {key!r}")
            continue
        # bool is an int in Python; a version must be a real number, not true.
        if not isinstance(meta[key], kind) or (kind is int and isinstance(meta[key], bool)):
            raise InputError(f"{what}: field {key!r} in {META} has the wrong type "
                             f"({type(meta[key]).__name__})")
    if meta["schema"] != SCHEMA:
        raise InputError(f"{what}: field 'schema' must be {SCHEMA!r}, got {meta['schema'][:60]!r}")
    if meta["version"] != VERSION:
        raise InputError(f"{what}: voice file version {meta['version']} is not supported "
                         f"(this studio reads version {VERSION}); update indextts-yt")
    if not is_clip_id(meta["clip"]):
        raise InputError(f"{what}: field 'clip' must be a clip id like clip-0123456789abcdef")
    return {"name": check_name(meta["name"], f"field 'name' in {META}"),
            "language": check_language(meta.get("language"), f"field 'language' in {META}"),
            "tags": check_tags(meta.get("tags", []), f"field 'tags' in {META}"),
            "notes": check_notes(meta.get("notes", ""), f"field 'notes' in {META}"),
            "clip": meta["clip"]}
