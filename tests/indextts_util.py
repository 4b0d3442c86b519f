"""Shared by the IndexTTS tests: reference clips made by the real default engines, and the
settings that keep a tiny random model quick on the CPU."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

class Spy:
    """Wraps a real method or function: counts calls and keeps their arguments, then calls
    through (the real code still runs). Restores the original on exit of a ``with``."""

    def __init__(self, owner, name: str):
        self.owner, self.name, self.real = owner, name, getattr(owner, name)
        self.calls: list[tuple[tuple, dict]] = []
        setattr(owner, name, self)

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.real(*args, **kwargs)

    def restore(self) -> None:
        setattr(self.owner, self.name, self.real)

    def __enter__(self) -> "Spy":
        return self

    def __exit__(self, *exc) -> None:
        self.restore()


#: A tiny model renders in about a second with these (the audio is noise either way).
FAST = {"max_mel_tokens": 15, "diffusion_steps": 3, "num_beams": 1}


def piper_clip(path: Path, seconds: float = 3.0,
               text: str = "This is the voice I would like the narration to be read in.") -> Path:
    """A reference clip of real speech by the default engine, cut to ``seconds``."""
    from indextts_yt.engines import registry

    engine = registry.get_engine("piper")
    audio = np.concatenate(list(engine.synthesize(text, engine.prepare_voice("joe"), {})))
    reps = int(np.ceil(seconds * engine.sample_rate / len(audio)))
    sf.write(path, np.tile(audio, reps)[: int(seconds * engine.sample_rate)], engine.sample_rate)
    return path


def espeak_clip(path: Path, text: str = "Oh no! I cannot believe this is happening again!"
                ) -> Path:
    """A second, clearly different voice (eSpeak NG), for emotion references."""
    from indextts_yt.engines import registry

    engine = registry.get_engine("espeak")
    audio = np.concatenate(list(engine.synthesize(text, engine.prepare_voice("en-us"), {})))
    sf.write(path, audio, engine.sample_rate)
    return path


@contextmanager
def fake_transformers_version(folder: Path, version: str) -> Iterator[dict[str, str]]:
    """An environment (for a subprocess) in which package metadata says transformers is
    ``version``, while the installed transformers is what imports: a ``.dist-info`` folder
    first on PYTHONPATH, holding nothing but that metadata."""
    info = folder / f"transformers-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: transformers\nVersion: {version}\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    yield {"PYTHONPATH": path}
