"""Long-form failure guards of the IndexTTS2 engine, with the real ``indextts`` library on its
tiny random checkpoint (the environment of tests/v2, started by tests/test_indextts2.py):
a runaway piece is reported, every piece of speech ends in a fade to 0, and a waveform past
full scale is scaled instead of clipped. Faults are injected around the real code: the tiny
GPT emits 16 codes then its stop token (``max_mel_tokens`` below 16 makes it run away), and a
forward hook on the real vocoder's last layer makes its waveform 3x full scale. The job,
store, API and CLI side is tested on IndexTTS-2.5 in tests/test_indextts_guards.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from indextts_yt.engines.base import settings_for
from indextts_yt.engines.indextts_common import END_FADE_MS

from fixtures.tiny_indextts import STOP_AFTER_CODES
from indextts_util import (
    check_runaway_is_reported, check_scaled_not_clipped, piper_clip, synthesize_all,
    vocoder_past_full_scale,
)

CLEAN = {"max_mel_tokens": STOP_AFTER_CODES + 4, "num_beams": 1}
RUNAWAY = {"max_mel_tokens": STOP_AFTER_CODES - 1, "num_beams": 1}
TWO_PIECES = "Hello there, my friend. This is the second sentence, and it keeps going."


@pytest.fixture(scope="module")
def voice(engine, tmp_path_factory):
    return engine.prepare_voice(str(piper_clip(tmp_path_factory.mktemp("clips") / "v.wav")))


def render(engine, voice, given):
    settings = settings_for(engine, {**given, "max_text_tokens_per_segment": 20})
    return synthesize_all(engine.synthesize(TWO_PIECES, voice, settings, "en"))


def test_a_runaway_is_reported_and_agrees_with_the_library(engine, voice):
    check_runaway_is_reported(lambda given: render(engine, voice, given), RUNAWAY, CLEAN,
                              STOP_AFTER_CODES - 1)


def test_every_piece_of_speech_ends_in_a_fade_to_zero(engine, voice):
    tts = engine._loaded().tts
    real = tts.infer_generator
    library: list[np.ndarray] = []

    def infer_generator(*args, **kwargs):  # keeps what the library yields, before our fade
        for item in real(*args, **kwargs):
            if hasattr(item, "detach"):
                library.append(item.detach().float().cpu().numpy().reshape(-1).copy())
            yield item

    tts.infer_generator = infer_generator
    try:
        chunks, found = render(engine, voice, CLEAN)
    finally:
        tts.infer_generator = real
    assert found == ()
    speech, raw = [c for c in chunks if c.any()], [c for c in library if c.any()]
    assert len(speech) == len(raw) >= 2
    assert all(np.array_equal(c, np.zeros_like(c)) for c in chunks if not c.any())
    n = round(END_FADE_MS / 1000 * engine.sample_rate)
    ramp = (0.5 + 0.5 * np.cos(np.pi * (np.arange(n) + 1) / n)).astype(np.float32)
    for ours, lib in zip(speech, raw):
        assert len(ours) == len(lib)
        assert np.array_equal(ours[:-n], lib[:-n])
        assert ours[-1] == 0.0 and lib[-1] != 0.0
        np.testing.assert_allclose(ours[-n:], lib[-n:] * ramp, atol=1e-7)


def test_a_waveform_past_full_scale_is_scaled_not_clipped(engine, voice):
    with vocoder_past_full_scale(engine, 3.0) as loud:
        chunks, found = render(engine, voice, CLEAN)
    assert [len(c) for c in chunks if c.any()] == [len(w) for w in loud]
    check_scaled_not_clipped(chunks, found, loud, engine.sample_rate, atol=1e-5)

    chunks, found = render(engine, voice, CLEAN)  # no fault: nothing scaled
    assert found == () and all(np.abs(c).max() <= 1.0 for c in chunks)
