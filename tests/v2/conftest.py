"""What the IndexTTS2 tests share: the tiny weights (built once per module, used offline)
and an engine on them with an analysis cache of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indextts_yt.engines.indextts2_engine import IndexTTS2Engine
from indextts_yt.engines.indextts_common import LoadOptions
from indextts_yt.paths import ENV_CACHE_DIR

from fixtures.tiny_indextts import build_indextts2


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    # huggingface_hub reads HF_HOME and HF_HUB_OFFLINE once, when first imported, so the
    # caller (tests/test_indextts2.py) sets them, with HF_HOME inside INDEXTTS_YT_TINY2_DIR.
    root = os.environ.get("INDEXTTS_YT_TINY2_DIR")
    assert root, "run these through tests/test_indextts2.py (it sets up the environment)"
    model_dir, hf_home = build_indextts2(Path(root))
    assert os.environ["HF_HOME"] == str(hf_home) and os.environ["HF_HUB_OFFLINE"] == "1"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_CACHE_DIR, str(tmp_path_factory.mktemp("cache")))
        yield model_dir


@pytest.fixture(scope="module")
def engine(weights):
    return IndexTTS2Engine(LoadOptions(checkpoints=weights, device="cpu"))
