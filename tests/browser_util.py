"""Debian's Chromium driven by Playwright, for the browser tests. CI installs both
(.ci/run), so there a missing piece is a failure, never a silent skip."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

if os.environ.get("CI"):
    import playwright.sync_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

CHROMIUM = os.environ.get("INDEXTTS_YT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
    # Play as soon as the user pressed Generate, as a desktop browser would after that click.
    "--autoplay-policy=no-user-gesture-required", "--mute-audio",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set INDEXTTS_YT_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_cli(data_dir: Path, *extra: str, env: dict[str, str] | None = None,
              port: int | None = None) -> Iterator[httpx.Client]:
    """A real `indextts-yt serve` subprocess over ``data_dir`` on (a free) loopback port;
    yields an HTTP client for it (its log, beside the data dir, is printed if the test
    fails)."""
    port = port or _free_port()
    log_path = data_dir.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "indextts_yt", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--data-dir", str(data_dir), *extra],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/health").json().get("ok"):
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("server did not start:\n"
                                f"{log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)
            yield client
        except BaseException:
            print(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            client.close()
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def open_ui(browser, client: httpx.Client, timeout_ms: int = 30_000, path: str = "/", **context_options):
    """The UI at ``path`` (e.g. "/#job=ID") in a new English page (1400 px wide unless
    ``viewport`` says otherwise), ready;
    returns (page, errors, tid). ``errors`` collects
    page errors and console errors other than the 4xx refusals a test provokes on purpose."""
    context = browser.new_context(**{"locale": "en-US", "viewport": {"width": 1400, "height": 1100},
                                     **context_options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and "status of 4" not in msg.text
            and errors.append(msg.text))
    page.set_default_timeout(timeout_ms)
    page.goto(str(client.base_url).rstrip("/") + path)
    page.wait_for_selector("body[data-ready=true]")
    return page, errors, page.get_by_test_id
