"""Reference clips: the voices a cloning engine speaks in, stored once by content.

A clip is untrusted input (an upload, a file a user points at, a voice file being imported).
It is decoded here, with bounds on its size, its decoded length and the work spent, before
any model sees it, and normalised, so that the same recording gets the same id whichever way
it arrives (the voice library, /api/clips, ``narrate --voice FILE``): mono, at one rate, its
leading and trailing silence cut, at one loudness. What the engines get is our own clean
copy, a 16-bit WAV named by the hash of its samples: ``clip-0123456789abcdef``. The same
audio always gets the same id, so an id in a segment's key pins exactly the voice that
segment was made with.

Normalising a stored clip again gives it back unchanged (so an exported voice imports under
its own id): the rate and channels already match, the trim cuts nothing more (its margin is
a whole number of the trimmer's windows and its threshold is relative to the clip's own
peak), a gain under ``_GAIN_TOLERANCE_DB`` is not applied, and the 16-bit conversion is the
exact inverse of the decoder's. Rounding to 16 bits can still move a window that sat right
at the trim threshold, so ``prepare_clip`` runs the pipeline until its output is a fixed
point rather than trusting one pass.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .atomic import write_bytes_atomic
from .errors import ClipNotFound, InputError, PayloadTooLarge

#: Largest clip file accepted (a 30 s WAV at 48 kHz stereo float is about 12 MB).
MAX_CLIP_BYTES = 20 * 1024 * 1024
#: Shortest speech that carries a voice (after the silence around it is cut).
MIN_CLIP_SECONDS = 1.0
#: IndexTTS reads only the first 15 s of a reference: longer speech is refused (with its
#: length) rather than silently cut, so the user chooses which 15 s to keep.
MAX_CLIP_SECONDS = 15.0
#: Longest recording decoded: silence around the speech is cut, so a file may be longer
#: than the speech it holds; anything past this is not a reference clip.
MAX_RAW_SECONDS = 30.0
#: Every clip is stored at this rate (IndexTTS resamples references to 16/22.05 kHz itself;
#: 24 kHz keeps everything speech has, at half the size of 48 kHz).
CLIP_RATE = 24_000
#: Stored loudness (BS.1770 integrated). Speech peaks 12-22 dB above its loudness, so at
#: -23 LUFS normal speech reaches the target by gain alone under the peak ceiling below;
#: only a clip whose peak would pass the ceiling stays quieter.
CLIP_LUFS = -23.0
#: Ceiling for the true peak (gain only, no limiter).
CLIP_PEAK_DBTP = -1.0
#: A clip whose peak stays below this (about -60 dBFS) is silence.
SILENCE_PEAK = 1e-3
#: Decoding a 30 s clip takes milliseconds; a file that keeps the decoder busy this long is
#: hostile or broken.
MAX_DECODE_SECONDS = 10.0
#: The trimmer's absolute floor, set under 16-bit noise so that only its relative threshold
#: (50 dB under the loudest 10 ms) decides: the same speech at another level is cut alike.
_TRIM_FLOOR_DBFS = -110.0
#: Gains smaller than this are not applied: the clip is at the target already.
_GAIN_TOLERANCE_DB = 0.1
#: Most extra passes spent making a stored clip a fixed point of the pipeline.
_FIXED_POINT_PASSES = 4
#: The speech check (``check_speech``) looks at 30 ms frames at 16 kHz, what WebRTC's VAD takes.
_VAD_RATE = 16_000
_VAD_FRAME = 480
#: The VAD's strictest mode; at the others it passes even more noise.
_VAD_AGGRESSIVENESS = 3
#: The level the VAD hears a clip at: the RMS of its loud frames, as in speech stored at
#: CLIP_LUFS.
_VAD_LEVEL_DBFS = -18.0
#: Calibrated on speech by piper and eSpeak NG (English, Mandarin; clean, with white noise
#: 10 dB under it, with 0.8 s pauses) against white/pink/brown noise, hiss, pure tones,
#: chords, a piano-like melody, a buzz, a tremolo tone and noise bursts, all normalised:
#: - the VAD hears a voice in 0.67-0.96 of speech's frames (0.67: the pauses), in under 0.05
#:   of brown noise's and a 110/220 Hz tone's, in 0.47 of 4 Hz noise bursts': so at least
#:   1 s and 60% of the frames.
_MIN_VOICED_SECONDS = 1.0
_MIN_VOICED_FRACTION = 0.6
#: - but it hears one in nearly every frame of white and pink noise, louder tones, chords
#:   and the melody: what they lack is speech's rise and fall from syllable to pause. In the
#:   300-3400 Hz band the spread of frame levels (90th - 10th percentile) is 20-150 dB for
#:   speech (20: with the noise), at most 12.4 dB for those (the tremolo tone; the melody 11).
_MIN_LEVEL_SPREAD_DB = 15.0

_CLIP_ID = re.compile(r"clip-[0-9a-f]{16}")


def is_clip_id(value: object) -> bool:
    return isinstance(value, str) and _CLIP_ID.fullmatch(value) is not None


def check_clip_id(value: str, what: str = "clip") -> str:
    if not is_clip_id(value):
        raise InputError(f"{what} must be a clip id like clip-0123456789abcdef, got {value!r}")
    return value


@dataclass(frozen=True)
class Clip:
    id: str
    path: Path
    name: str
    seconds: float
    sample_rate: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "seconds": round(self.seconds, 3),
                "sample_rate": self.sample_rate}


def decode_clip(data: bytes, name: str = "clip") -> tuple[np.ndarray, int]:
    """Decode any audio file PyAV (FFmpeg) reads into mono float32 at ``CLIP_RATE``, within
    the bounds above (at most ``MAX_RAW_SECONDS``; silence not yet cut).

    Raises InputError naming the problem: too big, empty, not audio, too long, silent.
    """
    import av

    if len(data) > MAX_CLIP_BYTES:
        raise PayloadTooLarge(f"{name}: a reference clip is limited to "
                              f"{MAX_CLIP_BYTES // (1024 * 1024)} MB, got {len(data) / 1e6:.1f} MB")
    if not data:
        raise InputError(f"{name}: the file is empty")
    started = time.monotonic()
    parts: list[np.ndarray] = []
    total = 0
    limit = int((MAX_RAW_SECONDS + 0.05) * CLIP_RATE)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise InputError(f"{name}: no audio in this file")
            # Mixed down and resampled as it is decoded: memory is bounded by the output.
            resampler = av.AudioResampler(format="flt", layout="mono", rate=CLIP_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    part = out.to_ndarray().reshape(-1)
                    parts.append(part)
                    total += len(part)
                if total > limit:
                    raise InputError(
                        f"{name}: the recording is longer than {MAX_RAW_SECONDS:g} s; a reference "
                        f"is 1–{MAX_CLIP_SECONDS:g} s of speech (IndexTTS listens to at most "
                        f"{MAX_CLIP_SECONDS:g} s), so trim it to the best 3–{MAX_CLIP_SECONDS:g} s")
                if time.monotonic() - started > MAX_DECODE_SECONDS:
                    raise InputError(f"{name}: the file takes too long to decode; is it broken?")
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, EOFError) as exc:
        # FFmpeg's own words ("Invalid data found when processing input"); never a class name.
        detail = getattr(exc, "strerror", None) or "damaged, cut short or not audio"
        raise InputError(f"{name}: not a readable audio file ({detail})") from None
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    if len(samples) < MIN_CLIP_SECONDS * CLIP_RATE:
        raise InputError(f"{name}: the clip is {len(samples) / CLIP_RATE:.2f} s; a voice needs at "
                         f"least {MIN_CLIP_SECONDS:g} s of speech (3–10 s is best)")
    if not np.isfinite(samples).all() or float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise InputError(f"{name}: the clip is silent")
    return np.clip(samples, -1.0, 1.0), CLIP_RATE


def normalize_clip(samples: np.ndarray, name: str = "clip") -> np.ndarray:
    """Decoded samples (``decode_clip``) as they are stored: the silence around the speech
    cut, the speech checked for length (1-15 s), brought to ``CLIP_LUFS`` with its true
    peak under ``CLIP_PEAK_DBTP``, as 16-bit samples."""
    from .audio.loudness import measure, segment_gain_db
    from .audio.trim import trim_silence

    speech = trim_silence(samples, CLIP_RATE, floor_dbfs=_TRIM_FLOOR_DBFS)
    seconds = len(speech) / CLIP_RATE
    if seconds > MAX_CLIP_SECONDS + 0.05:
        raise InputError(f"{name}: the clip has {seconds:.1f} s of speech, longer than "
                         f"{MAX_CLIP_SECONDS:g} s; IndexTTS listens to at most "
                         f"{MAX_CLIP_SECONDS:g} s, so trim it to the best 3–{MAX_CLIP_SECONDS:g} s")
    if seconds < MIN_CLIP_SECONDS:
        raise InputError(f"{name}: the clip has {seconds:.2f} s of speech; a voice needs at "
                         f"least {MIN_CLIP_SECONDS:g} s (3–10 s is best)")
    loudness = measure(speech, CLIP_RATE)
    if loudness.integrated_lufs is None:  # nothing over BS.1770's -70 LUFS gate
        raise InputError(f"{name}: the clip is silent")
    gain = segment_gain_db(loudness, CLIP_LUFS, CLIP_PEAK_DBTP, max_boost_db=math.inf)
    if abs(gain) >= _GAIN_TOLERANCE_DB:
        speech = speech * np.float32(10.0 ** (gain / 20.0))
    # x * 32768, rounded: the exact inverse of the decoder's int16 -> float (k / 32768).
    return np.clip(np.round(speech * 32768.0), -32768, 32767).astype(np.int16)


def check_speech(pcm: np.ndarray, name: str = "clip") -> None:
    """Refuse a normalised clip (``normalize_clip``'s 16-bit samples) that has too little
    speech: noise, a tone, music-like chords, silence. The thresholds are explained above."""
    import soxr
    import webrtcvad

    audio = soxr.resample(pcm.astype(np.float32) / 32768.0, CLIP_RATE, _VAD_RATE)
    count = len(audio) // _VAD_FRAME
    frames = audio[: count * _VAD_FRAME].reshape(count, _VAD_FRAME)
    # The VAD's judgement depends on the level, so it looks at every clip at one level: its
    # loud frames (the 90th percentile) at _VAD_LEVEL_DBFS, even where a click held the
    # stored clip quieter.
    loud = float(np.percentile(np.sqrt(np.mean(frames ** 2, axis=1)), 90))
    if loud > 0:
        audio = np.clip(audio * np.float32(10.0 ** (_VAD_LEVEL_DBFS / 20.0) / loud), -1.0, 1.0)
    pcm16 = np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)
    frames = pcm16[: count * _VAD_FRAME].reshape(count, _VAD_FRAME)
    vad = webrtcvad.Vad(_VAD_AGGRESSIVENESS)
    voiced = sum(vad.is_speech(frame.tobytes(), _VAD_RATE) for frame in frames)
    seconds, fraction = voiced * _VAD_FRAME / _VAD_RATE, voiced / max(count, 1)
    if seconds < _MIN_VOICED_SECONDS or fraction < _MIN_VOICED_FRACTION:
        raise InputError(f"{name}: no speech found in the clip: only {fraction:.0%} of it "
                         f"({seconds:.1f} s) sounds like a voice; a reference is clear speech "
                         f"with at least {_MIN_VOICED_SECONDS:g} s of it and little else")
    spectra = np.abs(np.fft.rfft(frames.astype(np.float64) * np.hanning(_VAD_FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(_VAD_FRAME, 1 / _VAD_RATE)
    band = spectra[:, (freqs >= 300) & (freqs <= 3400)].sum(axis=1)
    levels = 10 * np.log10(band + 1e-3)  # the floor: far under a 16-bit frame's quantisation noise
    spread = float(np.percentile(levels, 90) - np.percentile(levels, 10))
    if spread < _MIN_LEVEL_SPREAD_DB:
        raise InputError(f"{name}: no speech found in the clip: its level hardly changes "
                         f"({spread:.0f} dB), as in noise, a tone or music; a reference is "
                         f"clear speech, {MIN_CLIP_SECONDS:g}-{MAX_CLIP_SECONDS:g} s")


@dataclass(frozen=True)
class PreparedClip:
    """A clip decoded and normalised, not yet stored: its id and the WAV file's bytes."""

    id: str
    wav: bytes
    seconds: float


def prepare_clip(data: bytes, name: str = "clip") -> PreparedClip:
    """Decode, check and normalise an audio file; its id is the hash of the stored WAV.

    The stored WAV is normalised to a fixed point: it is put through the whole pipeline
    again until that gives back the same bytes, so importing a stored clip keeps its id. One
    more pass almost always settles it; a 10 ms window that sat right at the trim threshold
    can flip once the samples are rounded to 16 bits, and then a pass or two more do.
    """
    pcm = normalize_clip(decode_clip(data, name)[0], name)
    check_speech(pcm, name)
    wav = _encode_wav(pcm)
    for _ in range(_FIXED_POINT_PASSES):
        pcm = normalize_clip(decode_clip(wav, name)[0], name)
        again = _encode_wav(pcm)
        if again == wav:
            break
        wav = again
    return PreparedClip(id="clip-" + hashlib.sha256(wav).hexdigest()[:16], wav=wav,
                        seconds=len(pcm) / CLIP_RATE)


def _encode_wav(pcm: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, pcm, CLIP_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def read_clip_file(path: Path | str) -> bytes:
    """A clip file's bytes, its size checked before it is read into memory."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CLIP_BYTES:
            raise PayloadTooLarge(f"{path.name}: a reference clip is limited to "
                                  f"{MAX_CLIP_BYTES // (1024 * 1024)} MB")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the clip {str(path)!r}: {exc.strerror or exc}") from None


class ClipStore:
    """The studio's clips, in ``<data dir>/clips``: ``<id>.wav`` and ``<id>.json``."""

    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        self.dir = self.data_dir / "clips"

    def add(self, data: bytes, name: str = "clip") -> Clip:
        """Validate, normalise and store a clip; the same audio twice gives the same clip."""
        return self.write(prepare_clip(data, name), name)[0]

    def write(self, prepared: PreparedClip, name: str = "clip") -> tuple[Clip, bool]:
        """Store a prepared clip unless it is there; True if this call wrote it."""
        path = self.dir / f"{prepared.id}.wav"
        created = not path.exists()
        if created:
            self.dir.mkdir(parents=True, exist_ok=True)
            meta = {"name": Path(name).stem or "clip", "seconds": prepared.seconds,
                    "sample_rate": CLIP_RATE, "added_at": time.time()}
            write_bytes_atomic(path.with_suffix(".json"), json.dumps(meta, ensure_ascii=False).encode())
            write_bytes_atomic(path, prepared.wav)  # the WAV last: a clip exists once its audio does
        return self.get(prepared.id), created

    def add_file(self, path: Path | str) -> Clip:
        return self.add(read_clip_file(path), Path(path).name)

    def remove(self, clip_id: str) -> None:
        """Delete a clip's files (the WAV first: without it the clip no longer exists)."""
        path = self.dir / f"{check_clip_id(clip_id)}.wav"
        for file in (path, path.with_suffix(".json")):
            file.unlink(missing_ok=True)

    def get(self, clip_id: str) -> Clip:
        check_clip_id(clip_id)
        path = self.dir / f"{clip_id}.wav"
        if not path.exists():
            raise ClipNotFound(f"no reference clip {clip_id} in this studio (add it first)")
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            meta = {}
        info = sf.info(str(path))
        return Clip(id=clip_id, path=path, name=str(meta.get("name", clip_id)),
                    seconds=info.frames / info.samplerate, sample_rate=info.samplerate)

    def list(self) -> list[Clip]:
        if not self.dir.exists():
            return []
        return [self.get(p.stem) for p in sorted(self.dir.glob("clip-*.wav"))
                if _CLIP_ID.fullmatch(p.stem)]

    def resolve(self, engine: Any, voice: str, settings: Mapping[str, Any]
                ) -> tuple[str, dict[str, Any]]:
        """What a cloning engine is given: clip ids (the voice, settings of kind "clip")
        replaced by the paths of the stored clips. Other engines get their input as is."""
        if not engine.capabilities.cloning:
            return voice, dict(settings)
        clip_settings = {spec.name for spec in engine.settings if spec.kind == "clip"}
        resolved = {name: (str(self.get(value).path) if name in clip_settings and value else value)
                    for name, value in settings.items()}
        return str(self.get(voice).path), resolved
