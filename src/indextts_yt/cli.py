"""The `indextts-yt` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import InputError, StudioError

app = typer.Typer(
    name="indextts-yt",
    help="Long-form narration studio: a script and a voice in, a narration out.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Studio data folder "
                    "(default: $INDEXTTS_YT_DATA_DIR or the user data dir).")]
EngineOpt = Annotated[str, typer.Option("--engine", "-e", help="Engine name, or 'auto' to pick "
                      "one per segment by language.")]
VoiceOpt = Annotated[Optional[str], typer.Option("--voice", "-v", help="Voice id (see `voices`).")]
SpeedOpt = Annotated[Optional[float], typer.Option("--speed", help="Speaking rate, 1.0 = normal.")]
OptionOpt = Annotated[Optional[list[str]], typer.Option("--option", "-O", metavar="NAME=VALUE",
                      help="Engine option, e.g. -O noise_scale=0.5 (repeatable).")]
MaxCharsOpt = Annotated[Optional[int], typer.Option("--max-chars", min=20, max=2000,
                        help="Longest segment in characters (default: the engine's).")]
# How IndexTTS models load (narrate, serve, preload); see engine_setup.py.
_GPU = "IndexTTS engines"
CheckpointsOpt = Annotated[Optional[list[str]], typer.Option(
    "--checkpoints", metavar="[ENGINE=]DIR", rich_help_panel=_GPU,
    envvar="INDEXTTS_YT_CHECKPOINTS", show_envvar=True,
    help="IndexTTS weights folder (default ./checkpoints); ENGINE=DIR for one engine only, "
         "e.g. --checkpoints indextts2.5=ckpt25 (repeatable).")]
DeviceOpt = Annotated[Optional[str], typer.Option(
    "--device", rich_help_panel=_GPU, envvar="INDEXTTS_YT_DEVICE", show_envvar=True, help="cuda, cuda:N, cpu or mps (default: first GPU).")]
Fp16Opt = Annotated[bool, typer.Option("--fp16", rich_help_panel=_GPU,
                    help="Half-precision GPT: less GPU memory.")]
AccelOpt = Annotated[bool, typer.Option("--accel", rich_help_panel=_GPU, help="flash-attn GPT "
                     "engine (CUDA): faster; IndexTTS2 then ignores top_p/top_k/beams/repetition "
                     "penalty, 2.5 ignores beams.")]
CompileOpt = Annotated[bool, typer.Option("--compile", rich_help_panel=_GPU,
                       help="torch.compile the diffusion model (IndexTTS2): slow first segment, "
                            "faster after.")]
CudaKernelOpt = Annotated[bool, typer.Option("--cuda-kernel", rich_help_panel=_GPU,
                          help="BigVGAN's fused CUDA kernel (IndexTTS2; compiles on first use).")]


def _store(data_dir: Path | None):
    from .jobs.runner import sweep_stale
    from .jobs.store import Store
    from .paths import data_dir as resolve

    store = Store(resolve(data_dir))
    sweep_stale(store)
    return store


def _options(speed: float | None, option: list[str] | None) -> dict[str, float | str]:
    """-O NAME=VALUE pairs: numbers where they parse as one, text otherwise (the engine's
    settings say which each must be)."""
    options: dict[str, float | str] = {}
    for item in option or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"engine option {item!r} must look like NAME=VALUE")
        try:
            options[name.strip()] = float(value)
        except ValueError:
            options[name.strip()] = value
    if speed is not None:
        options["speed"] = speed
    return options


def _configure_engines(checkpoints: list[str] | None, device: str | None, fp16: bool,
                       accel: bool, compile: bool, cuda_kernel: bool) -> None:
    from .engine_setup import configure_indextts

    configure_indextts(checkpoints or [], device=device, fp16=fp16, accel=accel,
                       compile=compile, cuda_kernel=cuda_kernel)


def _plan(script: str, engine: str, voice: str | None, options: dict, max_chars: int | None):
    from .jobs.plan import Choice, plan
    from .script_input import read_script

    text, title = read_script(script)
    return plan(text, Choice(engine, voice), options, max_chars), title


def _given(ctx: typer.Context) -> set[str]:
    """The parameters typed on the command line or set by environment (not defaults): they
    win over a preset's settings."""
    # By name: typer may bring its own copy of click's ParameterSource.
    return {name for name in ctx.params
            if getattr(ctx.get_parameter_source(name), "name", "") in ("COMMANDLINE",
                                                                     "ENVIRONMENT")}


