"""Reference clips: the voices a cloning engine speaks in, stored once by content.

A clip is untrusted input (an upload, a file a user points at). It is decoded here, with
bounds on its size, its decoded length and the work spent, before any model sees it; what
the engines get is our own clean copy: mono 16-bit WAV, named by the hash of its samples.
Ids look like ``clip-0123456789abcdef``; the same audio always gets the same id, so an id in
a segment's key pins exactly the voice that segment was made with.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .errors import ClipNotFound, InputError, PayloadTooLarge

#: Largest clip file accepted (a 15 s WAV at 48 kHz stereo float is about 6 MB).
MAX_CLIP_BYTES = 20 * 1024 * 1024
#: Shortest clip that carries a voice.
MIN_CLIP_SECONDS = 1.0
#: IndexTTS reads only the first 15 s of a reference: a longer clip is refused (with its
#: length) rather than silently cut, so the user chooses which 15 s to keep.
MAX_CLIP_SECONDS = 15.0
#: Clips are stored at their own rate, capped here (the models resample to 16/22.05 kHz).
MAX_STORED_RATE = 48_000
#: A clip whose peak stays below this (about -60 dBFS) is silence.
SILENCE_PEAK = 1e-3
#: Decoding a 15 s clip takes milliseconds; a file that keeps the decoder busy this long is
#: hostile or broken.
MAX_DECODE_SECONDS = 10.0

_CLIP_ID = re.compile(r"clip-[0-9a-f]{16}")


def check_clip_id(value: str, what: str = "clip") -> str:
    if not isinstance(value, str) or not _CLIP_ID.fullmatch(value):
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
    """Decode any audio file PyAV (FFmpeg) reads into mono float32, within the bounds above.

    Raises InputError naming the problem: too big, not audio, too long, too short, silent.
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
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise InputError(f"{name}: no audio in this file")
            rate = min(int(stream.codec_context.sample_rate or 0) or 22_050, MAX_STORED_RATE)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            limit = int((MAX_CLIP_SECONDS + 0.05) * rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    part = out.to_ndarray().reshape(-1)
                    parts.append(part)
                    total += len(part)
                if total > limit:
                    raise InputError(
                        f"{name}: the clip is longer than {MAX_CLIP_SECONDS:g} s; IndexTTS listens "
                        f"to at most {MAX_CLIP_SECONDS:g} s, so trim it to the best 3–"
                        f"{MAX_CLIP_SECONDS:g} s of clean speech")
                if time.monotonic() - started > MAX_DECODE_SECONDS:
                    raise InputError(f"{name}: the file takes too long to decode; is it broken?")
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, EOFError) as exc:
        raise InputError(f"{name}: not a readable audio file ({type(exc).__name__})") from None
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    seconds = len(samples) / rate
    if seconds > MAX_CLIP_SECONDS + 0.05:
        raise InputError(f"{name}: the clip is {seconds:.1f} s; IndexTTS listens to at most "
                         f"{MAX_CLIP_SECONDS:g} s, so trim it to the best 3–{MAX_CLIP_SECONDS:g} s")
    if seconds < MIN_CLIP_SECONDS:
        raise InputError(f"{name}: the clip is {seconds:.2f} s; a voice needs at least "
                         f"{MIN_CLIP_SECONDS:g} s of speech (3–{MAX_CLIP_SECONDS:g} s is best)")
    if not np.isfinite(samples).all() or float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise InputError(f"{name}: the clip is silent")
    return np.clip(samples, -1.0, 1.0), rate


class ClipStore:
    """The studio's clips, in ``<data dir>/clips``: ``<id>.wav`` and ``<id>.json``."""

    def __init__(self, data_dir: Path | str):
        self.dir = Path(data_dir) / "clips"

    def add(self, data: bytes, name: str = "clip") -> Clip:
        """Validate, normalise and store a clip; the same audio twice gives the same clip."""
        samples, rate = decode_clip(data, name)
        buffer = io.BytesIO()
        sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
        wav = buffer.getvalue()
        clip_id = "clip-" + hashlib.sha256(wav).hexdigest()[:16]
        path = self.dir / f"{clip_id}.wav"
        if not path.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            meta = {"name": Path(name).stem or "clip", "seconds": len(samples) / rate,
                    "sample_rate": rate, "added_at": time.time()}
            _write_atomic(path.with_suffix(".json"), json.dumps(meta, ensure_ascii=False).encode())
            _write_atomic(path, wav)  # the WAV last: a clip exists once its audio does
        return self.get(clip_id)

    def add_file(self, path: Path | str) -> Clip:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_CLIP_BYTES:  # before reading it into memory
                raise PayloadTooLarge(f"{path.name}: a reference clip is limited to "
                                      f"{MAX_CLIP_BYTES // (1024 * 1024)} MB")
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the clip {str(path)!r}: {exc.strerror or exc}") from None
        return self.add(data, path.name)

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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
