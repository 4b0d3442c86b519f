"""Shared by the IndexTTS tests: reference clips made by the real default engines, and the
settings that keep a tiny random model quick on the CPU."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

class Spy:
    """Wraps a real method or function: counts calls and keeps their arguments (and what
    each returned), then calls through (the real code still runs). Restores the original on
    exit of a ``with``."""

    def __init__(self, owner, name: str):
        self.owner, self.name, self.real = owner, name, getattr(owner, name)
        self.calls: list[tuple[tuple, dict]] = []
        self.results: list = []
        setattr(owner, name, self)

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        result = self.real(*args, **kwargs)
        self.results.append(result)
        return result

    def restore(self) -> None:
        setattr(self.owner, self.name, self.real)

    def __enter__(self) -> "Spy":
        return self

    def __exit__(self, *exc) -> None:
        self.restore()


#: A tiny model renders in about a second with these (the audio is noise either way).
FAST = {"max_mel_tokens": 15, "diffusion_steps": 3, "num_beams": 1}


def piper_clip(path: Path, seconds: float = 3.0,
               text: str = "This is the voice I would like the narration to be read in.") -> Path:
    """A reference clip of real speech by the default engine, cut to ``seconds``."""
    from indextts_yt.engines import registry

    engine = registry.get_engine("piper")
    audio = np.concatenate(list(engine.synthesize(text, engine.prepare_voice("joe"), {})))
    reps = int(np.ceil(seconds * engine.sample_rate / len(audio)))
    sf.write(path, np.tile(audio, reps)[: int(seconds * engine.sample_rate)], engine.sample_rate)
    return path


def espeak_clip(path: Path, text: str = "Oh no! I cannot believe this is happening again!"
                ) -> Path:
    """A second, clearly different voice (eSpeak NG), for emotion references."""
    from indextts_yt.engines import registry

    engine = registry.get_engine("espeak")
    audio = np.concatenate(list(engine.synthesize(text, engine.prepare_voice("en-us"), {})))
    sf.write(path, audio, engine.sample_rate)
    return path


@contextmanager
def fake_transformers_version(folder: Path, version: str) -> Iterator[dict[str, str]]:
    """An environment (for a subprocess) in which package metadata says transformers is
    ``version``, while the installed transformers is what imports: a ``.dist-info`` folder
    first on PYTHONPATH, holding nothing but that metadata."""
    info = folder / f"transformers-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: transformers\nVersion: {version}\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    yield {"PYTHONPATH": path}


# -- the long-form guards (engines/indextts_common.py), shared by both engines' tests ----------

def synthesize_all(chunks) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """All chunks of a synthesize() generator, and the warnings it returned."""
    from indextts_yt.engines.base import synthesis_warnings

    out = []
    while True:
        try:
            out.append(next(chunks))
        except StopIteration as stop:
            return out, synthesis_warnings(stop.value)


def runaway_warning(k: int, of: int, limit: int) -> str:
    return (f"runaway: piece {k} of {of} stopped at max_mel_tokens ({limit}) without an end "
            f"— check the audio or lower max_text_tokens_per_segment")


def check_runaway_is_reported(render, runaway: dict, clean: dict, limit: int) -> None:
    """``render(given) -> (chunks, warnings)``: every piece of a runaway render is reported,
    the library itself only warns once per call (in the log), and a clean render is clean."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunks, found = render(runaway)
    assert len([w for w in caught if "max_mel_tokens" in str(w.message)]) == 1
    assert any(c.any() for c in chunks)  # the audio is kept: it is for the user to judge
    pieces = len(found)
    assert pieces >= 2 and found == tuple(runaway_warning(k, pieces, limit)
                                          for k in range(1, pieces + 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunks, found = render(clean)
    assert found == () and not [w for w in caught if "max_mel_tokens" in str(w.message)]


@contextmanager
def vocoder_past_full_scale(engine, peak: float = 3.0) -> Iterator[list[np.ndarray]]:
    """Fault injection around the real vocoder: its last layer's waveform made ``peak`` x
    full scale, ahead of the guard's hook; yields the waveforms it made."""
    loud: list[np.ndarray] = []

    def too_loud(module, inputs, output):
        output = output * (peak / output.abs().max())
        loud.append(output.detach().reshape(-1).numpy().copy())
        return output

    fault = engine._loaded().tts.bigvgan.conv_post.register_forward_hook(too_loud, prepend=True)
    try:
        yield loud
    finally:
        fault.remove()


def check_scaled_not_clipped(chunks, found, loud, sample_rate: int, atol: float) -> None:
    """What ``vocoder_past_full_scale(engine, 3.0)`` must give: every piece scaled to the
    ceiling with its shape kept (the end fade aside), never clipped, and a warning each."""
    from indextts_yt.engines.indextts_common import CLIP_CEILING, END_FADE_MS

    speech = [c for c in chunks if c.any()]
    assert len(speech) == len(loud) >= 2
    n = round(END_FADE_MS / 1000 * sample_rate)
    for ours, original in zip(speech, loud):
        assert np.abs(original).max() == pytest.approx(3.0)  # the library would clip it
        assert np.abs(ours).max() <= CLIP_CEILING + 1e-6
        body, whole = ours[:-n], original[: len(ours)][:-n]
        assert np.corrcoef(body, whole)[0, 1] > 0.9999  # the shape is kept
        np.testing.assert_allclose(body, whole * CLIP_CEILING / 3.0, atol=atol)
        clipped = np.clip(whole, -1, 1)
        assert np.corrcoef(clipped, whole)[0, 1] < np.corrcoef(body, whole)[0, 1]
    assert found == tuple(
        f"clipping: piece {k} of {len(speech)} peaked at +9.5 dBFS; scaled by \u221210.5 dB "
        f"to avoid clipping" for k in range(1, len(speech) + 1))


def assert_each_file_is_its_voice(engine, clips, rows, voices) -> None:
    """Each segment file of ``rows`` is what its voice says (rendered again now, same
    settings and seed) and not what the next of ``voices`` (stored clips, one per row in
    order) says with the same words and settings."""
    every = list(dict.fromkeys(voices))
    for row, clip in zip(rows, voices):
        made, rate = sf.read(row.audio_path, dtype="float32")
        assert rate == engine.sample_rate and len(made) and np.isfinite(made).all()
        path, settings = clips.resolve(engine, row.voice, row.settings)
        assert path == str(clip.path)
        other = every[(every.index(clip) + 1) % len(every)]
        for voice, same in ((clip, True), (other, False)):
            again = np.concatenate(list(engine.synthesize(
                row.text, engine.prepare_voice(str(voice.path)), settings, row.language)))
            assert (made.shape == again.shape and np.array_equal(made, again)) == same, \
                (row.idx, voice.id)


def narrate_cast(store, engine_name: str, script: str, narrator, cast, options, spies):
    """``script`` narrated as a job with ``cast`` on ``engine_name`` (checks off), with
    ``spies`` restored afterwards whatever happens; the job's stored segments."""
    from indextts_yt.jobs import service
    from indextts_yt.jobs.runner import run_job
    from indextts_yt.settings import CheckSettings, JobSettings

    try:
        job, _ = service.create_job(store, service.JobRequest(text=script, settings=JobSettings(
            engine=engine_name, voice=narrator.id, options=options, cast=cast,
            checks=CheckSettings(mode="off"))))
        assert [e.state for e in run_job(store, job.id)][-1] == "done"
    finally:
        for spy in spies:
            spy.restore()
    return store.segments(job.id)


def assert_rows_as_planned(rows, preview, engine_name: str, expected) -> None:
    """Each stored segment has the speaker, voice, text and emotion clip the preview and
    ``expected`` ((speaker, voice clip, emotion clip or None, ...) per line) give it."""
    assert [(r.speaker, r.engine, r.voice) for r in rows] == \
        [(who, engine_name, clip.id) for who, clip, *_ in expected]
    assert [r.text for r in rows] == [r["text"] for r in preview]
    assert [r.settings.get("emotion_clip") or None for r in rows] == \
        [emo.id if emo else None for _, _, emo, *_ in expected]


def analyses(engine, kind: str, clips) -> dict:
    """Each clip's analysis of ``kind`` ("speaker", "emotion") as the engine keeps it (the
    objects its model was given): clip id -> analysis; fails if one was never made."""
    return {c.id: engine.conditioning.get(kind, str(c.path), lambda: pytest.fail(c.id))
            for c in clips}
