"""Engines that fail on purpose, around a real one, for tests of how failures are reported."""

from __future__ import annotations

from indextts_yt.engines.piper_engine import PiperEngine


class SilentFailure(PiperEngine):
    """piper, except that synthesis raises an exception with no message at all."""

    name = "silent-failure"

    def synthesize(self, text, conditioning, settings, language="en"):
        raise RuntimeError()
