"""IndexTTS2 (the ``indextts2`` extra: ``pip install -e ".[indextts2]"`` in the clone):
zero-shot voice cloning in Chinese and English, with emotion from a second clip, an 8-value
emotion vector, or a text.

Built on the PyPI package ``indextts2-inference`` (``indextts.infer_v2.IndexTTS2``). What
its ``infer_generator(..., stream_return=True)`` does, and how we deal with it:
- it yields a silence chunk after *every* piece, the last one too: a silence is held back
  and sent only when more speech follows;
- with ``interval_silence <= 0`` it yields, in place of the silence, the list of all pieces
  so far: anything not a tensor is skipped;
- chunk scale has changed between builds (float in [-1, 1] here; PCM scale ±32767 in
  others): ``as_mono`` takes either;
- ``infer()`` forwards its arguments by position: we call ``infer_generator`` by keyword;
- it remembers the conditioning of one clip (speaker and emotion) and recomputes when the
  path changes: we put our cached entry in its place before each call;
- it loads its Qwen text-emotion model at start-up (memory for a feature most jobs never
  use): we load that on first use of ``emotion_text``;
- it clamps the vocoder's output to [-1, 1] and only warns once per call when a piece ran
  to ``max_mel_tokens``: ``LongFormGuards`` scales such a waveform instead and reports both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import InputError
from .base import SettingSpec, SettingValue
from .indextts_common import (
    EMOTIONS, IndexTTSEngine, Voice, as_mono, emotion_clip_settings, number, sampling_settings,
)

_EMOTION_TEXT_CHARS = 300

# The library's diffusion draws a tqdm bar per piece on stderr, over our own progress
# display; tqdm reads this when it is first imported, which the library does.
os.environ.setdefault("TQDM_DISABLE", "1")


class _LazyQwenEmotion:
    """Stands in for the library's QwenEmotion until text emotion is first asked for."""

    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        self._model: Any = None
        self._lock = threading.Lock()
        self.loads = 0

    def inference(self, text: str) -> dict[str, float]:
        with self._lock:
            if self._model is None:
                from indextts.emotion import QwenEmotion

                self._model = QwenEmotion(self.model_dir)
                self.loads += 1
        return self._model.inference(text)


