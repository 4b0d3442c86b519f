"""The command line's package: each module imports on its own, the modules import each other
without a cycle or private names, and the shared option groups reach the commands."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import indextts_yt.cli as cli_package
from indextts_yt import engine_setup

CLI_DIR = Path(cli_package.__file__).parent
PACKAGE = "indextts_yt.cli"
MODULES = sorted(f"{PACKAGE}.{p.stem}" for p in CLI_DIR.glob("*.py")
                 if p.stem not in ("__init__", "__main__"))


def _imports(module: str) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import in the module's file,
    function-level ones included; relative imports resolved."""
    path = CLI_DIR / ("__init__.py" if module == PACKAGE else f"{module.rsplit('.', 1)[1]}.py")
    # the package a relative import starts from
    here = PACKAGE.split(".")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[:len(here) - node.level + 1] if node.level else [])
            target = ".".join(p for p in (base, node.module or "") if p)
            names = [alias.name for alias in node.names]
            if node.module is None:  # from . import x: x may be a module of the package
                found += [(f"{target}.{n}", []) if (CLI_DIR / f"{n}.py").exists()
                          else (target, [n]) for n in names]
            else:
                found.append((target, names))
    return found


def _cli_edges() -> dict[str, set[str]]:
    return {m: {target for target, _ in _imports(m)
                if target == PACKAGE or target.startswith(PACKAGE + ".")}
            for m in [PACKAGE, *MODULES]}


def test_the_modules_are_all_there() -> None:
    assert {m.rsplit(".", 1)[1] for m in MODULES} >= {
        "common", "narrate", "batch", "presets", "voices", "serve", "progress"}
    assert not (CLI_DIR.parent / "cli.py").exists()


@pytest.mark.parametrize("module", [PACKAGE, *MODULES])
def test_each_module_imports_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_no_import_cycle_among_the_cli_modules() -> None:
    edges = _cli_edges()
    assert edges[f"{PACKAGE}.narrate"] >= {f"{PACKAGE}.common"}  # the parser sees them
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import cycle: {' -> '.join([*path, module])}"
        if module in done:
            return
        for target in sorted(edges.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in edges:
        visit(module, [])
    # Only the package's __init__ may import the package; a module doing so would loop.
    assert all(PACKAGE not in targets for m, targets in edges.items() if m != PACKAGE)


def test_no_private_names_imported_across_the_cli_modules() -> None:
    for module in [PACKAGE, *MODULES]:
        for target, names in _imports(module):
            if target.startswith(PACKAGE):
                assert not [n for n in names if n.startswith("_")], (module, target, names)


@pytest.mark.parametrize("command", [["resume", "20200101-000000-abcdef"],
                                     ["preload", "clip-nope", "-e", "indextts2"]])
def test_the_load_flags_reach_the_engines(command, tmp_path, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(engine_setup, "configure_indextts",
                        lambda checkpoints, **kw: calls.append((checkpoints, kw)))
    monkeypatch.delenv("INDEXTTS_YT_CHECKPOINTS", raising=False)
    monkeypatch.delenv("INDEXTTS_YT_DEVICE", raising=False)
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    runner.invoke(cli_package.app, [*command, *data])
    runner.invoke(cli_package.app, [*command, "--checkpoints", "indextts2=a", "--checkpoints",
                                    "b", "--device", "cpu", "--fp16", "--accel", "--compile",
                                    "--cuda-kernel", *data])
    runner.invoke(cli_package.app, [*command, *data], env={"INDEXTTS_YT_DEVICE": "cuda:1"})
    off = dict(fp16=False, accel=False, compile=False, cuda_kernel=False)
    assert calls == [
        ([], dict(device=None, **off)),
        (["indextts2=a", "b"], dict(device="cpu", fp16=True, accel=True, compile=True,
                                    cuda_kernel=True)),
        ([], dict(device="cuda:1", **off)),
    ]
