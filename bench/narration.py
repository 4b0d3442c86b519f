"""Narration pipeline benchmark: orchestration overhead, memory flatness, time to first audio.

Run:  .venv/bin/python bench/narration.py   (about 20 minutes on a 2-core machine)
Prints a table and writes bench/RESULTS.md (the narration section).

Every number is a ratio or a difference taken within this one run, so the machine's speed
cancels out:
- overhead: end-to-end `run_job` time over the raw engine's time for the same segments;
- memory: peak RSS of a real `indextts-yt narrate` process (one worker) for a 30-minute
  script minus the same for a 1-minute script (and a 10-minute one), with the default
  proofreading (Whisper hears every take back) and with `--check off`;
- first audio: seconds from starting the command to the first segment file on disk.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from results import write_section

HERE = Path(__file__).resolve().parent
BOOK = HERE.parent.parent / "shared" / "texts" / "winnie-the-pooh.txt"
CHARS_PER_MINUTE = 850  # what the default voice speaks in a minute of this book, measured


def book_excerpt(n_chars: int) -> str:
    text = BOOK.read_text(encoding="utf-8")
    text = text[text.index("If you happen to have read"):]
    cut = text.find("\n\n", n_chars)
    return text[: cut if cut > 0 else len(text)]


def overhead(minutes: float, rounds: int) -> dict:
    """Raw engine time vs the full runner (store, files, assembly) on the same segments,
    proofreading off."""
    from indextts_yt.engines import registry
    from indextts_yt.jobs.plan import Choice, plan
    from indextts_yt.jobs.runner import run_job
    from indextts_yt.jobs.service import JobRequest, create_job
    from indextts_yt.jobs.store import Store
    from indextts_yt.settings import CheckSettings, JobSettings

    text = book_excerpt(int(minutes * CHARS_PER_MINUTE))
    segments = plan(text, Choice("piper"))
    engine = registry.get_engine("piper")
    conditioning = engine.prepare_voice("joe")
    for _ in engine.synthesize("Warming up the model.", conditioning, segments[0].settings):
        pass

    raw_times, e2e_times = [], []
    for _ in range(rounds):  # interleaved, best of each, so drift in machine speed cancels
        t0 = time.perf_counter()
        for seg in segments:
            for _chunk in engine.synthesize(seg.text, conditioning, seg.settings):
                pass
        raw_times.append(time.perf_counter() - t0)

        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "data")
            # Proofreading off: this measures the orchestration, not the checks.
            request = JobRequest(text, title="bench", settings=JobSettings(
                engine="piper", checks=CheckSettings(mode="off")))
            job, _ = create_job(store, request, output_path=Path(tmp) / "out.wav",
                                planned=segments)
            t0 = time.perf_counter()
            for _event in run_job(store, job.id):
                pass
            e2e_times.append(time.perf_counter() - t0)
            store.close()
    raw, e2e = min(raw_times), min(e2e_times)
    return {"segments": len(segments), "raw_s": raw, "e2e_s": e2e, "ratio": e2e / raw}


def narrate_process(minutes: float, workdir: Path, check: str | None = None) -> dict:
    """Run the real CLI; measure its peak RSS, time to first segment file, and whole-run RTF.
    ``check``: the --check mode (None: the default, proofreading on)."""
    tag = f"{minutes:g}-{check or 'default'}"
    script = workdir / f"script-{tag}.txt"
    script.write_text(book_excerpt(int(minutes * CHARS_PER_MINUTE)), encoding="utf-8")
    data_dir, out = workdir / f"data-{tag}", workdir / f"out-{tag}.wav"
    cmd = [sys.executable, "-m", "indextts_yt", "narrate", str(script), "-o", str(out),
           "--engine", "piper", "--data-dir", str(data_dir)]
    if check is not None:
        cmd += ["--check", check]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    while first is None and proc.poll() is None:
        if any((data_dir / "jobs").glob("*/seg-*.wav")):
            first = time.perf_counter() - start
        else:
            time.sleep(0.005)
    _, status, usage = os.wait4(proc.pid, 0)  # rusage of exactly this child
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"narration of {minutes} min failed: {' '.join(cmd)}")
    audio = sf.info(out).duration
    return {"minutes": minutes, "check": check, "audio_s": audio, "wall_s": wall,
            "first_segment_s": first, "rtf": wall / audio, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=30.0)
    parser.add_argument("--mid-minutes", type=float, default=10.0,
                        help="also a script this long, proofread (0: skip)")
    parser.add_argument("--overhead-minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    ov = overhead(args.overhead_minutes, args.rounds)
    runs: dict[tuple[float, str | None], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for check, lengths in ((None, (1.0, args.mid_minutes, args.long_minutes)),
                               ("off", (1.0, args.long_minutes))):
            for minutes in lengths:
                if minutes > 0:
                    runs[minutes, check] = narrate_process(minutes, Path(tmp), check)

    rows = [
        ("Orchestration overhead (end-to-end / raw engine, "
         f"{ov['segments']} segments)", f"{ov['ratio']:.3f}", "≤ 1.05",
         "pass" if ov["ratio"] <= 1.05 else "FAIL"),
    ]
    for (minutes, check), run in runs.items():
        if minutes == 1.0:
            continue
        growth = run["peak_rss_mb"] - runs[1.0, check]["peak_rss_mb"]
        how = "proofreading on (default)" if check is None else "--check off"
        rows.append((f"Peak RSS growth, {minutes:g}-min vs 1-min script, {how}",
                     f"{growth:+.1f} MB", "≤ 50 MB", "pass" if growth <= 50 else "FAIL"))
    for (minutes, check), r in runs.items():
        name = f"{minutes:g}-min script" + (", --check off" if check else "")
        rows.append((f"{name}: peak RSS", f"{r['peak_rss_mb']:.0f} MB", "report", ""))
        if check is None:
            rows += [
                (f"{name}: audio length", f"{r['audio_s'] / 60:.1f} min", "", ""),
                (f"{name}: start → first segment on disk", f"{r['first_segment_s']:.2f} s",
                 "report", ""),
                (f"{name}: whole-run RTF (wall / audio)", f"{r['rtf']:.3f}", "report", ""),
            ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  {'target':>8}  result")
    for name, value, target, result in rows:
        print(f"{name:<{width}}  {value:>12}  {target:>8}  {result}")

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine}; engine `piper` (en_US-joe-medium).",
        f"Raw engine {ov['raw_s']:.1f} s vs end-to-end {ov['e2e_s']:.1f} s for the same "
        f"{ov['segments']} segments (best of {args.rounds}, interleaved). Peak RSS is the "
        "kernel's high-water mark of each `indextts-yt narrate` process (one worker), each "
        "script in a fresh data folder; proofreading is on by default (Whisper tiny.en hears "
        "every take back, beside the engine).",
        "",
        "| measure | value | target | result |",
        "| --- | ---: | ---: | --- |",
        *[f"| {n} | {v} | {t} | {res} |" for n, v, t, res in rows],
        "",
    ]
    print(f"\nwrote {write_section('Narration pipeline (`bench/narration.py`)', lines)}")


if __name__ == "__main__":
    main()
