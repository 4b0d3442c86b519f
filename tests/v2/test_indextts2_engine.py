"""The IndexTTS2 engine with the real ``indextts`` library (indextts2-inference) on a tiny
randomly initialised checkpoint of its real architecture, its auxiliary models in a local
Hugging Face cache used with HF_HUB_OFFLINE=1.

These run in the torch 2.11 + torchaudio 2.11 environment built by .ci/indextts2-env
(tests/test_indextts2.py starts them there); the main environment skips this folder.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from indextts_yt.engines.base import settings_for
from indextts_yt.engines.indextts2_engine import IndexTTS2Engine
from indextts_yt.engines.indextts_common import LoadOptions
from indextts_yt.errors import EngineUnavailable, InputError

from indextts_reference import REFERENCE_TRANSFORMERS, GenerationSpy, generate
from indextts_util import Spy, espeak_clip, piper_clip

FAST = {"max_mel_tokens": 15, "num_beams": 1}
TWO_PIECES = "Hello there, my friend. This is the second sentence, and it keeps going."


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {"voice": piper_clip(folder / "voice.wav", 3.0),
            "emotion": espeak_clip(folder / "angry.wav")}


def tts(engine):
    return engine._loaded().tts  # indextts.infer_v2.IndexTTS2


def render(engine, voice, text=TWO_PIECES, **given):
    settings = settings_for(engine, {**FAST, "max_text_tokens_per_segment": 20, **given})
    return list(engine.synthesize(text, voice, settings, "en"))


def test_streams_piece_by_piece_without_a_trailing_silence(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    with Spy(tts(engine).gpt, "inference_speech") as gpt:
        chunks = engine.synthesize(TWO_PIECES, voice, settings_for(
            engine, {**FAST, "max_text_tokens_per_segment": 20}), "en")
        first = next(chunks)
        made_before_first_audio = len(gpt.calls)
        rest = list(chunks)
    assert made_before_first_audio == 1
    audio = [first, *rest]
    speech = [c for c in audio if c.any()]
    assert len(speech) == len(gpt.calls) >= 2
    assert sum(not c.any() for c in audio) == len(speech) - 1  # between pieces only
    assert audio[-1].any()  # the library's silence after the last piece is dropped
    for chunk in audio:
        assert chunk.dtype == np.float32 and chunk.ndim == 1 and np.isfinite(chunk).all()
        assert 0 < np.abs(chunk).max() <= 1.0 or not chunk.any()
    assert engine.sample_rate == 22_050


def test_no_interval_silence_does_not_repeat_audio(engine, clips):
    """With interval_silence 0 the library yields the list of all pieces so far in place of
    each silence; none of it may reach the output."""
    voice = engine.prepare_voice(str(clips["voice"]))
    with Spy(tts(engine).gpt, "inference_speech") as gpt:
        chunks = render(engine, voice, interval_silence=0)
    assert len(chunks) == len(gpt.calls) >= 2 and all(c.any() for c in chunks)


def test_emotion_vector_reaches_the_gpt(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    import indextts.infer_v2 as infer_v2

    def emo_vec(**given):
        with Spy(tts(engine).gpt, "inference_speech") as gpt, \
                Spy(infer_v2, "find_most_similar_cosine") as lookup:
            render(engine, voice, "Just one piece.", **given)
        return gpt.calls[0][1]["emo_vec"], len(lookup.calls)

    plain, plain_lookups = emo_vec()
    zeros, _ = emo_vec(emo_sad=0.0)
    sad, sad_lookups = emo_vec(emo_sad=0.8, emo_calm=0.2)
    assert plain_lookups == 0 and sad_lookups == 8  # one emotion bank per emotion
    assert np.allclose(plain.float().numpy(), zeros.float().numpy())
    assert not np.allclose(plain.float().numpy(), sad.float().numpy())


def test_emotion_clip_and_strength_reach_the_gpt(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    settings = settings_for(engine, {**FAST, "emotion_clip": "clip-0123456789abcdef",
                                     "emo_alpha": 0.6})
    settings["emotion_clip"] = str(clips["emotion"])  # the runner hands over a path
    with Spy(tts(engine).gpt, "merge_emovec") as merge:
        list(engine.synthesize("Why would you do that?", voice, settings, "en"))
    emotion = engine.conditioning.get("emotion", str(clips["emotion"]), lambda: pytest.fail())
    args, kwargs = merge.calls[0]
    assert kwargs["alpha"] == 0.6
    assert args[0] is voice.speaker["spk_cond_emb"]
    assert args[1] is emotion["emo_cond_emb"]  # the emotion clip's analysis, not the voice's


def test_text_emotion_loads_its_model_only_when_used(engine, clips):
    voice = engine.prepare_voice(str(clips["voice"]))
    qwen = tts(engine).qwen_emo
    render(engine, voice, "Just one piece.")
    assert qwen._model is None  # not loaded by the start-up nor by plain speech
    with Spy(qwen, "inference") as asked:
        render(engine, voice, "Just one piece.", emotion_text="quietly delighted")
    assert asked.calls[0][0] == ("quietly delighted",)
    assert qwen._model is not None and qwen.loads == 1


def test_one_emotion_way_at_a_time(engine):
    with pytest.raises(InputError, match="one way"):
        settings_for(engine, {"emotion_clip": "clip-0123456789abcdef", "emo_sad": 0.5})
    with pytest.raises(InputError, match="one way"):
        settings_for(engine, {"emotion_text": "sad", "emo_happy": 0.5})
    with pytest.raises(InputError, match="limited to 300"):
        settings_for(engine, {"emotion_text": "x" * 301})


def test_preload_skips_the_analysis_and_survives_a_restart(weights, clips, tmp_path):
    first = IndexTTS2Engine(LoadOptions(checkpoints=weights, device="cpu"))
    clip = piper_clip(tmp_path / "mine.wav", 3.5)
    with Spy(tts(first), "get_emb") as analysis:
        first.preload(str(clip))
        assert len(analysis.calls) == 2  # speaker + emotion, no speech made
        voice = first.prepare_voice(str(clip))
        render(first, voice, "Just one piece.")
        assert len(analysis.calls) == 2
        # The library remembers one clip; ours keeps several: switching back costs nothing.
        other = first.prepare_voice(str(piper_clip(tmp_path / "other.wav", 2.5)))
        render(first, other, "Just one piece.")
        render(first, first.prepare_voice(str(clip)), "Just one piece.")
        assert len(analysis.calls) == 4

    restarted = IndexTTS2Engine(LoadOptions(checkpoints=weights, device="cpu"))
    with Spy(tts(restarted), "get_emb") as analysis:
        restarted.preload(str(clip))
        assert analysis.calls == [] and restarted.conditioning.stats["from_disk"] == 2
        piper_clip(clip, 4.0, "New words, so a new voice.")
        restarted.preload(str(clip))
        assert len(analysis.calls) == 2


def test_missing_or_foreign_weights_are_named(weights, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(weights, folder)
    (folder / "s2mel.pth").unlink()
    with pytest.raises(EngineUnavailable, match=r"missing \(s2mel.pth\).*IndexTeam/IndexTTS-2 "):
        IndexTTS2Engine(LoadOptions(checkpoints=folder, device="cpu"))
    config = (folder / "config.yaml").read_text()
    lines = [line for line in config.splitlines() if not line.startswith("qwen_emo_path")]
    (folder / "config.yaml").write_text("\n".join(lines))
    with pytest.raises(EngineUnavailable, match="weights of another IndexTTS model"):
        IndexTTS2Engine(LoadOptions(checkpoints=folder, device="cpu"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"


# -- the KV cache (engines/kv_cache.py) ---------------------------------------------------------

@pytest.mark.parametrize("beams", [1, 3])
def test_generation_feeds_one_token_per_step(engine, clips, beams):
    """The prefix once, then exactly one token per step, for every piece. transformers >= 5.24
    passes the cache under a new name and >= 5.18 drops the all-ones mask v2 reads positions
    from; without the adapter every step fed the whole sequence again."""
    voice = engine.prepare_voice(str(clips["voice"]))
    with GenerationSpy(tts(engine).gpt, returns_tuple=True) as spy:
        render(engine, voice, num_beams=beams, max_mel_tokens=40)
    assert len(spy.fed) >= 2, spy.fed
    for steps, codes in zip(spy.fed, spy.codes):
        assert steps[0] > 1 and steps[1:] == [1] * (len(steps) - 1), steps
        assert len(steps) == len(codes)
    assert spy.cached()


def test_greedy_codes_are_the_librarys_own_cached_path(engine, weights, clips):
    """Greedy codes through our engine equal the library's own path under the transformers
    release it was written for: the cache as upstream uses it, and each code at the mel
    position upstream gives it (the start token at 0, the first code at 2)."""
    reference = generate("indextts2", weights, clips["voice"], TWO_PIECES, "en", 20)
    assert reference["transformers"] == REFERENCE_TRANSFORMERS and reference["cached"]
    voice = engine.prepare_voice(str(clips["voice"]))
    with GenerationSpy(tts(engine).gpt, returns_tuple=True) as spy:
        render(engine, voice, num_beams=1, top_k=1, max_mel_tokens=1500)
    assert len(reference["codes"]) >= 2
    assert spy.codes == reference["codes"]
    assert spy.fed == reference["fed"]
    # The tiny GPT stops after 16 codes when each code sits at upstream's position.
    assert all(len(codes) == 17 and codes[-1] == tts(engine).stop_mel_token
               for codes in spy.codes)
