"""The cast in the web UI: a cast of two characters with two eSpeak NG voices filled in the
new-narration form, a script with `Pooh: …` lines and a `[voice: Piglet]` direction; the
preview, the job's segment table and its review panel show each speaker in a colour of its own (the narrator
none); a cast the server refuses (a speed, an emotion its engine cannot take) shows its
error; the job's segments, through the API, have each character's voice and speaker; the
form fits a phone's width and has its 中文 labels.
A character's emotion (an emotion clip) reaches the plan on the tiny IndexTTS-2.5 model
(test_webui_cloning.py's); presets carry the cast and the dialogue voice.

The real `indextts-yt serve` in a subprocess, driven by Debian's Chromium (tests/browser_util.py).
The form has no proofreading control, so the test adds `"checks": {"mode": "off"}` to the
job request on its way (the job's cast and voices are what is tested, not Whisper).
"""

from __future__ import annotations

import json
import time

import pytest

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture
from test_webui_cloning import _serve, _speak, _wait_job, tiny_model  # noqa: F401 - the fixture
from test_webui_layout import OVERFLOW_JS

SCRIPT = """# The meeting

The friends met in the wood one morning.

Pooh: Hello, Piglet! How are you today?
Piglet: Oh, hello, Pooh.

[voice: Piglet] Piglet ran home to tell everyone.
[voice: narrator] And the narrator goes on.
"""
# (speaker, engine, voice) of each segment.
WANT = [(None, "piper", "joe"), (None, "piper", "joe"), ("Pooh", "espeak", "en-gb"),
        ("Piglet", "espeak", "en-us"), ("Piglet", "espeak", "en-us"), (None, "piper", "joe")]
COLOUR_JS = "e => getComputedStyle(e).backgroundColor"


def _fill_cast(tid, page, speed: str = "0.9") -> None:
    page.locator("[data-testid=cast-panel] > summary").click()
    tid("cast-add").click()
    tid("cast-add").click()
    tid("cast-name-0").fill("Pooh")
    tid("cast-voice-0").select_option("espeak|en-gb")
    tid("cast-name-1").fill("Piglet")
    tid("cast-voice-1").select_option("espeak|en-us")
    tid("cast-speed-1").fill(speed)


def _one_line(page) -> None:
    """A character's fields and its Remove button share one line (the desktop form)."""
    tops = page.evaluate("() => [...document.querySelectorAll('.cast-row')[0].children]"
                         ".map(e => Math.round(e.getBoundingClientRect().bottom))")
    assert len(set(tops)) == 1, tops


def _without_checks(page) -> None:
    """Jobs the page starts have proofreading off (see the module's docstring)."""
    def without_checks(route):
        body = json.loads(route.request.post_data)
        route.continue_(post_data=json.dumps({**body, "checks": {"mode": "off"}}))

    page.route("**/api/jobs", lambda route: without_checks(route)
               if route.request.method == "POST" else route.continue_())


def _speakers(page, prefix: str) -> dict[int, tuple[str, str]]:
    """Row index -> (speaker, background colour) of every speaker tag ``prefix-N``."""
    tags = page.locator(f"[data-testid^={prefix}-]")
    out = {}
    for i in range(tags.count()):
        tag = tags.nth(i)
        index = int(tag.get_attribute("data-testid").rsplit("-", 1)[1])
        out[index] = (tag.inner_text(), tag.evaluate(COLOUR_JS))
    return out


def _check_colours(speakers: dict[int, tuple[str, str]]) -> None:
    assert {i: name for i, (name, _) in speakers.items()} == \
        {i: s for i, (s, _, _) in enumerate(WANT) if s}
    colours = {name: colour for name, colour in speakers.values()}
    assert all(c not in ("rgba(0, 0, 0, 0)", "transparent") for c in colours.values()), colours
    assert colours["Pooh"] != colours["Piglet"], colours  # one colour per speaker, each its own
    assert len(set(speakers.values())) == 2  # the same speaker: the same colour on every row


