"""The IndexTTS-2.5 engine, end to end, with the real ``indextts25`` library running on a
tiny randomly initialised checkpoint of its real architecture (tests/fixtures).

What is counted is counted in the real code (spies that call through): how many pieces the
GPT has made when the first audio arrives, how often the reference analysis runs, which
emotion conditioning reaches the GPT.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from indextts_yt.clips import ClipStore
from indextts_yt.engines import registry
from indextts_yt.engines.base import settings_for
from indextts_yt.engines.indextts_common import LoadOptions
from indextts_yt.paths import ENV_CACHE_DIR
from indextts_yt.engines.indextts25_engine import IndexTTS25Engine
from indextts_yt.errors import ClipNotFound, EngineUnavailable, InputError
from indextts_yt.jobs import service
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.store import Store
from indextts_yt.settings import JobSettings

from conftest import cli
from fixtures.tiny_indextts import build_indextts25
from indextts_reference import REFERENCE_TRANSFORMERS, GenerationSpy, generate
from indextts_util import (FAST, Spy, analyses, assert_each_file_is_its_voice,
                           assert_rows_as_planned, espeak_clip, fake_transformers_version,
                           narrate_cast, piper_clip)

ENGINE = "indextts2.5"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_indextts25(tmp_path_factory.mktemp("tiny25"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {"voice": piper_clip(folder / "voice.wav", 3.0),
            "other": piper_clip(folder / "other.wav", 4.0, "A second take of my voice, longer."),
            "emotion": espeak_clip(folder / "angry.wav")}


@pytest.fixture(scope="module")
def engine(model_dir, tmp_path_factory):
    """The registry's engine, on the tiny weights, with its own analysis cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_CACHE_DIR, str(tmp_path_factory.mktemp("cache")))
        registry.configure_engine(ENGINE, LoadOptions(checkpoints=model_dir, device="cpu"))
        yield registry.get_engine(ENGINE)
        registry.configure_engine(ENGINE, LoadOptions())  # back to unconfigured


def pipeline(engine):
    """The library's pipeline object (indextts25.infer_v2_5.IndexTTS2) behind the engine."""
    return engine._loaded().tts


# -- synthesis -------------------------------------------------------------------------------

