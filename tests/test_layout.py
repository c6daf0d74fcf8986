"""The package's shape (docs/architecture.md): imports go down the data flow, files stay small,
claim files hold claims.

The imports are read from the source with ``ast`` (every ``import`` and ``from ... import``,
including those inside functions), so a deferred import counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "grokclaims"

MAX_LINES = 400  # "around 400 lines is a signal to split" (STYLE.md)

# What each part of the package may import, besides itself and the package root
# (``grokclaims/__init__.py``: the version numbers). The flow, bottom to top:
# data -> families -> spec -> engine -> store; analysis -> verdicts; setups (specs of the sources'
# experiments, measured with analysis) -> figures; report; plugin and the command-line entries.
ALLOWED = {
    "provenance": set(),
    # The command lines' shared argument types (the stale-after floor is the store's).
    "arguments": {"store", "data", "families", "spec", "engine", "provenance"},
    "data": set(),
    "families": {"data"},
    "spec": {"data", "families"},
    "engine": {"data", "families", "spec"},
    "store": {"data", "families", "spec", "engine", "provenance"},
    "analysis": set(),
    "verdicts": {"analysis"},
    "claimrules": {"analysis", "verdicts"},
    "setups": {"data", "families", "spec", "analysis"},
    "figures": {"analysis", "setups"},
    "report": {"verdicts", "provenance", "engine", "families", "spec", "data"},
    # Fills a scale's runs: plans them through the plugin's plan mode, trains on an executor,
    # stores through the store's protocol. Below the command line, which calls it.
    "fill": {
        "data",
        "families",
        "spec",
        "engine",
        "store",
        "provenance",
        "setups",
        "plugin",
        "arguments",
    },
}
ENTRY_POINTS = {
    "plugin",
    "cli",
    "bench",
    "bench_fill",
    "design",
    "__main__",
}  # the top: may import anything below


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str) -> set[str]:
    """The grokclaims modules that ``module`` imports (a name imported from a package counts
    as the submodule when there is one)."""
    path = MODULES[module]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            names = [
                f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target
                for a in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("grokclaims") and name != module:
                found.add(name)
    return found


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""  # "" is the package root


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_walk_sees_the_imports():
    # A check that the walk itself works: the trainer imports the run spec, the plugin the store.
    assert any(
        part_of(m) == "spec"
        for m in GRAPH["grokclaims.engine"]
        | {t for m in MODULES if part_of(m) == "engine" for t in GRAPH[m]}
    )
    assert "grokclaims.store" in {
        ".".join(t.split(".")[:2]) for m in MODULES if part_of(m) == "plugin" for t in GRAPH[m]
    }


def test_no_import_cycle_between_modules():
    assert _cycle(GRAPH) is None, " -> ".join(_cycle(GRAPH) or [])


def test_no_import_cycle_between_packages():
    parts: dict[str, set[str]] = {}
    for m, targets in GRAPH.items():
        parts.setdefault(part_of(m), set()).update(
            part_of(t) for t in targets if part_of(t) not in ("", part_of(m))
        )
    assert _cycle(parts) is None, " -> ".join(_cycle(parts) or [])


def test_every_part_is_known():
    unknown = {part_of(m) for m in MODULES} - set(ALLOWED) - ENTRY_POINTS - {""}
    assert not unknown, f"add {sorted(unknown)} to ALLOWED (and docs/architecture.md)"


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_go_down_the_flow(part):
    wrong = sorted(
        f"{m} imports {t}"
        for m in MODULES
        if part_of(m) == part
        for t in GRAPH[m]
        if part_of(t) not in ALLOWED[part] | {part, ""}
    )
    assert not wrong, "\n".join(wrong)


def test_analysis_is_pure():
    # Measurements and statistics take arrays: no torch, no files, no plotting.
    heavy = {"torch", "matplotlib", "sqlite3", "pytest"}
    wrong = []
    for m, path in MODULES.items():
        if part_of(m) != "analysis":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                wrong += [f"{m} imports {n}" for n in names if n.split(".")[0] in heavy]
    assert not wrong, "\n".join(wrong)


def test_no_library_file_is_long():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these (over {MAX_LINES} lines): {long}"


def test_every_package_says_what_it_owns():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 8, f"{init.relative_to(ROOT)} needs a docstring"


# A claim file reads like the paper: runs, measurements and rules come from the library.
STATISTIC_CALLS = {
    "mean",
    "median",
    "nanmedian",
    "nanmean",
    "average",
    "percentile",
    "quantile",
    "std",
    "var",
    "corrcoef",
    "polyfit",
    "lstsq",
    "bootstrap",
    "spearmanr",
    "kendalltau",
    "linregress",
}


def _statistics_in(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            found += [
                f"line {node.lineno}: imports {n}"
                for n in names
                if n.split(".")[0] in ("scipy", "statistics", "random")
            ]
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in STATISTIC_CALLS:
                found.append(f"line {node.lineno}: calls {name}")
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "claims").glob("*.py")), ids=lambda p: p.name)
def test_claim_files_compute_no_statistic(path):
    found = _statistics_in(path)
    assert not found, "move these into grokclaims.analysis / verdicts:\n" + "\n".join(found)


def test_the_statistic_check_can_fail(tmp_path):
    bad = tmp_path / "test_bad.py"
    bad.write_text(
        "import numpy as np\nfrom scipy import stats\n"
        "def _ratio(a, b):\n    return np.median(a) / np.median(b)\n"
    )
    assert len(_statistics_in(bad)) == 3
