"""Places where text may be cut, ranked by how natural a pause there sounds.

Every cutting decision in the text stage is expressed as a ``Break`` so that sentence
splitting, the wrapping of over-long sentences and the packing of segments agree on
one vocabulary, and a cut never drops or duplicates a character.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """How good a cut is; higher is better. Gaps leave room for future ranks."""

    ANY = 0  # between any two characters: only for a "word" longer than the limit
    INTRA_WORD = 1  # after / . - _ ? & = inside a long token such as a URL
    WORD = 2  # at a space, or between ideographs (Chinese has no spaces)
    CLAUSE = 4  # after ， , ; ； : ： — 、 or an ellipsis / "!" that the sentence runs on past
    QUOTED = 5  # a sentence end inside quotes or brackets ("Hello. How are you?")
    SENTENCE = 6  # a sentence end


@dataclass(frozen=True, order=True)
class Break:
    end: int  # the text before the break is text[..:end] (no trailing space)
    start: int  # the text after it is text[start:..] (past the spaces in between)
    level: Level
