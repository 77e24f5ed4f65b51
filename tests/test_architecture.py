"""Architecture rules of docs/architecture.md, checked on the source tree.

- no import cycles between our modules (module-level imports, statically);
- every module of ``centrality`` and ``geoproc`` imports on its own, first, in a fresh
  interpreter (an import cycle or a missing import would fail here);
- function-local imports only for the modules the rule allows (optional or heavy
  dependencies), see :data:`LAZY_ALLOWED`;
- no upward imports (``centrality`` never imports ``geoproc`` or ``qgis_plugin``; ``geoproc``
  never imports ``qgis_plugin``).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("centrality", "geoproc", "qgis_plugin")

#: third-party modules that may be imported inside a function (docs/architecture.md, "Imports"):
#: optional at run time (may be missing or broken in a QGIS Python, or only some functions need
#: them) or expensive to import for one function's sake
LAZY_ALLOWED = {"osmium", "osmnx", "pyarrow", "requests", "statsmodels", "networkx", "matplotlib", "mapclassify",
                "rasterio", "tqdm", "dask", "scipy", "qgis",
                "pymetis",  # the contraction hierarchy's node order; may be missing in a QGIS Python
                "pyogrio"}  # not inside QGIS: its wheel bundles a second GDAL/PROJ (qgis_plugin/install_deps.py)


def _modules():
    """(module name, path) of every Python module of our packages."""
    out = []
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    return out


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _top_level_imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Our modules imported when ``module`` is imported (statements outside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue                   # runs later, not at import
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node)
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, None) or [])
            for handler in getattr(node, "handlers", None) or []:
                visit(handler.body)

    visit(tree.body)
    return {m for m in found if m in known and m != module}


def test_no_import_cycles():
    modules = dict(_modules())
    known = set(modules)
    graph = {m: _top_level_imports(m, p, known) for m, p in modules.items()}
    # Tarjan's strongly connected components
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"
    # the checker sees real edges (a sanity check that it is not vacuous)
    assert "centrality.step" in graph["centrality.pipeline"]
    assert "geoproc.data.codes" in graph["geoproc.data.tables"]


def test_no_upward_imports():
    modules = dict(_modules())
    known = set(modules)
    for name, path in modules.items():
        deps = _top_level_imports(name, path, known) | _local_imports_of(path, known)
        if name.startswith("centrality"):
            assert not [d for d in deps if d.startswith(("geoproc", "qgis_plugin"))], name
        if name.startswith("geoproc"):
            assert not [d for d in deps if d.startswith("qgis_plugin")], name


def _local_imports_of(path: Path, known: set[str]) -> set[str]:
    out = set()
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    out.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    out.add(node.module)
    return {m for m in out if m.split(".")[0] in PACKAGES}


def _local_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import inside a function ("." for a relative import)."""
    found = []
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found += [(node.lineno, a.name) for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    found.append((node.lineno, "." if node.level else (node.module or "")))
    return sorted(set(found))


def test_function_local_imports_only_for_optional_or_heavy_dependencies():
    offenders = []
    for name, path in _modules():
        rel = path.relative_to(REPO).as_posix()
        if name.startswith("qgis_plugin"):
            continue   # the plugin defers every import on purpose (see docs/architecture.md)
        for line, module in _local_imports(path):
            if module.split(".")[0] not in LAZY_ALLOWED:
                offenders.append(f"{rel}:{line} imports {module} inside a function")
    assert not offenders, "\n".join(offenders)


def test_every_module_imports_first_in_a_fresh_interpreter():
    """Each module is imported with none of our modules loaded before it (third-party ones stay
    cached, to keep this fast); a cycle or an order dependence raises here."""
    names = [m for m, _ in _modules() if not m.startswith("qgis_plugin") and not m.endswith("__main__")]
    code = (
        "import importlib, sys, traceback\n"
        f"names = {names!r}\n"
        "bad = []\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in ('centrality', 'geoproc')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        bad.append(name + ': ' + traceback.format_exc(limit=3))\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(names) > 50


@pytest.mark.parametrize("snippet", [
    "from centrality.pipeline import run_centrality",
    "from geoproc.scenario import run_scenarios",
    "import geoproc.data.tables",
    "import geoproc.data.codes",
])
def test_entry_points_import_alone(snippet):
    done = subprocess.run([sys.executable, "-c", snippet], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
