"""The real `indextts-yt` command line, with the test engines of faulty_engines.py
registered first: `python tests/cli_with_test_engines.py review JOB ...` in a subprocess.
FaultyPiper's faults come from the environment (INDEXTTS_YT_TEST_FAULTS, JSON), as the
test that starts the process set them."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faulty_engines import FaultyPiper  # noqa: E402
from indextts_yt.cli import main  # noqa: E402
from indextts_yt.engines import registry  # noqa: E402

registry.register_engine("piper-faults", registry.EngineEntry("faulty_engines", "FaultyPiper"))
registry.register_engine("piper-slow", registry.EngineEntry("faulty_engines", "SlowPiper"))
FaultyPiper.FAULTS = json.loads(os.environ.get("INDEXTTS_YT_TEST_FAULTS", "{}"))
sys.argv = ["indextts-yt", *sys.argv[1:]]
main()