class _Backend2:
    def __init__(self, engine: "IndexTTS2Engine"):
        import indextts.infer_v2 as infer_v2

        options = engine.options
        real_qwen = infer_v2.QwenEmotion
        infer_v2.QwenEmotion = _LazyQwenEmotion  # only while the constructor runs
        try:
            self.tts = infer_v2.IndexTTS2(
                model_dir=str(engine.checkpoints), device=engine.device, use_fp16=options.fp16,
                use_cuda_kernel=options.cuda_kernel, use_accel=options.accel,
                use_torch_compile=options.compile)
        finally:
            infer_v2.QwenEmotion = real_qwen

    def analyse_speaker(self, path: str) -> dict[str, Any]:
        spk_cond_emb, style, prompt_condition, ref_mel = self.tts._get_speaker_conditioning(path)
        return {"spk_cond_emb": spk_cond_emb, "style": style,
                "prompt_condition": prompt_condition, "ref_mel": ref_mel}

    def analyse_emotion(self, path: str) -> dict[str, Any]:
        return {"emo_cond_emb": self.tts._get_emotion_conditioning(path)}

    def _install(self, voice: Voice, emotion: dict[str, Any] | None, emotion_path: str | None
                 ) -> None:
        tts, s = self.tts, voice.speaker
        tts.cache_spk_audio_prompt = voice.path
        tts.cache_spk_cond = s["spk_cond_emb"]
        tts.cache_s2mel_style = s["style"]
        tts.cache_s2mel_prompt = s["prompt_condition"]
        tts.cache_mel = s["ref_mel"]
        # Without an emotion clip the library takes the emotion from the voice's own clip.
        emo_path, emo = (emotion_path, emotion) if emotion is not None and emotion_path \
            else (voice.path, voice.emotion)
        tts.cache_emo_audio_prompt = emo_path
        tts.cache_emo_cond = emo["emo_cond_emb"]

    def generate(self, text: str, voice: Voice, emotion: dict[str, Any] | None,
                 emotion_path: str | None, settings: Mapping[str, SettingValue],
                 language: str) -> Iterator[np.ndarray]:
        self._install(voice, emotion, emotion_path)
        vector = [float(settings[f"emo_{name}"]) for name in EMOTIONS]
        emotion_text = str(settings["emotion_text"])
        sampling = {name: settings[name] for name in (
            "temperature", "top_p", "top_k", "num_beams", "repetition_penalty",
            "max_mel_tokens") if name in settings}
        chunks = self.tts.infer_generator(
            spk_audio_prompt=voice.path, text=text, output_path=None,
            emo_audio_prompt=emotion_path, emo_alpha=float(settings["emo_alpha"]),
            # The library's own weighting, as its web UI applies it to a user's vector.
            emo_vector=self.tts.normalize_emo_vec(vector) if any(vector) else None,
            use_emo_text=bool(emotion_text), emo_text=emotion_text or None,
            interval_silence=int(settings["interval_silence"]),
            max_text_tokens_per_segment=int(settings["max_text_tokens_per_segment"]),
            stream_return=True, **sampling)
        held: np.ndarray | None = None  # a silence, sent only if speech follows it
        for item in chunks:
            if not hasattr(item, "detach"):
                continue  # interval_silence <= 0: the list of all pieces so far
            audio = as_mono(item)
            if not audio.any():
                held = audio
                continue
            if held is not None:
                yield held
                held = None
            yield audio

    @property
    def emotion_model(self) -> _LazyQwenEmotion:
        return self.tts.qwen_emo


class IndexTTS2Engine(IndexTTSEngine):
    """IndexTTS2: clone a voice from a clip; emotion by clip, vector or text."""

    name = "indextts2"
    label = "IndexTTS2"
    module = "indextts"
    extra = "indextts2"
    repo = "IndexTeam/IndexTTS-2"
    config_files = ("gpt_checkpoint", "s2mel_checkpoint", "w2v_stat", "emo_matrix",
                    "spk_matrix", "qwen_emo_path", "dataset.bpe_model")
    marker_key = "qwen_emo_path"
    marker_present = True
    languages = ("zh", "en")
    emotion_modes = ("reference", "vector", "text")
    compile_ok = True
    cuda_kernel_ok = True
    mel_position_from_mask = True

    def _load_backend(self) -> _Backend2:
        return _Backend2(self)

    def _settings(self) -> tuple[SettingSpec, ...]:
        accel = "with --accel (the accelerated GPT samples by temperature only)" \
            if self.options.accel else ""
        return (
            *emotion_clip_settings(),
            *(number(f"emo_{name}", 0.0, 0.0, 1.0, f"Emotion vector: {name}.")
              for name in EMOTIONS),
            SettingSpec("emotion_text", "", 0, _EMOTION_TEXT_CHARS,
                        "Describe the emotion in words (e.g. 'quietly excited'); a small "
                        "language model turns it into the emotion vector.", kind="text"),
            *sampling_settings(sampling_ignored=accel),
            number("length_penalty", 0.0, -2.0, 2.0, "Beam search preference for longer (>0) "
                   "or shorter (<0) speech.", accel),
        )

    def check_settings(self, settings: Mapping[str, SettingValue]) -> None:
        used = [name for name, on in (
            ("emotion_clip", bool(settings["emotion_clip"])),
            ("the emotion vector (emo_*)", any(float(settings[f"emo_{n}"]) for n in EMOTIONS)),
            ("emotion_text", bool(settings["emotion_text"])),
        ) if on]
        if len(used) > 1:
            raise InputError(f"give the emotion one way: {' and '.join(used)} were both set")
