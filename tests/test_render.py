"""jobs/render.py: the one render path of the runner, the speech endpoint and the warm-up,
the process-wide cache of prepared voices, and the engine hooks every engine declares."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from conftest import SHORT_SCRIPT, pooh_paragraphs
from indextts_yt.clips import ClipStore
from indextts_yt.engines import registry
from indextts_yt.engines.base import EngineBase, LoadInfo, PreloadResult, settings_for
from indextts_yt.errors import InputError
from indextts_yt.jobs.events import EventHub
from indextts_yt.jobs.plan import Choice, plan
from indextts_yt.jobs.render import (
    WAIT_S, PreparedVoices, RenderInput, prepared_voices, render_all, rendering,
)
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.store import Store
from indextts_yt.jobs.worker import Worker
from indextts_yt.server.speech_producer import AHEAD, SpeechProducer
from test_jobs import make_job

FLAT = ("noise_scale", "noise_w")  # piper without noise makes the same audio every time


class Spy:
    """Records, on the engine instance, every voice prepared and every segment made (which
    thread asked, the text, the settings, the audio)."""

    def __init__(self, engine, monkeypatch) -> None:
        self.prepared: list[str] = []
        self.made: list[tuple[str, str, dict, list[np.ndarray]]] = []
        real_prepare, real_synthesize = engine.prepare_voice, engine.synthesize

        def prepare_voice(voice):
            self.prepared.append(voice)
            return real_prepare(voice)

        def synthesize(text, conditioning, settings, language="en"):
            parts: list[np.ndarray] = []
            self.made.append((threading.current_thread().name, text, dict(settings), parts))
            for chunk in real_synthesize(text, conditioning, settings, language=language):
                parts.append(chunk)
                yield chunk

        monkeypatch.setattr(engine, "prepare_voice", prepare_voice)
        monkeypatch.setattr(engine, "synthesize", synthesize)

    def audio(self, k: int) -> np.ndarray:
        return np.concatenate(self.made[k][3])


@pytest.fixture
def piper(monkeypatch):
    engine = registry.get_engine("piper")
    # Noise off by default, so the warm-up (which renders with the defaults) is repeatable.
    monkeypatch.setattr(engine, "settings", tuple(
        replace(spec, default=0.0) if spec.name in FLAT else spec for spec in engine.settings))
    prepared_voices.clear()  # this process may have prepared the voice already
    yield engine
    prepared_voices.clear()


def speak(segments, sample_rate: int, clips: ClipStore) -> bytes:
    """What the speech endpoint streams for these segments (raw PCM)."""
    async def main() -> bytes:
        producer = SpeechProducer(segments, sample_rate, "pcm", clips)
        producer.start()
        return b"".join([data async for data in producer.chunks()])

    return asyncio.run(main())


def test_runner_speech_endpoint_and_warm_up_make_the_same_audio(piper, data_dir, tmp_path,
                                                                monkeypatch):
    spy = Spy(piper, monkeypatch)
    store = Store(data_dir)
    try:
        job = make_job(store, "Ready.", tmp_path / "out.wav", engine="piper")
        events = list(run_job(store, job.id))
        assert events[-1].kind == "finished", events[-1]
        speak(plan("Ready.", Choice("piper")), piper.sample_rate, ClipStore(data_dir))
        Worker(data_dir, EventHub(), warm=("piper",))._warm()
        segment = store.segments(job.id)[0]
    finally:
        store.close()

    assert [(made[0], made[1]) for made in spy.made] == [
        (threading.current_thread().name, "Ready."), ("indextts-yt-speech", "Ready."),
        (threading.current_thread().name, "Ready.")]
    assert spy.made[0][2] == spy.made[1][2] == spy.made[2][2] == settings_for(piper, {})
    runner, speech, warm = (spy.audio(k) for k in range(3))
    assert runner.size > 0 and np.array_equal(runner, speech) and np.array_equal(runner, warm)
    # ... and the runner's segment file holds that audio.
    stored, rate = sf.read(segment.audio_path, dtype="float32")
    assert rate == piper.sample_rate and stored.shape == runner.shape
    assert np.max(np.abs(stored - runner)) < 1 / 16384
    assert spy.prepared == ["joe"]  # one analysis for the job, the request and the warm-up


def test_a_voice_is_prepared_once_across_a_job_and_a_speech_request(piper, data_dir, tmp_path,
                                                                  monkeypatch):
    spy = Spy(piper, monkeypatch)
    store = Store(data_dir)
    try:
        job = make_job(store, SHORT_SCRIPT, tmp_path / "out.wav", engine="piper")
        assert len(store.segments(job.id)) >= 2
        assert list(run_job(store, job.id))[-1].kind == "finished"
    finally:
        store.close()
    segments = plan(SHORT_SCRIPT, Choice("piper"))
    speak(segments, piper.sample_rate, ClipStore(data_dir))
    assert len(spy.made) == 2 * len(segments)
    assert spy.prepared == ["joe"]
    assert len(prepared_voices) == 1


def test_the_speech_endpoint_frees_the_engine_while_its_client_does_not_read(piper, data_dir):
    segments = plan(pooh_paragraphs(3000), Choice("piper"))
    assert len(segments) > AHEAD + 1
    lock = registry.generation_lock("piper")

    async def main() -> None:
        producer = SpeechProducer(segments, piper.sample_rate, "pcm", ClipStore(data_dir))
        producer.start()
        try:
            deadline = time.monotonic() + 120
            while producer.segments_done < AHEAD:  # nobody reads: it renders AHEAD, then waits
                assert time.monotonic() < deadline and not producer.finished
                await asyncio.sleep(0.05)
            await asyncio.sleep(4 * WAIT_S)
            assert producer.segments_done == AHEAD and not producer.finished
            assert not lock.locked()
            # A job could take the engine now, while the request still waits for its client.
            assert await asyncio.to_thread(lock.acquire, timeout=5)
            lock.release()
        finally:
            producer.cancel()
            while not producer.finished:
                await asyncio.sleep(0.05)

    asyncio.run(main())
    assert not lock.locked()


def test_waiting_for_the_engine_can_be_given_up(piper, monkeypatch):
    spy = Spy(piper, monkeypatch)
    lock = registry.generation_lock("piper")
    asked: list[float] = []

    class GaveUp(Exception):
        pass

    def while_waiting() -> None:
        asked.append(time.monotonic())
        if len(asked) == 3:
            raise GaveUp

    segment = RenderInput("piper", "joe", settings_for(piper, {}), "Never said.")
    assert lock.acquire(timeout=5)  # a job is rendering
    try:
        started = time.monotonic()
        with pytest.raises(GaveUp):
            with rendering(segment, while_waiting=while_waiting):
                pytest.fail("rendered without the engine")
        waited = time.monotonic() - started
    finally:
        lock.release()
    assert 2.5 * WAIT_S < waited < 3 * WAIT_S + 2.0
    assert spy.prepared == [] and spy.made == []  # it never touched the engine
    assert not lock.locked()


def test_rendering_holds_the_engine_only_inside_the_block(piper, monkeypatch):
    spy = Spy(piper, monkeypatch)
    lock = registry.generation_lock("piper")
    segment = RenderInput("piper", "joe", settings_for(piper, {}), "One. Two. Three.")
    own = PreparedVoices()
    with rendering(segment, voices=own) as render:
        assert lock.locked() and render.sample_rate == piper.sample_rate
        assert len(own) == 1 and len(prepared_voices) == 0
        chunks = render.chunks()
        next(chunks)  # the caller stops after the first sentence
        with pytest.raises(RuntimeError, match="once"):
            render.chunks()
    assert not lock.locked()
    assert chunks.gi_frame is None  # closed before the engine was let go
    audio, warnings = render_all(segment)
    assert audio.dtype == np.float32 and audio.size > 0 and warnings == ()
    assert spy.prepared == ["joe", "joe"]  # the process's cache did not have it yet


def test_a_cloning_engine_needs_the_clips(monkeypatch):
    class Cloning:
        capabilities = type("Caps", (), {"cloning": True})()

    monkeypatch.setattr(registry, "get_engine", lambda name: Cloning())
    with pytest.raises(ValueError, match="needs the clips"):
        with rendering(RenderInput("indextts2", "clip-0123456789abcdef", {}, "Hi.")):
            pass


class Counting(EngineBase):
    name = "counting"

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.prepared: list[str] = []

    def prepare_voice(self, voice: str) -> str:
        self.prepared.append(voice)
        return f"{voice}@{self.version}"


def test_prepared_voices_is_a_bounded_lru_per_engine_identity():
    voices = PreparedVoices(capacity=2)
    engine = Counting()
    assert voices.get(engine, "a") == "a@1" and voices.get(engine, "a") == "a@1"
    voices.get(engine, "b")
    voices.get(engine, "a")  # a is now the most recent: c pushes b out
    voices.get(engine, "c")
    assert len(voices) == 2
    voices.get(engine, "a")
    voices.get(engine, "b")
    assert engine.prepared == ["a", "b", "c", "b"]
    # Another version (other weights) and another instance (other load options) prepare again.
    upgraded = Counting("2")
    assert voices.get(upgraded, "b") == "b@2" and upgraded.prepared == ["b"]
    again = Counting()
    assert voices.get(again, "b") == "b@1" and again.prepared == ["b"]


def test_prepared_voices_is_thread_safe():
    voices = PreparedVoices(capacity=4)
    engines = [Counting(str(k)) for k in range(4)]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        barrier.wait()
        try:
            for i in range(200):
                engine = engines[(k + i) % 4]
                assert voices.get(engine, f"v{i % 3}") == f"v{i % 3}@{engine.version}"
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(voices) <= 4


def test_engines_declare_the_optional_hooks(piper):
    espeak = registry.get_engine("espeak")
    for engine in (piper, espeak):
        assert isinstance(engine, EngineBase)
        assert engine.load_info() is None  # bundled: nothing to configure
        assert engine.check_settings(settings_for(engine, {})) is None
        assert engine.preload(engine.voices()[0].id) is PreloadResult.ANALYSED
    with pytest.raises(InputError, match="unknown setting"):
        settings_for(piper, {"pitch": 3})
    # The results print and serialise as the words the CLI and the web UI know.
    assert f"{PreloadResult.FROM_DISK}" == "loaded from the disk cache"
    assert [r.value for r in PreloadResult] == ["analysed", "loaded from the disk cache",
                                                "already in memory"]
    from indextts_yt.server.routes_engines import engine_json

    assert engine_json("piper").load is None
    assert list(LoadInfo.__dataclass_fields__) == ["checkpoints", "device", "fp16", "accel",
                                                   "compile", "cuda_kernel"]
