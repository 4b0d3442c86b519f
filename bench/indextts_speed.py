"""How fast the IndexTTS engines are, per stage, with the GPT's KV cache as shipped and
without it (the old behaviour, before src/indextts_yt/engines/kv_cache.py).

    .venv/bin/python bench/indextts_speed.py                  # CPU: IndexTTS-2.5, ~10 min
    .venv/bin/python bench/indextts_speed.py --engine both    # CPU: both engines, ~20 min
    .venv/bin/python bench/indextts_speed.py --quick          # CPU: ~3 min, 200 no-cache est.
    .venv/bin/python bench/indextts_speed.py --device cuda    # GPU: both, 3 rounds, 3 beams
    .venv/bin/python bench/indextts_speed.py --from-json bench/indextts_speed.cpu.json

The checkpoints are real-size and random (bench/indextts_checkpoints.py: the released
configs' layer counts and widths, built once, offline, under
~/.cache/indextts-yt/bench-checkpoints or $INDEXTTS_YT_CACHE_DIR). Their GPT never emits its
stop token, so a segment is exactly ``max_mel_tokens`` codes long and runs are comparable.

Everything goes through our engine (registry -> IndexTTS25Engine / IndexTTS2Engine with
LoadOptions(checkpoints, device)), so the numbers are what a user gets. Stages are timed by
wrapping the library objects' methods from outside (the libraries' files are untouched):

- reference analysis: ``engine.prepare_voice`` on a fresh conditioning cache (w2v-bert,
  CAMPPlus, reference mel; once per voice), of which ``tts.get_emb`` (w2v-bert) and
  ``tts.campplus_model``;
- GPT: ``tts.gpt.inference_speech`` (code generation); tokens/s = codes / GPT seconds, and
  the tokens fed per step (``gpt.inference_model.forward``): 1 with the cache;
- s2mel: everything between the codes and the mel — semantic codec, length regulator,
  ``s2mel.models['cfm'].inference`` (25 diffusion steps) and, for IndexTTS-2, its GPT
  latent pass and ``gpt_layer``;
- vocoder: ``tts.bigvgan``;
- total: synthesize() from the call to the last chunk; RTF = total / audio seconds; first
  audio: from the call to the first chunk (both libraries stream per text piece; one piece
  here, so it is the whole segment).

"No cache" removes the adapter (``del tts.gpt.inference_model.prepare_inputs_for_generation``)
so the library's own method runs again and every step re-feeds the whole sequence. The later
stages do not depend on the cache, so by default a no-cache run stops right after the GPT
stage (its total is the GPT time plus the cached run's other stages, marked ≈); --nocache-full
runs them too. On the CPU the longest no-cache length is skipped by default (it would take
~half an hour) and extrapolated from the two shorter ones (marked "est.").

IndexTTS-2.5 runs in this interpreter's environment, IndexTTS-2 in its own (torch 2.11 +
torchaudio 2.11; --v2-python, $INDEXTTS_YT_V2_PYTHON or ~/.cache/indextts-yt/venv-indextts2-*),
each in a worker process. The table is printed and written to bench/RESULTS.md (its own
section per device; --no-write to skip).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
ENGINES = ("indextts2.5", "indextts2")
LABELS = {"indextts2.5": "IndexTTS-2.5", "indextts2": "IndexTTS2"}
SAMPLE_RATE = 22_050
REF_SECONDS = 6.0  # the reference clip (both libraries cut at 15 s)
TEXT_TOKENS_PER_SECOND = 4.0  # ~2.5 words/s of speech, ~1.5 tokens a word
SEED = 1234


# ------------------------------------------------------------------------------------------
# worker: one engine, in the environment that has its library


class StopAfterGPT(Exception):
    """Raised from the GPT stage's wrapper when only that stage is measured."""


