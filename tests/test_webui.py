"""End-to-end test of the web UI: the real server in a subprocess, driven by real Chromium.

It needs the `playwright` Python package (its driver ships in the wheel; no browser download)
and a Chromium binary (Debian: `apt-get install chromium`, found at /usr/bin/chromium or
$INDEXTTS_YT_CHROMIUM). Without them the test is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
import urllib.request
from pathlib import Path

import av
import pytest
import soundfile as sf

from browser_util import browser, serve_cli  # noqa: F401 - the fixture

# A heading and six paragraphs (~2,000 characters, about two minutes of speech): long enough
# that the first segments play while later ones are still being rendered.
SCRIPT = """# The Lighthouse Keeper

Every evening at dusk, the keeper climbed the hundred and twelve steps of the old tower. He carried a small oil can, a cloth for the lens, and a notebook in which he wrote the weather, the ships he saw, and anything else that seemed worth remembering.

The island was small enough to walk around in an hour. Sheep grazed on the western slope, and a few stunted trees leaned away from the wind. In winter the storms came in from the north, and the spray reached the windows of the kitchen.

Supplies arrived once a month on a boat from the mainland. The captain brought flour, coffee, letters and newspapers that were already three weeks old. The keeper read every page anyway, slowly, saving the crossword for the long nights.

One autumn a young woman came with the boat. She was a painter, she said, and she wanted to spend a season painting the light on the water. The keeper showed her the spare room and told her that breakfast was at six.

She painted every day, in every kind of weather. Some of her pictures were grey and quiet, others full of wild colour. The keeper did not say much about them, but he began to notice the sky in a way he never had before.

