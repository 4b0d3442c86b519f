"""The unit of work that flows from text to engine: one segment of a script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What follows a segment; the assembler turns each class into a pause length from settings.
# "clause": the segment was cut inside a sentence (at a comma, or a hard wrap), so only a
# breath belongs there, not a full stop's pause.
PauseClass = Literal["clause", "sentence", "paragraph", "heading"]


@dataclass(frozen=True)
class Segment:
    index: int
    text: str
    pause_after: PauseClass = "sentence"
    # Title of the chapter this segment opens (a Markdown heading), else None.
    chapter: str | None = None
    # Detected language of the text: "en", "zh", or another ISO 639-1 code.
    language: str = "en"
