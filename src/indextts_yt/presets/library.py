"""The studio's presets: named settings in the studio database, checked before they are kept.

A preset is checked twice: its shape (schema.py) and then against this studio — its engine
installed, its voice there, its options known to that engine, its output choices possible —
by planning a two-sentence sample exactly as a job would. So a preset that was saved or
imported can be applied without surprises; and one for an engine that is not installed is
refused with the engine's own install hint, nothing stored.
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clips import ClipStore
from ..db import connect, transaction
from ..jobs.service import JobRequest, plan_request
from ..errors import EngineUnavailable, InputError, PresetConflict, PresetNotFound
from ..settings import JobSettings, validate_settings
from .schema import MAX_NAME_CHARS, PresetFile, parse_preset_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS presets (
    name        TEXT PRIMARY KEY COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    settings    TEXT NOT NULL,   -- JSON: settings.JobSettings
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
"""
# English and Chinese, so an 'auto' preset is checked against the engines of both.
_SAMPLE = "Checking the preset. 检查预设。"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    settings: JobSettings
    created_at: float
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "settings": self.settings.model_dump(), "created_at": self.created_at,
                "updated_at": self.updated_at}

    def to_file(self) -> PresetFile:
        return PresetFile(name=self.name, description=self.description, settings=self.settings)


def check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InputError("a preset's name must be text")
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if not name:
        raise InputError("a preset needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(f"a preset's name is at most {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InputError("a preset's name cannot contain control characters")
    # The name is a URL path segment (/api/presets/{name}): these could never be read back.
    if "/" in name or "\\" in name or name in (".", ".."):
        raise InputError(f"a preset's name cannot contain / or \\ nor be . or .., got {name!r}")
    return name


def check_in_studio(settings: JobSettings, clips: ClipStore, what: str = "preset") -> None:
    """Raise (naming ``what``) unless a job with these settings could be started here."""
    try:
        plan_request(JobRequest(text=_SAMPLE, settings=settings.checked()), clips)
    except EngineUnavailable as exc:
        raise EngineUnavailable(f"{what} uses an engine that cannot run here: {exc}") from None
    except InputError as exc:
        raise type(exc)(f"{what}: {exc}") from None


class PresetLibrary:
    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        self._db = connect(self.data_dir)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def list(self) -> list[Preset]:
        rows = self._db.execute("SELECT * FROM presets ORDER BY name COLLATE NOCASE")
        return [_preset(r) for r in rows]

    def get(self, name: str) -> Preset:
        row = self._db.execute("SELECT * FROM presets WHERE name = ?", (str(name),)).fetchone()
        if row is None:
            raise PresetNotFound(f"no preset named {name!r}")
        return _preset(row)

    def save(self, name: str, settings: JobSettings | dict[str, Any], *,
             description: str = "", replace: bool = False) -> Preset:
        """Check and keep a preset; an existing name is refused unless ``replace``."""
        name = check_name(name)
        if not isinstance(settings, JobSettings):
            settings = validate_settings(settings, f"preset {name!r}")
        if not isinstance(description, str) or len(description) > 500:
            raise InputError("a preset's description is text of at most 500 characters")
        check_in_studio(settings, ClipStore(self.data_dir), f"preset {name!r}")
        now = time.time()
        data = json.dumps(settings.model_dump(), sort_keys=True, ensure_ascii=False)
        with transaction(self._db) as db:
            existing = db.execute("SELECT name FROM presets WHERE name = ?", (name,)).fetchone()
            if existing and not replace:
                raise PresetConflict(f"a preset named {existing[0]!r} already exists; choose "
                                     "another name or replace it")
            db.execute(
                "INSERT INTO presets (name, description, settings, created_at, updated_at)"
                " VALUES (?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET name = excluded.name,"
                " description = excluded.description, settings = excluded.settings,"
                " updated_at = excluded.updated_at",
                (name, description, data, now, now))
        return self.get(name)

    def delete(self, name: str) -> None:
        if self._db.execute("DELETE FROM presets WHERE name = ?", (str(name),)).rowcount == 0:
            raise PresetNotFound(f"no preset named {name!r}")

    def import_file(self, raw: bytes, *, source: str = "preset file", name: str | None = None,
                    replace: bool = False) -> Preset:
        """A preset from its exported file (any version), under ``name`` if given."""
        parsed = parse_preset_file(raw, source)
        return self.save(name or parsed.name, parsed.settings, description=parsed.description,
                         replace=replace)


def _preset(row: Any) -> Preset:
    return Preset(name=row["name"], description=row["description"],
                  settings=JobSettings.model_validate(json.loads(row["settings"])),
                  created_at=row["created_at"], updated_at=row["updated_at"])
