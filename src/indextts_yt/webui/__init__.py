"""The web UI: plain HTML, CSS and JavaScript modules, served by the API server at ``/``.

There is no build step and nothing is fetched from the internet; the server mounts
``STATIC_DIR`` and the page talks to the JSON API documented in docs/API.md.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
INDEX_HTML = STATIC_DIR / "index.html"

__all__ = ["INDEX_HTML", "STATIC_DIR"]
