"""Every text the web UI asks for by key is translated, in both languages (a missing key would
show as the raw key, "pause.clause", in the page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indextts_yt.settings import PAUSE_NAMES

STATIC = Path(__file__).resolve().parent.parent / "src" / "indextts_yt" / "webui" / "static"
_STRING = r'"((?:[^"\\]|\\.)*)"'
ENTRY = re.compile(rf'^\s*"([\w-]+\.[\w.-]+)": \[\s*{_STRING},\s*{_STRING},?\s*\]', re.M)
# t("key", ...), tNodes("key"), has("key"), data-i18n="key" and label(..., "key", ...) helpers
USED = re.compile(r'\b(?:t|tNodes|has)\(\s*"([\w-]+\.[\w.-]+)"|data-i18n(?:-[\w-]+)?="([\w-]+\.[\w.-]+)"')


def dictionary() -> dict[str, tuple[str, str]]:
    return {m.group(1): (m.group(2), m.group(3)) for m in ENTRY.finditer((STATIC / "i18n.js").read_text())}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in list(STATIC.glob("*.js")) + list(STATIC.glob("*.html")):
        for match in USED.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1) or match.group(2))
    return keys


def test_the_dictionary_is_read_whole():
    assert len(dictionary()) > 300


def test_every_literal_key_has_both_languages():
    words = dictionary()
    missing = sorted(used_keys() - set(words))
    assert not missing, missing
    assert all(en and zh for en, zh in words.values())


@pytest.mark.parametrize("pause", PAUSE_NAMES)
def test_every_pause_class_has_a_label(pause):
    # app.js and job.js show a segment's pause as t(`pause.${name}`)
    assert f"pause.{pause}" in dictionary()
