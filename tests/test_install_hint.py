"""The hint an optional engine gives when its extra or its weights are missing: a command that
works for the way this studio was installed (``indextts-yt`` is on no package index, so
``pip install "indextts-yt[extra]"`` never could).

- this checkout (installed editable, as the README and CI do): ``pip install -e '<here>[extra]'``
  with the running interpreter;
- a wheel or a plain folder install (simulated distribution metadata): the extra's own
  requirements from our package metadata;
- for real: the CLI in a subprocess, and `indextts-yt serve` with its API and web UI (real
  Chromium, English and 中文), where the indextts25 library cannot be imported.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from browser_util import browser, open_ui, serve_cli  # noqa: F401 - the fixture
from conftest import REPO, cli
from indextts_yt.engines import install_hint as hints
from indextts_yt.engines import registry
from indextts_yt.engines.indextts_common import require_checkpoints
from indextts_yt.engines.install_hint import (DIST, WEIGHTS, editable_folder, extra_requirements,
                                              install_hint, pip_command, weights_hint)
from indextts_yt.errors import EngineUnavailable

GPU_NOTE = " (best on a machine with a CUDA GPU; see the README)"


def commands(text: str) -> list[list[str]]:
    """The `…` spans of a message, each split as a POSIX shell would."""
    return [shlex.split(span) for span in text.split("`")[1::2]]


class FakeDist(metadata.Distribution):
    """A distribution whose metadata files are given: how a wheel or folder install looks."""

    def __init__(self, files: dict[str, str]) -> None:
        self._files = files

    def read_text(self, filename):
        return self._files.get(filename)

    def locate_file(self, path):
        raise NotImplementedError


@pytest.fixture
def installed_as(monkeypatch):
    """Make ``metadata.distribution("indextts-yt")`` answer with the given distribution."""
    real = metadata.distribution

    def install(dist: metadata.Distribution) -> None:
        monkeypatch.setattr(hints.metadata, "distribution",
                            lambda name: dist if name == DIST else real(name))
    return install


def real_extra(extra: str) -> list[str]:
    """What the installed metadata lists for ``extra`` (one ``; extra == "x"`` marker each)."""
    suffix = f'; extra == "{extra}"'
    return [r[: -len(suffix)] for r in metadata.requires(DIST) if r.endswith(suffix)]


# -- this checkout: editable --------------------------------------------------------------

def test_this_checkout_is_installed_editable_and_declares_the_extras():
    assert editable_folder(metadata.distribution(DIST)) == REPO
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert {"indextts2", "indextts25"} <= set(extras)
    assert {"indextts2", "indextts25"} <= set(metadata.metadata(DIST).get_all("Provides-Extra"))


@pytest.mark.parametrize("extra, repo", [("indextts25", "IndexTeam/IndexTTS-2.5"),
                                         ("indextts2", "IndexTeam/IndexTTS-2")])
def test_editable_install_hint_names_this_folder(extra, repo):
    assert shlex.split(pip_command(extra)) == [sys.executable, "-m", "pip", "install", "-e",
                                               f"{REPO}[{extra}]"]
    hint = install_hint(extra)
    assert "indextts-yt[" not in hint.replace(f"{REPO}[", "")
    pip, download, flag = commands(hint)
    assert pip == shlex.split(pip_command(extra))
    folder = f"checkpoints/{repo.split('/')[1]}"
    assert Path(download[0]).name == "hf" and download[1:] == ["download", repo, "--local-dir", folder]
    assert flag == ["--checkpoints", folder]
    # IndexTTS2's torchaudio pins its own torch: the hint says so.
    assert ("virtual environment of its own" in hint) == (extra == "indextts2")


def test_editable_folder_with_a_space_is_quoted(tmp_path, installed_as, monkeypatch):
    src = tmp_path / "my src's copy"
    src.mkdir()
    (src / "pyproject.toml").write_text("[project]\nname = 'indextts-yt'\n")
    installed_as(FakeDist({"direct_url.json": json.dumps(
        {"url": src.as_uri(), "dir_info": {"editable": True}})}))
    monkeypatch.setattr(sys, "executable", "/opt/my python/bin/python3")
    assert shlex.split(pip_command("indextts25")) == [
        "/opt/my python/bin/python3", "-m", "pip", "install", "-e", f"{src}[indextts25]"]


# -- any other install: the extra's requirements ---------------------------------------------

@pytest.mark.parametrize("direct_url", [
    None,  # from an index or a wheel file pip was not told the origin of
    {"url": "file:///tmp/dist/indextts_yt-0.1.0-py3-none-any.whl", "archive_info": {}},
    {"url": REPO.as_uri(), "dir_info": {}},  # `pip install .`: a folder, not editable
    {"url": "file:///gone/away", "dir_info": {"editable": True}},  # its folder was deleted
], ids=["index", "wheel", "folder", "editable-gone"])
@pytest.mark.parametrize("extra", ["indextts25", "indextts2"])
def test_other_installs_list_the_extras_requirements(direct_url, extra, installed_as):
    files = {"METADATA": metadata.distribution(DIST).read_text("METADATA")}
    if direct_url is not None:
        files["direct_url.json"] = json.dumps(direct_url)
    installed_as(FakeDist(files))
    wanted = real_extra(extra)
    assert wanted and all(not r.startswith(DIST) for r in wanted)
    command = pip_command(extra)
    assert shlex.split(command) == [sys.executable, "-m", "pip", "install", *wanted]
    assert "-e" not in shlex.split(command)
    assert commands(install_hint(extra))[0] == shlex.split(command)


METADATA = """\
Metadata-Version: 2.1
Name: indextts-yt
Version: 0.1.0
Requires-Dist: numpy>=1.26
Requires-Dist: tomli; python_version >= "3"
Requires-Dist: engine-lib==1.0; extra == "voices"
Requires-Dist: only-elsewhere; sys_platform == "no-such-platform" and extra == "voices"
Requires-Dist: helper[fast]<3,>=2; extra == "voices"
Requires-Dist: indextts-yt[voices]; extra == "all"
Requires-Dist: other>=2; extra == "all"
Provides-Extra: voices
Provides-Extra: all
"""


def test_extra_requirements_follow_the_markers():
    dist = FakeDist({"METADATA": METADATA})
    # not the base dependencies (with a marker or not), not another platform's
    assert extra_requirements(dist, "voices") == ["engine-lib==1.0", "helper[fast]<3,>=2"]
    # an extra that names another of ours gets that one's requirements
    assert extra_requirements(dist, "all") == ["other>=2", "engine-lib==1.0", "helper[fast]<3,>=2"]
    assert extra_requirements(dist, "nope") == []


def test_requirements_are_quoted_for_the_shell(installed_as, monkeypatch):
    installed_as(FakeDist({"METADATA": METADATA}))
    monkeypatch.setattr(sys, "executable", "/opt/my python/bin/python3")
    command = pip_command("voices")
    assert "'helper[fast]<3,>=2'" in command  # < and > would be redirections unquoted
    assert shlex.split(command) == ["/opt/my python/bin/python3", "-m", "pip", "install",
                                    "engine-lib==1.0", "helper[fast]<3,>=2"]
    with pytest.raises(ValueError, match="no extra 'nope'"):
        pip_command("nope")


# -- weights -------------------------------------------------------------------------------

def test_missing_weights_hint_is_quoted(tmp_path):
    folder = tmp_path / "my weights"
    with pytest.raises(EngineUnavailable) as info:
        require_checkpoints(folder, (), (), "indextts2.5", "IndexTeam/IndexTTS-2.5",
                            "marker", True)
    message = str(info.value)
    assert message.endswith(weights_hint("IndexTeam/IndexTTS-2.5", folder))
    download, flag = commands(message)
    assert download[1:] == ["download", "IndexTeam/IndexTTS-2.5", "--local-dir", str(folder)]
    assert flag == ["--checkpoints", str(folder)]


def test_hf_is_named_as_the_user_can_run_it(monkeypatch):
    scripts = Path(sys.executable).parent
    monkeypatch.setattr(hints.sysconfig, "get_path", lambda name: str(scripts))
    monkeypatch.setenv("PATH", "/usr/bin")
    assert commands(weights_hint("R", "d"))[0][0] == str(scripts / "hf")
    monkeypatch.setenv("PATH", f"/usr/bin{os.pathsep}{scripts}")
    assert commands(weights_hint("R", "d"))[0][0] == "hf"


def test_the_weights_repos_are_the_engines_own():
    from indextts_yt.engines.indextts2_engine import IndexTTS2Engine
    from indextts_yt.engines.indextts25_engine import IndexTTS25Engine

    assert {cls.extra: cls.repo for cls in (IndexTTS2Engine, IndexTTS25Engine)} == WEIGHTS


def test_registry_gives_the_hint_of_an_entrys_extra():
    name = "missing-module-for-test"
    registry.register_engine(name, registry.EngineEntry(
        "indextts_yt.engines.no_such_engine", "Nope", extra="indextts25"))
    try:
        with pytest.raises(EngineUnavailable) as info:
            registry.get_engine(name)
        assert str(info.value).endswith(f" ({install_hint('indextts25')})")
    finally:
        registry._ENGINES.pop(name, None)


# -- for real: the library cannot be imported ----------------------------------------------

@pytest.fixture(scope="module")
def without_indextts25(tmp_path_factory) -> dict[str, str]:
    """An environment in which Python cannot find the indextts25 library: a sitecustomize on
    PYTHONPATH sets sys.modules["indextts25"] = None, so importlib.util.find_spec gives None
    and an import raises ImportError, as if the extra were not installed."""
    shim = tmp_path_factory.mktemp("no-indextts25")
    (shim / "sitecustomize.py").write_text('import sys\nsys.modules["indextts25"] = None\n')
    path = os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path}


def expected_reason() -> str:
    return f"engine 'indextts2.5' is not installed: {install_hint('indextts25')}{GPU_NOTE}"


def test_cli_says_the_command_in_one_line(tmp_path, short_script, data_dir, without_indextts25):
    clip = tmp_path / "me.wav"
    t = np.arange(3 * 22_050) / 22_050
    sf.write(clip, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22_050)
    out = tmp_path / "o.wav"
    result = cli("narrate", str(short_script), "-o", str(out), "-e", "indextts2.5",
                 "--voice", str(clip), "--data-dir", str(data_dir), env=without_indextts25)
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0] == f"indextts-yt: error: {expected_reason()}"
    assert commands(lines[0])[0] == [sys.executable, "-m", "pip", "install", "-e",
                                     f"{REPO}[indextts25]"]
    assert not out.exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory, without_indextts25):
    root = tmp_path_factory.mktemp("hint-server")
    with serve_cli(root / "data", env=without_indextts25) as client:
        yield client


def test_api_gives_the_same_hint(server):
    engines = {e["name"]: e for e in server.get("/api/engines").json()}
    assert engines["indextts2.5"] == {"name": "indextts2.5", "available": False,
                                      "reason": expected_reason()}
    assert engines["piper"]["available"]


def test_web_ui_shows_the_commands_verbatim(server, browser):
    reason = server.get("/api/engines").json()
    reason = next(e["reason"] for e in reason if e["name"] == "indextts2.5")
    spans = reason.split("`")[1::2]
    page, errors, tid = open_ui(browser, server)
    note = tid("engine-unavailable-indextts2.5")
    assert note.is_visible()
    assert note.inner_text() == f"indextts2.5 is not available: {reason.replace('`', '')}"
    assert note.locator("code").all_inner_texts() == spans
    assert spans[0] == pip_command("indextts25")
    # the tooltip: the server's reason whole, inside the page's own label
    assert tid("voice-unavailable-indextts2.5").get_attribute("title") == \
        f"indextts2.5 is not available: {reason}"
    tid("lang-toggle").click()
    note = tid("engine-unavailable-indextts2.5")
    assert note.inner_text() == f"indextts2.5 不可用（服务器的英文说明）：{reason.replace('`', '')}"
    assert note.locator("code").all_inner_texts() == spans
    tid("lang-toggle").click()
    assert not errors, errors
