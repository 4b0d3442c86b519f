"""The IndexTTS2 engine's tests (tests/v2) in their own environment.

indextts2-inference needs torchaudio, which cannot load beside the main environment's torch,
so .ci/indextts2-env builds a torch 2.11 + torchaudio 2.11 venv (once; it is reused) and CI
passes its python in INDEXTTS_YT_V2_PYTHON. This test runs tests/v2 there, on this clone's
code, and fails with their report if any fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

V2_PYTHON = os.environ.get("INDEXTTS_YT_V2_PYTHON")


@pytest.mark.timeout(1200)
def test_indextts2_suite_in_its_own_environment(tmp_path):
    if not V2_PYTHON:
        if os.environ.get("CI"):
            pytest.fail("INDEXTTS_YT_V2_PYTHON is not set: .ci/run builds it with "
                        ".ci/indextts2-env")
        pytest.skip("set INDEXTTS_YT_V2_PYTHON=$(.ci/indextts2-env) to run the IndexTTS2 tests")
    assert Path(V2_PYTHON).exists(), V2_PYTHON
    result = subprocess.run(
        [V2_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
         "tests/v2"],
        cwd=REPO, capture_output=True, text=True, timeout=1150,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")]),
             # the tiny weights, and their Hugging Face cache, used offline
             "INDEXTTS_YT_TINY2_DIR": str(tmp_path / "tiny2"),
             "HF_HOME": str(tmp_path / "tiny2" / "hf_home"), "HF_HUB_OFFLINE": "1"},
    )
    report = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout and " failed" not in result.stdout, report
