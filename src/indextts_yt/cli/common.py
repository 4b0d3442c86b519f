"""What the command modules share: options declared once, option groups, the store, and
running a job with its progress drawn."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..errors import InputError
from ..settings import MAX_CHARS_LIMITS

if TYPE_CHECKING:
    from ..jobs.runner import FarmFactory, ProgressEvent
    from ..jobs.store import Store

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Studio data folder "
                    "(default: $INDEXTTS_YT_DATA_DIR or the user data dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
EngineOpt = Annotated[str, typer.Option("--engine", "-e", help="Engine name, or 'auto' to pick "
                      "one per segment by language.")]
VoiceOpt = Annotated[Optional[str], typer.Option("--voice", "-v", help="Voice id (see `voices`).")]
CastOpt = Annotated[Optional[Path], typer.Option(
    "--cast", metavar="FILE", help="Characters and their voices (.json or .toml): "
    '{"Pooh": {"voice": "espeak:en-gb", "speed": 0.9}}; see the README.')]
DialogueOpt = Annotated[Optional[str], typer.Option(
    "--dialogue-voice", metavar="NAME", help="Automatic dialogue: quoted speech goes to the "
    "cast member its attribution names (\"...,\" said Pooh), else to this voice (a cast name "
    "or any voice id; narrator: the narrator's). See the README.")]
AttributionOpt = Annotated[bool, typer.Option(
    "--attribution/--no-attribution", help="Automatic dialogue: give a quote to the cast "
    "member its attribution names (the default); --no-attribution: every quote to the "
    "dialogue voice.")]
SpeedOpt = Annotated[Optional[float], typer.Option("--speed", help="Speaking rate, 1.0 = normal.")]
OptionOpt = Annotated[Optional[list[str]], typer.Option("--option", "-O", metavar="NAME=VALUE",
                      help="Engine option, e.g. -O noise_scale=0.5 (repeatable).")]
MaxCharsOpt = Annotated[Optional[int], typer.Option("--max-chars", min=MAX_CHARS_LIMITS[0],
                        max=MAX_CHARS_LIMITS[1],
                        help="Longest segment in characters (default: the engine's).")]
# The help panel of everything only the IndexTTS engines read.
GPU_PANEL = "IndexTTS engines"


@dataclasses.dataclass(frozen=True)
class EngineLoad:
    """How IndexTTS models load (narrate, resume, serve, preload); see engine_setup.py.
    A command takes it as one parameter; @option_groups makes it these six flags."""

    checkpoints: Annotated[Optional[list[str]], typer.Option(
        "--checkpoints", metavar="[ENGINE=]DIR", rich_help_panel=GPU_PANEL,
        envvar="INDEXTTS_YT_CHECKPOINTS", show_envvar=True,
        help="IndexTTS weights folder (default ./checkpoints); ENGINE=DIR for one engine only, "
             "e.g. --checkpoints indextts2.5=ckpt25 (repeatable).")] = None
    device: Annotated[Optional[str], typer.Option(
        "--device", rich_help_panel=GPU_PANEL, envvar="INDEXTTS_YT_DEVICE", show_envvar=True,
        help="cuda, cuda:N, cpu or mps (default: first GPU).")] = None
    fp16: Annotated[bool, typer.Option("--fp16", rich_help_panel=GPU_PANEL,
                    help="Half-precision GPT: less GPU memory.")] = False
    accel: Annotated[bool, typer.Option("--accel", rich_help_panel=GPU_PANEL, help="flash-attn "
                     "GPT engine (CUDA): faster; IndexTTS2 then ignores top_p/top_k/beams/"
                     "repetition penalty, 2.5 ignores beams.")] = False
    compile: Annotated[bool, typer.Option("--compile", rich_help_panel=GPU_PANEL,
                       help="torch.compile the diffusion model (IndexTTS2): slow first "
                            "segment, faster after.")] = False
    cuda_kernel: Annotated[bool, typer.Option("--cuda-kernel", rich_help_panel=GPU_PANEL,
                           help="BigVGAN's fused CUDA kernel (IndexTTS2; compiles on first "
                                "use).")] = False

    def configure(self) -> None:
        """Set how the IndexTTS engines will load (nothing loads yet)."""
        from ..engine_setup import configure_indextts

        configure_indextts(self.checkpoints or [], device=self.device, fp16=self.fp16,
                           accel=self.accel, compile=self.compile, cuda_kernel=self.cuda_kernel)


@dataclasses.dataclass
class Workers:
    """Where takes are rendered (narrate, resume, serve): here, or on engine actors on Ray.
    A command takes it as one parameter; @option_groups makes it these two flags."""

    workers: Annotated[Optional[int], typer.Option(
        "--workers", metavar="N", help="Render on N engine actors on Ray, in parallel (one "
        "GPU each where the cluster has GPUs, else a share of the CPUs); needs "
        "pip install 'indextts-yt[cluster]'. Default: in this process.")] = None
    ray: Annotated[Optional[str], typer.Option(
        "--ray", metavar="ADDRESS", help="Join the Ray cluster at ADDRESS (its head's "
        "host:port, or auto) instead of starting one here; with --workers.")] = None

    def check(self) -> None:
        """Refuse what cannot work, before any work."""
        if self.workers is None and self.ray is not None:
            raise InputError("--ray needs --workers N: how many engine actors to start there")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"--workers must be at least 1 (got {self.workers})")

    @contextlib.contextmanager
    def pool(self) -> Iterator[FarmFactory | None]:
        """The farm factory of the worker pool (None: render here), closed at the end."""
        self.check()
        if self.workers is None:
            yield None
            return
        from ..jobs.cluster import WorkerPool

        pool = WorkerPool(self.workers, self.ray)
        try:
            yield pool
        finally:
            pool.close()


def option_groups(command: Callable[..., Any]) -> Callable[..., Any]:
    """Let a command take a group of options as one dataclass parameter.

    Typer has no dataclass parameters: here each parameter annotated with a dataclass is
    shown to typer as that dataclass's fields (each an Annotated typer option), in its place,
    and the command is called with the dataclass built from them. The result takes the
    fields as keyword arguments, as typer passes them."""
    signature = inspect.signature(command, eval_str=True)
    groups = {p.name: p.annotation for p in signature.parameters.values()
              if dataclasses.is_dataclass(p.annotation)}
    shown: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.name not in groups:
            shown.append(param)
            continue
        hints = typing.get_type_hints(param.annotation, include_extras=True)
        shown += [inspect.Parameter(f.name, param.kind, default=f.default,
                                    annotation=hints[f.name])
                  for f in dataclasses.fields(param.annotation)]

    @functools.wraps(command)
    def run(**values: Any) -> Any:
        for name, group in groups.items():
            values[name] = group(**{f.name: values.pop(f.name)
                                    for f in dataclasses.fields(group)})
        return command(**values)

    run.__signature__ = signature.replace(parameters=shown)  # type: ignore[attr-defined]
    # typer reads the type hints too; evaluated objects, so no module's names are needed
    run.__annotations__ = {p.name: p.annotation for p in shown}
    return run


def open_store(data_dir: Path | None) -> Store:
    """The studio's job store, with jobs left running by a dead process marked interrupted."""
    from ..jobs.runner import sweep_stale
    from ..jobs.store import Store
    from ..paths import data_dir as resolve

    store = Store(resolve(data_dir))
    sweep_stale(store)
    return store