def _run_events(store, job_id: str, from_states=None):
    """Run the job here, drawing its progress; returns the last event."""
    from .cli_progress import render
    from .jobs.runner import run_job

    return render(run_job(store, job_id, from_states=from_states))


def _run(store, job_id: str) -> None:
    try:
        last = _run_events(store, job_id)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; continue with: indextts-yt resume {job_id}", err=True)
        raise typer.Exit(130) from None
    if last is None or last.state != "done":
        raise typer.Exit(1)


@app.command()
def narrate(
    ctx: typer.Context,
    script: Annotated[str, typer.Argument(help="Script file (.txt or .md), or - for stdin.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Audio file to write: .wav, "
                      ".flac, .mp3, .ogg/.opus (Opus) or .m4a (AAC).")],
    srt: Annotated[Optional[Path], typer.Option("--srt", help="Also write subtitles (.srt).")] = None,
    vtt: Annotated[Optional[Path], typer.Option("--vtt", help="Also write subtitles (.vtt, WebVTT).")] = None,
    chapters: Annotated[Optional[Path], typer.Option(
        "--chapters", help="Also write a YouTube chapter list (.txt) from the headings.")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="wav, flac, mp3, opus or aac (default: by the extension).")] = None,
    bitrate: Annotated[Optional[str], typer.Option(
        "--bitrate", "-b", help="For mp3/opus/aac, e.g. 96k (default: the format's).")] = None,
    loudness: Annotated[Optional[str], typer.Option(
        "--loudness", help="Loudness target in LUFS, or a preset: podcast (-16, default), "
        "youtube (-14), broadcast (-23), or off. Peaks stay under -1 dBTP.")] = None,
    trim: Annotated[bool, typer.Option("--trim/--no-trim", help="Cut each segment's leading "
                    "and trailing silence, so pauses are exactly as set.")] = True,
    subtitle_width: Annotated[int, typer.Option(min=10, max=200, help="Subtitle line width "
                              "(columns; a Chinese character takes two).")] = 42,
    subtitle_lines: Annotated[int, typer.Option(min=1, max=5, help="Lines per cue.")] = 2,
    subtitle_max_s: Annotated[float, typer.Option(min=1, max=60, help="Longest time a cue "
                              "stays on screen, seconds.")] = 7.0,
    engine: EngineOpt = "auto",
    voice: VoiceOpt = None,
    speed: SpeedOpt = None,
    option: OptionOpt = None,
    clause_pause: Annotated[Optional[float], typer.Option(min=0, max=10, help="Seconds where a long sentence was cut.")] = None,
    sentence_pause: Annotated[Optional[float], typer.Option(min=0, max=10, help="Seconds after a sentence.")] = None,
    paragraph_pause: Annotated[Optional[float], typer.Option(min=0, max=10, help="Seconds after a paragraph.")] = None,
    heading_pause: Annotated[Optional[float], typer.Option(min=0, max=10, help="Seconds after a heading.")] = None,
    max_chars: MaxCharsOpt = None,
    batch: Annotated[bool, typer.Option("--batch", help="Write the output once at the end "
                     "instead of growing it (playable) while segments finish.")] = False,
    emotion_clip: Annotated[Optional[str], typer.Option(
        "--emotion-clip", rich_help_panel=_GPU, metavar="CLIP",
        help="Audio file (or clip id) whose emotion the speech takes.")] = None,
    emotion_strength: Annotated[Optional[float], typer.Option(
        "--emotion-strength", min=0, max=1, rich_help_panel=_GPU,
        help="Strength of the emotion clip or vector, 0-1 (emo_alpha).")] = None,
    emotion_vector: Annotated[Optional[str], typer.Option(
        "--emotion-vector", rich_help_panel=_GPU, metavar="NAME=V,...",
        help="IndexTTS2 emotion vector, e.g. happy=0.6,calm=0.2 (happy angry sad afraid "
             "disgusted melancholic surprised calm; each 0-1).")] = None,
    emotion_text: Annotated[Optional[str], typer.Option(
        "--emotion-text", rich_help_panel=_GPU,
        help="IndexTTS2: describe the emotion in words.")] = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = None,
    fp16: Fp16Opt = False,
    accel: AccelOpt = False,
    compile: CompileOpt = False,
    cuda_kernel: CudaKernelOpt = False,
    preset: Annotated[Optional[str], typer.Option(
        "--preset", "-p", help="Start from this settings preset; options given here win.")] = None,
    save_preset: Annotated[Optional[str], typer.Option(
        "--save-preset", metavar="NAME", help="Save this run's settings as a preset.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Narrate SCRIPT to an audio file, resuming an identical unfinished run if there is one.

    With a cloning engine (indextts2, indextts2.5), --voice is a reference clip: an audio
    file of 3-15 s of clean speech (stored in the studio on first use) or a clip id."""
    from .clips import ClipStore
    from .engine_setup import clip_option, emotion_vector_options
    from .jobs import service
    from .jobs.store import ORIGIN_CLI
    from .audio.encode import FORMATS
    from .outputs import check_writable
    from .paths import data_dir as resolve
    from .presets import PresetLibrary
    from .settings import JobFiles, JobSettings
    from .script_input import read_script

    given = _given(ctx)
    audio_suffixes = tuple(e for info in FORMATS.values() for e in info.extensions)
    out = check_writable(output, audio_suffixes, "output")
    srt_path = check_writable(srt, (".srt",), "subtitle file") if srt else None
    vtt_path = check_writable(vtt, (".vtt",), "subtitle file") if vtt else None
    chapters_path = check_writable(chapters, (".txt",), "chapter list") if chapters else None
    text, title = read_script(script)
    _configure_engines(checkpoints, device, fp16, accel, compile, cuda_kernel)
    clips = ClipStore(resolve(data_dir))
    presets = PresetLibrary(resolve(data_dir)) if preset or save_preset else None

    # This run's settings: the preset's (or the defaults), and on top what was typed here.
    options = _options(speed if "speed" in given else None, option)
    options.update(emotion_vector_options(emotion_vector))
    if emotion_clip is not None:
        options["emotion_clip"] = clip_option(clips, emotion_clip, "--emotion-clip")
    if emotion_strength is not None:
        options["emo_alpha"] = emotion_strength
    if emotion_text is not None:
        options["emotion_text"] = emotion_text
    pause_fields = {"clause": clause_pause, "sentence": sentence_pause,
                    "paragraph": paragraph_pause, "heading": heading_pause}
    subtitle_fields = {"max_line_chars": ("subtitle_width", subtitle_width),
                       "max_lines": ("subtitle_lines", subtitle_lines),
                       "max_cue_s": ("subtitle_max_s", subtitle_max_s)}
    subtitles = {k: v for k, (param, v) in subtitle_fields.items() if param in given}
    if "max_cue_s" in subtitles:
        subtitles["min_cue_s"] = min(1.0, subtitle_max_s)
    overrides = {
        "options": options,
        "pauses": {k: v for k, v in pause_fields.items() if v is not None},
        "output": {k: v for k, v in (("format", format), ("bitrate", bitrate),
                                     ("loudness", loudness)) if v is not None},
    }
    if "trim" in given:
        overrides["output"]["trim"] = trim
    if subtitles:
        overrides["output"]["subtitles"] = subtitles
    for name, value in (("engine", engine), ("voice", voice), ("max_chars", max_chars)):
        if name in given:
            overrides[name] = value
    chosen = (presets.get(preset).settings if preset else JobSettings()).merged(overrides)
    if chosen.voice is not None and chosen.engine != "auto":
        chosen = chosen.merged({"voice": clip_option(clips, chosen.voice, "--voice",
                                                     engine=chosen.engine)})
    settings = chosen.checked(out, explicit=given & {"format", "bitrate"})
    files = JobFiles(file=str(out) if settings.output.format != "wav" else None,
                     vtt=str(vtt_path) if vtt_path else None,
                     chapters=str(chapters_path) if chapters_path else None)
    request = service.JobRequest(text, title, settings, streaming=not batch, files=files)
    # every check before the job is stored
    planned = service.plan_request(request, clips)
    if save_preset:  # as chosen, with the format the output's name chose
        saved = presets.save(save_preset, chosen.merged(
            {"output": {"format": settings.output.format, "bitrate": settings.output.bitrate}}))
        typer.echo(f"saved preset {saved.name!r}", err=True)

    store = _store(data_dir)
    # An encoded output (mp3, ...) is made at the end from the job's WAV, which grows in the
    # job's folder meanwhile; a .wav output is that WAV itself.
    wav_path = out if files.file is None else None
    job, continued = service.create_job(store, request, output_path=wav_path, srt_path=srt_path,
                                        origin=ORIGIN_CLI, continue_identical=True,
                                        planned=planned)
    if continued:
        typer.echo(f"resuming unfinished job {job.id}", err=True)
    _run(store, job.id)


@app.command()
def resume(job_id: Annotated[str, typer.Argument(help="Job id (see `jobs`).")],
           checkpoints: CheckpointsOpt = None,
           device: DeviceOpt = None,
           fp16: Fp16Opt = False,
           accel: AccelOpt = False,
           compile: CompileOpt = False,
           cuda_kernel: CudaKernelOpt = False,
           data_dir: DataDir = None) -> None:
    """Continue a job that was interrupted, paused or failed."""
    from .jobs import store as st

    _configure_engines(checkpoints, device, fp16, accel, compile, cuda_kernel)
    store = _store(data_dir)
    job = store.get_job(job_id)
    if job.state == st.DONE:
        typer.echo(f"job {job_id} is already done -> {job.output_path}", err=True)
        return
    _run(store, job_id)


@app.command()
def jobs(json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
         data_dir: DataDir = None) -> None:
    """List jobs, newest first."""
    store = _store(data_dir)
    rows = []
    for job in store.list_jobs():
        segs = store.segments(job.id)
        rows.append({"id": job.id, "state": job.state, "title": job.title,
                     "done": sum(s.has_valid_audio for s in segs), "total": len(segs),
                     "audio_seconds": round(sum(s.audio_seconds or 0 for s in segs), 2),
                     "output": job.output_path, "error": job.error})
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no jobs yet")
        return
    for r in rows:
        typer.echo(f"{r['id']}  {r['state']:<11} {r['done']:>4}/{r['total']:<4} "
                   f"{r['title']}  -> {r['output']}" + (f"  ({r['error']})" if r["error"] else ""))


# `voices` is a group (list, add, edit, rm, export, import); plain `voices` lists.
from .cli_voices import app as _voices_app  # noqa: E402

app.add_typer(_voices_app, name="voices")


@app.command()
def segments(
    script: Annotated[str, typer.Argument(help="Script file, or - for stdin.")],
    engine: EngineOpt = "auto",
    voice: VoiceOpt = None,
    max_chars: MaxCharsOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Stable JSON (see README).")] = False,
) -> None:
    """Preview how SCRIPT will be split, without synthesising anything."""
    from .jobs.plan import describe

    planned, _ = _plan(script, engine, voice, {}, max_chars)
    rows = describe(planned)
    if json_out:
        typer.echo(json.dumps({"version": 1, "segments": rows}, ensure_ascii=False, indent=2))
        return
    for r in rows:
        chapter = f"[{r['chapter']}] " if r["chapter"] else ""
        typer.echo(f"{r['index']:>4}  {r['engine']}/{r['voice']}/{r['language']}  "
                   f"{r['pause_after']:<9} {chapter}{r['text']}")
    typer.echo(f"{len(rows)} segments, {sum(r['chars'] for r in rows)} characters", err=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but "
                    "loopback needs an API key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8765,
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="INDEXTTS_YT_API_KEY",
                       show_envvar=True, help="Key every API route requires.")] = None,
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = None,
    fp16: Fp16Opt = False,
    accel: AccelOpt = False,
    compile: CompileOpt = False,
    cuda_kernel: CudaKernelOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Serve the web UI, the JSON API and the audio (one server; loopback by default)."""
    from .paths import data_dir as resolve
    from .server.security import LOOPBACK_HOSTS, is_loopback

    if not is_loopback(host) and not api_key:
        raise InputError(f"refusing to listen on {host} without an API key: pass --api-key KEY "
                         "or set INDEXTTS_YT_API_KEY (or listen on 127.0.0.1)")
    _configure_engines(checkpoints, device, fp16, accel, compile, cuda_kernel)
    import logging

    import uvicorn

    from .server import create_app
    from .server.security import RedactKey

    logging.getLogger("uvicorn.access").addFilter(RedactKey())

    server_app = create_app(resolve(data_dir), api_key=api_key,
                            allowed_hosts=None if api_key else LOOPBACK_HOSTS)
    shown = f"[{host}]" if ":" in host else host
    key_hint = "?key=<your key>" if api_key else ""
    typer.echo(f"Index-TTS-YT studio on http://{shown}:{port}/{key_hint}  (API docs: /docs)",
               err=True)
    # A short graceful shutdown: open audio and event streams would otherwise hold Ctrl-C
    # until they end; the worker then stops after its segment in flight.
    uvicorn.run(server_app, host=host, port=port, log_level="info",
                timeout_graceful_shutdown=3)


@app.command()
def preload(
    clip: Annotated[str, typer.Argument(help="Reference clip: an audio file or a clip id.")],
    engine: Annotated[str, typer.Option("--engine", "-e", help="indextts2 or indextts2.5.")],
    checkpoints: CheckpointsOpt = None,
    device: DeviceOpt = None,
    fp16: Fp16Opt = False,
    accel: AccelOpt = False,
    compile: CompileOpt = False,
    cuda_kernel: CudaKernelOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Store a reference clip and analyse it now (no speech is made), so jobs in its voice
    start without the analysis; the result is kept on disk for later runs and the server."""
    import time

    from .clips import ClipStore
    from .engine_setup import clip_option, preload_clip
    from .paths import data_dir as resolve

    _configure_engines(checkpoints, device, fp16, accel, compile, cuda_kernel)
    clips = ClipStore(resolve(data_dir))
    clip_id = clip_option(clips, clip, "the clip", engine=engine)
    started = time.monotonic()
    how = preload_clip(engine, clips.get(clip_id))
    typer.echo(f"{clip_id}: {how} in {time.monotonic() - started:.1f} s "
               f"(use it with --engine {engine} --voice {clip_id})")


def _register_more() -> None:
    from .cli_batch import batch, cancel, pause, queue_app
    from .cli_presets import presets_app

    app.command()(batch)
    app.command()(pause)
    app.command()(cancel)
    app.add_typer(queue_app, name="queue")
    app.add_typer(presets_app, name="presets")


_register_more()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"indextts-yt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False) -> None:
    pass


def main() -> None:
    try:
        app(standalone_mode=True)
    except StudioError as exc:
        print(f"indextts-yt: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
