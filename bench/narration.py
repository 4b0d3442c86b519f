"""Narration pipeline benchmark: orchestration overhead, memory flatness, time to first audio.

Run:  .venv/bin/python bench/narration.py   (about 10 minutes on a 2-core machine)
Prints a table and writes bench/RESULTS.md (the narration section).

Every number is a ratio or a difference taken within this one run, so the machine's speed
cancels out:
- overhead: end-to-end `run_job` time over the raw engine's time for the same segments;
- memory: peak RSS of a real `indextts-yt narrate` process for a 30-minute script minus the
  same for a 1-minute script;
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
    """Raw engine time vs the full runner (store, files, assembly) on the same segments."""
    from indextts_yt.engines import registry
    from indextts_yt.jobs.plan import Choice, fingerprint, plan
    from indextts_yt.jobs.runner import run_job
    from indextts_yt.jobs.store import Store

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
            job = store.create_job(title="bench", fingerprint=fingerprint(segments, {}),
                                   engine="piper", voice=None, settings={}, srt_path=None,
                                   output_path=str(Path(tmp) / "out.wav"), streaming=True,
                                   segments=segments)
            t0 = time.perf_counter()
            for _event in run_job(store, job.id):
                pass
            e2e_times.append(time.perf_counter() - t0)
            store.close()
    raw, e2e = min(raw_times), min(e2e_times)
    return {"segments": len(segments), "raw_s": raw, "e2e_s": e2e, "ratio": e2e / raw}


def narrate_process(minutes: float, workdir: Path) -> dict:
    """Run the real CLI; measure its peak RSS, time to first segment file, and whole-run RTF."""
    script = workdir / f"script-{minutes:g}min.txt"
    script.write_text(book_excerpt(int(minutes * CHARS_PER_MINUTE)), encoding="utf-8")
    data_dir, out = workdir / f"data-{minutes:g}", workdir / f"out-{minutes:g}.wav"
    cmd = [sys.executable, "-m", "indextts_yt", "narrate", str(script), "-o", str(out),
           "--engine", "piper", "--data-dir", str(data_dir)]
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
    return {"minutes": minutes, "audio_s": audio, "wall_s": wall, "first_segment_s": first,
            "rtf": wall / audio, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=30.0)
    parser.add_argument("--overhead-minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    ov = overhead(args.overhead_minutes, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        short = narrate_process(1.0, Path(tmp))
        long = narrate_process(args.long_minutes, Path(tmp))
    rss_growth = long["peak_rss_mb"] - short["peak_rss_mb"]

    rows = [
        ("Orchestration overhead (end-to-end / raw engine, "
         f"{ov['segments']} segments)", f"{ov['ratio']:.3f}", "≤ 1.05",
         "pass" if ov["ratio"] <= 1.05 else "FAIL"),
        (f"Peak RSS growth, {long['minutes']:g}-min vs 1-min script",
         f"{rss_growth:+.1f} MB", "≤ 50 MB", "pass" if rss_growth <= 50 else "FAIL"),
    ]
    for r in (short, long):
        rows += [
            (f"{r['minutes']:g}-min script: audio length", f"{r['audio_s'] / 60:.1f} min", "", ""),
            (f"{r['minutes']:g}-min script: start → first segment on disk",
             f"{r['first_segment_s']:.2f} s", "report", ""),
            (f"{r['minutes']:g}-min script: whole-run RTF (wall / audio)", f"{r['rtf']:.3f}",
             "report", ""),
            (f"{r['minutes']:g}-min script: peak RSS", f"{r['peak_rss_mb']:.0f} MB", "report", ""),
        ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  {'target':>8}  result")
    for name, value, target, result in rows:
        print(f"{name:<{width}}  {value:>12}  {target:>8}  {result}")

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine}; engine `piper` (en_US-joe-medium).",
        f"Raw engine {ov['raw_s']:.1f} s vs end-to-end {ov['e2e_s']:.1f} s for the same "
        f"{ov['segments']} segments (best of {args.rounds}, interleaved).",
        "",
        "| measure | value | target | result |",
        "| --- | ---: | ---: | --- |",
        *[f"| {n} | {v} | {t} | {res} |" for n, v, t, res in rows],
        "",
    ]
    print(f"\nwrote {write_section('Narration pipeline (`bench/narration.py`)', lines)}")


if __name__ == "__main__":
    main()
