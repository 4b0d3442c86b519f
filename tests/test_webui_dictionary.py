"""The pronunciation dictionary in the web UI (real server subprocess, real Chromium): an
entry is added, refused with the server's line when its phonemes are bad, said (the audio
and what the engine read), imported from a file with an error naming line and column, and
removed."""

from __future__ import annotations

import pytest

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture

NAME = "Xyloquendra"


@pytest.mark.timeout(240)
def test_dictionary_editor_in_the_browser(browser, tmp_path):  # noqa: F811
    bad = tmp_path / "bad.csv"
    bad.write_text("match,say,kind\nok,fine,respell\nx,a]],ipa\n", encoding="utf-8")
    with serve_cli(tmp_path / "data") as api:
        page, errors, tid = open_ui(browser, api)
        message = tid("dict-message")
        assert "No entries yet" in tid("dict-list").inner_text()

        tid("dict-match").fill(NAME)
        tid("dict-say").fill("kɛnd]]")
        tid("dict-kind").select_option("ipa")
        tid("dict-add").click()
        page.wait_for_function("document.querySelector('[data-testid=dict-message]')"
                               ".dataset.kind === 'error'")
        assert "not in piper's phoneme alphabet" in message.inner_text()

        tid("dict-say").fill("Kendra")
        tid("dict-kind").select_option("respell")
        tid("dict-add").click()
        page.wait_for_selector(f"[data-testid=dict-entry][data-match={NAME}]")
        assert api.get("/api/dictionary").json()["entries"][0]["say"] == "Kendra"

        tid("dict-say-it").click()
        page.wait_for_function("document.querySelector('[data-testid=dict-message]')"
                               ".textContent.includes('Kendra')", timeout=60_000)
        assert "Say Kendra again." in message.inner_text()

        tid("dict-import-file").set_input_files(str(bad))
        page.wait_for_function("document.querySelector('[data-testid=dict-message]')"
                               ".dataset.kind === 'error'")
        assert "line 3, column 4" in message.inner_text()
        assert len(api.get("/api/dictionary").json()["entries"]) == 1  # nothing stored

        tid("dict-remove").click()
        page.wait_for_selector("[data-testid=dict-entry]", state="detached")
        assert api.get("/api/dictionary").json()["entries"] == []
        assert not errors, errors
