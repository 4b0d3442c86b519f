"""The package's import layering, read from the source (ast; imports inside functions count).

Layers, highest first; a module may import its own layer and those below, never above:

    delivery   cli, cli_*, __main__ (the command line) > server > webui
    jobs       jobs/ (plans, store, runner, queue, service), presets/ (named settings, checked
               by planning a sample job)
    core       engines/, voices/, audio/, checks/ (proofreading, beside audio), text/, settings,
               and the shared modules (atomic, clips, db, errors, paths, outputs, script_input,
               engine_setup)

and no two modules import each other, directly or round a longer loop. Every import counts,
at the top, inside a function or under TYPE_CHECKING: each is a dependency of the design. A package's
``__init__`` that re-exports names is looked through: ``from ..audio import Assembler`` is an
import of ``audio.assemble``, where ``Assembler`` lives, so a façade is not a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "indextts_yt"
SRC = Path(__file__).resolve().parent.parent / "src" / PACKAGE

# Known violations, being fixed on other branches (issue #13). Delete an entry once its fix is
# merged; the tests below fail on any violation not listed here, and on an entry that no
# longer happens, so the list only ever shrinks.
ALLOWED_CYCLES: list[set[str]] = []
ALLOWED_UPWARD: set[tuple[str, str]] = {
    # Deleting a library voice asks the job store, in the library's own transaction, whether
    # an unfinished job still speaks in it (the query is the store's: it owns those tables).
    ("voices.library", "jobs.store"),
}

DELIVERY_CLI, DELIVERY_SERVER, DELIVERY_WEBUI, JOBS, CORE = 5, 4, 3, 2, 1
_LAYERS = {"cli": DELIVERY_CLI, "__main__": DELIVERY_CLI, "server": DELIVERY_SERVER,
           "webui": DELIVERY_WEBUI, "jobs": JOBS, "presets": JOBS, "audio": CORE,
           "checks": CORE}


def layer(module: str) -> int:
    """The layer of a module named relative to the package (``jobs.store``, ``cli_batch``)."""
    top = module.split(".")[0]
    if top.startswith("cli_"):
        top = "cli"
    return _LAYERS.get(top, CORE)


def _modules() -> dict[str, Path]:
    """Module name (relative to the package; "" for its __init__) -> file."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _imports(module: str) -> Iterator[tuple[str, list[str]]]:
    """(imported module, names taken from it) for each import in ``module``'s file, with
    relative imports resolved and other distributions left out."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield alias.name[len(PACKAGE) + 1:], []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
                target = node.module[len(PACKAGE) + 1:]
            else:
                continue
            yield target, [alias.name for alias in node.names]


def _known(name: str) -> str:
    """The module ``name`` is, or the nearest package above it that is one."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _reexports() -> dict[str, dict[str, str]]:
    """package -> {name its __init__ imports from another module: that module}."""
    out: dict[str, dict[str, str]] = {}
    for module in MODULES:
        if not _is_package(module):
            continue
        for target, names in _imports(module):
            for name in names:
                child = _known(f"{target}.{name}" if target else name)
                owner = child if child != target else _known(target)
                if owner != module:
                    out.setdefault(module, {})[name] = owner
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the modules it imports (façades looked through; self-imports left out)."""
    reexports = _reexports()
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for target, names in _imports(module):
            target = _known(target)
            targets = set()
            for name in names or [None]:
                if name is None:
                    targets.add(target)
                elif _known(f"{target}.{name}" if target else name) != target:
                    targets.add(_known(f"{target}.{name}" if target else name))  # a submodule
                else:
                    targets.add(reexports.get(target, {}).get(name, target))
            graph[module] |= targets - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports_it_should():
    """The parser itself: relative, absolute, façade and in-function imports all land."""
    graph = import_graph()
    assert len(MODULES) > 50 and "jobs.runner" in MODULES and "" in MODULES
    assert "audio.assemble" in graph["jobs.runner"]  # from ..audio import Assembler (façade)
    assert "atomic" in graph["jobs.runner"]  # from ..atomic import ...
    assert "jobs.store" in graph["jobs.runner"]  # from . import store as st
    assert "atomic" in graph["cli.presets"]  # imported inside a function
    assert "audio" not in graph["jobs.runner"]  # looked through, not a dependency on the façade


def test_cycles_and_layers_are_found_on_a_known_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "d2"}, "d2": set()}
    assert cycles(graph) == [{"a", "b", "c"}]
    assert layer("cli_voices") == layer("__main__") > layer("server.routes_jobs")
    assert layer("voices.usage") < layer("jobs.store")


def test_no_import_cycles():
    found = cycles(import_graph())
    for component in found:
        print("import cycle:", " <-> ".join(sorted(component)))
    unexpected = [c for c in found if not any(c <= allowed for allowed in ALLOWED_CYCLES)]
    assert not unexpected, f"import cycles: {unexpected}"
    fixed = [a for a in ALLOWED_CYCLES if not any(c & a for c in found)]
    assert not fixed, f"fixed: delete {fixed} from ALLOWED_CYCLES"


def test_lower_layers_never_import_higher_ones():
    graph = import_graph()
    upward = {(module, target) for module, targets in graph.items() for target in targets
              if layer(target) > layer(module)}
    for module, target in sorted(upward):
        print(f"upward import: {module} -> {target}")
    assert upward - ALLOWED_UPWARD == set(), "a lower layer imports a higher one"
    fixed = ALLOWED_UPWARD - upward
    assert not fixed, f"fixed: delete {sorted(fixed)} from ALLOWED_UPWARD"


def test_the_rules_of_the_design_by_name():
    """The issue's rules spelled out, so a change to ``layer`` cannot quietly drop one."""
    for core in ("engines.registry", "voices.library", "audio.encode", "text.split", "atomic",
                 "checks.asr"):
        assert layer(core) < layer("jobs.runner")
    assert layer("jobs.runner") < layer("server.app") < layer("cli") == layer("cli_batch")
    assert layer("webui") > layer("jobs.store")
    assert layer("checks.signal") == layer("audio.trim")  # proofreading sits beside audio
