"""Scale-out benchmark: workers on a local Ray instance (jobs/cluster.py).

Run:  .venv/bin/python bench/scale.py   (a few minutes on a 2-core machine; needs the
cluster extra). Prints a table and writes bench/RESULTS.md (the scale section).

Every number is a ratio taken within this one run:
- piper, this machine: the same narration rendered here (no Ray), then on 1 and 2 workers;
- a simulated GPU-bound engine (each segment's time spent sleeping, RTF x its audio, the
  CPU idle, as while IndexTTS2 waits on CUDA): throughput with 1, 2, 4 and 8 actors, and
  its ratio to N x one actor's (target >= 0.9 x N up to the driver's limit). Each run
  gives every actor the same work (--segments-per-actor), so every run lasts about as long
  and its fixed costs (planning, the first and last segment, the final file) weigh the
  same: a 50-minute narration is some 500 segments, not the few that a run of 24 would
  give each of 8 actors;
- the driver's limit: the same engine with no wait at all, on 8 actors: how many segments
  a second the driver can hand out, receive, write and record (what bounds a cluster);
  and the same with the default mastering (-16 LUFS, trimmed), which the driver's
  publisher does for every segment.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from indextts_yt.engines import registry  # noqa: E402
from indextts_yt.engines.piper_engine import PiperEngine  # noqa: E402
from indextts_yt.jobs import service  # noqa: E402
from indextts_yt.jobs.cluster import WorkerPool  # noqa: E402
from indextts_yt.jobs.runner import run_job  # noqa: E402
from indextts_yt.jobs.store import Store  # noqa: E402
from indextts_yt.settings import JobSettings  # noqa: E402
from narration import book_excerpt  # noqa: E402
from results import write_section  # noqa: E402

SLEEPING = "sleeping-gpu"
CHARS_PER_S = 15.0  # the audio a segment "makes": its characters at a narrator's pace


class SleepingEngine(PiperEngine):
    """A GPU-bound engine's timing without a GPU: sleeps ``RTF`` x the audio it returns
    (quiet noise, len(text) / CHARS_PER_S seconds), using no CPU meanwhile. RTF comes from
    the environment, so the actors (other processes) sleep as this one says."""

    name = SLEEPING

    def synthesize(self, text: str, conditioning: Any, settings: Mapping[str, float],
                   language: str = "en") -> Iterator[np.ndarray]:
        seconds = len(text) / CHARS_PER_S
        time.sleep(float(os.environ.get("BENCH_RTF", "0.05")) * seconds)
        noise = np.random.default_rng(len(text)).standard_normal(int(seconds * 22_050))
        yield (0.05 * noise).astype(np.float32)


def narrate(text: str, engine: str, farm=None, master: bool = False) -> tuple[float, int]:
    """Wall seconds of a whole run (checks off; mastering off unless ``master``: the
    default -16 LUFS with trimming), and its segment count."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder))
        job, _ = service.create_job(store, service.JobRequest(text=text, settings=JobSettings(
            engine=engine, options={} if engine == SLEEPING else
            {"noise_scale": 0.0, "noise_w": 0.0},
            checks={"mode": "off"}, output={} if master else {"loudness": "off", "trim": False})),
            output_path=Path(folder) / "out.wav")
        started = time.monotonic()
        events = list(run_job(store, job.id, farm=farm))
        wall = time.monotonic() - started
        assert events[-1].kind == "finished", events[-1]
        return wall, len(store.segments(job.id))


def on_workers(n: int, text: str, engine: str, master: bool = False) -> tuple[float, int]:
    pool = WorkerPool(n)
    try:
        narrate("Warm up the workers.", engine, pool)  # engines loaded, Ray warm
        return narrate(text, engine, pool, master)
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piper-chars", type=int, default=2500)
    parser.add_argument("--segments-per-actor", type=int, default=24)
    parser.add_argument("--rtf", type=float, default=0.3)
    args = parser.parse_args()
    os.environ["BENCH_RTF"] = str(args.rtf)
    registry.register_engine(SLEEPING, registry.EngineEntry("scale", "SleepingEngine"))
    rows: list[tuple[str, str, str, str]] = []

    text = book_excerpt(args.piper_chars)
    narrate("Warm up.", "piper")
    here, segments = narrate(text, "piper")
    one, _ = on_workers(1, text, "piper")
    two, _ = on_workers(2, text, "piper")
    rows += [("piper, in this process (no Ray)", f"{here:.1f} s", f"{segments} segments", ""),
             ("piper, 1 worker / in this process", f"{one / here:.2f}", "report", ""),
             ("piper, 2 workers vs 1: speed-up", f"{one / two:.2f}x", "report",
              f"{os.cpu_count()} cores")]

    def sims(count: int) -> str:
        """``count`` sentences of one length: each "renders" for the same time."""
        return "\n\n".join(f"Paragraph {n:04d} is a sentence of a steady length for the "
                           "benchmark." for n in range(count))

    seconds_each = args.rtf * len("Paragraph 0000 is a sentence of a steady length for the "
                                  "benchmark.") / CHARS_PER_S
    rates = {}
    for n in (1, 2, 4, 8):
        wall, count = on_workers(n, sims(args.segments_per_actor * n), SLEEPING)
        rates[n] = count / wall
    for n, rate in rates.items():
        ratio = rate / (n * rates[1])
        rows.append((f"simulated GPU engine, {n} actor{'s' if n > 1 else ''}",
                     f"{rate:.2f} seg/s", "≥ 0.9 × N" if n > 1 else "",
                     f"{ratio:.2f} × N" + ("" if n == 1 else
                                           (" pass" if ratio >= 0.9 else " FAIL"))))
    os.environ["BENCH_RTF"] = "0"
    for master in (False, True):
        wall, count = on_workers(8, sims(400), SLEEPING, master)
        limit = count / wall
        rows.append((f"driver's limit (no wait, 8 actors), mastering {'on' if master else 'off'}",
                     f"{limit:.1f} seg/s", "report",
                     f"≈ {int(limit * seconds_each / 0.9)} busy actors of this segment length"))

    header = ("| measure | value | target | result |", "| --- | ---: | ---: | --- |")
    lines = [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    print("\n".join([*header, *lines]))
    body = [f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, Ray "
            f"{__import__('ray').__version__}; a local Ray instance started per row. "
            f"Simulated engine: {args.segments_per_actor} segments per actor, of "
            f"{seconds_each:.2f} s wait each (RTF {args.rtf} of {seconds_each / args.rtf:.1f} s "
            "of audio); checks off, mastering off unless said; throughput = segments / whole "
            "run.",
            "", *header, *lines]
    print("wrote", write_section("Scale-out on Ray (`bench/scale.py`)", body))


if __name__ == "__main__":
    main()
