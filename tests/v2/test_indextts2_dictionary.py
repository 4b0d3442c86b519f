"""The pronunciation dictionary's pinyin reaches IndexTTS2's own text front end as pinyin
(the real ``indextts`` library, tiny weights; see conftest.py here)."""

from __future__ import annotations

from indextts_yt.dictionary import Dictionary, Entry


def test_a_pinyin_entry_reaches_the_librarys_text_front_end_as_pinyin(engine):
    """IndexTTS2 reads tone-numbered syllables inline; its normaliser keeps them as pinyin
    instead of reading the characters they replace."""
    entry = Entry(match="行长", say="hang2 zhang3", kind="pinyin", language="zh")
    applied = Dictionary([entry]).apply("银行行长来了。", "zh", "indextts2")
    assert applied.text == "银行HANG2 ZHANG3来了。"
    normalizer = engine._loaded().tts.normalizer
    heard = normalizer.normalize(applied.text).upper()
    assert "HANG2" in heard and "ZHANG3" in heard and "行长" not in heard
    plain = normalizer.normalize("银行行长来了。")
    assert "行长" in plain and "HANG2" not in plain.upper()  # without the entry: characters
