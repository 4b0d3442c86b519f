"""Word timings (audio/word_times.py): subtitle cue starts and word starts against an
independent Whisper hearing of the finished narration, estimated vs timed by the words
proofreading heard.

The opening of Winnie-the-Pooh (from its introduction, about four minutes) is narrated by
piper (deterministic) twice through the real CLI, with `--srt` and `--words`: once without
checks (every time estimated from the text) and once with `--check flag` (each take heard
back by Whisper tiny.en; cues and words timed by its words). Both runs make the same audio
(checked below, byte for byte) and the same cue texts, so only the times differ.

The reference: the finished WAV heard again as a whole (the mastered narration, not each
take), by Whisper tiny.en (the checks' model: tests the placement, the trim and the
matching) and by Whisper base (another model: the two disagree by a near-constant offset
on the same audio, also reported), its words aligned to the script's words (the
proofreading normalisation, difflib.SequenceMatcher, equal words only). A cue's error is
|cue start − the reference start of its first word|; a word's, |its start − its reference
start|. Medians and 90th percentiles over every cue (word) whose first word the reference
heard as written.

    .venv/bin/python bench/word_times.py
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src"), str(REPO / "bench")]

from results import write_section  # noqa: E402

CHARS = 3300  # about four minutes of piper
DETERMINISTIC = ("-O", "noise_scale=0", "-O", "noise_w=0")


def narrate(folder: Path, script: Path, *args: str) -> tuple[dict, list, float]:
    """(words file, SRT cues, seconds) of one CLI run into ``folder``."""
    import srt

    folder.mkdir()
    t0 = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "indextts_yt", "narrate", str(script), "-o", str(folder / "n.wav"),
         "--srt", str(folder / "n.srt"), "--words", str(folder / "n.json"), *DETERMINISTIC,
         *args, "--data-dir", str(folder / "data")],
        capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    if result.returncode:
        raise SystemExit(result.stderr.decode()[-2000:])
    return (json.loads((folder / "n.json").read_text(encoding="utf-8")),
            list(srt.parse((folder / "n.srt").read_text(encoding="utf-8"))),
            time.monotonic() - t0)


def reference_starts(wav: Path, words: list[dict], model: object) -> list[float | None]:
    """Each script word's start as ``model`` hears the whole narration (None where the
    alignment does not give it an equal heard word)."""
    import soundfile as sf

    from indextts_yt.checks.asr import transcribe
    from indextts_yt.checks.compare import units

    audio, rate = sf.read(str(wav), dtype="float32")
    heard = transcribe(model, audio, rate, "en").words  # type: ignore[arg-type]
    ref = [(u.key, k) for k, w in enumerate(words) for u in units(w["text"], "en")]
    hyp = [(u.key, w.start) for w in heard for u in units(w.text, "en")]
    out: list[float | None] = [None] * len(words)
    matcher = difflib.SequenceMatcher(None, [k for k, _ in ref], [k for k, _ in hyp],
                                      autojunk=False)
    for block in matcher.get_matching_blocks():
        for n in range(block.size):
            word = ref[block.a + n][1]
            if out[word] is None and (block.a + n == 0 or ref[block.a + n - 1][1] != word):
                out[word] = hyp[block.b + n][1]  # the word's first unit was heard as written
    return out


def cue_errors(cues: list, words: list[dict], reference: list[float | None]) -> list[float]:
    """|cue start − reference start of its first word| for each cue whose first word has one."""
    from indextts_yt.checks.compare import units

    errors, k = [], 0
    for cue in cues:
        said = [t for t in cue.content.split() if units(t, "en")]
        if said and k < len(words) and reference[k] is not None:
            assert words[k]["text"] == said[0], (words[k], said)
            errors.append(abs(cue.start.total_seconds() - reference[k]))
        k += len(said)
    return errors


def word_errors(words: list[dict], reference: list[float | None]) -> list[float]:
    return [abs(w["start"] - r) for w, r in zip(words, reference) if r is not None]


def summary(errors: list[float]) -> str:
    errors = sorted(errors)
    p90 = errors[int(0.9 * (len(errors) - 1))]
    return f"{statistics.median(errors):.3f} s / {p90:.3f} s / {len(errors)}"


def main() -> None:
    from conftest import pooh_paragraphs

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "pooh.txt"
        script.write_text(pooh_paragraphs(CHARS), encoding="utf-8")
        est_words, est_cues, est_s = narrate(folder / "estimated", script)
        heard_words, heard_cues, heard_s = narrate(folder / "heard", script, "--check", "flag")
        digests = {hashlib.sha256((folder / run / "n.wav").read_bytes()).hexdigest()
                   for run in ("estimated", "heard")}
        assert len(digests) == 1, "the two runs made different audio"
        assert [c.content for c in est_cues] == [c.content for c in heard_cues]
        assert [w["text"] for w in est_words["words"]] == [w["text"] for w in heard_words["words"]]
        import soundfile as sf

        from asr_util import whisper_base, whisper_tiny_en

        wav = folder / "heard" / "n.wav"
        seconds = sf.info(str(wav)).duration
        references = {name: reference_starts(wav, heard_words["words"], model)
                      for name, model in (("tiny.en", whisper_tiny_en()),
                                          ("base", whisper_base()))}

    words = heard_words["words"]
    heard_share = sum(w["source"] == "heard" for w in words) / len(words)
    rows = [
        ("cue starts, estimated (checks off)",
         lambda ref: cue_errors(est_cues, est_words["words"], ref)),
        ("cue starts, timed by heard words (`--check flag`)",
         lambda ref: cue_errors(heard_cues, words, ref)),
        ("word starts, estimated", lambda ref: word_errors(est_words["words"], ref)),
        ("word starts, timed by heard words", lambda ref: word_errors(words, ref)),
    ]
    both = [(t, b) for t, b in zip(references["tiny.en"], references["base"])
            if t is not None and b is not None]
    offset = statistics.median(t - b for t, b in both)
    body = [
        f"`bench/word_times.py` — the opening of Winnie-the-Pooh ({len(words)} words, "
        f"{len(heard_cues)} cues, {seconds / 60:.1f} min of narration), piper "
        "(deterministic) through the CLI twice, the same audio: once with checks off, once "
        "with `--check flag` (each take heard back by Whisper tiny.en). Reference: the "
        "finished narration heard again as a whole, its words aligned to the script's (equal "
        "words only: " + ", ".join(f"{name} {sum(r is not None for r in ref)}"
                                   for name, ref in references.items())
        + f" of {len(words)}). Error: |start − the reference start of the (first) word|; "
        "median / 90th percentile / count.",
        "",
        "| what | vs tiny.en on the narration | vs base on the narration |",
        "| --- | --- | --- |",
        *[f"| {name} | {summary(errors(references['tiny.en']))} | "
          f"{summary(errors(references['base']))} |" for name, errors in rows],
        "",
        f"On the same audio the two models' word starts differ by a near-constant "
        f"{offset:+.3f} s (tiny.en − base, median over {len(both)} words): most of what is left "
        "against base is that offset between recognisers, not the placement. Cue starts "
        "fall mostly after a pause (a segment's first word, a sentence's), where Whisper "
        "places a word's start least surely, on a take as on the whole narration: hence "
        "their long tail beside the words'. "
        f"{heard_share:.0%} of the words were timed by a heard word (the rest between their "
        f"heard neighbours). Run time: {est_s:.0f} s without checks, {heard_s:.0f} s with "
        f"them ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs).",
    ]
    print("\n".join(body))
    print("wrote", write_section("Word timings (`bench/word_times.py`)", body))


if __name__ == "__main__":
    main()
