"""What the KV-cache tests of both IndexTTS engines share.

- ``GenerationSpy`` watches a library's GPT from outside (the real code runs): the codes of
  every ``inference_speech`` call and the number of tokens fed to the transformer at each
  generation step.
- ``generate`` runs a library's *own* generation path, greedy, in a subprocess under
  the last transformers release it was written for (5.17: the cache is passed as
  ``past_key_values`` and the all-ones attention mask is still passed), with nothing of ours
  in between: the codes upstream's cached path makes. That release is installed once into a
  folder of its own (from the package registry) and put in front of the environment's own.

Run as a script (what ``generate`` does) it prints JSON: the codes, the tokens fed per step
and whether that was the cached path (each piece's prefix once, then one token per step):

    PYTHONPATH=<transformers folder>:tests:src python tests/indextts_reference.py \\
        {library,studio} {indextts2,indextts2.5} MODEL_DIR CLIP TEXT LANG PIECE_TOKENS

``bench/transformers_range.py`` runs the same through the studio under each transformers
release, to check a new release before SUPPORTED in engines/kv_cache.py is widened.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: The transformers release the libraries' generation code was written against.
REFERENCE_TRANSFORMERS = "5.17.0"
#: What a 5.17-5.24 release needs that a current environment lacks or has too new (5.17
#: wants huggingface-hub < 2; hub 1.x talks HTTP through httpx).
HUB_1 = ("huggingface-hub==1.33.0", "httpx==0.28.1", "httpcore==1.0.9", "sniffio==1.3.1")
#: Greedy: one beam, and the single most likely code. v2 always samples (it drops
#: do_sample), so top_k=1 is its greedy; 2.5 honours do_sample=False.
GREEDY = {"do_sample": False, "top_k": 1, "num_beams": 1}


class GenerationSpy:
    """Codes per ``gpt.inference_speech`` call and tokens fed per transformer forward during
    those calls (v2 runs the transformer once more afterwards, for latents: not counted)."""

    def __init__(self, gpt, *, returns_tuple: bool):
        self.codes: list[list[int]] = []
        self.fed: list[list[int]] = []  # per call: tokens fed at each step
        self._gpt, self._real = gpt, gpt.inference_speech
        self._returns_tuple = returns_tuple
        gpt.inference_speech = self._inference_speech
        self._hook = gpt.inference_model.transformer.register_forward_pre_hook(
            self._count, with_kwargs=True)
        self._generating = False

    def _inference_speech(self, *args, **kwargs):
        self.fed.append([])
        self._generating = True
        try:
            out = self._real(*args, **kwargs)
        finally:
            self._generating = False
        self.codes.append((out[0] if self._returns_tuple else out)[0].tolist())
        return out

    def _count(self, _module, _args, kwargs):
        if self._generating:
            self.fed[-1].append(int(kwargs["inputs_embeds"].shape[1]))

    def cached(self) -> bool:
        """Every call fed its prefix once, then exactly one token per step."""
        return bool(self.fed) and all(
            len(steps) > 1 and steps[0] > 1 and set(steps[1:]) == {1} for steps in self.fed)

    def close(self) -> None:
        self._gpt.inference_speech = self._real
        self._hook.remove()

    def __enter__(self) -> GenerationSpy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def transformers_release(version: str = REFERENCE_TRANSFORMERS) -> Path:
    """A folder holding that transformers release (and, before 5.25, the hub client it
    needs), installed once with this interpreter's pip and kept in the user cache; put it
    first on PYTHONPATH to run under that release."""
    minor = int(version.split(".")[1])
    requirements = (f"transformers=={version}",) + (HUB_1 if minor < 25 else ())
    stamp = hashlib.sha256(" ".join(requirements).encode()).hexdigest()[:12]
    folder = Path.home() / ".cache" / "indextts-yt" / f"transformers-{version}-{stamp}"
    if (folder / ".complete").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--target", str(tmp), *requirements],
                       check=True, capture_output=True, timeout=600)
        (tmp / ".complete").touch()
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def generate(engine: str, model_dir: Path, clip: Path, text: str, lang: str, piece_tokens: int,
             *, through: str = "library", transformers: Path | None = None) -> dict:
    """Greedy codes and tokens fed per step, per text piece, from a subprocess: through the
    library's own path or through the studio's engine (``through="studio"``), under the
    given transformers folder (default: the reference release)."""
    tests = Path(__file__).resolve().parent
    folder = transformers or transformers_release()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(folder), str(tests), str(tests.parent / "src")])}
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), through, engine, str(model_dir),
         str(clip), text, lang, str(piece_tokens)],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return json.loads(result.stdout)


def _through_studio(engine: str, model_dir: str, clip: str, text: str, lang: str,
                    piece_tokens: int) -> GenerationSpy:
    from indextts_yt.engines import registry
    from indextts_yt.engines.base import settings_for
    from indextts_yt.engines.indextts_common import LoadOptions

    registry.configure_engine(engine, LoadOptions(checkpoints=Path(model_dir), device="cpu"))
    studio = registry.get_engine(engine)
    voice = studio.prepare_voice(clip)
    settings = settings_for(studio, {"top_k": 1, "num_beams": 1,
                                     "max_text_tokens_per_segment": piece_tokens})
    with GenerationSpy(studio._loaded().tts.gpt, returns_tuple=engine == "indextts2") as spy:
        list(studio.synthesize(text, voice, settings, lang))
    return spy


def main(through: str, engine: str, model_dir: str, clip: str, text: str, lang: str,
         piece_tokens: str) -> int:
    import torch
    import transformers

    torch.manual_seed(0)
    if through == "studio":
        spy = _through_studio(engine, model_dir, clip, text, lang, int(piece_tokens))
    elif engine == "indextts2.5":
        from indextts25.api import IndexTTS25

        api = IndexTTS25(model_dir=model_dir, device="cpu")
        with GenerationSpy(api._tts.gpt, returns_tuple=False) as spy:
            for _ in api.stream(text, voice=clip, lang=lang.upper(),
                                segment_tokens=int(piece_tokens), **GREEDY):
                pass
    else:
        from indextts.infer_v2 import IndexTTS2

        tts = IndexTTS2(model_dir=model_dir, device="cpu", use_fp16=False)
        with GenerationSpy(tts.gpt, returns_tuple=True) as spy:
            for _ in tts.infer_generator(spk_audio_prompt=clip, text=text, output_path=None,
                                         stream_return=True,
                                         max_text_tokens_per_segment=int(piece_tokens),
                                         **GREEDY):
                pass
    json.dump({"transformers": transformers.__version__, "codes": spy.codes, "fed": spy.fed,
               "cached": spy.cached()}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