When spring came, she packed her canvases and left on the first calm morning. She gave him one painting, of the tower at dusk with a single lit window. He hung it in the kitchen, and he still looks at it every evening before he climbs the stairs.
"""
NEW_TEXT = "Every evening, just before dark, the keeper climbed the steps of the tower with his lamp."


def _get(base: str, path: str):
    with urllib.request.urlopen(f"{base}{path}", timeout=10) as response:
        return json.load(response)


def _post(base: str, path: str, body: dict):
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@contextlib.contextmanager
def _serve(data_dir: Path, *extra: str, port: int | None = None):
    """`indextts-yt serve` on (a free) port of 127.0.0.1 over ``data_dir``; yields the base URL."""
    with serve_cli(data_dir, *extra, port=port) as client:
        yield str(client.base_url).rstrip("/")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with _serve(tmp_path_factory.mktemp("webui-data")) as base:
        yield base


def _audio_state(page) -> dict:
    return page.evaluate("""() => {
        const a = document.querySelector('[data-testid=audio-player]');
        return {readyState: a.readyState, buffered: a.buffered.length ? a.buffered.end(0) : 0,
                src: a.currentSrc, error: a.error && a.error.message};
    }""")


@pytest.mark.timeout(240)
def test_narrate_in_the_browser(server, browser, tmp_path):
    started = time.monotonic()
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.set_default_timeout(30_000)
    tid = lambda name: page.get_by_test_id(name)  # noqa: E731

    page.goto(server + "/")
    page.wait_for_selector("body[data-ready=true]")

    # --- output: MP3 at YouTube loudness; the bit rate is there for lossy formats only
    page.locator("#settings > summary").click()
    assert tid("output-format").input_value() == "wav" and not tid("output-bitrate").is_visible()
    assert tid("output-loudness").input_value() == "podcast" and tid("output-trim").is_checked()
    tid("output-format").select_option("mp3")
    assert tid("output-bitrate").is_visible() and tid("output-bitrate").get_attribute("placeholder") == "96"
    tid("output-loudness").select_option("custom")
    assert tid("output-lufs").is_visible()
    tid("output-loudness").select_option("youtube")
    assert not tid("output-lufs").is_visible()

    # --- language: English from navigator.language, 中文 on the switch, remembered, and back
    assert tid("generate-button").inner_text() == "Generate"
    tid("lang-toggle").click()
    assert tid("generate-button").inner_text() == "生成"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#script-heading").inner_text() == "文稿"
    assert tid("output-settings").locator("legend").inner_text() == "输出"
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert tid("generate-button").inner_text() == "生成", "the language choice is remembered"
    assert tid("output-format").input_value() == "mp3", "the output choices are remembered"
    assert tid("output-loudness").input_value() == "youtube"
    assert tid("engine-cloning-piper").inner_text() == "不支持克隆"
    tid("lang-toggle").click()
    assert tid("generate-button").inner_text() == "Generate"
    assert page.locator("#script-heading").inner_text() == "Script"

    # --- engines: honest about cloning; the reference-clip area is switched off with a reason
    assert tid("engine-cloning-piper").inner_text() == "no voice cloning"
    assert tid("engine-cloning-espeak").inner_text() == "no voice cloning"
    assert tid("clone-panel").get_attribute("data-enabled") == "false"
    assert not tid("clone-preload").is_visible()
    assert "clone" in tid("clone-note").inner_text().lower()

    # --- script and segment preview
    tid("script-input").fill(SCRIPT)
    page.wait_for_function("(n) => document.querySelector('[data-testid=script-counts]').textContent.startsWith(n)",
                           arg=f"{len(SCRIPT.strip()):,} characters")
    expected = _post(server, "/api/preview", {"text": SCRIPT, "engine": "auto", "voice": None})["segments"]
    tid("preview-button").click()
    page.wait_for_selector("[data-testid=preview-row]")
    assert page.locator("[data-testid=preview-row]").count() == len(expected)
    counts = tid("preview-counts").inner_text()
    assert counts.startswith(f"{len(expected)} segments")
    assert "characters" in counts and "about" in counts
    assert page.locator("[data-testid=preview-row]").first.inner_text().count("The Lighthouse Keeper") == 1

    # --- generate with streaming on: the log advances and the player has audio mid-job
    assert tid("streaming-toggle").is_checked()
    tid("generate-button").click()
    page.wait_for_function("document.querySelector('[data-testid=job-id]').textContent.length > 0")
    job_id = tid("job-id").inner_text()
    created = _get(server, f"/api/jobs/{job_id}")
    assert created["streaming"] is True
    assert created["output"]["format"] == "mp3" and created["output"]["loudness"] == -14
    assert created["output"]["trim"] is True

    playable_while_running = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        progress_lines = page.locator("[data-testid=log-line][data-kind=done]").count()
        audio = _audio_state(page)
        playable = audio["readyState"] >= 2 or audio["buffered"] > 0
        state = _get(server, f"/api/jobs/{job_id}")  # asked after the audio was seen
        if playable and progress_lines >= 1 and state["state"] in ("queued", "running"):
            playable_while_running = {"audio": audio, "done": state["done"], "total": state["total"]}
            break
        if state["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.15)
    assert playable_while_running, f"the player had no audio while the job ran: {_audio_state(page)}"
    assert playable_while_running["done"] < playable_while_running["total"]
    assert "/audio" in playable_while_running["audio"]["src"]
    print(f"audio playable while the job ran: {playable_while_running}")

    page.wait_for_selector("[data-testid=job-state-badge][data-state=done]", timeout=120_000)
    job = _get(server, f"/api/jobs/{job_id}")
    assert job["state"] == "done" and job["done"] == job["total"] == len(expected)
    lines = page.locator("[data-testid=log-line]").all_inner_texts()
    segment_lines = [line for line in lines if "s of audio" in line and "RTF" in line and "ETA" in line]
    assert len(segment_lines) >= 2, lines
    assert any("speaking:" in line for line in lines)
    assert f"[{len(expected)}/{len(expected)}]" in segment_lines[-1]
    assert tid("job-progress-text").inner_text().startswith(f"{len(expected)}/{len(expected)} segments")
    assert page.locator("[data-testid^=segment-row-]").count() == len(expected)
    page.wait_for_function(
        "[...document.querySelectorAll('[data-testid^=segment-state-]')].every(b => b.dataset.state === 'done')")

    # --- edit one segment and regenerate it: pending -> done, and the API has the new text
    index = next(s["index"] for s in expected if not s["chapter"])
    page.evaluate("""(i) => {
        window.__segStates = [];
        const row = document.querySelector(`[data-testid=segment-row-${i}]`);
        const seen = () => { const b = row.querySelector('[data-testid^=segment-state-]');
                             if (b) window.__segStates.push(b.dataset.state); };
        new MutationObserver(seen).observe(row, {subtree: true, childList: true});
    }""", index)
    tid(f"segment-edit-{index}").click()
    tid(f"segment-textarea-{index}").fill(NEW_TEXT)
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        tid(f"segment-regenerate-{index}").click()
    assert patched.value.ok
    assert patched.value.json()["state"] == "pending"
    page.wait_for_function(
        f"document.querySelector('[data-testid=segment-text-{index}]')?.textContent === {json.dumps(NEW_TEXT)}"
        f" && document.querySelector('[data-testid=segment-state-{index}]')?.dataset.state === 'done'"
        " && document.querySelector('[data-testid=job-state-badge]')?.dataset.state === 'done'",
        timeout=60_000)
    states = page.evaluate("window.__segStates")
    assert "pending" in states and states[-1] == "done", states
    segment = _get(server, f"/api/jobs/{job_id}/segments")[index]
    assert segment["text"] == NEW_TEXT and segment["state"] == "done"
    assert _get(server, f"/api/jobs/{job_id}")["state"] == "done"

    # --- the report of the rebuilt narration: measured loudness, true peak, length, format
    report = _get(server, f"/api/jobs/{job_id}")["report"]
    measured = report["loudness"]
    page.wait_for_function(
        "(s) => document.querySelector('[data-testid=job-report-line]')?.textContent.endsWith(s)",
        arg=f" · {report['format']}")
    line = tid("job-report-line").inner_text()
    match = re.fullmatch(r"(−?\d+\.\d) LUFS, true peak (−?\d+\.\d) dBTP · target −14 LUFS · with pauses (\d+):(\d\d) · (.+)", line)
    assert match, line
    number = lambda text: float(text.replace("−", "-"))  # noqa: E731
    assert abs(number(match[1]) - measured["integrated_lufs"]) < 0.06, (line, measured)
    assert abs(number(match[2]) - measured["true_peak_dbtp"]) < 0.06, (line, measured)
    assert abs(int(match[3]) * 60 + int(match[4]) - report["duration_s"]) <= 1, (line, report)
    assert match[5] == report["format"] == "mp3, 96 kbit/s"
    assert abs(measured["integrated_lufs"] + 14) < 1.5, measured  # evened to YouTube's level
    print(f"report: {line}")
    # One heading is one chapter: YouTube wants three, and the UI says so.
    assert report["warnings"] and tid("job-warnings").inner_text() == "\n".join(report["warnings"])

    # --- downloads: the chosen format, the WAV, SRT, VTT and the chapter list; nothing else
    kinds = page.locator("[data-testid=job-downloads] a").evaluate_all("links => links.map(a => a.dataset.kind)")
    assert kinds == ["audio", "wav", "srt", "vtt", "chapters"], kinds
    fetched = {}
    for name, media in (("job-download-mp3", "audio/mpeg"), ("job-vtt", "text/vtt"), ("job-chapters", "text/plain")):
        response = page.request.get(tid(name).evaluate("a => a.href"))
        assert response.status == 200, (name, response.status)
        assert response.headers["content-type"].split(";")[0] == media, response.headers
        fetched[name] = response.body()
    with av.open(io.BytesIO(fetched["job-download-mp3"])) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        rate = stream.rate
    assert abs(samples / rate - report["duration_s"]) < 0.2, (samples / rate, report["duration_s"])
    assert fetched["job-vtt"].startswith(b"WEBVTT")
    assert fetched["job-chapters"].decode() == "00:00 The Lighthouse Keeper\n"

    # --- history lists the job with its report and downloads
    page.wait_for_selector(f"[data-testid=history-row-{job_id}][data-state=done]")
    assert tid(f"history-download-{job_id}").is_visible()
    assert tid(f"history-download-mp3-{job_id}").is_visible() and tid(f"history-vtt-{job_id}").is_visible()
    page.wait_for_function(
        "([id, line]) => document.querySelector(`[data-testid=history-report-${id}-line]`)?.textContent === line",
        arg=[job_id, line])

    # --- download the narration and decode it
    download_link = tid("job-download")
    page.wait_for_function("document.querySelector('[data-testid=job-download]').getAttribute('aria-disabled') === 'false'")
    with page.expect_download() as info:
        download_link.click()
    wav_path = tmp_path / "narration.wav"
    info.value.save_as(wav_path)
    audio_info = sf.info(str(wav_path))
    assert audio_info.duration > 30, audio_info  # ~2 minutes of speech

    # The screenshot is for a human to look at (kept in pytest's tmp dir, never committed).
    page.screenshot(path=str(tmp_path / "webui.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'webui.png'}")
    assert not errors, errors
    context.close()
    print(f"took {time.monotonic() - started:.1f} s")


@pytest.mark.timeout(120)
def test_api_key_is_asked_for_once_and_sent(tmp_path, browser):
    """With --api-key: /?key= opens the UI (the key leaves the address bar). When the key stops
    working (the server restarts with a new one) the next request brings up one prompt; the
    new key goes out as a Bearer header and as ?key= on the URLs the browser loads itself
    (EventSource, <audio>)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    tid = lambda name: page.get_by_test_id(name)  # noqa: E731

    with _serve(data_dir, "--api-key", "first-key") as base:
        page.goto(f"{base}/?key=first-key")
        page.wait_for_selector("body[data-ready=true]")
        assert "key=" not in page.url
        assert tid("engine-cloning-piper").is_visible()  # /api/engines answered
    port = int(base.rsplit(":", 1)[1])

    with _serve(data_dir, "--api-key", "second-key", port=port):
        tid("script-input").fill("A short line to check the key. It is spoken once, and then the test ends.")
        tid("preview-button").click()
        page.wait_for_selector("[data-testid=key-dialog][open]")
        tid("key-input").fill("second-key")
        tid("key-submit").click()
        page.wait_for_selector("[data-testid=preview-row]")
        assert page.locator("[data-testid=key-dialog][open]").count() == 0
        assert page.evaluate("sessionStorage.getItem('indextts-yt.key')") == "second-key"

        since = len(sent)
        tid("generate-button").click()
        page.wait_for_selector("[data-testid=job-state-badge][data-state=done]", timeout=60_000)
        assert page.locator("[data-testid=log-line][data-kind=done]").count() >= 1  # SSE came through
        job_calls = [auth for url, auth in sent[since:] if "/api/jobs" in url and "?" not in url]
        assert job_calls and all(auth == "Bearer second-key" for auth in job_calls)
        assert any("/events?key=second-key" in url for url, _ in sent)
        assert any("/audio?key=second-key" in url for url, _ in sent)
        assert not errors, errors
    context.close()
