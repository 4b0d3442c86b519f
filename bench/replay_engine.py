"""A stand-in engine for benchmarks of everything around synthesis: piper's own audio,
rendered once and cached on disk (by text and settings), handed out after sleeping
``RTF`` × its length. A 30-minute narration then costs its synthesis once, not on every
run, and each run still sees segments arrive at a real engine's pace while the CPU is free
for the rest of the studio (as it is while a GPU renders)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from indextts_yt.engines.piper_engine import PiperEngine

NAME = "piper-replay"


class ReplayPiper(PiperEngine):
    name = NAME
    RTF = 0.1  # seconds "rendering" per second of audio; the bench sets piper's measured one
    CACHE: Path | None = None  # the folder of rendered segments; the bench sets it
    SLEPT = 0.0  # seconds spent "rendering" in this process, all instances together

    def _cached(self, text: str, settings: Mapping[str, float], language: str) -> Path:
        assert self.CACHE is not None, "set ReplayPiper.CACHE first"
        key = json.dumps([text, dict(sorted((settings or {}).items())), language])
        return self.CACHE / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"

    def render(self, text: str, conditioning: Any, settings: Mapping[str, float],
               language: str = "en") -> tuple[np.ndarray, float]:
        """The segment's audio, from the cache or rendered by piper now (and cached); and
        the seconds piper took (0 when cached)."""
        path = self._cached(text, settings, language)
        if path.exists():
            return np.load(path), 0.0
        t0 = time.perf_counter()
        parts = list(super().synthesize(text, conditioning, settings, language))
        took = time.perf_counter() - t0
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part.npy")
        np.save(tmp, audio)
        tmp.replace(path)
        return audio, took

    def synthesize(self, text: str, conditioning: Any, settings: Mapping[str, float],
                   language: str = "en") -> Iterator[np.ndarray]:
        audio, _ = self.render(text, conditioning, settings, language)
        return self._paced(audio)

    def _paced(self, audio: np.ndarray) -> Iterator[np.ndarray]:
        pace = self.RTF * len(audio) / self.sample_rate
        time.sleep(pace)
        ReplayPiper.SLEPT += pace
        if len(audio):
            yield audio
