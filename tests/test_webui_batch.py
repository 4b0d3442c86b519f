"""End-to-end test of presets, batches and the queue in the web UI: the real server
(`indextts-yt serve`, embedded piper) in a subprocess, driven by real Chromium.

Presets: save the form (speed 1.2, MP3) as a preset, a duplicate name shows the server's
error and offers Replace, the preset applies to a fresh form, its export link gives the
versioned JSON, a version-1 file imports (migrated) and a file with an unknown field shows
the error naming the field; a job made from the form with the preset applied has its
settings. Queue: three .txt/.md files queued as a batch with the preset while a long job
keeps the worker busy (so the queue stays still long enough to reorder); positions and
ETAs, the last one moved to the top, one paused (and resumed), one cancelled, a title opens
the job; once the long job is cancelled the rest finish, made with the preset's settings.
The 中文 switch relabels both panels.

Needs `playwright` (no browser download) and Debian's Chromium, as tests/test_webui.py.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture

SCRIPTS = {
    "alpha.txt": "Alpha is the first script of the batch. It is short.",
    "beta.md": "# Beta\n\nBeta is the second script. It is short too.",
    "gamma.txt": "Gamma is the third script. It ends the batch.",
}
# A job long enough to keep the worker busy while the queue is reordered (it is cancelled).
LONG = " ".join(f"This is sentence number {i} of a long narration that keeps the worker busy."
                for i in range(200))
FINISHED = ("done", "failed", "cancelled")


def _wait(client: httpx.Client, job_id: str, states: tuple[str, ...], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, f"job not {states} in {timeout} s: {job}"
        time.sleep(0.05)


def _made_with_preset(job: dict) -> None:
    assert job["state"] == "done", job
    assert job["settings"]["options"]["speed"] == 1.2, job["settings"]
    assert job["settings"]["max_chars"] == 200 and job["settings"]["pauses"]["clause"] == 0.25
    assert job["output"]["format"] == "mp3", job["output"]


@pytest.mark.timeout(240)
def test_presets_batch_and_queue_in_the_browser(browser, tmp_path):  # noqa: F811
    started = time.monotonic()
    with serve_cli(tmp_path / "data") as api:
        page, errors, tid = open_ui(browser, api, timeout_ms=20_000, accept_downloads=True)
        options = lambda: tid("preset-select").locator("option").all_inner_texts()  # noqa: E731

        # --- save the form as a preset: speed 1.2, segments of 200 characters, 0.25 s clause
        # pauses, MP3
        page.locator("#settings > summary").click()
        assert tid("max-chars").input_value() == ""  # blank: the engine's own limit, shown
        assert tid("max-chars").get_attribute("placeholder") == "400"  # auto picks piper: 400
        assert "blank: the engine's 400" in tid("max-chars-hint").inner_text()
        tid("speed-input").fill("1.2")
        tid("max-chars").fill("200")
        tid("pause-clause").fill("0.25")
        tid("output-format").select_option("mp3")
        tid("preset-save-open").click()
        tid("preset-name").fill("Fast")
        tid("preset-description").fill("Quick MP3 drafts")
        tid("preset-save").click()
        page.wait_for_selector("[data-testid=preset-message][data-kind=ok]")
        assert tid("preset-message").inner_text() == "Saved the preset “Fast”."
        assert "Fast" in options() and tid("preset-select").input_value() == "Fast"
        saved = api.get("/api/presets/Fast").json()
        assert saved["description"] == "Quick MP3 drafts"
        assert saved["settings"]["options"]["speed"] == 1.2
        assert saved["settings"]["max_chars"] == 200 and saved["settings"]["pauses"]["clause"] == 0.25
        assert saved["settings"]["output"]["format"] == "mp3"

        # --- the same name again (any case): the server's error, and Replace
        tid("preset-save-open").click()
        tid("preset-name").fill("fast")
        tid("preset-save").click()
        page.wait_for_selector("[data-testid=preset-message][data-kind=error]")
        assert "already exists" in tid("preset-message").inner_text()
        assert tid("preset-replace").inner_text() == "Replace “Fast”"
        tid("preset-replace").click()
        page.wait_for_selector("[data-testid=preset-message][data-kind=ok]")
        assert not tid("preset-replace").is_visible()
        assert [p["name"] for p in api.get("/api/presets").json()] == ["fast"]
        assert options() == ["— your own settings —", "fast"]

        # --- a fresh form: defaults; picking the preset sets the controls
        tid("settings-reset").click()
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_function("document.querySelectorAll('[data-testid=preset-select] option').length === 2")
        page.locator("#settings > summary").click()
        assert tid("speed-input").input_value() == "1" and tid("output-format").input_value() == "wav"
        assert tid("max-chars").input_value() == "" and tid("pause-clause").input_value() == "0.12"
        assert tid("preset-select").input_value() == ""
        tid("preset-select").select_option("fast")
        assert tid("speed-input").input_value() == "1.2"
        assert tid("max-chars").input_value() == "200" and tid("pause-clause").input_value() == "0.25"
        assert tid("output-format").input_value() == "mp3" and tid("output-bitrate").is_visible()
        assert tid("preset-message").inner_text() == "Applied “fast”."

        # --- export: the versioned JSON file
        response = page.request.get(tid("preset-export").evaluate("a => a.href"))
        assert response.status == 200
        assert 'filename="fast.preset.json"' in response.headers["content-disposition"]
        exported = response.json()
        assert exported["schema"] == "indextts-yt/preset" and exported["version"] == 2
        assert exported["name"] == "fast" and exported["settings"]["options"]["speed"] == 1.2

        # --- import: a version-1 file is migrated; an unknown field is named
        old = tmp_path / "old.preset.json"
        old.write_text(json.dumps({"schema": "indextts-yt/preset", "version": 1, "name": "Old",
                                   "engine": "piper", "format": "flac", "max_chars": 300,
                                   "pauses": {"clause": 0.2}}))
        tid("preset-import").set_input_files(str(old))
        page.wait_for_function("[...document.querySelectorAll('[data-testid=preset-select] option')]"
                               ".some(o => o.value === 'Old')")
        assert tid("preset-message").inner_text() == "Imported the preset “Old”."
        assert api.get("/api/presets/Old").json()["settings"]["output"]["format"] == "flac"
        bad = tmp_path / "bad.preset.json"
        bad.write_text(json.dumps({"schema": "indextts-yt/preset", "version": 2, "name": "Bad",
                                   "settings": {"engine": "piper", "spead": 1.5}}))
        tid("preset-import").set_input_files(str(bad))
        page.wait_for_selector("[data-testid=preset-message][data-kind=error]")
        assert "settings.spead" in tid("preset-message").inner_text()
        assert "bad.preset.json" in tid("preset-message").inner_text()
        assert api.get("/api/presets/Bad").status_code == 404

        # --- every setting of the migrated preset is on the form and goes out with the job
        tid("preset-select").select_option("Old")
        assert tid("voice-select").input_value() == "piper|"
        assert tid("output-format").input_value() == "flac" and tid("speed-input").input_value() == "1"
        assert tid("max-chars").input_value() == "300" and tid("pause-clause").input_value() == "0.2"
        assert tid("pause-sentence").input_value() == "0.35"  # not in the preset: the default
        tid("script-input").fill("One short line, spoken with the preset.")
        # a longest segment out of range: the form's line, nothing sent
        tid("max-chars").fill("5")
        tid("generate-button").click()
        page.wait_for_selector("[data-testid=compose-message][data-kind=error]")
        assert "20 to 2000" in tid("compose-message").inner_text()
        assert api.get("/api/jobs").json() == []
        tid("max-chars").fill("300")
        # The answer, not just the request: else the next job's expect_response below could
        # catch this job's answer, still on its way while the button waits to be enabled.
        with page.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as sent:
            tid("generate-button").click()
        assert sent.value.status == 201, sent.value.text()
        body = sent.value.request.post_data_json
        assert body["max_chars"] == 300 and body["pauses"]["clause"] == 0.2 and body["format"] == "flac"

        # --- a job from the form with the preset applied has its settings
        tid("preset-select").select_option("fast")
        assert tid("voice-select").input_value() == "auto|" and tid("output-format").input_value() == "mp3"
        with page.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as created:
            tid("generate-button").click()
        assert created.value.status == 201, created.value.text()
        _made_with_preset(_wait(api, created.value.json()["id"], FINISHED))

        # --- a long job keeps the worker busy; the batch queues behind it
        r = api.post("/api/jobs", json={"text": LONG, "title": "Long", "engine": "piper"})
        assert r.status_code == 201, r.text
        long_id = r.json()["id"]
        _wait(api, long_id, ("running",))
        files = []
        for name, text in SCRIPTS.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
            files.append(str(tmp_path / name))
        tid("batch-files").set_input_files(files)
        assert tid("batch-chosen").inner_text() == "3 scripts: alpha.txt, beta.md, gamma.txt"
        assert tid("batch-submit").inner_text() == "Queue 3 scripts"
        tid("batch-preset").select_option("fast")
        with page.expect_response(lambda r: r.url.endswith("/api/batches")) as queued:
            tid("batch-submit").click()
        assert queued.value.status == 201, queued.value.text()
        batch = queued.value.json()
        ids = {job["title"]: job["id"] for job in batch["jobs"]}
        alpha, beta, gamma = ids["alpha"], ids["beta"], ids["gamma"]
        page.wait_for_selector("[data-testid=batch-message][data-kind=ok]")
        assert batch["batch_id"] in tid("batch-message").inner_text()

        # Positions 1-3 after the running job, each with an ETA (measured: the job above).
        for position, job_id in enumerate((alpha, beta, gamma), 1):
            page.wait_for_selector(f"[data-testid=queue-row-{job_id}][data-position='{position}']")
            assert tid(f"queue-position-{job_id}").inner_text() == str(position)
            assert re.fullmatch(r"\d\d:\d\d", tid(f"queue-eta-{job_id}").inner_text())
        assert tid(f"queue-row-{long_id}").get_attribute("data-state") == "running"
        assert tid(f"queue-position-{long_id}").inner_text() == "now"
        assert tid(f"queue-up-{alpha}").is_disabled() and tid(f"queue-down-{gamma}").is_disabled()

        # --- the last to the top, one step at a time
        tid(f"queue-up-{gamma}").click()
        page.wait_for_selector(f"[data-testid=queue-row-{gamma}][data-position='2']")
        tid(f"queue-up-{gamma}").click()
        page.wait_for_selector(f"[data-testid=queue-row-{gamma}][data-position='1']")
        queue = api.get("/api/queue").json()["jobs"]
        assert [(e["id"], e["position"]) for e in queue if e["state"] == "queued"] == [
            (gamma, 1), (alpha, 2), (beta, 3)]
        assert page.locator("#queue-rows > tr").evaluate_all("rows => rows.map(r => r.dataset.id)")[:4] == [
            long_id, gamma, alpha, beta]

        # --- pause one, cancel one (confirmed), open one in the narration view
        tid(f"queue-pause-{alpha}").click()
        page.wait_for_selector(f"[data-testid=queue-row-{alpha}][data-state=paused]")
        assert api.get(f"/api/jobs/{alpha}").json()["state"] == "paused"
        assert tid(f"queue-eta-{alpha}").inner_text() == "–"
        page.once("dialog", lambda dialog: dialog.accept())
        tid(f"queue-cancel-{beta}").click()
        page.wait_for_selector(f"[data-testid=queue-row-{beta}]", state="detached")
        assert api.get(f"/api/jobs/{beta}").json()["state"] == "cancelled"
        tid(f"queue-open-{gamma}").click()
        page.wait_for_function(f"document.querySelector('[data-testid=job-id]').textContent === '{gamma}'")

        # --- 中文: both panels relabelled
        tid("lang-toggle").click()
        assert tid("presets-panel").locator("legend").first.inner_text() == "预设"
        assert tid("preset-save-open").inner_text() == "另存为预设…"
        assert page.locator("#queue-heading").inner_text() == "批量与队列"
        assert tid("batch-submit").inner_text() == "加入队列"
        assert tid(f"queue-resume-{alpha}").inner_text() == "继续"
        assert tid(f"queue-state-{alpha}").inner_text() == "已暂停"
        assert tid(f"queue-position-{long_id}").inner_text() == "进行中"
        assert tid("queue-workers").inner_text() == "在服务器进程内逐段生成。"
        tid("lang-toggle").click()
        assert page.locator("#queue-heading").inner_text() == "Batch and queue"
        # No workers: the queue says takes are rendered here (with workers: tests/test_workers.py)
        assert api.get("/api/queue").json()["workers"] is None
        assert tid("queue-workers").inner_text() == \
            "Rendered in the server's own process, one segment at a time."

        # --- resume the paused one, stop the long job: the rest finish with the preset
        tid(f"queue-resume-{alpha}").click()
        page.wait_for_selector(f"[data-testid=queue-row-{alpha}][data-state=queued]")
        assert api.post(f"/api/jobs/{long_id}/cancel").status_code == 200
        for job_id in (gamma, alpha):
            job = _wait(api, job_id, FINISHED)
            _made_with_preset(job)
            assert job["batch_id"] == batch["batch_id"]
        page.wait_for_selector("[data-testid=queue-empty]", state="visible")

        page.screenshot(path=str(tmp_path / "webui-batch.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'webui-batch.png'}")
        assert not errors, errors
        page.context.close()
    print(f"took {time.monotonic() - started:.1f} s")
