"""Script text → segments: the text stage's one entry point.

normalise → Markdown blocks (headings, paragraphs) → sentences → over-long sentences
wrapped → sentences packed into segments → (optionally) segments cut where the language
changes → language and pause class per segment.

Every segment is a verbatim slice of its paragraph (lines joined), so splitting never
loses, duplicates or reorders a word; the tests check exactly that.
"""

from __future__ import annotations

from ..errors import InputError
from .breaks import Level
from .chars import ends_sentence, ends_with_punctuation, joiner
from .language import detect_language, language_runs
from .markdown import Heading, parse_blocks
from .model import Segment
from .normalize import normalize
from .pack import pack
from .sentences import sentence_breaks
from .wrap import wrap


def split_script(text: str, max_chars: int = 300, min_chars: int = 24,
                 by_language: bool = True) -> list[Segment]:
    """Split a script (plain text or light Markdown, Chinese, English or mixed) into
    numbered segments of at most ``max_chars`` characters.

    A Markdown heading becomes its own segment (``chapter`` = its title,
    ``pause_after="heading"``); the last segment of each paragraph pauses for a
    ``"paragraph"``, the rest for a ``"sentence"``. Sentences of one paragraph are
    merged up to ``max_chars``; a segment shorter than ``min_chars`` is avoided where
    the limit allows. Whitespace-only (or markup-only) input gives ``[]``.

    ``by_language``: cut a segment where its language changes (``language_runs``), so that
    an engine that speaks one language is never given another's words; off for engines
    that read mixed text in one voice. A cut inside a sentence pauses for a "clause".
    """
    if max_chars < 1:
        raise InputError(f"max_chars must be at least 1, got {max_chars}")
    if min_chars < 0:
        raise InputError(f"min_chars must not be negative, got {min_chars}")
    blocks = parse_blocks(normalize(text))
    # Segments without letters ("2024.") are read in the language of the whole script.
    document_language = detect_language(
        " ".join(b.title if isinstance(b, Heading) else " ".join(b.units) for b in blocks)
    )

    drafts: list[tuple[str, str, str | None]] = []  # (text, pause_after, chapter)
    for block in blocks:
        if isinstance(block, Heading):
            parts = segment_units((block.title,), max_chars, min_chars)
            for k, part in enumerate(parts):
                last = k == len(parts) - 1
                drafts.append((part, "heading" if last else inner_pause(part), block.title if k == 0 else None))
        else:
            parts = segment_units(block.units, max_chars, min_chars)
            for k, part in enumerate(parts):
                drafts.append((part, "paragraph" if k == len(parts) - 1 else inner_pause(part), None))

    segments: list[tuple[str, str, str | None, str]] = []  # ... and the language
    for part, pause, chapter in drafts:
        runs = language_runs(part, document_language) if by_language else \
            [(part, detect_language(part, default=document_language))]
        for k, (run, language) in enumerate(runs):
            last = k == len(runs) - 1
            segments.append((run.rstrip() if not last else run, pause if last else run_pause(run),
                             chapter if k == 0 else None, language))
    return [Segment(index=index, text=part, pause_after=pause, chapter=chapter, language=language)
            for index, (part, pause, chapter, language) in enumerate(segments)]


def run_pause(run: str) -> str:
    """After a piece cut off where the language changes: a sentence's pause where it ends
    one, else a clause's (the sentence goes on in the other language)."""
    return "sentence" if ends_sentence(run.rstrip()) else "clause"


def inner_pause(part: str) -> str:
    """'clause' where a long sentence was cut at a comma-like mark, else 'sentence'.

    A piece ending with no punctuation at all is a list item or a line of its own far more
    often than a wrapped run-on sentence, so it keeps the full pause.
    """
    return "clause" if ends_with_punctuation(part) and not ends_sentence(part) else "sentence"


def segment_units(units: tuple[str, ...], max_chars: int, min_chars: int) -> list[str]:
    """Segment texts for one paragraph given as runs that each start a sentence."""
    parts: list[str] = []  # the paragraph text, built from units and joiners
    offset = 0
    pieces: list[tuple[int, int]] = []  # (start, end) in the paragraph text
    for unit in units:
        if parts:
            glue = joiner(parts[-1], unit)
            parts.append(glue)
            offset += len(glue)
        start = 0
        hints = []  # weaker breaks inside the sentence under way, for wrapping it
        for brk in sentence_breaks(unit) + [None]:
            if brk is not None and brk.level != Level.SENTENCE:
                hints.append(brk)
                continue
            end = len(unit) if brk is None else brk.end
            spans = wrap(unit, start, end, max_chars, hints) if end - start > max_chars else [(start, end)]
            pieces.extend((offset + s, offset + e) for s, e in spans)
            if brk is not None:
                start = brk.start
                hints = []
        parts.append(unit)
        offset += len(unit)
    paragraph = "".join(parts)
    return [paragraph[s:e] for s, e in pack(paragraph, pieces, max_chars, min_chars)]
