"""One voice as the library lists it: a named reference clip of the user's, or a voice that
an installed engine brings with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LIBRARY, BUNDLED = "library", "bundled"


@dataclass(frozen=True)
class Voice:
    #: A library voice: its clip id (``clip-<16 hex>``, the hash of its audio), so jobs,
    #: segment keys and the clip store need nothing new. A bundled one: ``engine:voice``.
    id: str
    kind: str  # LIBRARY or BUNDLED
    name: str
    #: What a job takes as its voice: the clip id, or the engine's own voice id.
    voice: str
    language: str | None = None
    tags: tuple[str, ...] = ()
    notes: str = ""
    engine: str | None = None  # bundled: the engine that has it; library: any cloning engine
    description: str = ""
    terms: str = ""  # terms of use of a bundled voice ("non-commercial use only ..."), or ""
    seconds: float | None = None
    created_at: float | None = None
    updated_at: float | None = None

    @property
    def read_only(self) -> bool:
        return self.kind == BUNDLED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "name": self.name, "voice": self.voice,
            "engine": self.engine, "language": self.language, "tags": list(self.tags),
            "notes": self.notes, "read_only": self.read_only,
            # Which engines speak it: a library voice needs one that clones.
            "cloning": self.kind == LIBRARY, "description": self.description,
            "terms": self.terms,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "created_at": self.created_at, "updated_at": self.updated_at,
        }
