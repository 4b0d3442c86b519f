"""`narrate`, `segments`, `resume` and `jobs`: one script to one narration, and the jobs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..jobs.state import JobState
from .common import (GPU_PANEL, AttributionOpt, CastOpt, DataDir, DialogueOpt, EngineLoad,
                     Workers,
                     EngineOpt, JsonOpt, MaxCharsOpt, OptionOpt, SpeedOpt, VoiceOpt, given_params,
                     open_store, option_groups, parse_options, run_to_end)

from ..settings import (MAX_PAUSE_S, PAUSE_NAMES, DialogueSettings, JobFiles, JobSettings,
                        read_cast, validated)

if TYPE_CHECKING:
    from ..clips import ClipStore

@dataclasses.dataclass(frozen=True)
class SettingFlags:
    """narrate's flags that make the job's settings (on top of a preset's)."""

    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="wav, flac, mp3, opus or aac (default: by the extension).")] = None
    bitrate: Annotated[Optional[str], typer.Option(
        "--bitrate", "-b", help="For mp3/opus/aac, e.g. 96k (default: the format's).")] = None
    loudness: Annotated[Optional[str], typer.Option(
        "--loudness", help="Loudness target in LUFS, or a preset: podcast (-16, default), "
        "youtube (-14), broadcast (-23), or off. Peaks stay under -1 dBTP.")] = None
    trim: Annotated[bool, typer.Option("--trim/--no-trim", help="Cut each segment's leading "
                    "and trailing silence, so pauses are exactly as set.")] = True
    subtitle_width: Annotated[int, typer.Option(min=10, max=200, help="Subtitle line width "
                              "(columns; a Chinese character takes two).")] = 42
    subtitle_lines: Annotated[int, typer.Option(min=1, max=5, help="Lines per cue.")] = 2
    subtitle_max_s: Annotated[float, typer.Option(min=1, max=60, help="Longest time a cue "
                              "stays on screen, seconds.")] = 7.0
    engine: EngineOpt = "auto"
    voice: VoiceOpt = None
    speed: SpeedOpt = None
    option: OptionOpt = None
    clause_pause: Annotated[Optional[float], typer.Option(
        min=0, max=MAX_PAUSE_S, help="Seconds where a long sentence was cut.")] = None
    sentence_pause: Annotated[Optional[float], typer.Option(
        min=0, max=MAX_PAUSE_S, help="Seconds after a sentence.")] = None
    paragraph_pause: Annotated[Optional[float], typer.Option(
        min=0, max=MAX_PAUSE_S, help="Seconds after a paragraph.")] = None
    heading_pause: Annotated[Optional[float], typer.Option(
        min=0, max=MAX_PAUSE_S, help="Seconds after a heading.")] = None
    max_chars: MaxCharsOpt = None
    cast: CastOpt = None
    dialogue_voice: DialogueOpt = None
    attribution: AttributionOpt = True
    batch: Annotated[bool, typer.Option("--batch", help="Write the output once at the end "
                     "instead of growing it (playable) while segments finish.")] = False
    check: Annotated[Optional[str], typer.Option(
        "--check", metavar="off|flag|retake", help="Proofread each take: off, flag (mark "
        "what sounds wrong), retake (also render it again with another seed). Default: "
        "retake for engines with a seed, flag for piper and espeak.")] = None
    retakes: Annotated[Optional[int], typer.Option(
        "--retakes", metavar="N", help="Most retakes of a flagged segment (0-5; default 2).")
    ] = None
    asr_model: Annotated[Optional[str], typer.Option(
        "--asr-model", metavar="NAME|PATH", help="Speech recogniser that hears takes back: a "
        "faster-whisper model name or a CTranslate2 folder (default: per language).")] = None
    emotion_clip: Annotated[Optional[str], typer.Option(
        "--emotion-clip", rich_help_panel=GPU_PANEL, metavar="CLIP",
        help="Audio file (or clip id) whose emotion the speech takes.")] = None
    emotion_strength: Annotated[Optional[float], typer.Option(
        "--emotion-strength", min=0, max=1, rich_help_panel=GPU_PANEL,
        help="Strength of the emotion clip or vector, 0-1 (emo_alpha).")] = None
    emotion_vector: Annotated[Optional[str], typer.Option(
        "--emotion-vector", rich_help_panel=GPU_PANEL, metavar="NAME=V,...",
        help="IndexTTS2 emotion vector, e.g. happy=0.6,calm=0.2 (happy angry sad afraid "
             "disgusted melancholic surprised calm; each 0-1).")] = None
    emotion_text: Annotated[Optional[str], typer.Option(
        "--emotion-text", rich_help_panel=GPU_PANEL,
        help="IndexTTS2: describe the emotion in words.")] = None
    dict_file: Annotated[Optional[Path], typer.Option(
        "--dict", metavar="FILE", help="Pronunciation dictionary entries for this job (.csv "
        "or .json, as `dict export` writes); over the studio's and a preset's.")] = None