def test_streams_audio_piece_by_piece(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    settings = settings_for(engine, {**FAST, "max_text_tokens_per_segment": 20})
    gpt = Spy(pipeline(engine).gpt, "inference_speech")
    try:
        chunks = engine.synthesize("Hello there, my friend. This is the second sentence, "
                                   "and it keeps going for a while.", voice, settings, "en")
        first = next(chunks)
        made_before_first_audio = len(gpt.calls)
        rest = list(chunks)
    finally:
        gpt.restore()
    assert made_before_first_audio == 1  # audio flows while the model still works
    audio = [first, *rest]
    speech = [c for c in audio if c.any()]
    silences = [c for c in audio if not c.any()]
    assert len(speech) == len(gpt.calls) >= 2
    assert len(silences) == len(speech) - 1  # between pieces only, never at the end
    assert audio[-1].any()
    for chunk in audio:
        assert chunk.dtype == np.float32 and chunk.ndim == 1 and np.isfinite(chunk).all()
        assert np.abs(chunk).max() <= 1.0
    assert engine.sample_rate == 22_050
    assert all(len(s) == int(22_050 * 0.2) for s in silences)  # interval_silence 200 ms


def test_speed_and_interval_silence_reach_the_model(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    text = "One short sentence. And another one."

    def render(**given):
        chunks = list(engine.synthesize(text, voice, settings_for(
            engine, {**FAST, "max_text_tokens_per_segment": 20, **given}), "en"))
        return [c for c in chunks if c.any()], [c for c in chunks if not c.any()]

    normal, gaps = render()
    fast, _ = render(speed=1.25)
    _, no_gaps = render(interval_silence=0)
    assert gaps and not no_gaps
    ratio = sum(map(len, fast)) / sum(map(len, normal))
    assert ratio == pytest.approx(0.8, abs=0.06)  # duration factor 1/1.25


def test_emotion_clip_and_strength_reach_the_model(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    settings = settings_for(engine, {**FAST, "emotion_clip": "clip-0123456789abcdef",
                                     "emo_alpha": 0.4})
    settings["emotion_clip"] = str(clips["emotion"])  # what the runner hands over: a path
    merge = Spy(pipeline(engine).gpt, "merge_emovec")
    try:
        list(engine.synthesize("Why would you do that?", voice, settings, "en"))
    finally:
        merge.restore()
    (args, kwargs), = merge.calls
    emotion = engine.conditioning.get("emotion", str(clips["emotion"]), lambda: pytest.fail())
    assert kwargs["alpha"] == 0.4
    assert args[1] is emotion["emo_cond_emb"]  # the emotion clip's analysis, not the voice's
    assert args[0] is voice.speaker["spk_cond_emb"]


def test_languages_and_a_bad_language(engine, clips):
    """The segment's detected language reaches the model, unless the `language` setting
    names one (Japanese, Spanish, Arabic are never detected). Spanish is only checked as far
    as the call: the library builds a ~90 s text-normalisation grammar per language on its
    first use on a machine, and English and Chinese are what the rest of the suite uses."""
    voice = engine.prepare_voice(str(clips["voice"]))
    calls = Spy(pipeline(engine), "infer_generator")
    try:
        zh = list(engine.synthesize("你好，世界。", voice, settings_for(engine, FAST), "zh"))
        forced = list(engine.synthesize("你好。", voice,
                                        settings_for(engine, {**FAST, "language": "zh"}), "en"))
    finally:
        calls.restore()
    assert any(c.any() for c in zh) and any(c.any() for c in forced)
    assert [kwargs["lang"] for _, kwargs in calls.calls] == ["ZH", "ZH"]
    assert settings_for(engine, {"language": "es"})["language"] == "es"
    with pytest.raises(InputError, match="must be one of"):
        settings_for(engine, {"language": "klingon"})


# -- voice preloading and the analysis cache ---------------------------------------------------

def test_preloaded_voice_skips_the_analysis(engine, tmp_path):
    voice, other = piper_clip(tmp_path / "mine.wav", 3.5), piper_clip(tmp_path / "b.wav", 2.5)
    analysis = Spy(pipeline(engine), "get_emb")  # w2v-bert: the first step of every analysis
    computed = engine.conditioning.stats["computed"]
    try:
        # Stored first, as `preload` and the API do: the engines get the stored (normalised)
        # clip, never the file as given.
        data = tmp_path / "data"
        clip = ClipStore(data).add_file(voice)
        engine.preload(str(clip.path))
        assert len(analysis.calls) == 2  # speaker + emotion of the clip, no speech made
        assert engine.conditioning.stats["computed"] == computed + 2

        # A job in that voice (every job's voice is a stored clip): no analysis.
        store = Store(data)
        job, _ = service.create_job(store, service.JobRequest(
            text="First paragraph.\n\nSecond paragraph, a little longer.",
            settings=JobSettings(engine=ENGINE, voice=clip.id, options=FAST)))
        assert [e.state for e in run_job(store, job.id)][-1] == "done"
        assert len(analysis.calls) == 2

        # Another voice is analysed; the first stays in memory (LRU of several voices).
        engine.preload(str(other))
        assert len(analysis.calls) == 4
        engine.preload(str(clip.path))
        assert len(analysis.calls) == 4
    finally:
        analysis.restore()

    # "Restart": a new engine over the same disk cache analyses nothing.
    restarted = IndexTTS25Engine(LoadOptions(checkpoints=engine.checkpoints, device="cpu"))
    again = Spy(pipeline(restarted), "get_emb")
    restarted.preload(str(clip.path))
    assert again.calls == [] and restarted.conditioning.stats["from_disk"] == 2

    # The same file with new content is a new voice: analysed again.
    shutil.copy(other, voice)
    restarted.preload(str(voice))
    assert len(again.calls) == 0  # the other clip's content: already on disk
    piper_clip(voice, 4.5, "Entirely new words for a new take.")
    restarted.preload(str(voice))
    assert len(again.calls) == 2


def test_disk_cache_survives_a_restart_of_the_process(model_dir, clips, tmp_path):
    env = {ENV_CACHE_DIR: str(tmp_path / "cache")}
    args = ("preload", str(clips["voice"]), "-e", ENGINE, "--checkpoints", str(model_dir),
            "--device", "cpu", "--data-dir", str(tmp_path / "data"))
    first = cli(*args, env=env)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    second = cli(*args, env=env)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert ": analysed in" in first.stdout.decode()
    assert ": loaded from the disk cache in" in second.stdout.decode()
    clip_id = first.stdout.decode().split(":")[0]
    assert second.stdout.decode().startswith(clip_id)


# -- a whole job, and one segment regenerated with another emotion ------------------------------

def test_narrate_in_a_cloned_voice_then_change_one_segments_emotion(engine, model_dir, clips,
                                                                    tmp_path):
    data, out = tmp_path / "data", tmp_path / "story.wav"
    script = tmp_path / "story.md"
    script.write_text("# The Voice\n\nIt was a quiet morning.\n\nThen the phone rang, twice.\n",
                      encoding="utf-8")
    env = {ENV_CACHE_DIR: str(tmp_path / "cache")}
    common = ("--checkpoints", str(model_dir), "--device", "cpu", "--data-dir", str(data))
    fast = [arg for name, value in FAST.items() for arg in ("-O", f"{name}={value}")]
    result = cli("narrate", str(script), "-o", str(out), "--srt", str(tmp_path / "story.srt"),
                 "-e", ENGINE, "--voice", str(clips["voice"]), "--emotion-clip",
                 str(clips["emotion"]), "--emotion-strength", "0.5", *fast, *common, env=env)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    audio, rate = sf.read(out)
    assert rate == 22_050 and len(audio) > rate  # three segments of speech plus pauses

    store = Store(data)
    job = store.list_jobs()[0]
    segments = store.segments(job.id)
    assert len(segments) == 3 and all(s.engine == ENGINE for s in segments)
    emotion_id = segments[0].settings["emotion_clip"]
    assert emotion_id.startswith("clip-") and segments[0].settings["emo_alpha"] == 0.5
    assert segments[0].voice.startswith("clip-") and segments[0].voice != emotion_id

    # Regenerate the last segment with another emotion clip.
    other = ClipStore(data).add_file(clips["other"])
    # (the `engine` fixture has configured this process's registry like the CLI's flags)
    edited, changed = service.edit_segment(store, job.id, 2, options={"emotion_clip": other.id})
    assert changed and edited.settings["emotion_clip"] == other.id and edited.key != segments[2].key
    result = cli("resume", job.id, *common, env=env)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    after = store.segments(job.id)
    assert after[2].state == "done" and after[2].settings["emotion_clip"] == other.id
    assert [s.finished_at for s in after[:2]] == [s.finished_at for s in segments[:2]]
    assert Path(after[2].audio_path).exists() and after[2].audio_path != segments[2].audio_path


# -- a dialogue: a narrator and two characters, each a reference clip --------------------------

def test_a_dialogue_on_three_cloned_voices_is_narrated_as_planned(engine, clips, tmp_path):
    """A narrator (the job's clip) and a cast of two (Pooh with an emotion clip of his own,
    Piglet at his own speed), dialogue lines and a [voice: clip] direction. Counted in the
    library, per segment and in order: the clip it is asked for, the speaker analysis (the
    style) that reaches the GPT and the reference mel that reaches the diffusion, and the
    emotion conditioning (voice + emotion clip, merged by the GPT) that reaches the GPT.
    Each segment's file is its voice's: rendered again with the same seed it is the same,
    in another of the three voices it is not."""
    from indextts_yt.jobs.plan import Choice, describe, plan
    from indextts_yt.settings import CastMember

    data = tmp_path / "data"
    store, library = Store(data), ClipStore(data)
    narrator, pooh, piglet = (library.add_file(clips[name]) for name in ("voice", "other",
                                                                           "emotion"))
    excited = library.add_file(espeak_clip(tmp_path / "excited.wav", "Wow! What a day!"))
    cast = {"Pooh": CastMember(voice=pooh.id, emotion=excited.id),
            "Piglet": CastMember(voice=piglet.id, speed=1.2)}
    script = (f"The narrator begins.\nPooh: Hello, Piglet!\nPiglet: Oh, hello, Pooh.\n"
              f"[voice: {pooh.id}] Hello, Piglet!\n[voice: default] And so they met.\n")
    # Who speaks each line, in what voice, with what of the character's own.
    expected = [(None, narrator, None, 1.0), ("Pooh", pooh, excited, 1.0),
                ("Piglet", piglet, None, 1.2), (None, pooh, None, 1.0),
                (None, narrator, None, 1.0)]
    preview = describe(plan(script, Choice(ENGINE, narrator.id), FAST, clips=library,
                            cast=cast))
    assert [(r["speaker"], r["engine"], r["voice"]) for r in preview] == \
        [(who, ENGINE, clip.id) for who, clip, _, _ in expected]

    tts = pipeline(engine)
    asked = Spy(tts, "infer_generator")
    merge = Spy(tts.gpt, "merge_emovec")
    gpt = Spy(tts.gpt, "inference_speech")
    diffusion = Spy(tts.s2mel.models["cfm"], "inference")
    rows = narrate_cast(store, ENGINE, script, narrator, cast, FAST,
                        (asked, merge, gpt, diffusion))
    assert_rows_as_planned(rows, preview, ENGINE, expected)
    assert [r.settings.get("speed", 1.0) for r in rows] == [s for *_, s in expected]

    # Each segment is one call of the library, with one piece of text: one GPT call and one
    # diffusion each, in the order of the script.
    assert len(asked.calls) == len(gpt.calls) == len(diffusion.calls) == len(rows) == 5
    speaker = analyses(engine, "speaker", (narrator, pooh, piglet))
    emotion = analyses(engine, "emotion", (narrator, pooh, piglet, excited))
    # The GPT merges a voice with an emotion once per pair (the library keeps the result):
    # the narrator's own, Pooh's voice with his emotion clip at full strength, Piglet's own,
    # Pooh's voice on its own (the [voice] direction names the clip, not the character).
    pairs = [(clip.id, (emo or clip).id) for _, clip, emo, _ in expected[:4]]
    assert len(merge.calls) == 4
    for (args, kwargs), (voice_id, emotion_id) in zip(merge.calls, pairs):
        assert args[0] is speaker[voice_id]["spk_cond_emb"]
        assert args[1] is emotion[emotion_id]["emo_cond_emb"] and kwargs["alpha"] == 1.0
    merged = dict(zip(pairs, merge.results))
    for k, (who, clip, emo, speed) in enumerate(expected):
        kwargs = asked.calls[k][1]
        assert kwargs["spk_audio_prompt"] == str(clip.path)
        assert kwargs["emo_audio_prompt"] == (str(emo.path) if emo else None)
        assert kwargs["duration_factor"] == pytest.approx(1 / speed)
        (_, _, emovec, style), _ = gpt.calls[k]
        assert style is speaker[clip.id]["style"], (k, who)
        assert emovec is merged[(clip.id, (emo or clip).id)], (k, who)
        condition, _, ref_mel, diffusion_style = diffusion.calls[k][0][:4]
        assert ref_mel is speaker[clip.id]["ref_mel"] and diffusion_style is style
        prompt = speaker[clip.id]["prompt_condition"]
        assert torch_equal(condition[:, : prompt.shape[1]], prompt)

    # Pooh's own emotion changes what reaches the GPT, not the voice it is spoken in. (On
    # these random weights it does not change the codes sampled: the audio shows the voice.)
    assert not torch_equal(merged[(pooh.id, excited.id)], merged[(pooh.id, pooh.id)])

    # The files: each is what its voice says (a render of the same segment now, same seed),
    # and not what another of the three voices says with the same words and settings.
    assert_each_file_is_its_voice(engine, library, rows, [clip for _, clip, _, _ in expected])


def torch_equal(a, b) -> bool:
    import torch

    return a.shape == b.shape and bool(torch.equal(a, b))


# -- the KV cache (engines/kv_cache.py) -----------------------------------------------------------

@pytest.mark.parametrize("beams", [1, 3])
def test_generation_feeds_one_token_per_step(engine, clips, beams):
    """The prefix once, then exactly one token per step, for every piece: the cache is used
    (without it every step feeds the whole sequence again and the cost grows quadratically)."""
    voice = engine.prepare_voice(str(clips["voice"]))
    settings = settings_for(engine, {**FAST, "num_beams": beams, "max_mel_tokens": 40,
                                     "max_text_tokens_per_segment": 20})
    with GenerationSpy(pipeline(engine).gpt, returns_tuple=False) as spy:
        list(engine.synthesize("Hello there, my friend. This is the second sentence, and it "
                               "keeps going for a while.", voice, settings, "en"))
    assert len(spy.fed) >= 2, spy.fed  # two pieces
    for steps, codes in zip(spy.fed, spy.codes):
        assert steps[0] > 1 and steps[1:] == [1] * (len(steps) - 1), steps
        assert len(steps) == len(codes)  # one forward per code made
    assert spy.cached()


def test_greedy_codes_are_the_librarys_own_cached_path(engine, model_dir, clips):
    """Greedy codes through our engine (installed transformers, with the adapter) equal the
    library's own path under the transformers release it was written for, where its cache
    works as upstream intends."""
    text, pieces = "Hello there, my friend. This is the second sentence, and it keeps going.", 20
    reference = generate(ENGINE, model_dir, clips["voice"], text, "en", pieces)
    voice = engine.prepare_voice(str(clips["voice"]))
    settings = settings_for(engine, {"num_beams": 1, "top_k": 1, "diffusion_steps": 3,
                                     "max_text_tokens_per_segment": pieces})
    with GenerationSpy(pipeline(engine).gpt, returns_tuple=False) as spy:
        list(engine.synthesize(text, voice, settings, "en"))
    assert reference["transformers"] == REFERENCE_TRANSFORMERS and reference["cached"]
    assert len(reference["codes"]) >= 2
    assert spy.codes == reference["codes"]
    assert spy.fed == reference["fed"]


def test_the_installed_transformers_is_one_the_adapter_knows():
    """Fails, naming the version, when transformers changes the generation API the adapter
    relies on: then check kv_cache.py against the new release before widening SUPPORTED."""
    import inspect

    from transformers import GenerationMixin, __version__

    from indextts_yt.engines import kv_cache

    low, high = kv_cache.SUPPORTED
    assert low <= kv_cache._release(__version__) < high, (
        f"transformers {__version__} is outside {kv_cache.SUPPORTED_TEXT}: check the adapter")
    generate_passes = [name for name in kv_cache.CACHE_ARGUMENTS if name in
                       inspect.signature(GenerationMixin.prepare_inputs_for_generation).parameters]
    assert generate_passes == [kv_cache.cache_argument()], (
        f"transformers {__version__}: generate() passes the cache as {generate_passes}")
    # The libraries' forward hands the cache to GPT2Model as past_key_values.
    assert _gpt2_takes_past_key_values(), (
        f"transformers {__version__}: GPT2Model no longer takes past_key_values")


def _gpt2_takes_past_key_values() -> bool:
    """GPT2Model fills a cache given under the old name (5.24 renamed it to cache, with a
    shim for the old name until 5.40)."""
    import torch
    from transformers import DynamicCache, GPT2Config, GPT2Model

    model = GPT2Model(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=4)).eval()
    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        model(inputs_embeds=torch.zeros(1, 3, 8), past_key_values=cache, use_cache=True)
    return cache.get_seq_length() == 3


def test_an_unknown_transformers_is_refused_in_one_line(model_dir, tmp_path, short_script, clips):
    from indextts_yt.engines import kv_cache

    with fake_transformers_version(tmp_path / "site", "5.40.0") as env:
        result = cli("narrate", str(short_script), "-o", str(tmp_path / "out.wav"),
                     "--data-dir", str(tmp_path / "data"), "-e", ENGINE,
                     "--voice", str(clips["voice"]), "--checkpoints", str(model_dir),
                     "--device", "cpu", env=env)
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr.decode()
    assert "transformers 5.40.0" in lines[0] and kv_cache.SUPPORTED_TEXT in lines[0]
    assert "Traceback" not in result.stderr.decode()


def test_a_generation_api_without_a_known_cache_argument_is_refused(monkeypatch):
    from transformers import GenerationMixin

    from indextts_yt.engines import kv_cache

    def prepare_inputs_for_generation(self, input_ids, kv=None, **kwargs): ...

    monkeypatch.setattr(GenerationMixin, "prepare_inputs_for_generation",
                        prepare_inputs_for_generation)
    with pytest.raises(EngineUnavailable, match=r"transformers \S+ is not supported .* "
                       + re.escape(kv_cache.SUPPORTED_TEXT)):
        kv_cache.cache_argument()


# -- clear errors, before any model is loaded ----------------------------------------------------

def test_planning_does_not_load_the_model(model_dir, tmp_path):
    fresh = IndexTTS25Engine(LoadOptions(checkpoints=model_dir, device="cpu"))
    settings_for(fresh, {"speed": 1.1, "emo_alpha": 0.3})
    assert fresh._backend is None


@pytest.mark.parametrize("options, message", [
    (dict(device="cuda"), "sees no CUDA GPU"),
    (dict(device="tpu"), "--device must be"),
    (dict(device="cpu", fp16=True), "--fp16 needs a GPU"),
    (dict(device="cpu", accel=True), "--accel needs a CUDA GPU"),
    (dict(device="cpu", compile=True), "--compile is not available"),
    (dict(device="cpu", cuda_kernel=True), "--cuda-kernel is not available"),
])
def test_impossible_load_options_are_refused(model_dir, options, message):
    with pytest.raises((InputError, EngineUnavailable), match=message):
        IndexTTS25Engine(LoadOptions(checkpoints=model_dir, **options))


def test_weights_of_the_other_model_are_named_as_such(model_dir, tmp_path):
    folder = tmp_path / "v2"
    shutil.copytree(model_dir, folder)
    config = (folder / "config.yaml").read_text()
    (folder / "config.yaml").write_text(config + "\nqwen_emo_path: qwen0.6bemo4-merge/\n")
    with pytest.raises(EngineUnavailable, match="weights of another IndexTTS model"):
        IndexTTS25Engine(LoadOptions(checkpoints=folder, device="cpu"))
    (folder / "gpt.pth").unlink()
    (folder / "config.yaml").write_text(config)
    with pytest.raises(EngineUnavailable, match=r"is missing \(gpt.pth\).*hf download"):
        IndexTTS25Engine(LoadOptions(checkpoints=folder, device="cpu"))


def test_bad_voice_choices_get_one_line(engine, tmp_path, short_script, clips):
    from indextts_yt.jobs.plan import Choice, plan

    store = ClipStore(tmp_path)
    with pytest.raises(InputError, match="give one as the voice"):
        plan("Hello.", Choice(ENGINE, None), clips=store)
    with pytest.raises(ClipNotFound):
        plan("Hello.", Choice(ENGINE, "clip-0123456789abcdef"), clips=store)
    with pytest.raises(InputError, match="clip id"):
        plan("Hello.", Choice(ENGINE, "joe"), clips=store)
    with pytest.raises(InputError, match="needs a cloning engine"):
        plan("Hello.", Choice("auto", "clip-0123456789abcdef"), clips=store)
    voice = store.add_file(clips["voice"]).id
    with pytest.raises(ClipNotFound):
        plan("Hello.", Choice(ENGINE, voice), {"emotion_clip": "clip-ffffffffffffffff"},
             clips=store)
    with pytest.raises(InputError, match="unknown setting 'emo_sad'|unknown engine option"):
        plan("Hello.", Choice(ENGINE, voice), {"emo_sad": 0.5}, clips=store)

    # The command line: a missing clip file, a non-audio clip — one line, nothing stored.
    data = tmp_path / "data"
    fake = tmp_path / "fake.wav"
    # Not audio (random bytes may probe as some container with no audio).
    fake.write_bytes(bytes(range(256)) * 16)
    tone = tmp_path / "tone.wav"  # audio, but no speech
    sf.write(tone, (0.3 * np.sin(np.arange(3 * 22_050) * 0.1)).astype(np.float32), 22_050)
    for voice_arg, message in ((str(tmp_path / "missing.wav"), "no such audio file"),
                               (str(fake), "not a readable audio file"),
                               (str(tone), "tone.wav: no speech found in the clip")):
        result = cli("narrate", str(short_script), "-o", str(tmp_path / "o.wav"), "-e", ENGINE,
                     "--voice", voice_arg, "--checkpoints", str(engine.checkpoints),
                     "--device", "cpu", "--data-dir", str(data))
        lines = result.stderr.decode().strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], lines
    assert json.loads(cli("jobs", "--json", "--data-dir", str(data)).stdout) == []


def test_a_dictionary_entry_reaches_the_library_as_word_bar_phonemes(engine, clips):
    """A pronunciation dictionary entry of kind indextts25 (and pinyin) is given to the
    library as its own <word|PHONEMES>, which it turns into its pronunciation tokens."""
    from indextts25 import infer_v2_5

    from indextts_yt.dictionary import Dictionary, Entry

    d = Dictionary([Entry(match="going", say="G OW1 . IH0 NG", kind="indextts25"),
                    Entry(match="行", say="xing2", kind="pinyin", language="zh")])
    text = d.apply("We are going now.", "en", ENGINE).text
    assert text == "We are <going|G OW1 . IH0 NG> now."
    tts = pipeline(engine)
    seen = Spy(tts.tokenizer, "encode")
    try:
        list(engine.synthesize(text, engine.prepare_voice(str(clips["voice"])),
                               settings_for(engine, FAST), "en"))
    finally:
        seen.restore()
    given = [str(args[0]) for args, _ in seen.calls]
    # the library's own pronunciation tokens, not "going vertical bar g ow one" (its English
    # normaliser's reading of the annotation, which engines/indextts25_engine holds out of it)
    assert any("<|SPECIAL_TOKEN_1|>G OW1 . IH0 NG<|SPECIAL_TOKEN_1|>" in g for g in given), given
    assert not any("vertical bar" in g for g in given)
    prepared = tts._prepare_text("银<行|XING2>。", "zh")
    assert "<|SPECIAL_TOKEN_2|>XING2<|SPECIAL_TOKEN_2|>" in prepared, prepared
    assert infer_v2_5.apply_pronunciation_annotations("<a|b>") == \
        "<|SPECIAL_TOKEN_1|>B<|SPECIAL_TOKEN_1|>"
    assert d.apply("银行", "zh", ENGINE).text == "银<行|XING2>"
