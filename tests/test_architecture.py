"""The design of docs/architecture.md holds in the code: every import of the package (at the top
of a file or inside a function) follows the layer order the document lists, no two modules import
each other in a circle, an import inside a function says why it is there (``# lazy: ...``), and
``dir(automl_vision)`` shows the public API only."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "automl_vision"
DOC = ROOT / "docs" / "architecture.md"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[ast.stmt, list[str], bool]]:
    """(statement, the project modules it imports, whether it is inside a function or class)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found = [t for t in targets if t in MODULES and t != name]
        yield node, found, id(node) not in top


def _layers() -> list[list[str]]:
    text = DOC.read_text()
    block = text.split("<!-- layers:")[1].split("<!-- end layers -->")[0]
    return [
        [p.strip() for p in m.group(1).split(",")]
        for m in re.finditer(r"^\d+\. (.+)$", block, re.M)
    ]


def _unit(module: str) -> str:
    """The package (or top-level module) a module belongs to: automl_vision.x.y -> x."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_layer_order_covers_every_package_and_module() -> None:
    listed = [unit for layer in _layers() for unit in layer]
    assert len(listed) == len(set(listed)), "a package listed twice"
    units = {_unit(m) for m in MODULES} - {""}
    assert units == set(listed), (sorted(units - set(listed)), sorted(set(listed) - units))


def test_every_import_follows_the_layer_order() -> None:
    rank = {unit: i for i, layer in enumerate(_layers()) for unit in layer}
    wrong = []
    for name, path in MODULES.items():
        here = _unit(name)
        for node, targets, _ in _imports(name, path):
            for target in targets:
                there = _unit(target)
                if here == "":  # the package's __init__: the public API
                    continue
                if there == "":
                    wrong.append(f"{name}:{node.lineno} imports the package's __init__")
                elif there != here and rank[there] >= rank[here]:
                    wrong.append(f"{name}:{node.lineno} -> {target}")
    assert wrong == []


def test_no_import_cycle_between_modules() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        for _, targets, _ in _imports(name, path):
            edges[name] |= set(targets)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_an_import_inside_a_function_says_why() -> None:
    unexplained = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for node, _, inner in _imports(name, path):
            span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
            if inner and not any("# lazy:" in line for line in span):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {span[0].strip()}")
    assert unexplained == []


def test_the_trainer_imports_no_sweep_package() -> None:
    sweep = {"executors", "scheduling", "store", "reporting", "config", "planning", "tuning"}
    for name, path in MODULES.items():
        if _unit(name) in ("training", "data"):
            for node, targets, _ in _imports(name, path):
                assert not {_unit(t) for t in targets} & sweep, f"{name}:{node.lineno}"


@pytest.mark.parametrize("name", ["Any", "annotations", "importlib"])
def test_the_namespace_shows_the_public_api_only(name) -> None:
    import automl_vision

    shown = dir(automl_vision)
    assert name not in shown
    assert set(shown) == set(automl_vision.__all__)
