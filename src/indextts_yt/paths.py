"""Where the studio keeps its data: --data-dir, else $INDEXTTS_YT_DATA_DIR, else the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

ENV_DATA_DIR = "INDEXTTS_YT_DATA_DIR"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser()
    return Path(user_data_dir("indextts-yt", appauthor=False))
