"""IndexTTS-2.5 (the ``indextts25`` extra: ``pip install -e ".[indextts25]"`` in the clone):
zero-shot voice cloning in Chinese, English, Japanese, Spanish and Arabic, with emotion from
a second reference clip.

Built on the PyPI package ``indextts25-inference`` (``indextts25.api.IndexTTS25``). Its
``stream()`` yields the audio of each piece of text as soon as it is made, already scaled to
[-1, 1], with the silences between pieces flagged; nothing follows the last piece. The
library caches conditioning by (path, mtime) for 8 clips, FIFO, per process; we keep our own
cache (memory + disk, by content) and hand the library the entry for each call. It clamps
the vocoder's output (``32767 * wav`` to ±32767) and only warns once per call when a piece
ran to ``max_mel_tokens``: ``LongFormGuards`` scales such a waveform instead and reports both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .base import SettingSpec, SettingValue
from .indextts_common import (
    IndexTTSEngine, Voice, as_mono, emotion_clip_settings, integer, number, sampling_settings,
)

_LANGUAGES = ("zh", "en", "ja", "es", "ar")
#: Below this duration factor (speed above ~1.28) the model stops speeding up.
_MIN_DURATION_FACTOR = 0.78


#: The library's <word|PHONEMES> (what the pronunciation dictionary writes; typed bars never
#: reach an engine: text/markdown.py).
_ANNOTATION = re.compile(r"<([^|>\n]+)\|([^>\n]+)>")


def protect_annotations(tts: Any) -> None:
    """Make the pipeline read ``<word|PHONEMES>`` whatever its text normaliser does.

    The library normalises text (numbers, symbols → words) before it turns annotations into
    its pronunciation tokens, and its English normaliser says the bar ("going vertical bar g
    ow one"). Each annotation is therefore held out as a plain placeholder word through the
    library's own ``_prepare_text``, then put back as the library's own tokens for it
    (``apply_pronunciation_annotations``)."""
    from indextts25 import infer_v2_5

    prepare = tts._prepare_text

    def prepare_text(text: str, lang: str, *args: Any, **kwargs: Any) -> str:
        held: list[str] = []

        def hold(match: re.Match) -> str:
            held.append(infer_v2_5.apply_pronunciation_annotations(match.group()))
            return f" zqxannot{_letters(len(held) - 1)} "

        out = prepare(_ANNOTATION.sub(hold, text), lang, *args, **kwargs)
        if not held:
            return out
        return re.sub(r"zqxannot([a-j]+)", lambda m: held[_number(m.group(1))], out,
                      flags=re.IGNORECASE)

    tts._prepare_text = prepare_text


def _letters(n: int) -> str:
    """A number as letters (0 → a … 9 → j), which no normaliser reads as a number."""
    return "".join(chr(ord("a") + int(d)) for d in str(n))


def _number(letters: str) -> int:
    return int("".join(str(ord(c) - ord("a")) for c in letters.lower()))


class _Backend25:
    def __init__(self, engine: "IndexTTS25Engine"):
        from indextts25.api import IndexTTS25

        self.api = IndexTTS25(model_dir=engine.checkpoints, device=engine.device,
                              fp16=engine.options.fp16,
                              attn_backend="flash" if engine.options.accel else "sdpa")
        self.tts = self.api._tts  # the pipeline whose per-clip caches we fill
        protect_annotations(self.tts)

    # The analysis is the library's own code (w2v-bert, CAMPPlus, reference mel); its
    # results are what we cache.
    def analyse_speaker(self, path: str) -> dict[str, Any]:
        spk_cond_emb, style, prompt_condition, ref_mel = self.tts._speaker_conditioning(
            path, self._key(path))
        return {"spk_cond_emb": spk_cond_emb, "style": style,
                "prompt_condition": prompt_condition, "ref_mel": ref_mel}

    def analyse_emotion(self, path: str) -> dict[str, Any]:
        return {"emo_cond_emb": self.tts._emotion_conditioning(path, self._key(path))}

    @staticmethod
    def _key(path: str) -> Any:
        from indextts25.infer_v2_5 import _audio_key

        return _audio_key(path)

    def _install(self, voice: Voice, emotion: dict[str, Any] | None, emotion_path: str | None
                 ) -> None:
        # Only what this call needs: the library's caches then never hold stale entries.
        self.tts._spk_cache.clear()
        self.tts._emo_cache.clear()
        s = voice.speaker
        self.tts._spk_cache[self._key(voice.path)] = (
            s["spk_cond_emb"], s["style"], s["prompt_condition"], s["ref_mel"])
        self.tts._emo_cache[self._key(voice.path)] = voice.emotion["emo_cond_emb"]
        if emotion is not None and emotion_path:
            self.tts._emo_cache[self._key(emotion_path)] = emotion["emo_cond_emb"]

    def generate(self, text: str, voice: Voice, emotion: dict[str, Any] | None,
                 emotion_path: str | None, settings: Mapping[str, SettingValue],
                 language: str) -> Iterator[np.ndarray]:
        self._install(voice, emotion, emotion_path)
        lang = str(settings["language"])
        lang = language if lang == "auto" else lang
        sampling = {name: settings[name] for name in (
            "temperature", "top_p", "top_k", "num_beams", "repetition_penalty",
            "max_mel_tokens", "diffusion_steps") if name in settings}
        for chunk in self.api.stream(
                text, voice=voice.path, lang=lang.upper(),
                speed=max(_MIN_DURATION_FACTOR, 1.0 / float(settings["speed"])),
                emotion=emotion_path, emotion_strength=float(settings["emo_alpha"]),
                segment_tokens=int(settings["max_text_tokens_per_segment"]),
                include_silence=True, interval_silence=int(settings["interval_silence"]),
                **sampling):
            yield as_mono(chunk.audio)


class IndexTTS25Engine(IndexTTSEngine):
    """IndexTTS-2.5: clone a voice from a clip; emotion from a second clip."""

    name = "indextts2.5"
    label = "IndexTTS-2.5"
    module = "indextts25"
    extra = "indextts25"
    repo = "IndexTeam/IndexTTS-2.5"
    config_files = ("gpt_checkpoint", "s2mel_checkpoint", "w2v_stat", "emo_matrix", "spk_matrix")
    extra_files = ("codec.pth",)
    marker_key = "qwen_emo_path"  # IndexTTS2's text-emotion model; 2.5 has none
    marker_present = False
    languages = _LANGUAGES
    emotion_modes = ("reference",)

    def _load_backend(self) -> _Backend25:
        return _Backend25(self)

    def _settings(self) -> tuple[SettingSpec, ...]:
        no_beams = "with --accel (the flash-attn engine does no beam search)" \
            if self.options.accel else ""
        sampling = {spec.name: spec for spec in sampling_settings(beams_ignored=no_beams)}
        # 2.5 streams best in smaller pieces (its authors measured 60 tokens).
        sampling["max_text_tokens_per_segment"] = integer(
            "max_text_tokens_per_segment", 60, 20, 600,
            sampling["max_text_tokens_per_segment"].help)
        return (
            number("speed", 1.0, 0.5, round(1 / _MIN_DURATION_FACTOR, 2),
                   "Speaking rate, 1.0 = the voice's own pace."),
            SettingSpec("language", "auto", help="Language of the text; auto = detected per "
                        "segment (zh/en). Choose ja, es or ar for those languages.",
                        kind="choice", choices=("auto",) + _LANGUAGES),
            *emotion_clip_settings(),
            *sampling.values(),
            integer("diffusion_steps", 25, 1, 100, "Steps of the mel diffusion: fewer is faster, "
                    "more is cleaner."),
        )