#: The flags that set one setting each: flag -> where in settings.JobSettings. A new
#: setting is a field there, its flag in SettingFlags and a line here.
SETTING_OF_FLAG: dict[str, tuple[str, ...]] = {
    "engine": ("engine",), "voice": ("voice",), "max_chars": ("max_chars",),
    "speed": ("options", "speed"), "emotion_strength": ("options", "emo_alpha"),
    "emotion_text": ("options", "emotion_text"),
    **{f"{name}_pause": ("pauses", name) for name in PAUSE_NAMES},
    "format": ("output", "format"), "bitrate": ("output", "bitrate"),
    "loudness": ("output", "loudness"), "trim": ("output", "trim"),
    "subtitle_width": ("output", "subtitles", "max_line_chars"),
    "subtitle_lines": ("output", "subtitles", "max_lines"),
    "subtitle_max_s": ("output", "subtitles", "max_cue_s"),
    "check": ("checks", "mode"), "retakes": ("checks", "retakes"),
    "asr_model": ("checks", "asr_model"), "dialogue_voice": ("dialogue", "voice"),
    "attribution": ("dialogue", "attribution"),
}


def settings_from_flags(flags: SettingFlags, given: set[str], clips: ClipStore,
                        base: JobSettings) -> JobSettings:
    """``base`` (a preset's settings, or the defaults) with what was typed here on top."""
    from ..engine_setup import clip_option, emotion_vector_options, voice_option

    # -O NAME=VALUE first: a flag for the same option (--speed) wins over it.
    options = {**parse_options(flags.option), **emotion_vector_options(flags.emotion_vector)}
    if flags.emotion_clip is not None:
        options["emotion_clip"] = clip_option(clips, flags.emotion_clip, "--emotion-clip")
    overrides: dict[str, Any] = {"options": options}
    for flag, path in SETTING_OF_FLAG.items():
        if flag in given:
            *parents, leaf = path
            node = overrides
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = getattr(flags, flag)
    if "subtitle_max_s" in given:  # a cue may then be shorter than the 1 s default minimum
        overrides["output"]["subtitles"]["min_cue_s"] = min(1.0, flags.subtitle_max_s)
    if flags.cast is not None:  # the file's cast replaces a preset's
        overrides["cast"] = read_cast(flags.cast)
    if flags.dict_file is not None:
        overrides["dictionary"] = dictionary_from_file(flags.dict_file) + \
            [e.model_dump() for e in base.dictionary]
    settings = base.merged(overrides)
    if settings.voice is not None:  # a file becomes a clip; ids and names resolve in plan()
        settings = settings.merged({"voice": voice_option(clips, settings.voice,
                                                          settings.engine)})
    return settings


def dictionary_from_file(path: Path) -> list[dict[str, Any]]:
    """A job's entries from a dictionary file (DictionaryError with line and column)."""
    from ..dictionary import MAX_ENTRIES, parse_file
    from ..errors import InputError

    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_ENTRIES * 1024)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return [e.model_dump() for e in parse_file(raw, path.name)]


