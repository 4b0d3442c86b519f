"""Front-end helpers for the cloning engines, shared by the CLI and the server: load options
from flags, clips given as files or ids, emotion vectors in words, and preloading a voice."""

from __future__ import annotations

from pathlib import Path

from .clips import Clip, ClipStore, check_clip_id, is_clip_id
from .engines import registry
from .engines.base import PreloadResult
from .engines.indextts_common import EMOTIONS, LoadOptions
from .errors import InputError
from .voices.fields import BUNDLED_ID

INDEXTTS_ENGINES = ("indextts2", "indextts2.5")


def configure_indextts(checkpoints: list[str], *, device: str | None = None, fp16: bool = False,
                       accel: bool = False, compile: bool = False, cuda_kernel: bool = False
                       ) -> dict[str, LoadOptions]:
    """Set how each IndexTTS engine loads. ``checkpoints``: ``DIR`` (every IndexTTS engine)
    or ``ENGINE=DIR`` items; an engine with neither uses ./checkpoints."""
    shared: str | None = None
    folders: dict[str, str] = {}
    for item in checkpoints:
        name, sep, folder = item.partition("=")
        if sep and name in INDEXTTS_ENGINES:
            folders[name] = folder
        elif sep and name.startswith("indextts"):
            raise InputError(f"--checkpoints {item!r}: unknown engine {name!r}; use "
                             f"{' or '.join(INDEXTTS_ENGINES)}")
        elif shared is not None:
            raise InputError("--checkpoints DIR was given twice; use ENGINE=DIR for each engine")
        else:
            shared = item
    configured = {}
    for name in INDEXTTS_ENGINES:
        folder = folders.get(name, shared)
        configured[name] = LoadOptions(
            checkpoints=Path(folder).expanduser() if folder else None, device=device, fp16=fp16,
            accel=accel, compile=compile, cuda_kernel=cuda_kernel)
        registry.configure_engine(name, configured[name])
    return configured


def clip_option(clips: ClipStore, value: str, what: str, engine: str | None = None) -> str:
    """A clip given on the command line as an audio file (stored now), a clip id or the name
    of a library voice. With ``engine`` set to an engine that does not clone, the value is
    a voice id, left as is."""
    if engine is not None and engine != "auto" \
            and not registry.get_engine(engine).capabilities.cloning:
        return value
    if value.startswith("clip-") and not Path(value).exists():
        return clips.get(check_clip_id(value, what=what)).id
    path = Path(value).expanduser()
    if path.is_file():
        return clips.add_file(path).id
    from .voices import VoiceLibrary

    with VoiceLibrary(clips.data_dir) as library:
        voice = library.find(value)
    if voice is None or voice.read_only:
        raise InputError(f"{what}: no such audio file, clip id or library voice: {value!r}")
    return voice.id


def voice_option(clips: ClipStore, value: str, engine: str) -> str:
    """``--voice``: an audio file becomes a stored clip (for a cloning engine); any other
    value is a voice id or name, resolved with the job like every front end's
    (jobs/plan.py resolve_choice)."""
    path = Path(value).expanduser()
    cloning = engine != "auto" and registry.get_engine(engine).capabilities.cloning
    if is_clip_id(value) or BUNDLED_ID.fullmatch(value) or not path.is_file():
        if cloning and not value.startswith("clip-") and not _library_has(clips, value):
            raise InputError(f"--voice: no such audio file, clip id or library voice: {value!r}")
        return value
    if not cloning:
        raise InputError(f"--voice {value}: an audio file is a reference clip, which needs a "
                         f"cloning engine: --engine {' or --engine '.join(INDEXTTS_ENGINES)}")
    return clips.add_file(path).id


def _library_has(clips: ClipStore, ref: str) -> bool:
    from .voices import VoiceLibrary

    with VoiceLibrary(clips.data_dir) as library:
        return any(not v.read_only for v in library.matching(ref))


def emotion_vector_options(spec: str | None) -> dict[str, float]:
    """'happy=0.6, calm=0.2' -> {'emo_happy': 0.6, 'emo_calm': 0.2}."""
    if not spec:
        return {}
    options: dict[str, float] = {}
    for item in spec.split(","):
        name, sep, value = item.strip().partition("=")
        name = name.strip().lower()
        if not sep or name not in EMOTIONS:
            raise InputError(f"--emotion-vector: {item.strip()!r} must be NAME=VALUE with NAME one "
                             f"of {', '.join(EMOTIONS)}")
        try:
            options[f"emo_{name}"] = float(value)
        except ValueError:
            raise InputError(f"--emotion-vector: {name} must be a number, got {value!r}") from None
    return options


def preload_clip(engine_name: str, clip: Clip) -> PreloadResult:
    """Load the engine's model and analyse ``clip`` now, without making speech. Returns how:
    'analysed', 'loaded from the disk cache' or 'already in memory' (a PreloadResult)."""
    engine = registry.get_engine(engine_name)
    if not engine.capabilities.cloning:
        raise InputError(f"engine {engine_name!r} does not clone voices; preload is for "
                         f"{' and '.join(INDEXTTS_ENGINES)}")
    with registry.generation_lock(engine_name):  # one model use at a time
        return engine.preload(str(clip.path))
