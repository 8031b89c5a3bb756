"""The layers of the package and the rules between them (docs/architecture.md).

The rule: ``stats`` <- ``data`` <- ``metrics`` <- ``report`` <- ``cli``; ``plotting`` is used by
the metrics' ``plot()`` methods and by the report and imports none of them; ``errors``,
``results`` and ``_version`` are shared by all (``results`` imports ``errors``, nothing
else). Nothing imports upward, there is no import
circle, and no module imports another module's private (underscore) names. Every import is
read, including the ones deferred inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "rm_analytics"

#: layer -> layers it may import (besides itself and the shared modules)
ALLOWED = {
    "stats": set(),
    "data": {"stats"},
    "plotting": {"stats"},
    "metrics": {"stats", "data", "plotting"},
    "report": {"stats", "data", "metrics", "plotting"},
    "cli": {"stats", "data", "metrics", "plotting", "report"},
    "__init__": {"stats", "data", "metrics", "plotting", "report"},
}
SHARED = {"errors", "results", "_version"}
#: What each shared module may import: ``results`` (its ``attempt``) knows "not enough data".
SHARED_ALLOWED = {"errors": set(), "results": {"errors"}, "_version": set()}
LOOSE = {"__init__", "_version", "errors", "results", "cli"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for every import of the package's own modules."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue  # imports for type hints only: no import at run time
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("rm_analytics"):
                continue
            names = [a.name for a in node.names]
            # "from . import x" imports the module x
            subs = [
                f"{target}.{n}"
                for n in names
                if (PKG.parent / f"{target}.{n}".replace(".", "/")).with_suffix(".py").exists()
                or (PKG.parent / f"{target}.{n}".replace(".", "/")).is_dir()
            ]
            if subs:
                out += [(s, [], node.lineno) for s in subs]
            else:
                out.append((target, names, node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("rm_analytics"):
                    out.append((a.name, [], node.lineno))
    return out


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for mod, path in MODULES.items():
        deps = set()
        for target, _, _ in _imports(path):
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target != mod:
                deps.add(target)
        graph[mod] = deps
    return graph


def test_at_most_a_handful_of_loose_modules_at_the_top():
    top = {p.stem for p in PKG.glob("*.py")}
    assert top <= LOOSE, sorted(top - LOOSE)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    layer = _layer(module)
    if layer in SHARED:
        allowed: set[str] = SHARED_ALLOWED[layer]
    else:
        allowed = ALLOWED[layer] | {layer} | SHARED
    bad = []
    for target, _, line in _imports(MODULES[module]):
        t = _layer(target)
        if target == "rm_analytics" and layer != "__init__":
            bad.append(f"line {line}: imports the package root (use the module itself)")
        elif t not in allowed and target != "rm_analytics":
            bad.append(f"line {line}: {layer} imports {target}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_of_other_modules(module):
    bad = []
    for target, names, line in _imports(MODULES[module]):
        if target == module.rpartition(".")[0] or target == module:
            continue
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private:
            bad.append(f"line {line}: {', '.join(private)} from {target}")
    assert not bad, "\n".join(bad)


def test_no_import_circles():
    graph = _graph()
    seen: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep.startswith("rm_analytics.") and dep.count(".") and dep in graph:
                # a package's __init__ importing its own modules is not a circle
                if node == dep.rpartition(".")[0] or dep == node.rpartition(".")[0]:
                    continue
                if seen.get(dep) == 1:
                    circles.append(stack[stack.index(dep) :] + [dep])
                elif dep not in seen:
                    visit(dep)
        stack.pop()
        seen[node] = 2

    for mod in sorted(graph):
        if mod not in seen:
            visit(mod)
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


def test_every_package_ships_in_the_wheel():
    import re

    text = (PKG.parent / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", text, flags=re.M | re.S).group(1)
    listed = set(re.findall(r'"([\w.]+)"', block))
    found = {_module_name(p) for p in PKG.rglob("__init__.py")}
    found |= {"rm_analytics.notebooks", "rm_analytics.report.templates"}
    assert found == listed


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) == "stats"))
def test_stats_kernels_need_numpy_and_scipy_only(module):
    """The kernels take arrays; only the design-matrix builder reads a DataFrame."""
    allowed = {"numpy", "scipy", "__future__"} | (
        {"pandas"} if module.endswith(".design") else set()
    )
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    third_party = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            third_party |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            third_party.add((node.module or "").split(".")[0])
    import sys

    bad = {m for m in third_party if m not in allowed and m not in sys.stdlib_module_names}
    assert not bad, sorted(bad)
