"""A script with a cast on IndexTTS2: a narrator and two characters, each a stored reference
clip, narrated as a job by the real ``indextts`` library on its tiny weights (see
conftest.py here). The same on IndexTTS-2.5, with a character's own speed, is in
tests/test_indextts25.py."""

from __future__ import annotations

import pytest

from indextts_yt.clips import ClipStore
from indextts_yt.engines import registry
from indextts_yt.engines.indextts_common import LoadOptions
from indextts_yt.jobs.plan import Choice, describe, plan
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CastMember

from indextts_util import (Spy, analyses, assert_each_file_is_its_voice, assert_rows_as_planned,
                           espeak_clip, narrate_cast, piper_clip)

ENGINE = "indextts2"
FAST = {"max_mel_tokens": 15, "num_beams": 1}


@pytest.fixture(scope="module")
def job_engine(weights):
    """The registry's engine (the one jobs use), on the tiny weights."""
    registry.configure_engine(ENGINE, LoadOptions(checkpoints=weights, device="cpu"))
    try:
        yield registry.get_engine(ENGINE)
    finally:
        registry.configure_engine(ENGINE, LoadOptions())  # back to unconfigured


def test_a_dialogue_on_three_cloned_voices_is_narrated_as_planned(job_engine, tmp_path):
    """A narrator (the job's clip) and a cast of two (Pooh with an emotion clip, Piglet with
    an emotion vector), dialogue lines and a [voice: clip] direction. Counted in the library,
    per segment and in order: the clip it is asked for, the speaker and emotion analyses
    that reach the GPT (and its merge of the two), the emotion vector's lookup by the
    speaker's style, and the reference mel and style that reach the diffusion. Each
    segment's file is its voice's: rendered again with the same seed it is the same, in
    another of the three voices it is not."""
    import indextts.infer_v2 as infer_v2
    import torch

    engine = job_engine
    data = tmp_path / "data"
    store, library = Store(data), ClipStore(data)
    narrator = library.add_file(piper_clip(tmp_path / "narrator.wav", 3.0))
    pooh = library.add_file(piper_clip(tmp_path / "pooh.wav", 4.0, "A second voice, longer."))
    piglet = library.add_file(espeak_clip(tmp_path / "piglet.wav"))
    excited = library.add_file(espeak_clip(tmp_path / "excited.wav", "Wow! What a day!"))
    cast = {"Pooh": CastMember(voice=pooh.id, emotion=excited.id),
            "Piglet": CastMember(voice=piglet.id, emotion="afraid=0.7")}
    script = (f"The narrator begins.\nPooh: Hello, Piglet!\nPiglet: Oh, hello, Pooh.\n"
              f"[voice: {pooh.id}] Hello, Piglet!\n[voice: default] And so they met.\n")
    # Who speaks each line, in what voice, with which emotion clip or vector.
    afraid = [0.0, 0.0, 0.0, 0.7, 0.0, 0.0, 0.0, 0.0]
    expected = [(None, narrator, None, None), ("Pooh", pooh, excited, None),
                ("Piglet", piglet, None, afraid), (None, pooh, None, None),
                (None, narrator, None, None)]
    preview = describe(plan(script, Choice(ENGINE, narrator.id), FAST, clips=library,
                            cast=cast))
    assert [(r["speaker"], r["engine"], r["voice"]) for r in preview] == \
        [(who, ENGINE, clip.id) for who, clip, _, _ in expected]

    tts = engine._loaded().tts
    asked = Spy(tts, "infer_generator")
    merge = Spy(tts.gpt, "merge_emovec")
    gpt = Spy(tts.gpt, "inference_speech")
    lookup = Spy(infer_v2, "find_most_similar_cosine")
    diffusion = Spy(tts.s2mel.models["cfm"], "inference")
    spies = (asked, merge, gpt, lookup, diffusion)
    rows = narrate_cast(store, ENGINE, script, narrator, cast, FAST, spies)
    assert_rows_as_planned(rows, preview, ENGINE, expected)
    assert [r.settings.get("emo_afraid", 0.0) for r in rows] == [0.0, 0.0, 0.7, 0.0, 0.0]

    # Each segment is one call of the library, with one piece of text: one merge, one GPT
    # call and one diffusion each, in the order of the script.
    assert len(asked.calls) == len(merge.calls) == len(gpt.calls) == len(diffusion.calls) \
        == len(rows) == 5
    speaker = analyses(engine, "speaker", (narrator, pooh, piglet))
    emotion = analyses(engine, "emotion", (narrator, pooh, piglet, excited))
    for k, (who, clip, emo, vector) in enumerate(expected):
        kwargs = asked.calls[k][1]
        assert kwargs["spk_audio_prompt"] == str(clip.path)
        assert kwargs["emo_audio_prompt"] == (str(emo.path) if emo else None)
        assert kwargs["emo_vector"] == (tts.normalize_emo_vec(vector) if vector else None)
        spk, emo_cond = speaker[clip.id]["spk_cond_emb"], emotion[(emo or clip).id]["emo_cond_emb"]
        (merged_spk, merged_emo, *_), merge_kwargs = merge.calls[k]
        assert merged_spk is spk and merged_emo is emo_cond and merge_kwargs["alpha"] == 1.0
        (gpt_spk, _, gpt_emo), gpt_kwargs = gpt.calls[k]
        assert gpt_spk is spk and gpt_emo is emo_cond, (k, who)
        # Without a vector the merge is the emotion; with one, the vector's mix on top of it.
        assert (gpt_kwargs["emo_vec"] is merge.results[k]) == (vector is None), (k, who)
        condition, _, ref_mel, style = diffusion.calls[k][0][:4]
        assert ref_mel is speaker[clip.id]["ref_mel"] and style is speaker[clip.id]["style"]
        prompt = speaker[clip.id]["prompt_condition"]
        assert torch.equal(condition[:, : prompt.shape[1]], prompt)
    # The vector's emotions are chosen by Piglet's style, one per emotion, in his line only.
    assert len(lookup.calls) == 8
    assert all(args[0] is speaker[piglet.id]["style"] for args, _ in lookup.calls)

    # The files: each is what its voice says (a render of the same segment now, same seed),
    # and not what another of the three voices says with the same words and settings.
    assert_each_file_is_its_voice(engine, library, rows, [clip for _, clip, _, _ in expected])
