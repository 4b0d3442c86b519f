"""A stand-in for an engine that renders on a GPU: piper's audio, rendered beforehand, handed
out after sleeping ``RTF`` × its length, so the CPU is idle while it "renders" (as it is
while IndexTTS2 waits on CUDA). bench/proofreading.py runs a job on it with checks on and
off: whatever checking adds to the wall time is what it could not hide behind rendering."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from indextts_yt.engines.piper_engine import PiperEngine

NAME = "piper-gpu-bound"


class GpuBoundPiper(PiperEngine):
    name = NAME
    RTF = 0.3  # seconds "rendering" per second of audio (IndexTTS2 on a GPU is about this)
    _made: dict[str, list[np.ndarray]] = {}  # by text: a bench run keeps its settings

    def synthesize(self, text: str, conditioning: Any, settings: Mapping[str, float],
                   language: str = "en") -> Iterator[np.ndarray]:
        return self._sleep_then_give(self.warm(text, conditioning, settings, language))

    def warm(self, text: str, conditioning: Any, settings: Mapping[str, float],
             language: str = "en") -> list[np.ndarray]:
        """Render ``text`` with piper now (CPU) and keep it for synthesize."""
        if text not in self._made:
            self._made[text] = list(super().synthesize(text, conditioning, settings, language))
        return self._made[text]

    def _sleep_then_give(self, chunks: list[np.ndarray]) -> Iterator[np.ndarray]:
        for chunk in chunks:
            time.sleep(self.RTF * len(chunk) / self.sample_rate)
            yield chunk