@pytest.mark.timeout(180)
def test_a_cast_in_the_form_speaks_its_lines(browser, tmp_path):  # noqa: F811
    with serve_cli(tmp_path / "data", "--checkpoints", str(tmp_path / "no-weights")) as api:
        page, errors, tid = open_ui(browser, api)
        _fill_cast(tid, page, speed="9")
        _one_line(page)
        assert tid("cast-count").inner_text() == "2 characters"
        tid("voice-select").select_option("piper|joe")
        tid("script-input").fill(SCRIPT)

        # A cast the server refuses: its own error, as it is (an emotion eSpeak cannot take,
        # then, that one cleared, a speed out of bounds).
        tid("cast-emotion-0").fill("happy")
        tid("preview-button").click()
        page.wait_for_selector("[data-testid=compose-message][data-kind=error]")
        assert tid("compose-message").inner_text() == \
            "cast 'Pooh': espeak cannot take the emotion 'happy' (it has no emotion control)"
        tid("cast-emotion-0").fill("")
        tid("preview-button").click()
        page.wait_for_function("document.querySelector('[data-testid=compose-message]')"
                               ".textContent.startsWith(\"cast 'Piglet'\")")
        assert tid("compose-message").inner_text() == \
            "cast 'Piglet': setting 'speed' must be between 0.5 and 2, got 9"
        # One the form refuses itself: a character without a voice.
        tid("cast-add").click()
        tid("cast-name-2").fill("Owl")
        tid("preview-button").click()
        page.wait_for_function("document.querySelector('[data-testid=compose-message]')"
                               ".textContent === 'Choose a voice for Owl.'")
        tid("cast-remove-2").click()
        tid("cast-speed-1").fill("0.9")

        # The preview: each character's lines in its colour, the narrator's plain.
        tid("preview-button").click()
        page.wait_for_function(f"document.querySelectorAll('[data-testid=preview-row]').length === {len(WANT)}")
        _check_colours(_speakers(page, "preview-speaker"))
        rows = page.locator("[data-testid=preview-row]")
        assert "espeak · en-gb" in rows.nth(2).inner_text()
        assert "Hello, Piglet!" in rows.nth(2).inner_text()

        _without_checks(page)
        tid("generate-button").click()
        page.wait_for_selector("[data-testid=segment-row-5]")
        job_id = tid("job-id").inner_text()
        deadline = time.monotonic() + 120
        while (job := api.get(f"/api/jobs/{job_id}").json())["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == "done", job
        assert job["settings"]["checks"]["mode"] == "off"
        assert job["settings"]["cast"]["Piglet"] == {"voice": "en-us", "engine": "espeak",
                                                     "speed": 0.9, "emotion": None}
        segments = api.get(f"/api/jobs/{job_id}/segments").json()
        assert [(s["speaker"], s["engine"], s["voice"]) for s in segments] == WANT
        assert [s["settings"].get("speed") for s in segments if s["speaker"] == "Piglet"] == [0.9, 0.9]
        # The job's segment table: the same speakers in the same colours as the preview.
        preview = _speakers(page, "preview-speaker")
        page.wait_for_selector("[data-testid=segment-speaker-4]")
        assert _speakers(page, "segment-speaker") == preview
        # The review panel (proofreading off: every segment not checked) names them too.
        page.wait_for_selector("[data-testid=review-speaker-4]")
        assert _speakers(page, "review-speaker") == preview

        # 中文: the cast's own labels.
        tid("lang-toggle").click()
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        assert tid("cast-panel").locator("summary").inner_text().startswith("角色")
        assert not errors, errors
        page.context.close()

        # A phone's width: the cast rows fit the screen.
        page, errors, tid = open_ui(browser, api, viewport={"width": 390, "height": 844})
        _fill_cast(tid, page)
        fit = page.evaluate(OVERFLOW_JS)
        assert fit["scrollWidth"] <= fit["innerWidth"] and not fit["out"], fit
        assert not errors, errors
        page.context.close()


@pytest.mark.timeout(120)
def test_a_preset_carries_the_cast(browser, tmp_path):  # noqa: F811
    with serve_cli(tmp_path / "data", "--checkpoints", str(tmp_path / "no-weights")) as api:
        # Presets saved elsewhere: one without dialogue (as before the cast had it), one whose
        # quotes go to the narrator (null), which the form has no choice for.
        for name, extra in (("Plain", {}), ("Narrator quotes", {"dialogue": {"voice": None}})):
            r = api.post("/api/presets", json={"name": name, "settings": {"engine": "piper", "voice": "joe", **extra}})
            assert r.status_code == 201, r.text
        page, errors, tid = open_ui(browser, api)
        _fill_cast(tid, page)
        tid("dialogue-voice").select_option("Piglet")
        tid("voice-select").select_option("piper|joe")
        page.locator("#settings > summary").click()
        tid("preset-save-open").click()
        tid("preset-name").fill("Pooh cast")
        tid("preset-save").click()
        page.wait_for_selector("[data-testid=preset-message][data-kind=ok]")
        saved = api.get("/api/presets/Pooh cast").json()["settings"]
        cast = saved["cast"]
        assert cast["Pooh"]["voice"] == "en-gb" and cast["Pooh"]["engine"] == "espeak"
        assert cast["Piglet"]["voice"] == "en-us" and cast["Piglet"]["speed"] == 0.9
        assert saved["dialogue"] == {"voice": "Piglet", "attribution": True}

        # The cast cleared (the dialogue voice, a character gone, with it): applying the
        # preset brings its rows and its dialogue voice back.
        tid("cast-remove-1").click()
        tid("cast-remove-0").click()
        assert tid("cast-count").inner_text() == ""
        assert tid("dialogue-voice").input_value() == ""
        tid("preset-select").select_option("")
        tid("preset-select").select_option("Pooh cast")
        rows = {tid(f"cast-name-{i}").input_value(): (tid(f"cast-voice-{i}").input_value(),
                                                      tid(f"cast-speed-{i}").input_value())
                for i in range(2)}
        assert rows == {"Pooh": ("espeak|en-gb", ""), "Piglet": ("espeak|en-us", "0.9")}
        assert tid("cast-count").inner_text() == "2 characters"
        assert tid("dialogue-voice").input_value() == "Piglet"

        # A preset without dialogue turns it off; one the form cannot show says so.
        tid("preset-select").select_option("Plain")
        page.wait_for_selector("[data-testid=preset-message][data-kind=ok]")
        assert tid("dialogue-voice").input_value() == ""
        tid("preset-select").select_option("Pooh cast")
        assert tid("dialogue-voice").input_value() == "Piglet"
        tid("preset-select").select_option("Narrator quotes")
        page.wait_for_selector("[data-testid=preset-message][data-kind=error]")
        assert "its dialogue voice narrator is not among the choices here, so dialogue is off" in \
            tid("preset-message").inner_text()
        assert tid("dialogue-voice").input_value() == ""
        # A preset with attributions off unticks the box; one without dialogue ticks it.
        r = api.post("/api/presets", json={"name": "Quotes to Piglet", "settings": {
            **saved, "dialogue": {"voice": "Piglet", "attribution": False}}})
        assert r.status_code == 201, r.text
        page.reload()
        tid("preset-select").select_option("Quotes to Piglet")
        page.wait_for_selector("[data-testid=preset-message][data-kind=ok]")
        assert tid("dialogue-voice").input_value() == "Piglet"
        assert not tid("dialogue-attribution").is_checked()
        tid("preset-select").select_option("Plain")
        assert tid("dialogue-attribution").is_checked()
        assert not errors, errors
        page.context.close()


EMOTIVE = "The friends met in the wood.\n\nPooh: Hello, Piglet!\n"


@pytest.mark.timeout(240)
def test_a_character_speaks_with_an_emotion(tiny_model, browser, tmp_path):  # noqa: F811
    with _serve(tmp_path, tiny_model) as api:
        clips = {}
        for name, text in (("pooh", "Hello there, this is Pooh, reading a short sentence."),
                           ("excited", "Oh wow, what a wonderful surprise this is!")):
            with open(_speak(api, text, tmp_path / f"{name}.wav"), "rb") as f:
                r = api.post("/api/clips", files={"file": (f"{name}.wav", f, "audio/wav")})
            assert r.status_code == 201, r.text
            clips[name] = r.json()["id"]
        page, errors, tid = open_ui(browser, api)
        previews = []
        page.on("request", lambda r: previews.append(json.loads(r.post_data))
                if r.url.endswith("/api/preview") else None)
        tid("voice-select").select_option("piper|joe")
        tid("script-input").fill(EMOTIVE)
        page.locator("[data-testid=cast-panel] > summary").click()
        tid("cast-add").click()
        tid("cast-name-0").fill("Pooh")
        tid("cast-voice-0").select_option(f"indextts2.5|{clips['pooh']}")

        # Words: IndexTTS-2.5 takes an emotion from a clip only, and the server says so.
        tid("cast-emotion-0").fill("happy")
        tid("preview-button").click()
        page.wait_for_selector("[data-testid=compose-message][data-kind=error]")
        assert tid("compose-message").inner_text() == \
            "cast 'Pooh': indextts2.5 cannot take the emotion 'happy' (it takes an emotion clip id)"
        # The field offers the studio's clips by id.
        offered = page.eval_on_selector_all("#cast-emotion-clips option", "os => os.map(o => o.value)")
        assert sorted(offered) == sorted(clips.values())
        tid("cast-emotion-0").fill(clips["excited"])
        tid("preview-button").click()
        page.wait_for_function("document.querySelectorAll('[data-testid=preview-row]').length === 2")
        assert previews[-1]["cast"]["Pooh"] == {"voice": clips["pooh"], "engine": "indextts2.5",
                                                "emotion": clips["excited"]}
        assert f"indextts2.5 · {clips['pooh']}" in page.locator("[data-testid=preview-row]").nth(1).inner_text()

        # The job: the character's emotion kept in its settings, and on its segment.
        _without_checks(page)
        tid("generate-button").click()
        page.wait_for_selector("[data-testid=segment-row-1]")
        job_id = tid("job-id").inner_text()
        job = _wait_job(api, job_id, timeout=120)
        assert job["settings"]["cast"]["Pooh"] == {"voice": clips["pooh"], "engine": "indextts2.5",
                                                   "speed": None, "emotion": clips["excited"]}
        segments = api.get(f"/api/jobs/{job_id}/segments").json()
        assert [(s["speaker"], s["engine"], s["settings"].get("emotion_clip")) for s in segments] == \
            [(None, "piper", None), ("Pooh", "indextts2.5", clips["excited"])]

        # A preset keeps it: the row cleared, applying the preset brings the emotion back.
        page.locator("#settings > summary").click()
        tid("preset-save-open").click()
        tid("preset-name").fill("Excited Pooh")
        tid("preset-save").click()
        page.wait_for_selector("[data-testid=preset-message][data-kind=ok]")
        assert api.get("/api/presets/Excited Pooh").json()["settings"]["cast"]["Pooh"]["emotion"] == \
            clips["excited"]
        tid("cast-remove-0").click()
        tid("preset-select").select_option("")
        tid("preset-select").select_option("Excited Pooh")
        assert tid("cast-emotion-0").input_value() == clips["excited"]

        # 中文: the field's label.
        tid("lang-toggle").click()
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        assert "情感" in tid("cast-row-0").inner_text()
        assert not errors, errors
        page.context.close()


DIALOGUE = "“Hello,” said Pooh.\n\n“Who is there?”\n"


def _preview(page, tid) -> list[tuple[str | None, str]]:
    """Preview afresh (the rows shown before are cleared first); (speaker, text) of every
    row."""
    page.evaluate("document.querySelector('#preview-rows').replaceChildren()")
    tid("preview-button").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=preview-row]').length > 0")
    rows = page.locator("[data-testid=preview-row]")
    out = []
    for i in range(rows.count()):
        tag = rows.nth(i).locator(".speaker")
        out.append((tag.inner_text() if tag.count() else None, rows.nth(i).inner_text()))
    return out


