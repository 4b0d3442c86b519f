"""Which transformers releases the IndexTTS engines work under: run before widening
``SUPPORTED`` in src/indextts_yt/engines/kv_cache.py.

For each release and each engine, on the tiny random checkpoints of tests/fixtures, greedy:
- the library alone (its own ``generate()`` path, nothing of ours): does it use its KV cache
  (the prefix once, then one token per step), and are its codes those of the reference;
- the studio's engine (the library behind our adapter): the same two questions.
The reference is the library alone under 5.17, the last release its code was written for.
Each release is installed once into a folder of its own (tests/indextts_reference.py) and run
in a subprocess; IndexTTS2 runs in its torch 2.11 environment ($INDEXTTS_YT_V2_PYTHON, built
by .ci/indextts2-env).

    .venv/bin/python bench/transformers_range.py [--versions 5.17.0,5.25.0] [--engine both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from results import write_section  # noqa: E402

VERSIONS = "5.17.0,5.18.0,5.20.2,5.22.2,5.23.0,5.24.0,5.25.0"
TEXT = "Hello there, my friend. This is the second sentence, and it keeps going."
PIECE_TOKENS = 20


def _check(engine: str, versions: list[str], work: Path) -> list[dict]:
    """Runs in the engine's own environment; one row per release."""
    from fixtures.tiny_indextts import build_indextts2, build_indextts25
    from indextts_reference import generate, transformers_release
    from indextts_util import piper_clip

    if engine == "indextts2.5":
        model_dir = build_indextts25(work / "tiny25")
    else:
        model_dir, hf_home = build_indextts2(work / "tiny2")
        os.environ.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1")
    os.environ["INDEXTTS_YT_CACHE_DIR"] = str(work / "cache")
    clip = piper_clip(work / "voice.wav")

    def run(through: str, version: str) -> dict:
        try:
            return generate(engine, model_dir, clip, TEXT, "en", PIECE_TOKENS, through=through,
                            transformers=transformers_release(version))
        except AssertionError as exc:  # the subprocess failed: keep its last line
            return {"error": str(exc).strip().splitlines()[-1][:120]}

    reference = run("library", "5.17.0")
    assert reference.get("cached"), reference
    rows = []
    for version in versions:
        row = {"engine": engine, "transformers": version}
        for through in ("library", "studio"):
            got = run(through, version)
            row[through] = got.get("error") or (
                f"{'cache' if got['cached'] else 'NO cache'}, "
                f"{'codes = reference' if got['codes'] == reference['codes'] else 'codes DIFFER'}")
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", default=VERSIONS)
    parser.add_argument("--engine", choices=("indextts2.5", "indextts2", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    versions = args.versions.split(",")
    if args.child:
        with tempfile.TemporaryDirectory() as work:
            json.dump(_check(args.engine, versions, Path(work)), sys.stdout)
        return
    rows = []
    for engine in (("indextts2.5", "indextts2") if args.engine == "both" else (args.engine,)):
        python = sys.executable if engine == "indextts2.5" else os.environ.get(
            "INDEXTTS_YT_V2_PYTHON")
        if not python:
            sys.exit("set INDEXTTS_YT_V2_PYTHON=$(.ci/indextts2-env) to check IndexTTS2")
        out = subprocess.run([python, __file__, "--child", "--engine", engine,
                              "--versions", args.versions], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                 [str(REPO / "src"), str(REPO / "tests")])})
        if out.returncode:
            sys.exit(out.stderr[-3000:])
        rows += json.loads(out.stdout.strip().splitlines()[-1])
    import torch

    table = ["| transformers | engine | library alone | through the studio |",
             "| --- | --- | --- | --- |"]
    table += [f"| {r['transformers']} | {r['engine']} | {r['library']} | {r['studio']} |"
              for r in rows]
    print("\n".join(table))
    write_section("transformers releases and the KV cache", [
        "`bench/transformers_range.py`: each release installed beside the environment's own "
        "packages, the tiny random checkpoints of tests/fixtures, greedy (one beam, top_k 1), "
        f"the text {TEXT!r} in pieces of {PIECE_TOKENS} tokens (two pieces). 'cache': every "
        "piece fed its prefix once, then one token per step. The reference codes are the "
        "library's own path under 5.17 (IndexTTS-2.5 beside torch "
        f"{torch.__version__}, IndexTTS2 in its torch 2.11 environment).",
        "", *table, "",
        "`SUPPORTED` in src/indextts_yt/engines/kv_cache.py (and the extras' pin in "
        "pyproject.toml) covers the releases checked here.",
    ])


if __name__ == "__main__":
    main()
