"""What a check says about one take: verdicts, the transcript, the heard-vs-written diff.

Plain frozen dataclasses, so results can be kept, compared and shown; ``CheckResult.to_dict``
is the one serialised form (JSON-stable: fixed key order, floats rounded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: Every check, in the order verdicts are listed.
CHECK_NAMES = ("heard", "repeat", "rate", "silence", "runaway", "clipping", "click")

CheckName = Literal["heard", "repeat", "rate", "silence", "runaway", "clipping", "click"]
Status = Literal["ok", "flagged", "not_checked"]
DiffKind = Literal["equal", "missing", "added", "changed"]


def _num(value: float) -> float:
    # Rounded so a result written twice from the same audio serialises identically.
    return round(float(value), 4)


@dataclass(frozen=True)
class Verdict:
    """One check's finding. ``ok`` is the verdict; ``score`` and ``threshold`` are the
    measure it rests on (see each check for its unit); ``evidence`` says why, in one line."""

    name: CheckName
    ok: bool
    score: float
    threshold: float
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "score": _num(self.score),
                "threshold": _num(self.threshold), "evidence": self.evidence}


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the segment's audio
    end: float
    probability: float = 1.0  # the recogniser's confidence in the word


@dataclass(frozen=True)
class Transcript:
    """What the ASR heard; ``words`` carry times (empty when the model gave none)."""

    text: str
    language: str
    words: tuple[Word, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "language": self.language,
                "words": [{"text": w.text, "start": _num(w.start), "end": _num(w.end),
                           "probability": _num(w.probability)}
                          for w in self.words]}


@dataclass(frozen=True)
class DiffOp:
    """A stretch of the alignment: ``reference`` words as written, ``heard`` as heard
    (both normalised; "missing" has no heard words, "added" no reference words)."""

    kind: DiffKind
    reference: tuple[str, ...] = ()
    heard: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diff:
    """Heard vs written, for display. ``unit``: "word" (WER) or "char" (CER: zh, ja)."""

    ops: tuple[DiffOp, ...]
    unit: Literal["word", "char"] = "word"

    @property
    def errors(self) -> int:
        """Edits in the alignment (missing + added + changed units)."""
        return sum(max(len(op.reference), len(op.heard)) if op.kind == "changed"
                   else len(op.reference) + len(op.heard)
                   for op in self.ops if op.kind != "equal")

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit,
                "ops": [{"kind": op.kind, "reference": list(op.reference), "heard": list(op.heard)}
                        for op in self.ops]}


@dataclass(frozen=True)
class CheckResult:
    """All verdicts on a take. "flagged": some verdict is not ok; "not_checked": none is
    flagged but no ASR model covers the language, so nobody listened (never "ok")."""

    status: Status
    verdicts: tuple[Verdict, ...]
    transcript: Transcript | None = None
    diff: Diff | None = None
    notes: tuple[str, ...] = field(default=())  # e.g. why it was not checked

    @property
    def flagged(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.ok)

    def verdict(self, name: CheckName) -> Verdict | None:
        return next((v for v in self.verdicts if v.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status,
                "verdicts": [v.to_dict() for v in self.verdicts],
                "transcript": self.transcript.to_dict() if self.transcript else None,
                "diff": self.diff.to_dict() if self.diff else None,
                "notes": list(self.notes)}
