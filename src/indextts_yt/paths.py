"""Where the studio keeps its data (--data-dir, else $INDEXTTS_YT_DATA_DIR, else the user data
dir) and what it can rebuild (analysed voices, word-segmentation tables: the cache dir)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

ENV_DATA_DIR = "INDEXTTS_YT_DATA_DIR"
ENV_CACHE_DIR = "INDEXTTS_YT_CACHE_DIR"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser()
    return Path(user_data_dir("indextts-yt", appauthor=False))


def cache_dir() -> Path:
    """$INDEXTTS_YT_CACHE_DIR, else the user cache dir (never a shared folder such as /tmp,
    whose files another user could have planted)."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR]).expanduser()
    return Path(user_cache_dir("indextts-yt", appauthor=False))