@pytest.mark.timeout(120)
def test_the_dialogue_voice_gives_quotes_to_characters(browser, tmp_path):  # noqa: F811
    with serve_cli(tmp_path / "data", "--checkpoints", str(tmp_path / "no-weights")) as api:
        page, errors, tid = open_ui(browser, api)
        _fill_cast(tid, page)
        tid("voice-select").select_option("piper|joe")
        tid("script-input").fill(DIALOGUE)
        assert tid("dialogue-voice").input_value() == ""  # off
        requests = []
        page.on("request", lambda r: requests.append(json.loads(r.post_data))
                if r.url.endswith("/api/preview") else None)

        # Off: the quotes stay the narrator's.
        rows = _preview(page, tid)
        assert all(speaker is None for speaker, _ in rows), rows
        assert requests[-1]["dialogue"] is None

        # A character: the attributed quote is Pooh's, the other the dialogue voice's (Piglet).
        tid("dialogue-voice").select_option("Piglet")
        rows = _preview(page, tid)
        assert requests[-1]["dialogue"] == {"voice": "Piglet", "attribution": True}
        said = {speaker: text for speaker, text in rows}
        assert "Hello," in said["Pooh"] and "Who is there?" in said["Piglet"], rows
        assert "said Pooh." in said[None], rows

        # Attributions off: Pooh's quote is the dialogue voice's too.
        tid("dialogue-attribution").uncheck()
        rows = _preview(page, tid)
        assert requests[-1]["dialogue"] == {"voice": "Piglet", "attribution": False}
        assert "Pooh" not in {speaker for speaker, _ in rows}
        tid("dialogue-attribution").check()

        # A voice of the picker: the unattributed quote in that voice, without a speaker.
        tid("dialogue-voice").select_option("espeak:en-us")
        rows = _preview(page, tid)
        assert requests[-1]["dialogue"] == {"voice": "espeak:en-us", "attribution": True}
        quote = [text for _, text in rows if "Who is there?" in text]
        assert len(quote) == 1 and "espeak · en-us" in quote[0], rows

        # 中文 labels.
        tid("lang-toggle").click()
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        assert tid("dialogue-voice").locator("option").first.inner_text() == "关闭"
        assert not errors, errors
        page.context.close()