class Stages:
    """Wraps library methods with timers; `reset()` starts a new measurement."""

    def __init__(self, device: str):
        import torch

        self._sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
        self.stop_after_gpt = False
        self.reset()

    def reset(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.fed: list[int] = []  # tokens fed to the GPT per forward (the first: prefill)
        self.codes: list[int] = []
        self.text_tokens: list[int] = []

    def wrap(self, owner, name: str, key: str, after=None, before=None) -> None:
        real = getattr(owner, name)

        @functools.wraps(real)  # inspect.signature sees the real one (generate() checks it)
        def timed(*args, **kwargs):
            if before is not None:
                before(args, kwargs)
            self._sync()
            start = time.perf_counter()
            try:
                out = real(*args, **kwargs)
            finally:
                self._sync()
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - start
                self.calls[key] = self.calls.get(key, 0) + 1
            if after is not None:
                after(out)
            return out

        setattr(owner, name, timed)

    def get(self, *keys: str) -> float:
        return sum(self.seconds.get(k, 0.0) for k in keys)


def _install_timers(engine_name: str, tts, stages: Stages) -> None:
    def count_fed(args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None:
            stages.fed.append(int(ids.shape[-1]))

    if engine_name == "indextts2.5":
        def gpt_in(args, kwargs):
            stages.text_tokens.append(int(args[0].shape[-1]))

        def gpt_out(codes):
            stages.codes.append(int(codes.shape[-1]))
            if stages.stop_after_gpt:
                raise StopAfterGPT
    else:
        def gpt_in(args, kwargs):
            text = kwargs.get("text_inputs", args[1] if len(args) > 1 else None)
            stages.text_tokens.append(int(text.shape[-1]))

        def gpt_out(out):
            stages.codes.append(int(out[0].shape[-1]))
            if stages.stop_after_gpt:
                raise StopAfterGPT

    stages.wrap(tts.gpt, "inference_speech", "gpt", after=gpt_out, before=gpt_in)
    stages.wrap(tts.gpt.inference_model, "forward", "gpt_forward", before=count_fed)
    models = tts.s2mel.models
    stages.wrap(models["cfm"], "inference", "cfm")
    stages.wrap(models["length_regulator"], "forward", "length_regulator")
    stages.wrap(tts.bigvgan, "forward", "vocoder")
    stages.wrap(tts, "get_emb", "w2v")
    stages.wrap(tts.campplus_model, "forward", "campplus")
    if engine_name == "indextts2.5":
        stages.wrap(tts.semantic_codec, "decode", "codec")
    else:
        stages.wrap(tts.gpt, "forward", "gpt_latent")
        stages.wrap(models["gpt_layer"], "forward", "gpt_layer")
        stages.wrap(tts.semantic_codec.quantizer, "vq2emb", "codec")


S2MEL_KEYS = ("codec", "length_regulator", "cfm", "gpt_latent", "gpt_layer")


def _reference_clip(path: Path, seconds: float = REF_SECONDS) -> Path:
    """A deterministic voice-like clip: a gliding harmonic source, vowel-ish formant
    weighting, syllable envelope, short pauses. The weights are random, so only its length
    and level matter."""
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(SEED)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f0 = 125 + 20 * np.sin(2 * np.pi * 0.6 * t) + 8 * np.sin(2 * np.pi * 2.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    formants = (np.array([700, 1200, 2600]) * (1 + 0.15 * np.sin(2 * np.pi * 1.3 * t)[:, None]))
    src = np.zeros(n)
    for k in range(1, 40):
        fk = k * f0
        gain = sum(np.exp(-((fk - formants[:, i]) / 180.0) ** 2) for i in range(3)) + 0.05
        src += gain * np.sin(k * phase) / k
    syllables = np.clip(np.sin(2 * np.pi * 3.5 * t), 0, None) ** 0.6
    pauses = (np.sin(2 * np.pi * 0.35 * t + 1.0) > -0.8).astype(float)
    audio = src * syllables * pauses + 0.003 * rng.standard_normal(n)
    audio = 0.3 * audio / np.max(np.abs(audio))
    sf.write(path, audio.astype(np.float32), SAMPLE_RATE)
    return path


_WORDS = ("the quiet river turned toward an old stone bridge where children waited for "
          "a boat that carried bread and letters from the town across the valley every "
          "morning before the bells rang").split()


def _text_for(count_tokens, target: int) -> tuple[str, int]:
    """Words from _WORDS until the engine's own tokenizer (after its text normalisation)
    counts at least `target` tokens."""
    words: list[str] = []
    i = 0
    while True:
        words.append(_WORDS[i % len(_WORDS)])
        i += 1
        text = " ".join(words)
        n = count_tokens(text)
        if n >= target or i > 4 * target:
            return text + ".", n


def _rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def worker(args) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="indextts-bench-"))
    try:
        return _measure(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _measure(args, scratch: Path) -> int:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    sys.path[:0] = [str(REPO / "src"), str(REPO / "tests"), str(BENCH)]
    import indextts_checkpoints as checkpoints

    name = args.worker
    out: dict = {"engine": name, "load_avg_start": os.getloadavg(), "runs": [],
                 "threads": torch.get_num_threads(), "torch": torch.__version__}
    out_path = Path(args.json_out)

    def save() -> None:
        out["peak_rss_gb"] = round(_rss_gb(), 2)
        out["load_avg_end"] = os.getloadavg()
        tmp = out_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(out, indent=1))
        os.replace(tmp, out_path)

    def log(msg: str) -> None:
        print(f"[{name}] {msg}", flush=True)

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    out["device"] = device
    out["cuda_available"] = torch.cuda.is_available()
    if device.startswith("cuda"):
        out["gpu"] = torch.cuda.get_device_name(0)

    start = time.perf_counter()
    paths = checkpoints.build(name)
    out["build_s"] = round(time.perf_counter() - start, 1)
    log(f"checkpoint ready in {out['build_s']} s: {paths['model_dir']}")

    # A fresh conditioning cache: the reference analysis is computed, not read from disk.
    os.environ["INDEXTTS_YT_CACHE_DIR"] = str(scratch / "cache")

    import transformers

    from indextts_yt.engines import registry
    from indextts_yt.engines.base import settings_for
    from indextts_yt.engines.indextts_common import LoadOptions

    out["transformers"] = transformers.__version__
    registry.configure_engine(name, LoadOptions(checkpoints=Path(paths["model_dir"]),
                                                device=device, fp16=args.fp16))
    engine = registry.get_engine(name)
    out["engine_version"] = engine.version
    start = time.perf_counter()
    tts = engine._loaded().tts
    out["load_s"] = round(time.perf_counter() - start, 1)
    log(f"loaded in {out['load_s']} s")

    def params(module) -> float:
        return round(sum(p.numel() for p in module.parameters()) / 1e6, 1)

    out["params_m"] = {
        "gpt": params(tts.gpt), "w2v-bert": params(tts.semantic_model),
        "codec": params(tts.semantic_codec), "s2mel": params(tts.s2mel),
        "bigvgan": params(tts.bigvgan), "campplus": params(tts.campplus_model)}
    out["w2v_layers"] = tts.semantic_model.config.num_hidden_layers

    stages = Stages(device)
    _install_timers(name, tts, stages)
    inference_model = tts.gpt.inference_model
    adapted = inference_model.__dict__["prepare_inputs_for_generation"]  # kv_cache.install

    # Reference analysis, once per voice (speaker + emotion: the library analyses both).
    clip = _reference_clip(scratch / "reference.wav")
    stages.reset()
    start = time.perf_counter()
    voice = engine.prepare_voice(str(clip))
    out["reference"] = {"total_s": round(time.perf_counter() - start, 2),
                        "w2v_s": round(stages.get("w2v"), 2),
                        "campplus_s": round(stages.get("campplus"), 2),
                        "w2v_calls": stages.calls.get("w2v", 0), "clip_s": REF_SECONDS}
    log(f"reference analysis {out['reference']}")
    save()

    if name == "indextts2.5":
        def count_tokens(text: str) -> int:
            return len(tts.tokenizer.encode(tts._prepare_text(text, "en"), allowed_special="all"))
    else:
        def count_tokens(text: str) -> int:
            return len(tts.tokenizer.tokenize(text))

    codes_per_s = checkpoints.CODES_PER_SECOND[name]
    base = {"num_beams": args.beams, "max_text_tokens_per_segment": 600}

    def run(tokens: int, cache: bool, gpt_only: bool, tag: str, round_: int) -> dict:
        text, _ = _text_for(count_tokens, max(8, round(tokens / codes_per_s
                                                          * TEXT_TOKENS_PER_SECOND)))
        settings = settings_for(engine, {**base, "max_mel_tokens": tokens})
        if cache:
            inference_model.prepare_inputs_for_generation = adapted
        else:  # the library's own method again: the cache is dropped every step
            inference_model.__dict__.pop("prepare_inputs_for_generation", None)
        stages.reset()
        stages.stop_after_gpt = gpt_only
        torch.manual_seed(SEED + tokens)
        first = None
        samples = 0
        start = time.perf_counter()
        try:
            for chunk in engine.synthesize(text, voice, settings, "en"):
                if first is None:
                    first = time.perf_counter() - start
                samples += len(chunk)
        except StopAfterGPT:
            pass
        finally:
            total = time.perf_counter() - start
            inference_model.prepare_inputs_for_generation = adapted
            stages.stop_after_gpt = False
        fed = stages.fed[1:] if len(stages.fed) > 1 else stages.fed
        rec = {
            "tag": tag, "tokens": tokens, "cache": cache, "gpt_only": gpt_only, "round": round_,
            "codes": stages.codes, "text_tokens": stages.text_tokens,
            "gpt_calls": stages.calls.get("gpt", 0),
            "gpt_s": round(stages.get("gpt"), 3),
            "prefill_fed": stages.fed[0] if stages.fed else None,
            "fed_per_step": round(float(np.mean(fed)), 1) if fed else None,
            "steps": len(stages.fed),
        }
        if not gpt_only:
            rec.update({
                "s2mel_s": round(stages.get(*S2MEL_KEYS), 3),
                "cfm_s": round(stages.get("cfm"), 3),
                "vocoder_s": round(stages.get("vocoder"), 3),
                "total_s": round(total, 3), "first_audio_s": round(first or total, 3),
                "audio_s": round(samples / engine.sample_rate, 3),
            })
        else:
            rec["total_s"] = round(total, 3)
        rec["load_avg"] = round(os.getloadavg()[0], 2)
        if device.startswith("cuda"):
            rec["peak_gpu_gb"] = round(torch.cuda.max_memory_allocated() / 1024 ** 3, 2)
        return rec

    # Warm-up (not reported): text normalisation, the generation loop, allocator.
    run(10, True, True, "warm-up", 0)
    log("warmed up")

    plan = [(n, True, False, "cache") for n in args.tokens]
    plan += [(n, False, not args.nocache_full, "nocache") for n in args.nocache]
    for tokens, cache, gpt_only, tag in plan:
        for r in range(args.rounds):
            rec = run(tokens, cache, gpt_only, tag, r)
            out["runs"].append(rec)
            save()
            log(f"{tag} {tokens} codes (round {r + 1}): GPT {rec['gpt_s']:.2f} s, "
                f"fed/step {rec['fed_per_step']}, total {rec['total_s']:.2f} s"
                + ("" if gpt_only else f", audio {rec['audio_s']:.2f} s"))
    save()
    log("done")
    return 0


# ------------------------------------------------------------------------------------------
# driver: runs the workers, prints the table, writes bench/RESULTS.md


def _v2_python(given: str | None) -> str | None:
    if given:
        return given
    if os.environ.get("INDEXTTS_YT_V2_PYTHON"):
        return os.environ["INDEXTTS_YT_V2_PYTHON"]
    found = sorted(glob.glob(str(Path.home() / ".cache/indextts-yt/venv-indextts2-*/bin/python")))
    return found[-1] if found else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        return None
    return None


def _run_worker(engine: str, args, python: str, json_out: Path) -> dict | None:
    sys.path.insert(0, str(BENCH))
    import indextts_checkpoints as checkpoints

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(REPO / "tests")]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.setdefault("OMP_NUM_THREADS", str(args.threads))
    env.setdefault("MKL_NUM_THREADS", str(args.threads))
    env["TQDM_DISABLE"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    if engine == "indextts2":
        # huggingface_hub reads these once, at import: IndexTTS2 finds w2v-bert, the codec,
        # CAMPPlus and BigVGAN in this hub cache.
        env["HF_HOME"] = checkpoints.paths(engine)["hf_home"]
        env["HF_HUB_OFFLINE"] = "1"
    cmd = [python, str(Path(__file__).resolve()), "--worker", engine, "--json-out", str(json_out),
           "--device", args.device, "--threads", str(args.threads), "--rounds", str(args.rounds),
           "--beams", str(args.beams), "--tokens", ",".join(map(str, args.tokens)),
           "--nocache", ",".join(map(str, args.nocache)) or "none"]
    if args.fp16:
        cmd.append("--fp16")
    if args.nocache_full:
        cmd.append("--nocache-full")
    print(f"== {LABELS[engine]}: {python}", flush=True)
    code = subprocess.call(cmd, cwd=REPO, env=env)
    if not json_out.exists():
        print(f"== {LABELS[engine]}: the worker failed (exit {code}) before any result", flush=True)
        return None
    result = json.loads(json_out.read_text())
    result["exit_code"] = code
    return result


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _fmt(value, digits=1, prefix=""):
    if value is None:
        return "—"
    return f"{prefix}{value:.{digits}f}"


def _aggregate(result: dict) -> tuple[dict, dict]:
    """Median over rounds: {(tag, tokens): {field: value}}, cached and no-cache."""
    rows: dict[tuple[str, int], dict] = {}
    keys = ("gpt_s", "s2mel_s", "vocoder_s", "total_s", "first_audio_s", "audio_s",
            "fed_per_step", "prefill_fed", "load_avg")
    for tag in ("cache", "nocache"):
        for tokens in sorted({r["tokens"] for r in result["runs"] if r["tag"] == tag}):
            runs = [r for r in result["runs"] if r["tag"] == tag and r["tokens"] == tokens]
            row = {k: _median([r.get(k) for r in runs]) for k in keys}
            row["rounds"] = len(runs)
            row["gpt_only"] = all(r["gpt_only"] for r in runs)
            row["codes"] = sorted({c for r in runs for c in r["codes"]})
            row["text_tokens"] = sorted({c for r in runs for c in r["text_tokens"]})
            rows[(tag, tokens)] = row
    cached = {t: row for (tag, t), row in rows.items() if tag == "cache"}
    nocache = {t: row for (tag, t), row in rows.items() if tag == "nocache"}
    return cached, nocache


def _extrapolate(nocache: dict, tokens: int) -> float | None:
    """No-cache GPT seconds at `tokens` from the two largest measured lengths, with
    T(n) = a*n + b*n^2 (each step re-feeds a prefix plus everything generated so far)."""
    measured = sorted(n for n in nocache if nocache[n]["gpt_s"])
    if len(measured) < 2 or tokens <= measured[-1]:
        return None
    n1, n2 = measured[-2], measured[-1]
    t1, t2 = nocache[n1]["gpt_s"], nocache[n2]["gpt_s"]
    b = (t2 / n2 - t1 / n1) / (n2 - n1)
    a = t1 / n1 - b * n1
    return a * tokens + b * tokens ** 2


def _table(result: dict) -> tuple[list[str], dict]:
    """Markdown lines for one engine, and its headline numbers."""
    cached, nocache = _aggregate(result)
    other = {}  # per length: total - gpt, from the cached run (the stages that do not change)
    lines = [
        "| codes | audio s | mode | GPT s | GPT tok/s | fed/step | s2mel s | vocoder s | "
        "total s | RTF | first audio s | load |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    speedups = {}
    lengths = sorted(set(cached) | set(nocache) | set(result.get("planned_tokens", [])))
    for n in lengths:
        c = cached.get(n)
        if c:
            other[n] = c["total_s"] - c["gpt_s"]
            rtf = c["total_s"] / c["audio_s"] if c["audio_s"] else None
            lines.append(
                f"| {n} | {_fmt(c['audio_s'])} | cache (shipped) | {_fmt(c['gpt_s'])} | "
                f"{_fmt(n / c['gpt_s'] if c['gpt_s'] else None)} | {_fmt(c['fed_per_step'], 0)} | "
                f"{_fmt(c['s2mel_s'])} | {_fmt(c['vocoder_s'])} | {_fmt(c['total_s'])} | "
                f"{_fmt(rtf, 2)} | {_fmt(c['first_audio_s'])} | {_fmt(c['load_avg'])} |")
        u = nocache.get(n)
        if u:
            if u["gpt_only"]:
                total = u["gpt_s"] + other[n] if n in other else None
                audio = c["audio_s"] if c else None
                rtf = total / audio if total and audio else None
                lines.append(
                    f"| {n} | {_fmt(audio)} | no cache (old) | {_fmt(u['gpt_s'])} | "
                    f"{_fmt(n / u['gpt_s'] if u['gpt_s'] else None)} | "
                    f"{_fmt(u['fed_per_step'], 0)} | = | = | {_fmt(total, prefix='≈')} | "
                    f"{_fmt(rtf, 2, '≈')} | {_fmt(total, prefix='≈')} | "
                    f"{_fmt(u['load_avg'])} |")
            else:
                rtf = u["total_s"] / u["audio_s"] if u["audio_s"] else None
                lines.append(
                    f"| {n} | {_fmt(u['audio_s'])} | no cache (old) | {_fmt(u['gpt_s'])} | "
                    f"{_fmt(n / u['gpt_s'] if u['gpt_s'] else None)} | "
                    f"{_fmt(u['fed_per_step'], 0)} | {_fmt(u['s2mel_s'])} | "
                    f"{_fmt(u['vocoder_s'])} | {_fmt(u['total_s'])} | {_fmt(rtf, 2)} | "
                    f"{_fmt(u['first_audio_s'])} | {_fmt(u['load_avg'])} |")
            if c and c["gpt_s"]:
                speedups[n] = (u["gpt_s"] / c["gpt_s"], False)
        elif c and nocache:
            est = _extrapolate(nocache, n)
            if est:
                total = est + other[n]
                lines.append(
                    f"| {n} | {_fmt(c['audio_s'])} | no cache (old), not run: est. | "
                    f"{_fmt(est, 0, '~')} | {_fmt(n / est, 1, '~')} | — | = | = | "
                    f"{_fmt(total, 0, '~')} | {_fmt(total / c['audio_s'], 1, '~')} | "
                    f"{_fmt(total, 0, '~')} | — |")
                if c["gpt_s"]:
                    speedups[n] = (est / c["gpt_s"], True)
    return lines, {"speedups": speedups, "cached": cached, "nocache": nocache}


def _report(results: dict, args, started: str, load_before, load_after, machine: dict
            ) -> list[str]:
    any_result = next(iter(results.values()))
    device = any_result.get("device", args.device)
    lines = [
        f"- Date: {started} (local), `{' '.join(['bench/indextts_speed.py'] + args.argv)}`",
        f"- Machine: {machine['cores']} CPU cores ({machine['cpu']}), {machine['ram_gib']} "
        f"GiB RAM; "
        + ", ".join(f"{LABELS[e]}: torch {r.get('torch')}, transformers {r.get('transformers')}"
                    for e, r in results.items())
        + f"; device: **{device}**"
        + (f" ({any_result.get('gpu')})" if any_result.get("gpu") else "")
        + f", {args.threads} threads" + (", fp16" if args.fp16 else ""),
    ]
    if not any_result.get("cuda_available"):
        lines.append("- No GPU was available for this task: these are CPU numbers. The GPU run "
                     "(`bench/indextts_speed.py --device cuda`: both engines, 3 rounds, 3 "
                     "beams, no-cache at every length) is for a later task with a device.")
    # The benchmark's own threads count in the load average while it runs.
    run_loads = [r.get("load_avg") or 0 for res in results.values() for r in res.get("runs", [])]
    busy = max(run_loads, default=0) > args.threads + 0.75
    lines.append(
        f"- Load average (1/5/15 min) before: {'/'.join(f'{x:.2f}' for x in load_before)}, "
        f"after: {'/'.join(f'{x:.2f}' for x in load_after)}; per run in the *load* column"
        + (" — other jobs shared the cores during part of the run (see *load*), so those "
           "times are pessimistic" if busy else ""))
    lines.append(
        f"- Settings: the engines' defaults (temperature 0.8, top_p 0.8, top_k 30, "
        f"repetition_penalty 10, 25 diffusion steps) except num_beams {args.beams}"
        + (" (the engines' default is 3)" if args.beams != 3 else "")
        + f"; one text piece per segment, English, ~{TEXT_TOKENS_PER_SECOND:g} text tokens "
        f"per second of audio; a {REF_SECONDS:g} s reference clip; median of {args.rounds} "
        f"round(s).")
    headline, targets = [], []
    for engine, result in results.items():
        summary = _table(result)[1]
        result["_summary"] = summary
        sp = summary["speedups"]
        if 200 in sp:
            headline.append(f"{LABELS[engine]} **{sp[200][0]:.1f}×**"
                            + (" (est.)" if sp[200][1] else ""))
            targets.append(sp[200][0])
    if headline:
        lines.append("- Headline, GPT stage with the cache vs without at 200 codes: "
                     + ", ".join(headline) + " (target ≥ 5× on real-size CPU: "
                     + ("met" if min(targets) >= 5 else "NOT met") + ").")
    for engine, result in results.items():
        sp = result["_summary"]["speedups"]
        curve = ", ".join(f"{n}: {v:.1f}×{' (est.)' if est else ''}"
                          for n, (v, est) in sorted(sp.items()))
        ref = result.get("reference", {})
        params = result.get("params_m", {})
        lines += [
            "",
            f"### {LABELS[engine]} ({result.get('engine_version', '')})",
            "",
            "Model sizes (M parameters, as loaded): "
            + ", ".join(f"{k} {v:g}" for k, v in params.items())
            + f" (w2v-bert: {result.get('w2v_layers')} layers loaded). Load: "
            f"{result.get('load_s')} s; peak RSS {result.get('peak_rss_gb')} GB.",
            "",
            f"Reference analysis (once per voice, {ref.get('clip_s', REF_SECONDS):g} s clip): "
            f"**{_fmt(ref.get('total_s'), 1)} s**, of which w2v-bert "
            f"{_fmt(ref.get('w2v_s'), 1)} s ({ref.get('w2v_calls')} passes: speaker and emotion), "
            f"CAMPPlus {_fmt(ref.get('campplus_s'), 2)} s.",
            "",
            *_table(result)[0],
            "",
            f"GPT speed-up from the cache (no cache ÷ cache): {curve or '—'}.",
        ]
        if result.get("exit_code"):
            lines.append(f"(The worker exited with {result['exit_code']}: results are partial.)")
    lines += [
        "",
        "Columns: *codes* = semantic codes per segment (forced: the random GPT never stops); "
        "*audio s* = seconds of speech made (2.5: 25 codes/s, IndexTTS2: 50 codes/s); "
        "*GPT* = code generation (`gpt.inference_speech`), *fed/step* = tokens fed to the "
        "transformer per decoding step after the prefill (1 = cache works); *s2mel* = codec, "
        "length regulator, 25-step CFM/DiT (and IndexTTS2's GPT latent pass); *vocoder* = "
        "BigVGAN; *total* = synthesize() call to last chunk (incl. text normalisation); "
        "*RTF* = total ÷ audio seconds; *first audio* = call to first chunk (one text piece, "
        "so the whole segment). No-cache rows stop after the GPT stage (the rest does not "
        "depend on the cache): their *=* columns are the cached run's, and ≈ totals are GPT + "
        "the cached run's other stages; *est.* rows were not run and are extrapolated "
        "(T = a·n + b·n²) from the two longest measured no-cache lengths; *load* = 1-minute "
        "load average when the run ended, this benchmark's own threads included (about "
        f"{args.threads} when nothing else runs; more means other jobs shared the cores).",
    ]
    return lines


def _parse_tokens(text: str) -> list[int]:
    if text in ("", "none"):
        return []
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engine", choices=["indextts2.5", "indextts2", "both"], default=None,
                   help="default: both on a GPU; indextts2.5 on the CPU (both: ~20 min there)")
    p.add_argument("--tokens", default=None, help="codes per segment (default 50,200,500)")
    p.add_argument("--nocache", default=None,
                   help="lengths also run without the cache (default: --tokens on a GPU, "
                        "those up to 200 on the CPU; 'none' for none)")
    p.add_argument("--nocache-full", action="store_true",
                   help="run the whole pipeline without the cache, not only the GPT stage")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N (default: cuda if any)")
    p.add_argument("--fp16", action="store_true", help="half-precision GPT (GPU only)")
    p.add_argument("--rounds", type=int, default=None,
                   help="repeats per measurement, median reported (default: 3 on a GPU, 1 on "
                        "the CPU)")
    p.add_argument("--beams", type=int, default=None,
                   help="num_beams (default: the engines' 3 on a GPU, 1 on the CPU, where "
                        "three beams triple the no-cache cost)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--quick", action="store_true",
                   help="a short run (~3 min on 2 cores): IndexTTS-2.5, 50 and 200 codes; "
                        "without the cache only 25 and 50 (200 extrapolated, which "
                        "understates it: 7x vs 8-10x measured)")
    p.add_argument("--v2-python", default=None, help="python of the IndexTTS2 environment")
    p.add_argument("--no-write", action="store_true",
                   help="do not update bench/RESULTS.md (nor the raw bench/indextts_speed.*.json)")
    p.add_argument("--from-json", default=None, metavar="RAW",
                   help="measure nothing: render (and write) the table of a raw results file")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--json-out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.argv = argv

    if args.worker:
        args.tokens = _parse_tokens(args.tokens)
        args.nocache = _parse_tokens(args.nocache)
        return worker(args)
    if args.from_json:
        raw = json.loads(Path(args.from_json).read_text())
        return _publish(raw, write=not args.no_write)

    if args.device == "auto":
        try:
            import torch

            args.device = "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            args.device = "cpu"
    gpu = args.device.startswith("cuda")
    if args.fp16 and not gpu:
        p.error("--fp16 needs --device cuda")
    if args.quick:
        args.engine = args.engine or "indextts2.5"
        args.tokens = args.tokens or "50,200"
        args.nocache = args.nocache or "25,50"
    args.engine = args.engine or ("both" if gpu else "indextts2.5")
    args.tokens = _parse_tokens(args.tokens or "50,200,500")
    if args.nocache is None:
        args.nocache = list(args.tokens) if gpu else [n for n in args.tokens if n <= 200]
    else:
        args.nocache = _parse_tokens(args.nocache)
    args.rounds = args.rounds or (3 if gpu else 1)
    args.beams = args.beams or (3 if gpu else 1)

    engines = list(ENGINES) if args.engine == "both" else [args.engine]
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="indextts-bench-") as tmp:
        for engine in engines:
            python = sys.executable if engine == "indextts2.5" else _v2_python(args.v2_python)
            if not python or not Path(python).exists():
                print(f"== {LABELS[engine]}: no python for it (--v2-python / "
                      f"$INDEXTTS_YT_V2_PYTHON); skipped", flush=True)
                continue
            result = _run_worker(engine, args, python, Path(tmp) / f"{engine}.json")
            if result:
                result["planned_tokens"] = args.tokens
                results[engine] = result
    load_after = os.getloadavg()
    if not results:
        print("no results", flush=True)
        return 1
    raw = {"args": {k: getattr(args, k) for k in ("argv", "threads", "beams", "rounds", "fp16",
                                                  "tokens", "nocache", "device")},
           "started": started, "load_before": load_before, "load_after": load_after,
           "machine": {"cores": os.cpu_count(), "cpu": _cpu_model(), "ram_gib": _mem_gb(),
                       "platform": platform.platform()},
           "wall_min": round((time.perf_counter() - wall) / 60, 1), "results": results}
    return _publish(raw, write=not args.no_write)


