"""The web UI at a desktop width and at a phone's (390 px), in English and 中文: nothing wider
than the screen, the preset pickers wide enough for their label, each language's own words
(the server's English reasons labelled in the 中文 page), a cancelled job's segments without
Edit (the job's `actions` decide), and the two lengths of a finished job saying which one has
the pauses.

The real `indextts-yt serve` (embedded piper, deterministic options) in a subprocess, driven by
Debian's Chromium, as tests/test_webui.py.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from conftest import DETERMINISTIC

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SHORT = "# Chapter One\n\nThe studio reads long scripts. It splits them into segments.\n\nEvery finished segment is kept."
LONG = " ".join(f"This is sentence number {i} of a long narration." for i in range(200))
# The longest preset name each width has room for (a phone: with "Preset: " before it).
PRESET_NAMES = {"desktop": "Calm audiobook narration, slower (YouTube)", "phone": "Calm audiobook, slower"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# Every visible element outside the tables' own scroll boxes (.table-wrap) lies within the
# screen; the page itself does not scroll sideways.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.parentElement.closest('.table-wrap')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.left < -0.5 || r.right > width + 0.5) {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${el.dataset.testid || ''}: ${r.left}-${r.right}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, out};
}"""
# The width a <select> needs to show its chosen option whole, and the width it has.
SELECT_NEEDS_JS = """(select) => {
  const probe = document.createElement('select');
  probe.append(select.selectedOptions[0].cloneNode(true));
  probe.style.cssText = 'width: max-content; max-width: none; min-width: 0; flex: none; position: absolute;';
  select.parentElement.append(probe);
  const need = probe.getBoundingClientRect().width;
  probe.remove();
  return {need, has: select.getBoundingClientRect().width, text: select.selectedOptions[0].text};
}"""


