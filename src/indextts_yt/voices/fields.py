"""The metadata a user gives a library voice, checked and put in one form: every message
names the field, so the CLI, the API and an imported voice file all say what is wrong."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..clips import is_clip_id
from ..errors import InputError

MAX_NAME_CHARS = 80
MAX_TAG_CHARS = 32
MAX_TAGS = 16
MAX_NOTES_CHARS = 2000
#: A bundled voice's id: ``engine:voice`` (piper:joe, espeak:pt-br).
BUNDLED_ID = re.compile(r"[a-z0-9][a-z0-9._-]*:[A-Za-z0-9._-]+")
# BCP 47-like: a 2-3 letter language, optional subtags (zh, en-us, pt-br, yue, zh-hans).
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8}){0,2}")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{field} must be text, got {type(value).__name__}")
    return unicodedata.normalize("NFC", value)


def _no_controls(value: str, field: str, allowed: str = "") -> str:
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise InputError(f"{field} cannot contain control characters")
    return value


def check_name(value: Any, field: str = "name") -> str:
    """Trimmed, inner runs of space made one; 1-80 characters; not shaped like a voice id
    (the CLI takes an id or a name, so the two must never be confused)."""
    name = " ".join(_no_controls(_text(value, field), field).split())
    if not name:
        raise InputError(f"{field}: a voice needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(f"{field} is limited to {MAX_NAME_CHARS} characters, got {len(name)}")
    if is_clip_id(name) or BUNDLED_ID.fullmatch(name):
        raise InputError(f"{field} {name!r} looks like a voice id; choose a name")
    return name


def name_key(name: str) -> str:
    """What two names must not share: 'Narrator' and 'NARRATOR' are one name."""
    return name.casefold()


def check_language(value: Any, field: str = "language") -> str | None:
    """A short language tag, lower case ('en', 'zh', 'pt-br'); empty or None for none."""
    if value is None:
        return None
    tag = _text(value, field).strip().replace("_", "-").lower()
    if not tag:
        return None
    if len(tag) > 16 or not _LANGUAGE.fullmatch(tag):
        raise InputError(f"{field} must be a short language tag like en, zh or pt-br, got {value!r}")
    return tag


def check_tags(value: Any, field: str = "tags") -> tuple[str, ...]:
    """A list of short tags; blanks dropped, repeats (in any case) kept once, order kept."""
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{field} must be a list of text, got {type(value).__name__}")
    tags: list[str] = []
    seen: set[str] = set()
    for item in value:
        tag = " ".join(_no_controls(_text(item, f"each of {field}"), field).split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise InputError(f"{field}: {tag[:40]!r} is longer than {MAX_TAG_CHARS} characters")
        if "," in tag or "，" in tag:
            raise InputError(f"{field}: a tag cannot contain a comma, got {tag!r}")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InputError(f"{field}: at most {MAX_TAGS} tags, got {len(tags)}")
    return tuple(tags)


def parse_tags(text: str | None, field: str = "tags") -> tuple[str, ...]:
    """'calm, male，narrator' (ASCII or Chinese commas) -> ('calm', 'male', 'narrator')."""
    if text is None:
        return ()
    return check_tags(re.split(r"[,，]", _text(text, field)), field)


def check_notes(value: Any, field: str = "notes") -> str:
    notes = _no_controls(_text(value, field), field, allowed="\n\t\r").strip()
    if len(notes) > MAX_NOTES_CHARS:
        raise InputError(f"{field} are limited to {MAX_NOTES_CHARS} characters, got {len(notes)}")
    return notes
