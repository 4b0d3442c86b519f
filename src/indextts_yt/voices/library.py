"""The voice library: the user's named reference clips, in the studio's database.

A library voice is a stored clip (clips.py: decoded, normalised, named by the hash of its
audio) plus a row of metadata in the ``voices`` table. Its id is the clip id, so everything
that takes a clip (jobs, segment keys, the engines) takes a library voice as it is. A name
is unique ignoring case, and a recording is in the library once.

Nothing is stored half-way: the row and the clip file are written inside one write
transaction, and a clip file this call wrote is removed again if the row is not kept. A
voice is deleted with its clip file (the user expects the recording gone), unless an
unfinished job still needs it.

The voices the installed engines bring (bundled.py) are listed alongside, read-only.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..clips import ClipStore, is_clip_id, prepare_clip, read_clip_file
from ..db import connect, transaction
from ..errors import InputError, VoiceConflict, VoiceNotFound
from ..jobs.store import unfinished_jobs_using
from . import archive
from .bundled import bundled_voices, engine_clones
from .fields import (BUNDLED_ID, check_language, check_name, check_notes, check_tags,
                     name_key)
from .model import BUNDLED, LIBRARY, Voice

_SCHEMA = """
CREATE TABLE IF NOT EXISTS voices (
    id         TEXT PRIMARY KEY,      -- the clip id: clip-<16 hex>, the hash of its audio
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,  -- casefolded name: unique ignoring case
    language   TEXT,
    tags       TEXT NOT NULL,         -- JSON list of text
    notes      TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""
_UNSET: Any = object()


class VoiceLibrary:
    """One studio's voices (``data_dir``). Holds a database connection: ``close()`` it, or
    use it as a context manager."""

    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        self.clips = ClipStore(self.data_dir)
        self._db = connect(self.data_dir)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> VoiceLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------

    def _voice(self, row: sqlite3.Row) -> Voice:
        try:
            seconds: float | None = self.clips.get(row["id"]).seconds
        except (InputError, RuntimeError):  # its file went missing: listed, so it can be removed
            seconds = None
        return Voice(id=row["id"], kind=LIBRARY, name=row["name"], voice=row["id"],
                     language=row["language"], tags=tuple(json.loads(row["tags"])),
                     notes=row["notes"], seconds=seconds, created_at=row["created_at"],
                     updated_at=row["updated_at"])

    def _row(self, where: str, value: str) -> sqlite3.Row | None:
        return self._db.execute(f"SELECT * FROM voices WHERE {where} = ?", (value,)).fetchone()

    def list(self, *, engine: str | None = None, kind: str | None = None,
             tag: str | None = None, query: str | None = None) -> list[Voice]:
        """Library voices (by name) then bundled ones. ``engine``: only the voices it speaks
        (a cloning engine: the library's; another: its own); ``kind``: 'library' or
        'bundled'; ``tag``: voices with that tag; ``query``: text in the name, id, language,
        engine, tags or notes (any case)."""
        if kind not in (None, "", LIBRARY, BUNDLED):
            raise InputError(f"kind must be {LIBRARY} or {BUNDLED}, got {kind!r}")
        library = bundled = True
        if kind:
            library, bundled = kind == LIBRARY, kind == BUNDLED
        if engine:
            clones = engine_clones(engine)
            library, bundled = library and clones, bundled and not clones
        voices: list[Voice] = []
        if library:
            rows = self._db.execute("SELECT * FROM voices ORDER BY name_key")
            voices += [self._voice(r) for r in rows]
        if bundled:
            voices += [v for v in bundled_voices() if not engine or v.engine == engine]
        if tag:
            voices = [v for v in voices if tag.casefold() in (t.casefold() for t in v.tags)]
        if query:
            needle = query.casefold()
            voices = [v for v in voices if needle in " ".join(
                [v.name, v.id, v.language or "", v.engine or "", *v.tags, v.notes]).casefold()]
        return voices

    def get(self, voice_id: str) -> Voice:
        """A voice by id: a clip id (library) or ``engine:voice`` (bundled)."""
        if is_clip_id(voice_id):
            row = self._row("id", voice_id)
            if row is None:
                raise VoiceNotFound(f"no voice {voice_id} in the library")
            return self._voice(row)
        if isinstance(voice_id, str) and BUNDLED_ID.fullmatch(voice_id):
            for voice in bundled_voices():
                if voice.id == voice_id:
                    return voice
            raise VoiceNotFound(f"no bundled voice {voice_id} (its engine may not be installed)")
        raise InputError(f"voice id must look like clip-0123456789abcdef or engine:voice, "
                         f"got {str(voice_id)[:80]!r}")

    def matching(self, ref: str) -> list[Voice]:
        """Every voice ``ref`` names, library ones first: by id, by a library voice's name
        (any case), or by a bundled voice's own id or name (two engines may share one)."""
        if is_clip_id(ref) or BUNDLED_ID.fullmatch(ref):
            try:
                return [self.get(ref)]
            except VoiceNotFound:
                return []
        row = self._row("name_key", name_key(" ".join(ref.split())))
        return ([self._voice(row)] if row is not None else []) + bundled_matching(ref)

    def find(self, ref: str) -> Voice | None:
        """A voice by id, by its library name (any case) or by a bundled voice's id or name;
        None if there is none."""
        voices = self.matching(ref)
        return voices[0] if voices else None

    def resolve(self, ref: str) -> Voice:
        """Like find(), but an unknown voice is an error that says where to look."""
        voice = self.find(ref)
        if voice is None:
            raise VoiceNotFound(f"no voice {ref!r}: give a voice's id or name")
        return voice

    def audio_path(self, voice_id: str) -> Path:
        """The stored recording of a library voice."""
        voice = self._editable(voice_id, "has no recording to play")
        return self.clips.get(voice.id).path

    # -- changing -----------------------------------------------------------------------------

    def add(self, data: bytes, filename: str = "clip", *, name: str, language: str | None = None,
            tags: Iterable[str] = (), notes: str = "", name_hint: str = "") -> Voice:
        """Decode, normalise and store a recording as a new voice called ``name``."""
        name, language = check_name(name), check_language(language)
        tags, notes = check_tags(list(tags)), check_notes(notes)
        self._check_name_free(name, None, name_hint)  # early, before the decoding work
        prepared = prepare_clip(data, filename)
        created = False
        try:
            with transaction(self._db) as db:
                existing = self._row("id", prepared.id)
                if existing is not None:
                    raise VoiceConflict(f"this recording is already the voice "
                                        f"{existing['name']!r} ({prepared.id})")
                self._check_name_free(name, None, name_hint)
                created = self.clips.write(prepared, filename)[1]
                now = time.time()
                db.execute("INSERT INTO voices (id, name, name_key, language, tags, notes,"
                           " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                           (prepared.id, name, name_key(name), language,
                            json.dumps(tags, ensure_ascii=False), notes, now, now))
        except BaseException:
            if created:  # only a file this call wrote: a clip a job or /api/clips has stays
                self.clips.remove(prepared.id)
            raise
        return self.get(prepared.id)

    def add_file(self, path: Path | str, **fields: Any) -> Voice:
        return self.add(read_clip_file(path), Path(path).name, **fields)

    def edit(self, voice_id: str, *, name: str = _UNSET, language: str | None = _UNSET,
             tags: Iterable[str] = _UNSET, notes: str = _UNSET) -> Voice:
        """Rename, re-tag, or change the language or notes of a library voice."""
        changes: dict[str, Any] = {}
        if name is not _UNSET:
            changes["name"] = check_name(name)
            changes["name_key"] = name_key(changes["name"])
        if language is not _UNSET:
            changes["language"] = check_language(language)
        if tags is not _UNSET:
            changes["tags"] = json.dumps(check_tags(list(tags)), ensure_ascii=False)
        if notes is not _UNSET:
            changes["notes"] = check_notes(notes)
        if not changes:
            raise InputError("nothing to change: give a name, language, tags or notes")
        with transaction(self._db) as db:
            voice = self._editable(voice_id, "cannot be changed")
            if "name" in changes:
                self._check_name_free(changes["name"], voice.id)
            changes["updated_at"] = time.time()
            db.execute(f"UPDATE voices SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                       (*changes.values(), voice.id))
        return self.get(voice.id)

    def delete(self, voice_id: str) -> Voice:
        """Remove a library voice and its recording, unless an unfinished job uses it."""
        with transaction(self._db) as db:
            voice = self._editable(voice_id, "cannot be deleted")
            users = unfinished_jobs_using(db, voice.id)
            if users:
                first = users[0]
                more = f" and {len(users) - 1} more" if len(users) > 1 else ""
                raise VoiceConflict(
                    f"the voice {voice.name!r} is used by the unfinished job {first['id']} "
                    f"({first['title']!r}, {first['state']}){more}; finish, cancel or delete "
                    "that job first")
            db.execute("DELETE FROM voices WHERE id = ?", (voice.id,))
        # After the commit: a failure here leaves an unnamed clip, never a voice without audio.
        self.clips.remove(voice.id)
        return voice

    # -- one file per voice -------------------------------------------------------------------

    def export(self, voice_id: str) -> tuple[str, bytes]:
        """(suggested file name, the voice file's bytes)."""
        voice = self._editable(voice_id, "cannot be exported (it comes with its engine)")
        wav = self.clips.get(voice.id).path.read_bytes()
        return archive.file_name(voice), archive.build(voice, wav)

    def import_file(self, data: bytes, *, name: str | None = None,
                    rename_hint: str = "--name on the command line, the 'name' field "
                                       "over HTTP") -> Voice:
        """Add the voice a voice file holds; ``name`` imports it under another name
        (``rename_hint``: how the caller's user gives one, for the message on a clash)."""
        held = archive.read(data)
        return self.add(held.wav, archive.CLIP, name=held.name if name is None else name,
                        language=held.language, tags=held.tags, notes=held.notes,
                        name_hint=f"; import it under another name ({rename_hint})")

    # -- checks -------------------------------------------------------------------------------

    def _editable(self, voice_id: str, action: str) -> Voice:
        voice = self.get(voice_id)
        if voice.read_only:
            raise VoiceConflict(f"{voice.id} ({voice.name}) is a bundled voice of the "
                                f"{voice.engine} engine and {action}; it is read-only")
        return voice

    def _check_name_free(self, name: str, own_id: str | None, hint: str = "") -> None:
        row = self._row("name_key", name_key(name))
        if row is not None and row["id"] != own_id:
            raise VoiceConflict(f"there is already a voice named {row['name']!r} "
                                f"({row['id']}){hint or '; choose another name'}")


def bundled_matching(ref: str) -> list[Voice]:
    """The bundled voices ``ref`` names: by id (``piper:joe``), own id (``joe``) or name."""
    return [v for v in bundled_voices() if ref in (v.id, v.voice, v.name)]