def _wait(client: httpx.Client, job_id: str, states: tuple[str, ...], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, f"job not {states} in {timeout} s: {job}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A server with a finished job, a cancelled one (all its segments pending) and a preset
    for each width; the IndexTTS engines have no weights (unavailable, with a reason)."""
    root = tmp_path_factory.mktemp("webui-layout")
    with serve_cli(root / "data", "--checkpoints", str(root / "no-weights")) as client:
        done = client.post("/api/jobs", json={"text": SHORT, "title": "A finished narration with a long title",
                                              "options": DETERMINISTIC}).json()
        cancelled = client.post("/api/jobs", json={"text": LONG, "title": "Cancelled", "options": DETERMINISTIC}).json()
        cancelled = client.post(f"/api/jobs/{cancelled['id']}/cancel").json()
        for name in PRESET_NAMES.values():
            assert client.post("/api/presets", json={"name": name, "settings": {}}).status_code == 201
        done = _wait(client, done["id"], ("done",))
        cancelled = _wait(client, cancelled["id"], ("cancelled",))
        yield {"client": client, "done": done, "cancelled": cancelled}


def _page(browser, studio, viewport: str, job_id: str | None = None):  # noqa: F811
    path = f"/#job={job_id}" if job_id else "/"
    page, errors, tid = open_ui(browser, studio["client"], path=path, viewport=VIEWPORTS[viewport])
    if job_id:
        page.wait_for_selector(f"[data-testid=job-id]:text-is('{job_id}')")
    return page, errors, tid


def _fits(page) -> None:
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["innerWidth"], fit
    assert not fit["out"], fit["out"]


def _clock(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_page_fits_the_screen(browser, studio, viewport):  # noqa: F811
    """No sideways scrolling; the job history fits the screen (stacked on a phone) without a
    scroll box of its own; the preset pickers show a chosen preset's name whole."""
    done, cancelled = studio["done"], studio["cancelled"]
    page, errors, tid = _page(browser, studio, viewport, done["id"])
    page.wait_for_selector("[data-testid=job-report-line]")
    for job in (done, cancelled):
        page.wait_for_selector(f"[data-testid=history-row-{job['id']}]")
    page.wait_for_selector("[data-testid=segment-row-0]")

    for lang in ("en", "zh-CN"):
        if lang == "zh-CN":
            tid("lang-toggle").click()
            page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        _fits(page)
        history = page.locator(".history .table-wrap")
        box = history.evaluate("w => ({scrollWidth: w.scrollWidth, clientWidth: w.clientWidth})")
        assert box["scrollWidth"] <= box["clientWidth"], box
        right = page.evaluate("document.documentElement.clientWidth")
        outside = history.evaluate("""(w, right) => [...w.querySelectorAll('*')]
            .filter(e => { const r = e.getBoundingClientRect(); return r.width && (r.left < 0 || r.right > right); })
            .map(e => e.outerHTML.slice(0, 80))""", right)
        assert not outside, outside

        # The legend and labels of both pickers are whole.
        for selector in ("[data-testid=presets-panel] legend", ".batch-preset label"):
            label = page.locator(selector)
            size = label.evaluate("e => ({scrollWidth: e.scrollWidth, clientWidth: e.clientWidth, text: e.textContent})")
            assert size["text"] and size["scrollWidth"] <= size["clientWidth"], (selector, size)

        # A chosen preset's name is shown whole.
        name = PRESET_NAMES[viewport]
        tid("preset-select").select_option(name)
        tid("batch-preset").select_option(name)
        for picker in ("preset-select", "batch-preset"):
            size = tid(picker).evaluate(SELECT_NEEDS_JS)
            assert name in size["text"] and size["has"] >= size["need"], (picker, size)
        _fits(page)
    assert not errors, errors
    page.context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_engine_reasons_in_the_page_language(browser, studio, viewport):  # noqa: F811
    """The English page has no Chinese in its engine list and cloning note; the 中文 page
    gives the server's English reason inside a Chinese label, marked lang=en, with its
    commands as code; the tooltips say the same."""
    engines = studio["client"].get("/api/engines").json()
    missing = [e for e in engines if e["available"] is False]
    assert missing, engines  # no weights: the IndexTTS engines cannot run
    page, errors, tid = _page(browser, studio, viewport)

    listed = tid("engine-info").inner_text()
    assert "is not available" in listed and not CJK.search(listed), listed
    note = tid("clone-note").inner_text()
    assert note and not CJK.search(note), note
    for e in missing:
        for item in (tid(f"engine-unavailable-{e['name']}"), tid(f"voice-unavailable-{e['name']}")):
            title = item.get_attribute("title")
            assert title.startswith(f"{e['name']} is not available: ") and not CJK.search(title), title

    tid("lang-toggle").click()
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert CJK.search(tid("clone-note").inner_text())
    for e in missing:
        name, reason = e["name"], e["reason"]
        item = tid(f"engine-unavailable-{name}")
        text = item.inner_text()
        assert text.startswith(f"{name} 不可用"), text
        shown = tid(f"engine-reason-{name}")
        assert shown.get_attribute("lang") == "en"
        assert shown.inner_text() == reason.replace("`", ""), shown.inner_text()
        assert shown.locator("code").all_inner_texts() == reason.split("`")[1::2]
        label = text.replace(shown.inner_text(), "").replace(name, "")
        assert CJK.search(label) and not re.search(r"[A-Za-z]", label), label
        for tip in (item, tid(f"voice-unavailable-{name}")):
            title = tip.get_attribute("title")
            assert title.startswith(f"{name} 不可用") and title.endswith(reason), title
    _fits(page)
    assert not errors, errors
    page.context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_cancelled_job_offers_no_edit(browser, studio, viewport):  # noqa: F811
    """Edit follows the job's `actions`: none on a cancelled job's (pending) segments, on every
    segment of a finished one."""
    done, cancelled = studio["done"], studio["cancelled"]
    assert "edit" not in cancelled["actions"] and "edit" in done["actions"]
    page, errors, tid = _page(browser, studio, viewport, cancelled["id"])
    rows = page.locator("[data-testid^=segment-row-]")
    page.wait_for_function("n => document.querySelectorAll('[data-testid^=segment-row-]').length === n",
                           arg=cancelled["total"])
    assert cancelled["total"] > 1 and rows.count() == cancelled["total"]
    # Cancelled while it waited for the worker: its segments are (all but, by a rare race, one) pending.
    assert page.locator("[data-testid^=segment-state-][data-state=pending]").count() >= cancelled["total"] - 1
    assert page.locator("[data-role=edit]").count() == cancelled["total"]
    assert page.locator("[data-role=edit]:visible").count() == 0

    tid(f"history-open-{done['id']}").click()
    page.wait_for_selector(f"[data-testid=job-id]:text-is('{done['id']}')")
    page.wait_for_function("n => document.querySelectorAll('[data-testid^=segment-row-]').length === n",
                           arg=done["total"])
    for i in range(done["total"]):
        tid(f"segment-edit-{i}").wait_for(state="visible")
    tid("segment-edit-0").click()
    tid("segment-textarea-0").wait_for(state="visible")
    _fits(page)
    assert not errors, errors
    page.context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_lengths_are_labelled(browser, studio, viewport):  # noqa: F811
    """A finished job shows the speech alone and the file's length with its pauses, each
    named, in both languages."""
    done = studio["done"]
    speech, file = _clock(done["audio_seconds"]), _clock(done["report"]["duration_s"])
    page, errors, tid = _page(browser, studio, viewport, done["id"])
    page.wait_for_selector("[data-testid=job-report-line]")
    for lang, words in (("en", ("speech ", "with pauses ")), ("zh-CN", ("语音 ", "含停顿 "))):
        if lang == "zh-CN":
            tid("lang-toggle").click()
            page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        progress = tid("job-progress-text").inner_text()
        report = tid("job-report-line").inner_text()
        assert progress.endswith(f" · {words[0]}{speech}"), progress
        assert f" · {words[1]}{file}" in report and words[0] not in report, report
        assert words[1] not in progress, progress
        _fits(page)
    assert not errors, errors
    page.context.close()
