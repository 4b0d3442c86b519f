"""A real Chromium plays the progressive WAV while the narration is still being made.

Skipped where Chromium (/usr/bin/chromium) or Playwright's Python package is missing; it
never downloads a browser.
"""

from __future__ import annotations

import shutil
import time

import pytest

from conftest import pooh_paragraphs
from server_util import serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="no Chromium here")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--autoplay-policy=no-user-gesture-required"]


def test_chromium_plays_the_stream_before_the_job_is_done(data_dir):
    with serve(data_dir) as srv:
        # Minutes of audio, so the job is still running however slow the browser is to start;
        # it is cancelled once the browser has played a few seconds.
        job = srv.create(pooh_paragraphs(2500))
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                page = browser.new_page()
                page.goto(srv.base + "/api/health")  # same origin as the audio
                page.evaluate("""src => { window.a = new Audio(src);
                                 a.play().catch(e => window.playError = String(e)); }""",
                              f"/api/jobs/{job['id']}/audio")
                seen = []
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    state = page.evaluate("""() => ({t: a.currentTime, d: a.duration,
                        err: window.playError || (a.error && a.error.message) || null,
                        buffered: a.buffered.length ? a.buffered.end(a.buffered.length - 1) : 0})""")
                    running = srv.job(job["id"])["state"] != "done"
                    seen.append((running, state))
                    assert state["err"] is None, state
                    if running and state["t"] > 2.0:
                        break
                    time.sleep(0.2)
            finally:
                browser.close()
                srv.http.post(f"/api/jobs/{job['id']}/cancel")
        playing = [(running, s) for running, s in seen if s["t"] > 0]
        assert playing, seen
        # It played (and buffered ahead) while the job was still running.
        running, state = playing[-1]
        assert running and state["t"] > 2.0 and state["buffered"] > state["t"]
        assert state["d"] is None or state["d"] == float("inf") or state["d"] > state["t"]