def parse_options(option: list[str] | None) -> dict[str, float | str]:
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
    return options


def given_params(ctx: typer.Context) -> set[str]:
    """The parameters typed on the command line or set by environment (not defaults): they
    win over a preset's settings."""
    # By name: typer may bring its own copy of click's ParameterSource.
    return {name for name in ctx.params
            if getattr(ctx.get_parameter_source(name), "name", "") in ("COMMANDLINE",
                                                                     "ENVIRONMENT")}


def run_with_progress(store: Store, job_id: str, from_states: Iterable[str] | None = None,
                      farm: FarmFactory | None = None) -> ProgressEvent | None:
    """Run the job here, drawing its progress; returns the last event."""
    from ..jobs.runner import run_job
    from .progress import render

    return render(run_job(store, job_id, from_states=from_states, farm=farm))


def run_to_end(store: Store, job_id: str, farm: FarmFactory | None = None) -> None:
    """Run the job from here; exit 130 on Ctrl-C (saying how to resume), 1 unless it is
    done. ``farm``: the worker pool's (--workers), else rendered in this process."""
    try:
        last = run_with_progress(store, job_id, farm=farm)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; continue with: indextts-yt resume {job_id}", err=True)
        raise typer.Exit(130) from None
    if last is None or last.state != "done":
        raise typer.Exit(1)
