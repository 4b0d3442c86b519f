"""Read the light Markdown a narration script may carry, and drop the markup.

Scripts are often written in Markdown (or pasted from a chat assistant that writes it).
The listener must never hear "hash", "asterisk" or a link target, but every *word* the
author wrote must survive, so this module removes syntax only and keeps all text.

Supported: ATX headings (``# Title``, optional closing ``#``s), paragraphs separated by
blank lines, ``-``/``*``/``+`` and ``1.``/``1)`` list items, ``>`` block quotes,
horizontal rules, emphasis (``*``, ``_``, ``**``, ``__``, ``~~``), inline code, links,
images (their alt text), reference links and definitions, footnote markers, autolinks,
HTML tags (dropped, their text kept), HTML comments and ``<script>``/``<style>`` blocks
(dropped whole) and HTML entities (decoded).
Left out whole, because they are not prose and read as noise: GFM tables and fenced code
blocks (``left_out`` lists each one for the preview).
Not supported (read as plain text): setext headings (``Title`` over ``===``) and indented
code blocks (``normalize`` has already removed the indentation that marks them).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .chars import is_punct, is_wide, joiner
from .normalize import map_characters, normalize


@dataclass(frozen=True)
class Heading:
    title: str


@dataclass(frozen=True)
class Paragraph:
    # Runs of text that each start a new sentence: list items, or the paragraph's prose.
    # Kept apart because an unpunctuated list item must not run into the next one.
    units: tuple[str, ...]


Block = Heading | Paragraph

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
# A GFM table's delimiter row: cells of dashes with optional alignment colons ("|:--|-:|").
_TABLE_DELIMITER = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?$")
_CELL_PIPE = re.compile(r"(?<!\\)\|")  # "\|" is a pipe inside a cell, not a cell border
# HTML that is never heard, contents and all: comments, scripts and style sheets.
_HTML_BLOCK_OPEN = re.compile(r"<!--|<(script|style)(?=[\s/>])", re.IGNORECASE)
_HTML_BLOCK_CLOSE = {
    "--": re.compile("-->"),
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
}


@dataclass
class _Unit:
    lines: list[str] = field(default_factory=list)
    is_item: bool = False


@dataclass(frozen=True)
class _LeftOut:
    kind: str  # "table" or "code"
    # 0-based lines of the normalised text: the table's header or the opening fence, and
    # its last row or closing fence (the last line of the text if the fence is unclosed).
    first: int
    last: int
    info: str = ""  # a code block's language
    closed: bool = True


def parse_blocks(text: str) -> list[Block]:
    """Split normalised text (see ``normalize``) into headings and paragraphs, markup removed."""
    return _parse(text)[0]


def left_out(text: str) -> list[str]:
    """One short note per table or code block of a script that is not read aloud.

    ``text`` is the script as given to ``split_script``; line numbers count its lines
    (``\\r\\n``, ``\\r`` or ``\\n`` each end one) from 1, blank ones included, so they
    match the editor the script was written in even though ``normalize`` drops blank lines.
    A table's rows include its header row, not the ``|---|`` delimiter row; a code
    block's lines are those between its fences.
    """
    source = _source_line_numbers(text)
    notes = []
    for block in _parse(normalize(text))[1]:
        first, last = source[block.first], source[block.last]
        if block.kind == "table":
            rows = last - first  # every line but the delimiter row is a row
            notes.append(f"a table ({_count(rows, 'row')}) at line {first} is not read aloud")
            continue
        lines = last - first - 1 if block.closed else last - first
        what = ", ".join(filter(None, [block.info, _count(lines, "line")]))
        if block.closed:
            notes.append(f"a code block ({what}) at line {first} is not read aloud")
        else:
            notes.append(f"a code block ({what}) at line {first} is never closed, "
                         "so nothing after its fence is read aloud")
    return notes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _parse(text: str) -> tuple[list[Block], list[_LeftOut]]:
    text, origin = _drop_html_blocks(text)
    lines = text.split("\n")
    blocks: list[Block] = []
    dropped: list[_LeftOut] = []
    units: list[_Unit] = []
    fence: tuple[str, int, str] | None = None  # (fence run, first line, language)

    def flush() -> None:
        texts = []
        for unit in units:
            joined = re.sub(r" {2,}", " ", strip_inline(_join_lines(unit.lines))).strip()
            if joined:
                texts.append(joined)
        if texts:
            blocks.append(Paragraph(tuple(texts)))
        units.clear()

    i = 0
    while i < len(lines):
        line = _QUOTE.sub("", lines[i]).strip()
        i += 1
        if fence is not None:
            # Inside a code fence only the closing fence counts (quote markers stripped
            # first, or a fence opened inside a "> " quote would never close).
            run, first, info = fence
            if line.startswith(run) and not line.strip(run[0]):
                dropped.append(_LeftOut("code", origin[first], origin[i - 1], info))
                fence = None
            continue

        if not line:
            flush()
            continue
        if match := _FENCE_OPEN.match(line):
            flush()
            run = match.group(1) or match.group(2)
            info = line[len(run):].split()
            fence = (run, i - 1, info[0] if info else "")
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
        if rows := _table_length(lines, i - 1):
            # A table may follow a paragraph line directly (GFM): it ends the paragraph.
            flush()
            dropped.append(_LeftOut("table", origin[i - 1], origin[i - 2 + rows]))
            i += rows - 1
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
        if not units:
            units.append(_Unit())
        units[-1].lines.append(line)
    flush()
    if fence is not None:
        # An unclosed fence runs to the end of the script, as in CommonMark.
        dropped.append(_LeftOut("code", origin[fence[1]], origin[-1], fence[2], closed=False))
    return blocks, dropped


def _table_length(lines: list[str], i: int) -> int:
    """How many lines from ``lines[i]`` form a GFM table, or 0 if none starts there.

    A table is a header row with a pipe, then a delimiter row with as many cells, then
    the rows after it. Unlike GFM, a row must have a pipe: a line of prose right after
    a table is read, not dropped as a one-cell row, since losing words is worse.
    """
    if i + 1 >= len(lines):
        return 0
    header, delimiter = (_QUOTE.sub("", line).strip() for line in lines[i : i + 2])
    if not (_CELL_PIPE.search(header) and "|" in delimiter and _TABLE_DELIMITER.match(delimiter)):
        return 0
    if _cell_count(header) != _cell_count(delimiter):
        return 0
    end = i + 2
    while end < len(lines) and _CELL_PIPE.search(_QUOTE.sub("", lines[end])):
        end += 1
    return end - i


def _cell_count(row: str) -> int:
    row = row.removeprefix("|")
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return len(_CELL_PIPE.split(row))


def _drop_html_blocks(text: str) -> tuple[str, list[int]]:
    """Remove HTML comments and script/style elements; also return, for each line of the
    result, the line of ``text`` it starts on (so notes can name lines of the script).

    Scanned by hand, not with one regex: a closer found missing is not searched for
    again, so a script full of unclosed ``<!--`` still takes linear time.
    """
    kept: list[str] = []
    origin = [0]
    line = pos = 0
    missing: set[str] = set()

    def keep(end: int) -> None:
        nonlocal line
        for _ in range(text.count("\n", pos, end)):
            line += 1
            origin.append(line)
        kept.append(text[pos:end])

    search_from = 0
    while opener := _HTML_BLOCK_OPEN.search(text, search_from):
        kind = (opener.group(1) or "--").lower()
        closer = None if kind in missing else _HTML_BLOCK_CLOSE[kind].search(text, opener.end())
        if closer is None:
            missing.add(kind)
            search_from = opener.end()
            continue
        keep(opener.start())
        line += text.count("\n", opener.start(), closer.end())
        pos = search_from = closer.end()
    keep(len(text))
    return "".join(kept), origin


def _source_line_numbers(text: str) -> list[int]:
    """For each line of ``normalize(text)``, the 1-based line of ``text`` it comes from.

    ``normalize`` keeps every line that has something on it, in order, and drops only
    blank ones (and splits a line at a page break or line separator character), so
    its non-blank lines are matched with those of ``text`` one source line at a time.
    """
    numbers = []  # the source line of each non-blank normalised line, in order
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        numbers += [number] * sum(1 for part in normalize(line).split("\n") if part)
    result = []
    seen = 0
    for line in normalize(text).split("\n"):
        seen += bool(line)
        result.append(numbers[seen - 1] if seen else 1)  # a blank line: the one before it
    return result


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
# Character references; the ";" is required (as in CommonMark), so "AT&T" and "a&b" stay.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HTML_TAG = re.compile(
    r"</?([A-Za-z][A-Za-z0-9]*)"
    r"""(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>"""
)
# Only real HTML element names are tags: "<Enter>", "<name>" or "List<T>" in prose are
# words to read. Inline elements vanish ("un<b>real</b>" is one word); the others break
# the text like a line break would, so they leave a space ("one<br>two", "</p><p>").
_INLINE_TAGS = frozenset(
    "a abbr b bdi bdo big cite code data del dfn em font i ins kbd mark q s samp small span "
    "strike strong sub sup time tt u var wbr".split()
)
_BLOCK_TAGS = frozenset(
    "address article aside audio blockquote body br button caption center col colgroup dd "
    "details dialog div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hr "
    "html iframe img input label li link main meta nav noscript ol option p picture pre "
    "script section select source style summary table tbody td template textarea tfoot th "
    "thead title tr ul video".split()
)
# A run of "|" with the spaces around it; the lookbehind lets a match start only where a
# run of spaces starts, so long runs of spaces without a pipe are not rescanned.
_PIPES = re.compile(r"(?<!\s)\s*\|[\s|]*")


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
    # A decoded entity is a literal character, never markup ("&lt;b&gt;" is not a tag).
    text = _ENTITY.sub(lambda m: hide(_decode_entity(m.group())), text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _AUTOLINK.sub(lambda m: hide(m.group(1)), text)
    text = _HTML_TAG.sub(_strip_tag, text)
    text = _BARE_URL.sub(lambda m: hide(m.group(0)), text)
    text = _strip_emphasis(text)
    # A hidden URL may itself contain a hidden escape, so restore until none is left.
    while saved and any(ch in saved for ch in text):
        text = "".join(saved.get(ch, ch) for ch in text)
    # Inline code and escapes included: what a script says is never an engine instruction.
    return engine_safe(text)


def engine_safe(text: str) -> str:
    """``text`` with no engine markup left: double brackets made single, a bar a pause (see
    ``_ENGINE_BRACKETS``). Planned text has been through this; so must an edited segment."""
    return _ENGINE_BRACKETS.sub(lambda m: m.group()[0], _PIPES.sub(_pipe_pause, text))


# Engines read markup of their own inside text: piper and eSpeak NG take [[...]] as phonemes,
# IndexTTS-2.5 takes <word|PHONEMES>. Typed in a script it is text, so double brackets become
# single ones (and the pipe rule breaks <word|...>); the pronunciation dictionary, which means
# such markup, is applied after this.
_ENGINE_BRACKETS = re.compile(r"\[{2,}|\]{2,}")


def _decode_entity(entity: str) -> str:
    # normalize ran before the entity was decoded, so apply its character rules here:
    # "&nbsp;" is a plain space, "&shy;" nothing, "&#10;" no line break inside a line.
    return map_characters(html.unescape(entity)).replace("\n", " ")


def _strip_tag(match: re.Match) -> str:
    name = match.group(1).lower()
    if name in _INLINE_TAGS:
        return ""
    return " " if name in _BLOCK_TAGS else match.group()


def _pipe_pause(match: re.Match) -> str:
    """What a stray "|" (outside a table) becomes: a breadcrumb "Home | News", a table
    row with no delimiter row, a shell pipe in inline code. It is never read as "vertical
    bar"; a comma keeps the separation as a short pause, where a bare space would run the
    separated items together. Next to punctuation, or at either end, a space is enough."""
    text, start, end = match.string, match.start(), match.end()
    if start == 0 or end == len(text):
        return ""
    before, after = text[start - 1], text[end]
    if is_punct(before) or is_punct(after):
        return " "
    return "，" if is_wide(before) else ", "


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
