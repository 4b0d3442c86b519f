"""Encoding benchmark: a 30- and a 5-minute narration WAV into every publishable format.

Run:  .venv/bin/python bench/encoding.py   (about 3 minutes on a 2-core machine)
Prints a table and writes bench/RESULTS.md (the encoding section).

The narrations are real piper speech (a dozen sentences, synthesised once) laid end to end in
a shuffled order with sentence and paragraph pauses, written as the studio writes its output:
16-bit mono at the engine's 22.05 kHz. Each (length, format) pair is encoded by
``encode_wav`` in a fresh process, so its peak RSS (the kernel's high-water mark, VmHWM,
which the child reads at its end) is its own. A child that imports the same modules and
encodes nothing gives the baseline; what encoding adds over it must not grow with the
narration's length.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "src")]

from results import write_section  # noqa: E402

SENTENCES = [
    "Chapter one, in which we are introduced to Winnie-the-Pooh and some bees.",
    "Here is Edward Bear, coming downstairs now, bump, bump, bump, on the back of his head.",
    "It is, as far as he knows, the only way of coming downstairs.",
    "But sometimes he feels that there really is another way, if only he could stop.",
    "Once upon a time, a very long time ago now, Winnie-the-Pooh lived in a forest.",
    "He lived under the name of Sanders, which means he had the name over the door.",
    "When I first heard his name, I said, just as you are going to say, but he is a boy?",
    "Oh, really? I had no idea that was the case!",
    "Christopher Robin was sitting in the sun, humming quietly to himself.",
    "The Piglet lived in a very grand house in the middle of a beech tree.",
    "It rained and it rained and it rained.",
    "Nobody seemed to know where the Heffalump had gone, or whether there had ever been one.",
]
FILES = [("wav", "out.wav"), ("flac", "out.flac"), ("mp3", "out.mp3"), ("opus", "out.ogg"),
         ("aac", "out.m4a")]


def make_narration(path: Path, minutes: float, seed: int = 1) -> float:
    """Tile piper sentences with pauses into a 16-bit mono WAV of ``minutes``; its seconds.

    Written sentence by sentence, so this process never holds the whole narration either.
    """
    import numpy as np
    import soundfile as sf

    from indextts_yt.engines import registry
    from indextts_yt.engines.base import settings_for

    global _CLIPS
    engine = registry.get_engine("piper")
    if not _CLIPS:
        voice = engine.prepare_voice("joe")
        settings = settings_for(engine, {})
        _CLIPS = [np.concatenate(list(engine.synthesize(s, voice, settings))) for s in SENTENCES]
    rate = engine.sample_rate
    rng = np.random.default_rng(seed)
    target = int(minutes * 60 * rate)
    written = 0
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        while written < target:
            for i in rng.permutation(len(_CLIPS)):
                clip = _CLIPS[i][: target - written]
                f.write(clip)
                written += len(clip)
                pause = min(int(rate * (1.2 if rng.random() < 0.2 else 0.45)), target - written)
                f.write(np.zeros(pause, dtype=np.float32))
                written += pause
                if written >= target:
                    break
    return written / rate


_CLIPS: list = []


def child(src: str, out: str) -> None:
    """In the measured process: import, then (unless ``out`` is "-") encode once."""
    from indextts_yt.audio.chapters import Chapter
    from indextts_yt.audio.encode import encode_wav, output_format
    import av  # noqa: F401 - the baseline imports FFmpeg too
    import soundfile as sf

    result = {"encode_s": 0.0}
    if out != "-":
        total = sf.info(src).duration
        chapters = [Chapter(f"Part {i + 1}", total * i / 5, total * (i + 1) / 5) for i in range(5)]
        spec = output_format(Path(out))
        start = time.perf_counter()
        encode_wav(Path(src), Path(out), spec, chapters if spec.chapters else (),
                   {"title": "Encoding benchmark", "artist": "piper"})
        result["encode_s"] = time.perf_counter() - start
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM of its address space), in MB.

    Not ``ru_maxrss``: on Linux that survives exec, so a child started from a big parent
    (ours holds piper's model) reports at least the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(src: Path, out: Path | None) -> dict:
    """Encode in a fresh process; its result, with its own peak RSS in MB."""
    cmd = [sys.executable, __file__, "--child", str(src), str(out) if out else "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.decode(errors='replace')}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def decoded_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=30.0)
    parser.add_argument("--short-minutes", type=float, default=5.0)
    parser.add_argument("--child", nargs=2, metavar=("SRC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from indextts_yt.audio.encode import output_format

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-encoding-") as tmp:
        work = Path(tmp)
        lengths = {}
        for label, minutes in (("long", args.long_minutes), ("short", args.short_minutes)):
            src = work / f"{label}.wav"
            seconds = make_narration(src, minutes)
            lengths[label] = (src, seconds)
            base = run_child(src, None)
            lengths[label] += (base["peak_rss_mb"],)
        for fmt, name in FILES:
            row = {"format": output_format(Path(name)).summary, "ext": Path(name).suffix}
            for label, (src, seconds, base_rss) in lengths.items():
                out = work / f"{label}-{name}"
                r = run_child(src, out)
                size = out.stat().st_size
                back = decoded_seconds(out)
                if abs(back - seconds) > 0.1:
                    raise SystemExit(f"{out.name}: {back:.3f} s in the file, {seconds:.3f} s "
                                     "in the WAV")
                row[label] = {"audio_s": seconds, "encode_s": r["encode_s"],
                              "rtf": r["encode_s"] / seconds, "size_mb": size / 1e6,
                              "kbps": size * 8 / seconds / 1000, "rss": r["peak_rss_mb"],
                              "over_base": r["peak_rss_mb"] - base_rss}
                out.unlink()
            rows.append(row)
        base_long, base_short = lengths["long"][2], lengths["short"][2]
        long_min, short_min = lengths["long"][1] / 60, lengths["short"][1] / 60

    head = ["format", f"encode {long_min:.0f} min", "RTF", "size", "kbit/s",
            f"peak RSS {long_min:.0f} / {short_min:.0f} min", "ratio",
            "encoding's own, long / short"]
    table = []
    for row in rows:
        lo, sh = row["long"], row["short"]
        table.append([
            f"{row['format']} ({row['ext']})",
            f"{lo['encode_s']:.2f} s",
            f"{lo['rtf']:.4f}",
            f"{lo['size_mb']:.1f} MB",
            f"{lo['kbps']:.1f}",
            f"{lo['rss']:.0f} / {sh['rss']:.0f} MB",
            f"{lo['rss'] / sh['rss']:.3f}",
            f"{lo['over_base']:+.1f} / {sh['over_base']:+.1f} MB",
        ])
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    worst = max(row["long"]["rss"] / row["short"]["rss"] for row in rows)
    worst_growth = max(row["long"]["rss"] - row["short"]["rss"] for row in rows)
    aac = next(row for row in rows if row["format"].startswith("aac"))
    aac_growth = aac["long"]["rss"] - aac["short"]["rss"]
    print(f"\nbaseline (imports, no encoding): {base_long:.0f} / {base_short:.0f} MB; "
          f"worst peak RSS ratio {long_min:.0f}/{short_min:.0f} min {worst:.3f} "
          f"({worst_growth:+.1f} MB)")

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if load_before is not None:  # times are CPU-bound: say how busy the machine was
        machine += (f", load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} "
                    "after the run")
    import av

    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine}; PyAV {av.__version__} "
        f"(FFmpeg {av.ffmpeg_version_info}); `encode_wav` on a {long_min:.1f}-min and a "
        f"{short_min:.1f}-min narration WAV (real piper speech tiled with pauses, 16-bit mono "
        "22.05 kHz), five chapters and two tags, each encoding in a fresh process. "
        "RTF = encoding seconds / audio seconds. Peak RSS is the child's VmHWM; "
        f"a child that only imports the same modules peaks at {base_long:.0f} MB, and "
        "\"encoding's own\" is the peak over that baseline.",
        "",
        "| " + " | ".join(head) + " |",
        "| --- | " + " | ".join("---:" for _ in head[1:]) + " |",
        *["| " + " | ".join(r) + " |" for r in table],
        "",
        f"Memory does not grow with length: the worst ratio of peak RSS, {long_min:.0f} over "
        f"{short_min:.0f} minutes, is {worst:.3f} ({worst_growth:+.1f} MB) for "
        f"{long_min / short_min:.0f} times the audio. The WAV is read in blocks of 65,536 "
        "samples and each block is encoded and muxed at once; the one thing that grows is "
        "M4A's index, which FFmpeg's MP4 muxer keeps in memory (an entry per 46 ms AAC frame) "
        f"until it writes it at the end: {aac_growth:+.1f} MB for "
        f"{long_min - short_min:.0f} more minutes.",
        "",
    ]
    print(f"\nwrote {write_section('Encoding (`bench/encoding.py`)', lines)}")


if __name__ == "__main__":
    main()