@option_groups
def narrate(
    ctx: typer.Context,
    script: Annotated[str, typer.Argument(help="Script file (.txt or .md), or - for stdin.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Audio file to write: .wav, "
                      ".flac, .mp3, .ogg/.opus (Opus) or .m4a (AAC).")],
    srt: Annotated[Optional[Path], typer.Option("--srt", help="Also write subtitles (.srt).")] = None,
    vtt: Annotated[Optional[Path], typer.Option("--vtt", help="Also write subtitles (.vtt, WebVTT).")] = None,
    chapters: Annotated[Optional[Path], typer.Option(
        "--chapters", help="Also write a YouTube chapter list (.txt) from the headings.")] = None,
    words: Annotated[Optional[Path], typer.Option(
        "--words", help="Also write each word's time (.json): from the recognised words "
                        "where proofreading heard the segment (--check), else estimated.")] = None,
    flags: SettingFlags = SettingFlags(),
    load: EngineLoad = EngineLoad(),
    workers: Workers = Workers(),
    preset: Annotated[Optional[str], typer.Option(
        "--preset", "-p", help="Start from this settings preset; options given here win.")] = None,
    save_preset: Annotated[Optional[str], typer.Option(
        "--save-preset", metavar="NAME", help="Save this run's settings as a preset.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Narrate SCRIPT to an audio file, resuming an identical unfinished run if there is one.

    With a cloning engine (indextts2, indextts2.5), --voice is a reference clip: an audio
    file of 1-15 s of clean speech, 3-10 s is best (stored in the studio on first use), or
    a clip id."""
    from ..audio.encode import FORMATS
    from ..clips import ClipStore
    from ..jobs import service
    from ..jobs.store import ORIGIN_CLI
    from ..outputs import check_writable
    from ..paths import data_dir as resolve
    from ..presets import PresetLibrary
    from ..script_input import read_script

    given = given_params(ctx)
    audio_suffixes = tuple(e for info in FORMATS.values() for e in info.extensions)
    out = check_writable(output, audio_suffixes, "output")
    srt_path = check_writable(srt, (".srt",), "subtitle file") if srt else None
    vtt_path = check_writable(vtt, (".vtt",), "subtitle file") if vtt else None
    chapters_path = check_writable(chapters, (".txt",), "chapter list") if chapters else None
    words_path = check_writable(words, (".json",), "word timings file") if words else None
    text, title = read_script(script)
    load.configure()
    workers.check()
    clips = ClipStore(resolve(data_dir))
    presets = PresetLibrary(resolve(data_dir)) if preset or save_preset else None
    chosen = settings_from_flags(flags, given, clips,
                                 presets.get(preset).settings if presets and preset
                                 else JobSettings())
    settings = chosen.checked(out, explicit=given & {"format", "bitrate"})
    files = JobFiles(file=str(out) if settings.output.format != "wav" else None,
                     vtt=str(vtt_path) if vtt_path else None,
                     chapters=str(chapters_path) if chapters_path else None,
                     words=str(words_path) if words_path else None)
    request = service.JobRequest(text, title, settings, streaming=not flags.batch, files=files)
    # every check before the job is stored
    planned = service.plan_request(request, clips)
    if save_preset and presets:  # as chosen, with the format the output's name chose
        saved = presets.save(save_preset, chosen.merged(
            {"output": {"format": settings.output.format, "bitrate": settings.output.bitrate}}))
        typer.echo(f"saved preset {saved.name!r}", err=True)

    # The workers start before the job is stored: a cluster that cannot be reached stores
    # nothing.
    with workers.pool() as farm:
        store = open_store(data_dir)
        # An encoded output (mp3, ...) is made as the narration is, from the same mastered
        # audio as the job's WAV, which is kept in the job's folder; a .wav output is that
        # WAV itself.
        wav_path = out if files.file is None else None
        job, continued = service.create_job(store, request, output_path=wav_path,
                                            srt_path=srt_path, origin=ORIGIN_CLI,
                                            continue_identical=True, planned=planned)
        if continued:
            typer.echo(f"resuming unfinished job {job.id}", err=True)
        for note in job.notes:
            typer.echo(f"note: {note}", err=True)
        run_to_end(store, job.id, farm)


@option_groups
def resume(job_id: Annotated[str, typer.Argument(help="Job id (see `jobs`).")],
           load: EngineLoad = EngineLoad(),
           workers: Workers = Workers(),
           data_dir: DataDir = None) -> None:
    """Continue a job that was interrupted, paused or failed."""
    load.configure()
    workers.check()
    store = open_store(data_dir)
    job = store.get_job(job_id)
    if job.state == JobState.DONE:
        typer.echo(f"job {job_id} is already done -> {job.files.file or job.output_path}", err=True)
        return
    with workers.pool() as farm:
        run_to_end(store, job_id, farm)


def jobs(json_out: JsonOpt = False, data_dir: DataDir = None) -> None:
    """List jobs, newest first."""
    store = open_store(data_dir)
    rows = []
    for job in store.list_jobs():
        segs = store.segments(job.id)
        rows.append({"id": job.id, "state": job.state, "title": job.title,
                     "done": sum(s.has_valid_audio for s in segs), "total": len(segs),
                     "audio_seconds": round(sum(s.audio_seconds or 0 for s in segs), 2),
                     # the file the user asked for: an encoded one is made from the WAV
                     "output": job.files.file or job.output_path, "error": job.error})
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no jobs yet")
        return
    for r in rows:
        typer.echo(f"{r['id']}  {r['state']:<11} {r['done']:>4}/{r['total']:<4} "
                   f"{r['title']}  -> {r['output']}" + (f"  ({r['error']})" if r["error"] else ""))


def segments(
    script: Annotated[str, typer.Argument(help="Script file, or - for stdin.")],
    engine: EngineOpt = "auto",
    voice: VoiceOpt = None,
    max_chars: MaxCharsOpt = None,
    cast: CastOpt = None,
    dialogue_voice: DialogueOpt = None,
    attribution: AttributionOpt = True,
    json_out: Annotated[bool, typer.Option("--json", help="Stable JSON (see README).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Preview how SCRIPT will be split, without synthesising anything."""
    from ..clips import ClipStore
    from ..dictionary import Dictionary, studio_entries
    from ..jobs.plan import Choice, describe, plan, plan_notes, resolve_choice
    from ..paths import data_dir as resolve
    from ..script_input import read_script
    from .progress import count, fmt_duration

    text, _ = read_script(script)
    # The studio's library voices by name and its clips, as narrate takes them.
    clips = ClipStore(resolve(data_dir))
    choice = resolve_choice(Choice(engine, voice), clips)
    planned = plan(text, choice, {}, max_chars, clips, read_cast(cast) if cast else None,
                   dictionary=Dictionary(studio=studio_entries(clips.data_dir)),
                   dialogue=None if dialogue_voice is None and attribution else validated(
                       DialogueSettings, {"voice": dialogue_voice, "attribution": attribution},
                       "--dialogue-voice"))
    rows, notes = describe(planned), plan_notes(text, planned, choice)
    if json_out:
        typer.echo(json.dumps({"version": 1, "segments": rows, "notes": notes},
                              ensure_ascii=False, indent=2))
        return
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    for r in rows:
        chapter = f"[{r['chapter']}] " if r["chapter"] else ""
        speaker = f"{r['speaker']}: " if r["speaker"] else ""
        typer.echo(f"{r['index']:>4}  {r['engine']}/{r['voice']}/{r['language']}  "
                   f"{r['pause_after']:<9} {chapter}{speaker}{r['text']}")
    chars = sum(r["chars"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    typer.echo(f"{count(len(rows), 'segment')}, {count(chars, 'character')}, "
               f"about {fmt_duration(seconds)} of speech", err=True)
