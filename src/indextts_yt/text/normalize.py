"""Normalise raw script text so every later rule sees one spelling of the same thing.

Scripts arrive from Word, web pages, chat apps and Windows editors, carrying byte order
marks, invisible joiners and three flavours of line ending. None of that is meant to be
heard, and all of it breaks naive pattern matching downstream, so it goes first.

What is deliberately *kept*: full-width Chinese punctuation (，。！？ carry the pauses
of Chinese prose and must not become ASCII), typographic quotes (the sentence splitter
uses them to keep quoted speech together) and paragraph breaks (blank lines).
"""

from __future__ import annotations

import re
import unicodedata

# Every space-like character becomes a plain space. The ideographic space U+3000 is
# how Chinese paragraphs are indented; NBSP and the thin spaces are typography only.
_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"

# Invisible format characters: zero-width spaces and joiners, the word joiner and
# invisible operators, bidi controls, the soft hyphen and the BOM (U+FEFF, which is
# also the zero-width no-break space when it is not at the start). They change how
# text is drawn, not what is said, and would otherwise glue or split words unseen.
_INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\ufeff\ufff9\ufffa\ufffb"
)


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    # C0 and C1 control characters carry no speech; newline survives (it is structure).
    for code in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0)):
        table[code] = None
    table[ord("\n")] = "\n"
    # Line and page separators that some editors use instead of \n: a line separator
    # is a line break, a paragraph separator or form feed (page break) is a new paragraph.
    table[0x0B] = "\n"  # vertical tab
    table[0x85] = "\n"  # next line (NEL)
    table[0x2028] = "\n"
    table[0x0C] = "\n\n"  # form feed
    table[0x2029] = "\n\n"
    for ch in _SPACES:
        table[ord(ch)] = " "
    for ch in _INVISIBLE:
        table[ord(ch)] = None
    return table


_TABLE = _build_table()
_RUN_OF_SPACES = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


def map_characters(text: str) -> str:
    """Only the character rules of ``normalize`` (spaces, invisibles, line separators),
    for text that appears after normalising, such as a decoded ``&nbsp;``."""
    return text.translate(_TABLE)


def normalize(text: str) -> str:
    """Return ``text`` cleaned for splitting: NFC, ``\\n`` line ends, no invisible
    characters, single spaces, no space at line ends, at most one blank line in a row,
    and no blank lines at either end. Whitespace-only input gives ``""``.

    Idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    # Line endings first, so a lone \r (old Mac) is not dropped as a control character.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_TABLE)
    # NFC after removing invisibles: a joiner between a letter and its combining accent
    # would otherwise prevent them from composing into one character.
    text = unicodedata.normalize("NFC", text)
    # Indentation and trailing spaces mean nothing to a listener (and nothing to the
    # light Markdown we read); removing them also turns whitespace-only lines blank.
    lines = [_RUN_OF_SPACES.sub(" ", line).strip(" ") for line in text.split("\n")]
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip("\n")
