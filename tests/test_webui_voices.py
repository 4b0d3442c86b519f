"""The voice library in the web UI: the real server in a subprocess (with a tiny IndexTTS-2.5
model, so a cloning engine is there to offer library voices to), driven by real Chromium.

In the browser: the engines' own voices are listed read-only; a recording is added with its
name, language, tags and notes (a silent one is refused with the server's line); the voice
picker offers it by name for the cloning engine; it is renamed and re-tagged, played (the
audio really starts), exported (the download is a voice file), refused when imported over
itself, deleted after a confirm, and imported back under its own id. The panel speaks 中文.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest

from browser_util import browser, open_ui  # noqa: F401 - the fixture
from test_clips import encoded, speech, wav_bytes
from test_webui_cloning import ENGINE, _serve, tiny_model  # noqa: F401 - the fixture

RATE = 22_050


@pytest.mark.timeout(240)
def test_voice_library_in_the_browser(tiny_model, browser, tmp_path):  # noqa: F811
    recording = tmp_path / "narrator take 1.flac"
    padding = np.zeros(RATE, np.float32)
    recording.write_bytes(encoded(np.concatenate([padding, speech(3.5, RATE), padding]), RATE,
                                  "flac", "flac"))
    silent = tmp_path / "silence.wav"
    silent.write_bytes(wav_bytes(np.zeros(RATE * 2, np.float32), RATE))

    with _serve(tmp_path, tiny_model) as api:
        page, errors, tid = open_ui(browser, api, accept_downloads=True)
        message = tid("voices-message")

        # --- the engines' own voices: listed, read-only, without edit or delete
        assert tid("voice-row-piper:joe").get_attribute("data-kind") == "bundled"
        assert "piper · bundled" in tid("voice-kind-piper:joe").inner_text()
        assert tid("voice-edit-piper:joe").count() == 0 and tid("voice-delete-piper:joe").count() == 0
        assert tid("voice-row-espeak:cmn").is_visible()

        # --- a silent recording: the server's line, nothing added
        tid("voice-add-file").set_input_files(str(silent))
        assert tid("voice-add-name").input_value() == "silence"  # the file's name to start from
        tid("voice-add-submit").click()
        page.wait_for_selector("[data-testid=voices-message][data-kind=error]")
        assert "silent" in message.inner_text()
        assert api.get("/api/voices", params={"kind": "library"}).json() == []

        # --- add a voice: file, name, language, tags, notes
        tid("voice-add-file").set_input_files(str(recording))
        assert tid("voice-add-file-name").inner_text() == recording.name
        tid("voice-add-name").fill("Narrator")
        tid("voice-add-language").fill("en")
        tid("voice-add-tags").fill("calm, male")
        tid("voice-add-notes").fill("Recorded at home.")
        tid("voice-add-submit").click()
        page.wait_for_selector("[data-testid=voices-message][data-kind=ok]")
        [voice] = api.get("/api/voices", params={"kind": "library"}).json()
        vid = voice["id"]
        assert (voice["name"], voice["language"], voice["tags"], voice["notes"]) == (
            "Narrator", "en", ["calm", "male"], "Recorded at home.")
        assert 3.3 < voice["seconds"] < 3.6  # the 2 s of padding is gone
        shown = re.search(r"\((\d+\.\d) s of speech\)", message.inner_text())
        assert shown and abs(float(shown.group(1)) - voice["seconds"]) < 0.051, message.inner_text()
        assert tid(f"voice-name-{vid}").inner_text() == "Narrator"
        assert tid(f"voice-kind-{vid}").inner_text() == "Library"
        assert tid("voice-add-name").input_value() == ""  # the form is ready for the next one

        # --- the cloning engine's voice picker offers it by name
        option = page.locator(f"#voice-select option[value='{ENGINE}|{vid}']")
        assert option.inner_text().startswith("Narrator (")
        tid("voice-select").select_option(f"{ENGINE}|{vid}")
        assert "Narrator" in tid("clone-status").inner_text()

        # --- rename and re-tag
        tid(f"voice-edit-{vid}").click()
        tid(f"voice-edit-name-{vid}").fill("Storyteller")
        tid(f"voice-edit-tags-{vid}").fill("warm, slow")
        tid(f"voice-save-{vid}").click()
        page.wait_for_function(f"document.querySelector('[data-testid=\"voice-name-{vid}\"]')"
                               "?.textContent === 'Storyteller'")
        got = api.get(f"/api/voices/{vid}").json()
        assert (got["name"], got["tags"], got["language"]) == ("Storyteller", ["warm", "slow"], "en")
        # the picker is redrawn once the clips are reloaded too
        page.wait_for_function(
            f"document.querySelector(\"#voice-select option[value='{ENGINE}|{vid}']\")"
            "?.textContent.startsWith('Storyteller (')")

        # --- play: the recording is fetched and really starts
        with page.expect_response(lambda r: f"/api/voices/{vid}/audio" in r.url) as audio:
            tid(f"voice-play-{vid}").click()
        assert audio.value.ok and audio.value.headers["content-type"] == "audio/wav"
        page.wait_for_selector(f"[data-testid='voice-play-{vid}'][data-playing=true]")
        tid(f"voice-play-{vid}").click()
        page.wait_for_selector(f"[data-testid='voice-play-{vid}'][data-playing=false]")

        # --- export: the link downloads a voice file
        with page.expect_download() as download:
            tid(f"voice-export-{vid}").click()
        assert download.value.suggested_filename == "Storyteller.voice.zip"
        exported = tmp_path / "Storyteller.voice.zip"
        download.value.save_as(exported)
        with zipfile.ZipFile(io.BytesIO(exported.read_bytes())) as z:
            meta = json.loads(z.read("voice.json"))
        assert (meta["name"], meta["clip"], meta["tags"]) == ("Storyteller", vid, ["warm", "slow"])

        # --- importing it over itself: refused, with the way out
        tid("voice-import-file").set_input_files(str(exported))
        page.wait_for_selector("[data-testid=voices-message][data-kind=error]")
        assert "already a voice named 'Storyteller'" in message.inner_text()

        # --- delete, after a confirm
        dialogs: list[str] = []
        page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
        tid(f"voice-delete-{vid}").click()
        tid(f"voice-row-{vid}").wait_for(state="detached")
        assert "Storyteller" in dialogs[0]
        assert api.get(f"/api/voices/{vid}").status_code == 404
        # the picker is redrawn once the clips are reloaded
        page.locator(f"#voice-select option[value='{ENGINE}|{vid}']").wait_for(state="detached")

        # --- import it back: the same voice, the same id
        tid("voice-import-file").set_input_files(str(exported))
        page.wait_for_selector("[data-testid=voices-message][data-kind=ok]")
        assert tid(f"voice-name-{vid}").inner_text() == "Storyteller"
        assert api.get(f"/api/voices/{vid}").json()["tags"] == ["warm", "slow"]

        # --- 中文
        tid("lang-toggle").click()
        assert page.locator("#voices-heading").inner_text() == "音色库"
        assert tid("voice-add-submit").inner_text() == "添加到音色库"
        assert tid(f"voice-kind-{vid}").inner_text() == "音色库"
        assert tid(f"voice-edit-{vid}").inner_text() == "编辑"
        assert "内置" in tid("voice-kind-piper:joe").inner_text()
        assert page.locator("[data-testid=voices-table] th").first.inner_text() == "名称"
        tid("lang-toggle").click()
        assert page.locator("#voices-heading").inner_text() == "Voice library"

        page.screenshot(path=str(tmp_path / "webui-voices.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'webui-voices.png'}")
        assert not errors, errors
        page.context.close()
