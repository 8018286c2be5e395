"""The house rules, checked on the code itself: the import layers hold (and an upward import breaks
them), no module imports itself back through a cycle, no module is over 600 lines, nothing uses
Dagster's private modules, and loading the code does not load the heavy libraries only some steps use."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_LINES = 600


def cycles(graph) -> list[list[str]]:
    """The import cycles of ``graph``: its strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back():
    assert cycles(grimp.build_graph("pipeline", "assets")) == []


def test_a_cycle_is_found():
    graph = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=a, imported=b)
    assert cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_no_module_is_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for folder in ("pipeline", "assets", "tests", "bench")
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_imports_dagsters_private_modules():
    private = re.compile(r"^\s*(from|import)\s+dagster\._", re.M)
    users = [
        str(p.relative_to(ROOT))
        for folder in ("pipeline", "assets")
        for p in (ROOT / folder).rglob("*.py")
        if private.search(p.read_text(encoding="utf-8"))
    ]
    assert users == []


# what a process pays for only when it draws, trains or tests (about 3 of the 6 CPU seconds of loading
# the definitions): every CLI command, Dagster's code server, daemon and run workers load the code
DRAWN_OR_TRAINED = ("scipy", "matplotlib", "lightgbm")


def test_loading_the_definitions_or_the_cli_loads_no_plotting_fitting_or_training_library():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pipeline.definitions, pipeline.cli\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "'dagster'" in loaded.stdout  # it did load the code
    assert [name for name in DRAWN_OR_TRAINED if f"'{name}'" in loaded.stdout] == []


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_the_layers_hold_and_an_upward_import_breaks_them(tmp_path):
    for name in ("pipeline", "assets"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    kept = lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout[-2000:]
    # core may not know a domain: the rule language importing the experiments' settings is upward
    rules = tmp_path / "pipeline" / "core" / "rules.py"
    rules.write_text(rules.read_text() + "\nfrom pipeline.experiments import config as _upward  # noqa\n")
    broken = lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "pipeline.core.rules -> pipeline.experiments.config" in broken.stdout
