"""Proofreading on the job side: the policy a segment's engine gets, the checker the runner
calls, the choice of the best take, and the counts for the report.

The checks themselves (hearing a take back, measuring it) are ``indextts_yt.checks``,
imported only when a take is checked: this module is the one place that knows its API, so
the runner needs nothing of it but ``status``, ``verdicts`` and ``to_dict()``.
"""

from __future__ import annotations

import re

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..engines.base import Engine, speaking_rate
from ..settings import CheckSettings
from .store import SegmentRow, TakeRow

#: The engine's default when the job names no mode: a seed makes a retake worth doing.
DEFAULT_RETAKES = 2
#: What the segments API says of a segment whose audio is not checked yet.
UNCHECKED = "unchecked"
APPROVED = "approved"


class CheckOutcome(Protocol):
    """What the runner needs of a check's result (checks.CheckResult has it)."""

    @property
    def status(self) -> str: ...  # ok | flagged | not_checked

    @property
    def verdicts(self) -> Sequence[Any]: ...  # each with .to_dict()

    def to_dict(self) -> dict[str, Any]: ...


#: (audio, sample rate, the segment, the engine's warnings) -> the take's check.
Checker = Callable[[np.ndarray, int, SegmentRow, Sequence[str]], CheckOutcome]


@dataclass(frozen=True)
class NotChecked:
    """A take nobody could check (no recogniser installed, the check failed): never ok."""

    why: str
    status: str = "not_checked"
    verdicts: tuple[Any, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "verdicts": [], "transcript": None, "diff": None,
                "notes": [self.why]}


@dataclass(frozen=True)
class Policy:
    mode: str  # off | flag | retake
    retakes: int  # most retakes of a flagged segment (0 unless the engine can retake)
    seedable: bool

    @property
    def checks(self) -> bool:
        return self.mode != "off"


def seedable(engine: Engine) -> bool:
    """A retake differs only where a seed changes the audio."""
    return any(spec.name == "seed" and not spec.ignored for spec in engine.settings)


def policy(checks: CheckSettings, engine: Engine) -> Policy:
    """The job's check settings for one engine; what it leaves unset is the engine's
    default: retake (twice) where a seed makes another take differ, else flag only (a
    deterministic engine says the same again, but a flag still shows where to listen or
    to reword: a number or a name said wrong)."""
    can_retake = seedable(engine)
    mode = checks.mode or ("retake" if can_retake else "flag")
    retakes = checks.retakes if checks.retakes is not None else \
        (DEFAULT_RETAKES if can_retake else 0)
    return Policy(mode, retakes if mode == "retake" and can_retake else 0, can_retake)


def check_asr_model(checks: CheckSettings) -> None:
    """A named recogniser must exist before a job is stored (InputError, one line saying how
    to get it); which languages it covers is each take's business (not_checked)."""
    if checks.mode == "off" or not checks.asr_model:
        return
    try:
        from ..checks import resolve_asr_model  # type: ignore[attr-defined]
    except ImportError:  # not installed: every take says so (not_checked)
        return
    resolve_asr_model(checks.asr_model, "en")


def asr_checker(asr_model: str | None, engines: Callable[[str], Engine]) -> Checker:
    """The checker of indextts_yt.checks: heard back by ``asr_model`` (None: each
    language's default), measured against the engine's speaking rate."""
    asr: list[Any] = []  # made on first use, in the checking thread

    def check(audio: np.ndarray, sample_rate: int, seg: SegmentRow,
              warnings: Sequence[str]) -> CheckOutcome:
        try:
            from .. import checks  # type: ignore[attr-defined]  # the checks library
        except ImportError:
            return NotChecked("proofreading is not installed in this build")
        if not asr:
            asr.append(checks.AsrSet.single(asr_model) if asr_model else checks.default_asr())
        engine = engines(seg.engine)
        return checks.check_segment(
            audio, sample_rate, heard_text(seg), seg.language,
            engine_rate_cpm=speaking_rate(engine.capabilities, seg.language),
            warnings=tuple(warnings), asr=asr[0])

    return check


def heard_text(seg: SegmentRow) -> str:
    """What a take should be heard to say: the respelled text where the pronunciation
    dictionary respelled words (the engine was told to say those), the script's words where
    it gave phonemes or pinyin (markup no recogniser writes) or nothing."""
    spoken = seg.engine_text
    if spoken and "[[" not in spoken and "<" not in spoken and \
            not _PINYIN.search(spoken):
        return spoken
    return seg.text


_PINYIN = re.compile(r"\b[A-Z]+[1-5]\b")  # IndexTTS2's inline pinyin (dictionary.py)


def failed(take: TakeRow) -> int:
    return sum(not v.get("ok", True) for v in (take.check or {}).get("verdicts", []))


def best_take(takes: Sequence[TakeRow]) -> TakeRow:
    """A take nobody rejected first; then an ok one; else the fewest failed verdicts; ties
    go to the earlier take (unchecked takes count as ok: checking is off)."""
    return min(takes, key=lambda t: (t.rejected, t.status not in ("ok", None), failed(t),
                                     t.take))


def wants_retake(seg: SegmentRow, takes: Sequence[TakeRow], pol: Policy) -> bool:
    """Every take since a person last asked for one checked, none ok, the newest flagged,
    and retakes left (never for a segment a person approved)."""
    live = [t for t in takes if not t.rejected]
    if pol.mode != "retake" or seg.approved or not live:
        return False
    if any(t.status is None or t.status == "ok" for t in live):
        return False
    return live[-1].status == "flagged" and len(live) < 1 + pol.retakes


def retake_seed(seg: SegmentRow, take: int) -> int | None:
    """Take n renders with the segment's seed + n - 1 (the key stays the segment's)."""
    if "seed" not in seg.settings:
        return None
    return (int(seg.settings["seed"]) + take - 1) % 2**31


def segment_status(seg: SegmentRow, takes: Sequence[TakeRow]) -> str:
    """ok / flagged / not_checked from the chosen take's check; approved; or unchecked
    (no current audio yet, or its check has not come back)."""
    if seg.approved:
        return APPROVED
    chosen = next((t for t in takes if t.take == seg.take), None)
    if chosen is None or chosen.status is None:
        return UNCHECKED
    return chosen.status


def summary(segments: Sequence[SegmentRow], takes: Iterable[TakeRow]) -> dict[str, int]:
    """The report's counts, per segment: checked (heard or measured with a verdict),
    flagged (its first take), retaken, fixed (flagged, then an ok take chosen),
    still_flagged (its chosen take flagged), not_checked."""
    by_segment: dict[int, list[TakeRow]] = {}
    for take in takes:
        by_segment.setdefault(take.idx, []).append(take)
    counts = dict.fromkeys(("checked", "flagged", "retaken", "fixed", "still_flagged",
                            "not_checked"), 0)
    for seg in segments:
        own = by_segment.get(seg.idx, [])
        chosen = next((t for t in own if t.take == seg.take), None)
        if not own or own[0].status in (None, "not_checked"):
            counts["not_checked"] += 1
            continue
        counts["checked"] += 1
        first_flagged = own[0].status == "flagged"
        counts["flagged"] += first_flagged
        counts["retaken"] += len(own) > 1
        final = chosen.status if chosen else None
        counts["fixed"] += first_flagged and final == "ok"
        counts["still_flagged"] += final == "flagged"
    return counts
