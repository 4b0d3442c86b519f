"""Inline directions and dialogue lines: a script with a cast, cut into sections.

A direction is a bracketed ``[name: value]`` anywhere in a line, in English or Chinese, with
half- or full-width brackets and colons (``[voice: Pooh]``, ``【声音：小熊】``,
``［停顿：1.5秒］``):

  voice    声音, 角色, 音色   the voice until the next [voice] (a cast name, any voice id or
                              name the studio lists; default / 默认 / narrator / 旁白: the
                              job's own voice); it also ends the speed and emotion directions
  pause    停顿, 暂停         silence after the speech before it, once: 1.5s, 500ms, 1.5秒,
                              500毫秒, or a bare number of seconds
  speed    语速, 速度         the speaking rate until changed (0.9, 0.9x, default)
  emotion  情绪, 情感         the emotion until changed, as the voice's engine takes it
                              (words, NAME=V,... or a clip id; none/无 ends it)

A line ``Name: text`` (or ``Name：text``) whose Name is in the cast is that character's
line: spoken in its voice, then the voice before it goes on. A line whose Name is not in the
cast stays text ("Note: ..." is read as written).

``\\[``, ``\\【`` and ``\\［`` are literal brackets. Brackets without a ``name:`` (``[1]``,
Markdown links) are text. Something shaped like a direction that is not one (an unknown
name, a bad value, an unclosed bracket) is an InputError naming its line and column: it is
never spoken. Fenced code blocks and inline code are left as they are.

Everything here is text: the voices are resolved by jobs/plan.py, which also reports a voice
it does not know at the line and column given here.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from ..errors import InputError

#: A direction's canonical name by each of the names it may be written with (lower case).
ALIASES = {
    "voice": "voice", "声音": "voice", "角色": "voice", "音色": "voice",
    "pause": "pause", "停顿": "pause", "暂停": "pause",
    "speed": "speed", "语速": "speed", "速度": "speed",
    "emotion": "emotion", "情绪": "emotion", "情感": "emotion",
}
DIRECTIONS = ("voice", "pause", "speed", "emotion")
#: ``[voice: default]``: back to the job's own voice (unless the cast has that name).
DEFAULT_VOICE = frozenset({"default", "默认", "narrator", "旁白"})
#: ``[emotion: none]`` / ``[speed: default]``: back to the voice's own.
RESET = frozenset({"default", "默认", "none", "无", "off"})
#: Longest pause a direction may ask for, in seconds (as settings.MAX_PAUSE_S).
MAX_PAUSE_S = 10.0
#: Longest cast name (a name is written at the start of a line, so it is short).
MAX_NAME_CHARS = 60

_OPEN = "[【［"
_CLOSE = "]】］"
# An opening bracket, a name (letters first: "[1: x]" is text) and a colon.
_HEAD = re.compile(r"(?<!\\)[\[【［][ \t]*([^\W\d_][\w-]*)[ \t]*[:：]")
_BODY = re.compile(r"[^\[\]【】［］]*?[\]】］]")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_DIALOGUE = re.compile(r"^([ \t]*)([^:：\[\]【】［］\n]{1,%d}?)[ \t]*[:：][ \t]*" % MAX_NAME_CHARS)
_PAUSE = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)[ \t]*(s|sec|secs|seconds?|ms|秒|毫秒)?$", re.I)
_SPEED = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)[ \t]*(x|×|倍)?$", re.I)
_WIDE_ESCAPE = re.compile(r"\\([【】［］])")


@dataclass(frozen=True)
class At:
    """Where a direction (or a dialogue line's name) is: 1-based line and column."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True)
class Voice:
    """Who speaks a section. ``speaker``: a cast name; ``ref``: a voice id or name as written
    (no cast name); neither: the job's own voice. ``speed`` and ``emotion``: directions in
    force (None: the speaker's own), with where they were given."""

    speaker: str | None = None
    ref: str | None = None
    at: At | None = field(default=None, compare=False)  # where the voice was chosen
    speed: float | None = None
    speed_at: At | None = field(default=None, compare=False)
    emotion: str | None = None
    emotion_at: At | None = field(default=None, compare=False)


@dataclass
class Section:
    """A run of script text spoken by one voice with one speed and emotion."""

    text: str
    voice: Voice
    #: The cut after it is a paragraph break (or the end), not a cut inside a paragraph.
    ends_paragraph: bool = True


@dataclass(frozen=True)
class Pause:
    """``[pause: X]``: exactly ``seconds`` of silence after the speech before it."""

    seconds: float
    at: At


@dataclass
class _Parser:
    cast: Collection[str]
    items: list[Section | Pause] = field(default_factory=list)
    buffer: list[str] = field(default_factory=list)
    voice: Voice = field(default_factory=Voice)

    def flush(self, always: bool = False) -> None:
        """The text so far as a section; with ``always``, an empty one too (so that the
        directions it was given are checked even with no speech after them)."""
        text = "".join(self.buffer)
        self.buffer = []
        if text or always:
            self.items.append(Section(text, self.voice))

    def set_voice(self, voice: Voice) -> None:
        if voice != self.voice:
            self.flush(always=self.voice != Voice())
            self.voice = voice


def parse(text: str, cast: Collection[str] = ()) -> list[Section | Pause]:
    """The script as sections of one voice each and the pauses between them, in order;
    InputError "line L, column C: ..." for a direction that is not one. ``cast``: the names
    of the job's characters (for dialogue lines and ``[voice: Name]``)."""
    p = _Parser(cast)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    in_fence = False
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        newline = "\n" if number < len(lines) else ""
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or _FENCE.match(line):
            p.buffer.append(line + newline)
            continue
        before = p.voice
        start = 0
        name = dialogue_name(line, cast)
        if name is not None:
            head = _DIALOGUE.match(line)
            assert head is not None
            p.set_voice(Voice(speaker=name, at=At(number, len(head.group(1)) + 1)))
            start = head.end()
        spoken = _line(p, line, start, number)
        if name is not None:
            p.buffer.append(newline)
            p.flush()
            p.voice = before
        elif spoken or not line.strip():  # a line of directions only goes with them
            p.buffer.append(newline)
    p.flush(always=p.voice != Voice())
    mark_paragraphs(p.items)
    return p.items


def _line(p: _Parser, line: str, start: int, number: int) -> bool:
    """Parse one line's directions from ``start``; True if it had any text besides them."""
    code = [m.span() for m in _CODE_SPAN.finditer(line)]
    pos = start
    spoken = False
    for head in _HEAD.finditer(line, start):
        if any(a <= head.start() < b for a, b in code):
            continue
        at = At(number, head.start() + 1)
        word = head.group(1)
        kind = ALIASES.get(word.lower())
        body = _BODY.match(line, head.end())
        if body is None:
            if kind is None:  # "[Note: ..." without a closing bracket: text
                continue
            raise InputError(f"{at}: the direction {line[head.start():head.end()]!r} is not "
                             f"closed (end it with ])")
        if kind is None:
            if line[body.end():body.end() + 1] == "(":  # a Markdown link: [text: x](url)
                continue
            raise InputError(f"{at}: unknown direction {word!r} (directions: "
                             f"{', '.join(DIRECTIONS)}; write \\[ for a literal bracket)")
        chunk = _unescape(line[pos:head.start()])
        spoken = spoken or bool(chunk.strip())
        p.buffer.append(chunk)
        pos = body.end()
        _apply(p, kind, line[head.end():body.end() - 1].strip(), at)
    rest = _unescape(line[pos:])
    p.buffer.append(rest)
    return spoken or bool(rest.strip())


def _apply(p: _Parser, kind: str, value: str, at: At) -> None:
    if not value:
        raise InputError(f"{at}: the {kind} direction has no value")
    if kind == "voice":
        p.set_voice(_voice(value, p.cast, at))
    elif kind == "pause":
        p.flush()
        p.items.append(Pause(pause_seconds(value, at), at))
    elif kind == "speed":
        speed = None if value.lower() in RESET else speed_value(value, at)
        p.set_voice(replace(p.voice, speed=speed, speed_at=at if speed is not None else None))
    else:
        emotion = None if value.lower() in RESET else value
        p.set_voice(replace(p.voice, emotion=emotion, emotion_at=at if emotion else None))


def _voice(value: str, cast: Collection[str], at: At) -> Voice:
    name = cast_name(value, cast)
    if name is not None:
        return Voice(speaker=name, at=at)
    if value.lower() in DEFAULT_VOICE:
        return Voice(at=at)
    return Voice(ref=value, at=at)


def cast_name(value: str, cast: Collection[str]) -> str | None:
    """The cast's name for ``value`` (exactly, else ignoring case), or None."""
    if value in cast:
        return value
    folded = value.casefold()
    return next((name for name in cast if name.casefold() == folded), None)


def dialogue_name(line: str, cast: Collection[str]) -> str | None:
    """The cast name a line ``Name: text`` starts with, or None (no such name: text)."""
    if not cast:
        return None
    head = _DIALOGUE.match(line)
    return cast_name(head.group(2).strip(), cast) if head else None


def pause_seconds(value: str, at: At) -> float:
    """'1.5s', '500ms', '1.5秒', '500毫秒' or '1.5' as seconds, within [0, MAX_PAUSE_S]."""
    match = _PAUSE.match(value.strip())
    if not match:
        raise InputError(f"{at}: pause {value!r} is not a duration (write 1.5s, 500ms, "
                         "1.5秒 or 500毫秒)")
    seconds = float(match.group(1))
    if (match.group(2) or "").lower() in ("ms", "毫秒"):
        seconds /= 1000
    if seconds > MAX_PAUSE_S:
        raise InputError(f"{at}: pause {value!r} is longer than {MAX_PAUSE_S:g} s")
    return seconds


def speed_value(value: str, at: At) -> float:
    """'0.9' or '0.9x' as a number (its bounds are the engine's, checked by the plan)."""
    match = _SPEED.match(value.strip())
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"{at}: speed {value!r} is not a positive number (write 0.9 or 1.2)")
    return float(match.group(1))


def check_cast_name(name: str) -> str:
    """A cast name as written at the start of a dialogue line: no brackets or colons."""
    if not name.strip() or name != name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"cast name {name!r} must be 1-{MAX_NAME_CHARS} characters without "
                         "spaces around it")
    if any(c in name for c in ":：\n" + _OPEN + _CLOSE):
        raise ValueError(f"cast name {name!r} must not contain brackets or colons")
    return name


def _unescape(chunk: str) -> str:
    # "\[" stays for the Markdown reader, which reads it as "["; it does not know "\【".
    return _WIDE_ESCAPE.sub(r"\1", chunk)


def mark_paragraphs(items: list[Section | Pause]) -> None:
    """Each section's ``ends_paragraph``: a blank line (or the end) before the next text."""
    sections = [item for item in items if isinstance(item, Section)]
    for i, section in enumerate(sections):
        gap = section.text[len(section.text.rstrip()):]
        for later in sections[i + 1:]:
            if later.text.strip():
                gap += later.text[:len(later.text) - len(later.text.lstrip())]
                break
            gap += later.text
        else:
            section.ends_paragraph = True
            continue
        section.ends_paragraph = bool(re.search(r"\n[ \t]*\n", gap))
