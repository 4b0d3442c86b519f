from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
POOH = REPO.parent / "shared" / "texts" / "winnie-the-pooh.txt"

# piper, the default engine, draws each phoneme's duration and the voice's noise at random
# unless both are 0 (test_engines checks that it is then byte-identical across instances and
# processes). Tests that compare lengths, timings or bytes give these; tests of the
# randomness, or of settings as typed, do not.
DETERMINISTIC = {"noise_scale": 0.0, "noise_w": 0.0}
DETERMINISTIC_FLAGS = ("-O", "noise_scale=0", "-O", "noise_w=0")  # the same, on the CLI

SHORT_SCRIPT = """# Chapter One

The studio reads long scripts. It splits them into segments and renders each one.

Every finished segment is kept on disk. A killed run picks up where it stopped.
"""


@pytest.fixture(autouse=True, scope="session")
def _studio_outside_the_home(tmp_path_factory) -> None:
    """A command run without --data-dir uses a throwaway studio, never the user's own."""
    os.environ["INDEXTTS_YT_DATA_DIR"] = str(tmp_path_factory.mktemp("default-studio"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def short_script(tmp_path: Path) -> Path:
    path = tmp_path / "short.md"
    path.write_text(SHORT_SCRIPT, encoding="utf-8")
    return path


def cli(*args: str, input: bytes | None = None, env: dict | None = None,
        timeout: float = 240) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "indextts_yt", *args],
        input=input, capture_output=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def pooh_paragraphs(n_chars: int) -> str:
    """The book from its introduction, cut at a paragraph break near ``n_chars`` characters."""
    text = POOH.read_text(encoding="utf-8")
    text = text[text.index("If you happen to have read"):]
    cut = text.find("\n\n", n_chars)
    return text[: cut if cut > 0 else len(text)]


# tests/v2 drive the IndexTTS2 library, which lives in an environment of its own (torch
# 2.11 + torchaudio 2.11, .ci/indextts2-env); tests/test_indextts2.py runs them there.
try:
    import importlib.util as _util

    _HAS_INDEXTTS2 = _util.find_spec("indextts") is not None and _util.find_spec("torchaudio") is not None
except ValueError:
    _HAS_INDEXTTS2 = False
collect_ignore = [] if _HAS_INDEXTTS2 else ["v2"]


def as_made(settings):
    """A job's stored settings with the levels and silences as the engine made them
    (loudness off, no trim), so a test can compare the output with the segments exactly."""
    from indextts_yt.settings import JobFiles, OutputSettings, StoredJob

    output = OutputSettings(loudness="off", trim=False)
    return StoredJob(settings=settings.model_copy(update={"output": output}), files=JobFiles())


def wait_for_done_segments(proc: subprocess.Popen, data_dir: Path, count: int,
                           also: Callable[[], bool] = lambda: True, timeout: float = 120) -> None:
    """Until the narration ``proc`` runs on ``data_dir`` has ``count`` segments done in its
    store (and ``also()`` holds): polled from outside, as a user's second look would be.
    Fails if the process exits first or ``timeout`` seconds pass."""
    db, deadline = data_dir / "studio.sqlite3", time.monotonic() + timeout
    while True:
        done = 0
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                done = con.execute(
                    "SELECT count(*) FROM segments WHERE state='done'").fetchone()[0]
        except sqlite3.OperationalError:
            pass  # not created yet, or busy
        if done >= count and also():
            return
        assert time.monotonic() < deadline and proc.poll() is None, "narration never got going"
        time.sleep(0.05)
