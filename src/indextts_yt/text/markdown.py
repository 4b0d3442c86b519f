"""Read the light Markdown a narration script may carry, and drop the markup.

Scripts are often written in Markdown (or pasted from a chat assistant that writes it).
The listener must never hear "hash", "asterisk" or a link target, but every *word* the
author wrote must survive, so this module removes syntax only and keeps all text.

Supported: ATX headings (``# Title``, optional closing ``#``s), paragraphs separated by
blank lines, ``-``/``*``/``+`` and ``1.``/``1)`` list items, ``>`` block quotes,
horizontal rules, HTML comments, fenced code blocks (fences dropped, contents kept
verbatim), emphasis (``*``, ``_``, ``**``, ``__``, ``~~``), inline code, links, images
(their alt text), reference links and definitions, footnote markers and autolinks.
Not supported (read as plain text): setext headings (``Title`` over ``===``), tables,
HTML tags other than comments, indented code blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .chars import is_wide, joiner


@dataclass(frozen=True)
class Heading:
    title: str


@dataclass(frozen=True)
class Paragraph:
    # Runs of text that each start a new sentence: list items, or the paragraph's prose.
    # Kept apart because an unpunctuated list item must not run into the next one.
    units: tuple[str, ...]


Block = Heading | Paragraph

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# "#" then a space (CommonMark: "#hashtag" and "#5" are not headings), the title, and an
# optional closing run of #'s that must be preceded by a space ("# C#" keeps its #).
_ATX = re.compile(r"^#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
# A code fence; a backtick fence's info string has no backticks (else "```x``` y" is
# inline code, not a fence).
_FENCE_OPEN = re.compile(r"^(?:(`{3,})[^`]*|(~{3,}).*)$")
# The chapter marker for plain text, on a line of its own: "[chapter: The Flood]"
# (also "[Chapter 3: The Flood]"-like titles after the colon, and 章节/章 for Chinese).
_CHAPTER_MARKER = re.compile(r"^\[(?:chapter|章节|章)[ \t]*[:：][ \t]*([^\]]+?)[ \t]*\]$",
                             re.IGNORECASE)
_HR = re.compile(r"^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|={3,})$")
_QUOTE = re.compile(r"^(?:>[ \t]?)+")
_BULLET = re.compile(r"^[-*+](?:[ \t]+|$)")
_TASK_BOX = re.compile(r"^\[[ xX]\][ \t]+")
# At most three digits: a paragraph that opens with a year ("1969. We landed.") is prose,
# not a list, and must keep its number.
_ORDERED = re.compile(r"^(\d{1,3})[.)](?:[ \t]+|$)")
_REF_DEFINITION = re.compile(
    r"""^\[[^\]^][^\]]*\]:[ \t]*<?\S+>?(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^)]*\)))?[ \t]*$"""
)
_FOOTNOTE_DEFINITION = re.compile(r"^\[\^[^\]]+\]:[ \t]*")


@dataclass
class _Unit:
    lines: list[str] = field(default_factory=list)
    is_item: bool = False
    verbatim: bool = False


def parse_blocks(text: str) -> list[Block]:
    """Split normalised text (see ``normalize``) into headings and paragraphs, markup removed."""
    text = _HTML_COMMENT.sub("", text)
    blocks: list[Block] = []
    units: list[_Unit] = []
    fence: str | None = None

    def flush() -> None:
        texts = []
        for unit in units:
            joined = _join_lines(unit.lines)
            if not unit.verbatim:
                joined = strip_inline(joined)
            joined = re.sub(r" {2,}", " ", joined).strip()
            if joined:
                texts.append(joined)
        if texts:
            blocks.append(Paragraph(tuple(texts)))
        units.clear()

    for line in text.split("\n"):
        if fence is not None:
            # Inside a code fence nothing is markup; only the closing fence is special.
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                fence = None
                flush()
            elif not stripped:
                flush()
            else:
                if not units:
                    units.append(_Unit(verbatim=True))
                units[-1].lines.append(stripped)
            continue

        line = _QUOTE.sub("", line).strip()
        if not line:
            flush()
            continue
        if match := _FENCE_OPEN.match(line):
            flush()
            fence = match.group(1) or match.group(2)
            continue
        if match := _ATX.match(line) or _CHAPTER_MARKER.match(line):
            flush()
            title = re.sub(r" {2,}", " ", strip_inline(match.group(1) or "")).strip()
            if title:
                blocks.append(Heading(title))
            continue
        if _HR.match(line):
            flush()
            continue
        if _REF_DEFINITION.match(line):
            continue
        if match := _FOOTNOTE_DEFINITION.match(line):
            flush()
            units.append(_Unit(lines=[line[match.end():]]))
            continue
        if match := _BULLET.match(line):
            item = _TASK_BOX.sub("", line[match.end():])
            units.append(_Unit(lines=[item], is_item=True))
            continue
        match = _ORDERED.match(line)
        # As in CommonMark, only item 1 may interrupt a paragraph: a wrapped line that
        # happens to start with "12. " continues the prose unless a list is under way.
        if match and (not units or units[-1].is_item or int(match.group(1)) == 1):
            units.append(_Unit(lines=[line[match.end():]], is_item=True))
            continue
        if not units or units[-1].verbatim:
            units.append(_Unit())
        units[-1].lines.append(line)
    flush()
    return blocks


def strip_markdown(text: str) -> str:
    """The words a listener hears: normalised text with all supported markup removed,
    one block per line group, blocks separated by blank lines."""
    parts = []
    for block in parse_blocks(text):
        parts.append(block.title if isinstance(block, Heading) else "\n".join(block.units))
    return "\n\n".join(parts)


def _join_lines(lines: list[str]) -> str:
    parts: list[str] = []
    for line in lines:
        if line:
            if parts:
                parts.append(joiner(parts[-1], line))
            parts.append(line)
    return "".join(parts)


# --- inline markup ---------------------------------------------------------------------

# A backslash escape, or a run of backticks (a code span opens with one run and closes
# with the next run of the same length).
_ESCAPE_OR_TICKS = re.compile(r"\\[!-/:-@\[-`{-~]|`+")
_LINK = re.compile(
    r"!?\[([^\[\]]*)\]\(\s*(?:<[^<>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"
    r"""(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)"""
)
_REF_LINK = re.compile(r"!?\[([^\[\]]+)\]\[[^\[\]]*\]")
_FOOTNOTE_REF = re.compile(r"\[\^[^\[\]\s]+\]")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>")
# Bare URLs and e-mail addresses are shielded so their "_" and "*" are not emphasis.
# The e-mail part may only start where a run of address characters starts: without
# that lookbehind, a long run with no "@" would be rescanned from every position.
_BARE_URL = re.compile(
    r"(?:[a-zA-Z][a-zA-Z0-9+.-]{1,31}://|www\.)[^\s<>]+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
_DELIMITER_RUN = re.compile(r"\*+|_+|~+")


def strip_inline(text: str) -> str:
    """Remove inline Markdown from one run of text, keeping every word it marks up."""
    # Escapes, code and URLs are literal text; they are swapped for private-use
    # placeholder characters while the emphasis rules run, then put back.
    saved: dict[str, str] = {}
    fresh = _fresh_placeholders(text)

    def hide(literal: str) -> str:
        placeholder = next(fresh)
        saved[placeholder] = literal
        return placeholder

    text = _hide_escapes_and_code(text, hide)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _AUTOLINK.sub(lambda m: hide(m.group(1)), text)
    text = _BARE_URL.sub(lambda m: hide(m.group(0)), text)
    text = _strip_emphasis(text)
    # A hidden URL may itself contain a hidden escape, so restore until none is left.
    while saved and any(ch in saved for ch in text):
        text = "".join(saved.get(ch, ch) for ch in text)
    return text


def _hide_escapes_and_code(text: str, hide) -> str:
    tokens = list(_ESCAPE_OR_TICKS.finditer(text))
    # For each backtick run, the next run of the same length (its closer), found in one
    # backward pass so that many unmatched runs cost linear time, not quadratic.
    closer: dict[int, int | None] = {}
    latest: dict[int, int] = {}
    for k in range(len(tokens) - 1, -1, -1):
        run = tokens[k].group()
        if run[0] == "`":
            closer[k] = latest.get(len(run))
            latest[len(run)] = k
    out = []
    pos = 0
    k = 0
    while k < len(tokens):
        token = tokens[k]
        if token.group()[0] == "\\":
            out += [text[pos : token.start()], hide(token.group()[1])]
            pos = token.end()
        elif (j := closer[k]) is not None:
            # Code: its contents are literal, escapes and emphasis markers included.
            out += [text[pos : token.start()], hide(text[token.end() : tokens[j].start()].strip())]
            pos = tokens[j].end()
            k = j
        k += 1
    out.append(text[pos:])
    return "".join(out)


def _strip_emphasis(text: str) -> str:
    """Drop matched emphasis markers (``*``, ``_`` runs and ``~~``).

    A run can open when text follows it and no Latin letter or digit precedes it, and
    close when text precedes it and no Latin letter or digit follows: so
    snake_case_names and 2*3*4 keep their symbols, while Chinese, written without
    spaces, may touch the markers ("这是**重点**"). A closer takes markers from the
    nearest open run of the same character, innermost first, so nesting (**a *b* c**)
    and uneven runs (***a** b*) work. Runs are visited once: linear time.
    """
    drop = bytearray(len(text))
    open_runs: dict[str, list[list[int]]] = {"*": [], "_": [], "~": []}
    last = len(text)
    for match in _DELIMITER_RUN.finditer(text):
        start, end = match.span()
        mark = text[start]
        if mark == "~" and end - start != 2:
            continue  # only ~~ is strikethrough
        before = text[start - 1] if start else " "
        after = text[end] if end < last else " "
        can_open = not after.isspace() and not _is_latin_word(before)
        can_close = not before.isspace() and not _is_latin_word(after)
        stack = open_runs[mark]
        if can_close:
            while stack and start < end:
                opener = stack[-1]  # [first, end] of its markers not yet matched
                n = min(opener[1] - opener[0], end - start)
                drop[opener[1] - n : opener[1]] = b"\x01" * n
                drop[start : start + n] = b"\x01" * n
                opener[1] -= n
                start += n
                if opener[1] == opener[0]:
                    stack.pop()
        if start < end and can_open:
            stack.append([start, end])
    if not any(drop):
        return text
    return "".join(ch for ch, gone in zip(text, drop) if not gone)


def _is_latin_word(ch: str) -> bool:
    return ch.isalnum() and not is_wide(ch)


def _fresh_placeholders(text: str):
    """Private-use characters that do not occur in ``text`` (so restoring is exact)."""
    present = set(text)
    code = 0xF0000
    while True:
        ch = chr(code)
        if ch not in present:
            yield ch
        code += 1
