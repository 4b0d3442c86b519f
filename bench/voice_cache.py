"""What voice preloading saves: analysing a reference clip vs taking it from the disk cache
(a restarted process) vs from memory (a later segment or job), for IndexTTS-2.5.

Real library code on the tiny random checkpoint of tests/fixtures (the GPT and diffusion are
tiny; CAMPPlus, the costliest part of the analysis, has its real size), on the CPU. The
absolute times are this machine's; the ratios are what the cache buys. Each round uses a
fresh cache folder and a new engine per step, interleaved, and the median is reported.

    .venv/bin/python bench/voice_cache.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from results import write_section  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from fixtures.tiny_indextts import build_indextts25
    from indextts_util import piper_clip

    from indextts_yt.engines.indextts25_engine import IndexTTS25Engine
    from indextts_yt.engines.indextts_common import LoadOptions
    from indextts_yt.paths import ENV_CACHE_DIR

    work = Path(tempfile.mkdtemp(prefix="bench-voice-cache-"))
    weights = build_indextts25(work / "tiny25")
    clip = str(piper_clip(work / "voice.wav", 8.0))
    options = LoadOptions(checkpoints=weights, device="cpu")

    times: dict[str, list[float]] = {"analysed": [], "disk cache": [], "memory": []}
    for round_ in range(args.rounds):
        os.environ[ENV_CACHE_DIR] = str(work / f"cache-{round_}")
        first = IndexTTS25Engine(options)
        first._loaded()  # the model load is not part of the analysis
        for step, engine in (("analysed", first), ("memory", first)):
            start = time.perf_counter()
            engine.preload(clip)
            times[step].append(time.perf_counter() - start)
        restarted = IndexTTS25Engine(options)
        restarted._loaded()
        start = time.perf_counter()
        restarted.preload(clip)
        times["disk cache"].append(time.perf_counter() - start)
        assert restarted.conditioning.stats["from_disk"] == 2, restarted.conditioning.stats

    base = statistics.median(times["analysed"])
    rows = ["| voice (8 s clip) | median s | vs analysing |", "| --- | --- | --- |"]
    for step, values in times.items():
        median = statistics.median(values)
        rows.append(f"| {step} | {median:.4f} | {median / base:.4f} |")
    table = "\n".join(rows)
    print(table)
    path = write_section("Voice preloading (IndexTTS-2.5, tiny weights, CPU)", [
        f"`bench/voice_cache.py --rounds {args.rounds}`: preloading a clip in a fresh process "
        "(analysed: w2v-bert + CAMPPlus + reference mel), in a new process over the same disk "
        "cache, and again in the same process. Real library code; the tiny checkpoint keeps "
        "CAMPPlus at its real size, so the analysis cost is representative on a CPU.", "",
        table])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