def _publish(raw: dict, write: bool) -> int:
    """Print the table of a run (`raw`: what main() measured) and, with `write`, put it in
    bench/RESULTS.md (this device kind's section) and the raw numbers beside it."""
    results = raw["results"]
    args = argparse.Namespace(**raw["args"])
    lines = _report(results, args, raw["started"], raw["load_before"], raw["load_after"],
                    raw["machine"])
    lines.append("")
    lines.append(f"Wall time of this run: {raw['wall_min']:.1f} min (checkpoint builds "
                 f"excluded when already cached). Raw numbers: `bench/{_raw_name(results)}`.")
    print()
    print("\n".join(lines))
    if write:
        sys.path.insert(0, str(BENCH))
        from results import write_section

        for result in results.values():
            result.pop("_summary", None)
        (BENCH / _raw_name(results)).write_text(json.dumps(raw, indent=1) + "\n")
        kind = "GPU" if _device(results).startswith("cuda") else "CPU"
        path = write_section(f"IndexTTS speed, KV cache vs none ({kind}, real-size random "
                             f"weights)", lines)
        print(f"\nwritten to {path}")
    return 0 if all(not r.get("exit_code") for r in results.values()) else 1


def _device(results: dict) -> str:
    return next(iter(results.values())).get("device", "cpu")


def _raw_name(results: dict) -> str:
    return f"indextts_speed.{'gpu' if _device(results).startswith('cuda') else 'cpu'}.json"


if __name__ == "__main__":
    sys.exit(main())
