"""Long-form failure guards of the IndexTTS2 engine, with the real ``indextts`` library on its
tiny random checkpoint (the environment of tests/v2, started by tests/test_indextts2.py):
a runaway piece is reported, every piece of speech ends in a fade to 0, and a waveform past
full scale is scaled instead of clipped. Faults are injected around the real code: the tiny
GPT emits 16 codes then its stop token (``max_mel_tokens`` below 16 makes it run away), and a
forward hook on the real vocoder's last layer makes its waveform 3x full scale. The job,
store, API and CLI side is tested on IndexTTS-2.5 in tests/test_indextts_guards.py.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from indextts_yt.engines.base import settings_for, synthesis_warnings
from indextts_yt.engines.indextts2_engine import IndexTTS2Engine
from indextts_yt.engines.indextts_common import (
    CLIP_CEILING, END_FADE_MS, ENV_CACHE_DIR, LoadOptions,
)

from fixtures.tiny_indextts import STOP_AFTER_CODES, build_indextts2
from indextts_util import piper_clip

CLEAN = {"max_mel_tokens": STOP_AFTER_CODES + 4, "num_beams": 1}
RUNAWAY = {"max_mel_tokens": STOP_AFTER_CODES - 1, "num_beams": 1}
TWO_PIECES = "Hello there, my friend. This is the second sentence, and it keeps going."


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = os.environ.get("INDEXTTS_YT_TINY2_DIR")
    assert root, "run these through tests/test_indextts2.py (it sets up the environment)"
    model_dir, _ = build_indextts2(Path(root))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_CACHE_DIR, str(tmp_path_factory.mktemp("cache")))
        yield IndexTTS2Engine(LoadOptions(checkpoints=model_dir, device="cpu"))


@pytest.fixture(scope="module")
def voice(engine, tmp_path_factory):
    return engine.prepare_voice(str(piper_clip(tmp_path_factory.mktemp("clips") / "v.wav")))


def render(engine, voice, given):
    settings = settings_for(engine, {**given, "max_text_tokens_per_segment": 20})
    chunks = engine.synthesize(TWO_PIECES, voice, settings, "en")
    out = []
    while True:
        try:
            out.append(next(chunks))
        except StopIteration as stop:
            return out, synthesis_warnings(stop.value)


def test_a_runaway_is_reported_and_agrees_with_the_library(engine, voice):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunks, found = render(engine, voice, RUNAWAY)
    assert len([w for w in caught if "max_mel_tokens" in str(w.message)]) == 1
    assert any(c.any() for c in chunks)
    pieces = len(found)
    assert pieces >= 2 and found == tuple(
        f"runaway: piece {k} of {pieces} stopped at max_mel_tokens ({STOP_AFTER_CODES - 1}) "
        f"without an end — check the audio or lower max_text_tokens_per_segment"
        for k in range(1, pieces + 1))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunks, found = render(engine, voice, CLEAN)
    assert found == () and not [w for w in caught if "max_mel_tokens" in str(w.message)]


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
    vocoder = engine._loaded().tts.bigvgan
    loud: list[np.ndarray] = []

    def three_times_full_scale(module, inputs, output):
        output = output * (3.0 / output.abs().max())  # before the guard (prepend)
        loud.append(output.detach().reshape(-1).numpy().copy())
        return output

    fault = vocoder.conv_post.register_forward_hook(three_times_full_scale, prepend=True)
    try:
        chunks, found = render(engine, voice, CLEAN)
    finally:
        fault.remove()
    speech = [c for c in chunks if c.any()]
    assert len(speech) == len(loud) >= 2
    n = round(END_FADE_MS / 1000 * engine.sample_rate)
    for ours, original in zip(speech, loud):
        assert len(ours) == len(original) and np.abs(original).max() == pytest.approx(3.0)
        assert np.abs(ours).max() <= CLIP_CEILING + 1e-6
        body, whole = ours[:-n], original[:-n]
        assert np.corrcoef(body, whole)[0, 1] > 0.9999  # the shape is kept
        np.testing.assert_allclose(body, whole * CLIP_CEILING / 3.0, atol=1e-5)
    assert found == tuple(
        f"clipping: piece {k} of {len(speech)} peaked at +9.5 dBFS; scaled by \u221210.5 dB "
        f"to avoid clipping" for k in range(1, len(speech) + 1))

    chunks, found = render(engine, voice, CLEAN)  # no fault: nothing scaled
    assert found == () and all(np.abs(c).max() <= 1.0 for c in chunks)
