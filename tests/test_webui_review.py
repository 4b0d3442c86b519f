"""The web UI's Review panel end to end: a job whose second segment's first take is cut
(faulty_engines.FaultyPiper, the `cut_clause` fault), checked and flagged but not retaken
(checks mode "flag"); in Chromium the panel lists only that segment, with the words not heard
marked and a player per take; "One more take" makes a second, clean take that is used; "Use
this take" goes back to the first (which approves it); another segment is approved; the API
agrees afterwards. The live log shows the verdicts as they come, and the panel speaks 中文.

The real app and worker under uvicorn in this process (tests/server_util.py), so the test
engine registered here is the one the worker renders with; real speech, the real checks.
"""

from __future__ import annotations

import pytest
from conftest import DETERMINISTIC

from browser_util import browser, open_ui  # noqa: F401 - the fixture
from faulty_engines import FaultyPiper
from indextts_yt.engines import registry
from server_util import serve
from test_review import CALM, ENGINE, ONLY_CUT, PARAGRAPHS

SCRIPT = "\n\n".join([PARAGRAPHS["clean"], PARAGRAPHS["cut_clause"], CALM])
TIMEOUT_MS = 120_000


@pytest.fixture
def faulty_piper():
    registry.register_engine(ENGINE, registry.EngineEntry("faulty_engines", "FaultyPiper"))
    FaultyPiper.FAULTS = dict(ONLY_CUT)
    yield
    FaultyPiper.FAULTS = {}
    registry._ENGINES.pop(ENGINE, None)
    registry._instances.pop(ENGINE, None)


def test_review_panel_lists_the_flagged_segment_and_its_actions_reach_the_api(
        browser, data_dir, faulty_piper):  # noqa: F811 - the fixture
    with serve(data_dir) as srv:
        job = srv.create(SCRIPT, title="review", engine=ENGINE, options=DETERMINISTIC,
                         checks={"mode": "flag"}, streaming=False)
        job_id = job["id"]
        # Held until the page follows it, so the live log sees every verdict.
        assert srv.http.post(f"/api/jobs/{job_id}/pause").status_code == 200
        srv.wait(job_id, lambda j: j["state"] == "paused", what="the job to pause")

        page, errors, tid = open_ui(browser, srv.http, timeout_ms=TIMEOUT_MS, path=f"/#job={job_id}")
        tid("job-resume").click()
        srv.wait_done(job_id, timeout=180)

        # The live log: the cut take heard back and flagged, with what the checks found.
        flagged_line = page.locator("[data-testid=log-line][data-kind=check-flagged]")
        flagged_line.first.wait_for()
        assert flagged_line.first.inner_text().split(" ", 1)[1].startswith("[2] take 1 heard back: flagged — ")
        assert page.locator("[data-testid=log-line][data-kind=check-ok]").count() >= 1

        # Only what needs ears: segment 2, flagged, the words not heard marked, a player.
        item = tid("review-item-1")
        item.wait_for()
        assert tid("review-item-0").count() == 0 and tid("review-item-2").count() == 0
        assert tid("review-status-1").get_attribute("data-status") == "flagged"
        assert tid("review-count-flagged").get_attribute("data-n") == "1"
        assert tid("review-count-ok").get_attribute("data-n") == "2"
        # (the cut words are marked on the script's side: missing, or heard as another word,
        # which is then marked on the heard side too)
        marked = tid("review-script-1").locator("del.diff-missing, mark.diff-changed").all_inner_texts()
        assert "carrots" in " ".join(marked), marked
        changed = tid("review-script-1").locator("mark.diff-changed").count()
        heard = tid("review-heard-1-1").locator("mark.diff-changed, ins.diff-added").count()
        assert heard >= 1 or not changed
        assert "counting his carrots" not in tid("review-heard-1-1").inner_text()
        assert tid("review-take-1-1").locator("audio").count() == 1
        assert tid("review-take-1-1").get_attribute("data-chosen") == "true"
        assert tid("review-retake-1").is_enabled()

        # One more take: rendered with the next seed (clean), checked, used.
        tid("review-retake-1").click()
        take2 = tid("review-take-1-2")
        take2.wait_for()
        page.wait_for_function(
            """() => {
              const take = document.querySelector('[data-testid=review-take-1-2]');
              return take && take.dataset.chosen === 'true' && take.dataset.status === 'ok';
            }""")
        assert tid("review-take-1-1").get_attribute("data-chosen") == "false"
        assert "rejected" in tid("review-take-1-1").get_attribute("class")
        assert take2.locator("audio").count() == 1
        srv.wait_done(job_id, timeout=180)
        page.locator("[data-testid=log-line][data-kind=check-ok]", has_text="[2] take 2").first.wait_for()

        # Use take 1 after all: used and approved (a person listened); the narration is rebuilt.
        tid("review-use-1-1").click()
        page.wait_for_function(
            """() => {
              const take = document.querySelector('[data-testid=review-take-1-1]');
              const status = document.querySelector('[data-testid=review-status-1]');
              return take && take.dataset.chosen === 'true' && status && status.dataset.status === 'approved';
            }""")
        assert tid("review-approve-1").inner_text() == "Withdraw approval"
        srv.wait_done(job_id, timeout=180)

        # Approve another: every segment is listed on asking.
        tid("review-show-all").check()
        tid("review-approve-2").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=review-status-2]')?.dataset.status === 'approved'")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=review-count-approved]').dataset.n === '2'")

        # "Edit text" opens the segment's editor in the table.
        tid("review-edit-0").click()
        tid("segment-textarea-0").wait_for()
        tid("segment-cancel-0").click()

        segments = srv.http.get(f"/api/jobs/{job_id}/segments").json()
        assert [(s["status"], s["take"], s["approved"]) for s in segments] == [
            ("ok", 1, False), ("approved", 1, True), ("approved", 1, True)]
        assert [t["take"] for t in segments[1]["takes"]] == [1, 2]
        assert all(s["can_retake"] for s in segments)
        assert srv.http.get(f"/api/jobs/{job_id}/review").json()["counts"]["approved"] == 2

        # At a phone's width nothing in the panel is wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        wide = page.evaluate("""() => {
          const width = document.documentElement.clientWidth;
          return [...document.querySelectorAll('#review, #review *')]
            .filter((el) => { const r = el.getBoundingClientRect(); return r.width && r.right > width + 0.5; })
            .map((el) => `${el.tagName} ${el.className} ${el.dataset.testid || ''}`);
        }""")
        assert not wide, wide

        # The panel in 中文.
        tid("lang-toggle").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=review-approve-1]').textContent === '撤销确认'")
        assert page.locator("#review-heading").inner_text() == "校对"
        assert not errors, errors
        page.context.close()


def test_a_segment_says_whether_one_more_take_can_differ(faulty_piper):
    # What the panel's "One more take" follows: only an engine with a seed can retake.
    from indextts_yt.server.responses import can_retake

    assert can_retake(ENGINE) is True
    assert can_retake("piper") is False  # says the same again: edit the text instead
    assert can_retake("no-such-engine") is False
