"""The house rules of the source tree (docs/architecture.md), checked from the code itself.

* ``mlxk_common`` never names ``mlxk_bin`` (no import, no importlib string);
* no tool imports another tool; the dispatcher (``mlxk_bin.mlxk``) alone
  reaches every tool, by name, through its command table;
* a project module imported inside a function is a heavy one (it imports
  bottle, mlx, ... at its top); light ones are imported at the top;
* every module of ``mlxk_common`` outside ``engine/`` serves at least two
  executables or the engine;
* ``mlxk_common`` outside ``engine/`` stays small; pyproject lists every package.

Start-up cost itself is guarded by test_imports.py.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("mlxk_common", "mlxk_bin")
# Third-party imports that make a module heavy: they stay inside functions of light modules.
HEAVY_LIBS = {"mlx", "mlx_lm", "mlx_vlm", "mlx_audio", "mlx_embeddings", "huggingface_hub", "bottle", "gevent",
              "transformers", "numpy", "PIL", "tokenizers", "safetensors", "gguf", "exifread", "av", "scipy",
              "llguidance", "jinja2"}
COMMON_LINES_MAX = 5900  # the hardened readers (findings, special files, links out of the cache, depth limits), split rules


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[0] == "bin":
        parts[0] = "mlxk_bin"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=None)
def modules() -> dict[str, Path]:
    found = {}
    for folder in ("bin", "mlxk_common"):
        for path in sorted((REPO / folder).rglob("*.py")):
            found[module_name(path)] = path
    return found


@lru_cache(maxsize=None)
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(), str(modules()[name]))


def project_module(dotted: str) -> str | None:
    """The module a dotted import name lands in (``mlxk_common.output.HUMAN`` -> ``mlxk_common.output``)."""
    while dotted and dotted not in modules():
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def imports(name: str):
    """(imported name, at module top?) for every import statement of a module."""
    top = set(map(id, tree(name).body))
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"{name}: relative import of {node.module!r}; use the absolute name")
            yield node.module, id(node) in top
            for alias in node.names:
                yield f"{node.module}.{alias.name}", id(node) in top


def project_imports(name: str, *, top_only: bool = False) -> set[str]:
    out = set()
    for dotted, at_top in imports(name):
        if dotted.startswith(ROOTS) and (at_top or not top_only):
            target = project_module(dotted)
            if target and target != name:
                out.add(target)
    return out


@lru_cache(maxsize=None)
def heavy(name: str) -> bool:
    """Whether importing the module imports a heavy library (at its top, or through a project module's top)."""
    for dotted, at_top in imports(name):
        if not at_top:
            continue
        if dotted.split(".")[0] in HEAVY_LIBS:
            return True
    return any(heavy(t) for t in project_imports(name, top_only=True) if not t.startswith(name + "."))


def tool_of(name: str) -> str | None:
    """``mlxk_bin.run.chat`` -> ``run``; None outside the tools."""
    parts = name.split(".")
    return parts[1] if parts[0] == "mlxk_bin" and len(parts) > 1 else None


def test_the_library_never_names_the_tools():
    offenders = [f"{p.relative_to(REPO)}:{n}" for name, p in modules().items() if name.startswith("mlxk_common")
                 for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bmlxk_bin\b", line)]
    assert not offenders, offenders


def test_no_tool_imports_another():
    offenders = []
    for name in modules():
        tool = tool_of(name)
        if tool is None or tool == "mlxk":  # the dispatcher owns the command table
            continue
        for target in project_imports(name):
            other = tool_of(target)
            if other is not None and other != tool:
                offenders.append(f"{name} imports {target}")
    assert not offenders, offenders


def test_the_engine_imports_no_tool():
    offenders = [f"{name} imports {t}" for name in modules() if name.startswith("mlxk_common.engine")
                 for t in project_imports(name) if t.startswith("mlxk_bin")]
    assert not offenders, offenders


def test_light_project_modules_are_imported_at_the_top():
    offenders = []
    for name in modules():
        for dotted, at_top in imports(name):
            if at_top or not dotted.startswith(ROOTS):
                continue
            target = project_module(dotted)
            if target and not heavy(target):
                offenders.append(f"{name}: imports {dotted} inside a function")
    assert not offenders, sorted(set(offenders))


def test_tools_do_not_import_heavy_modules_at_their_top():
    """A tool module that imported bottle or mlx at its top would make --help slow."""
    offenders = [name for name in modules() if name.startswith("mlxk_bin") and name.count(".") == 1 and heavy(name)]
    assert not offenders, offenders


@lru_cache(maxsize=None)
def reach(name: str) -> frozenset[str]:
    """Every project module that importing (and running) ``name`` may import."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        for target in project_imports(current):
            # A submodule import runs its packages' __init__ too.
            parts = target.split(".")
            chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(modules())
            for module in chain - seen:
                seen.add(module)
                todo.append(module)
    return frozenset(seen)


def test_every_library_module_serves_two_tools_or_the_engine():
    tools = sorted({tool_of(n) for n in modules() if tool_of(n)} - {"mlxk"})
    users: dict[str, set[str]] = {}
    for tool in tools:
        for module in reach(f"mlxk_bin.{tool}"):
            users.setdefault(module, set()).add(tool)
    engine = set(reach("mlxk_common.engine")) | {n for n in modules() if n.startswith("mlxk_common.engine")}
    lonely = {name: sorted(users.get(name, ())) for name in modules()
              if name.startswith("mlxk_common") and not name.startswith("mlxk_common.engine")
              and name not in engine and len(users.get(name, ())) < 2}
    assert not lonely, f"used by fewer than two executables (move into the tool's wing): {lonely}"


def test_the_library_stays_small():
    lines = sum(len(p.read_text().splitlines()) for n, p in modules().items()
                if n.startswith("mlxk_common") and not n.startswith("mlxk_common.engine"))
    assert lines <= COMMON_LINES_MAX, f"mlxk_common (without engine/) has {lines} lines"


def test_pyproject_lists_every_package():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib arrived in Python 3.11")
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {module_name(p) for folder in ("bin", "mlxk_common") for p in (REPO / folder).rglob("__init__.py")}
    assert listed == folders


def test_comments_point_at_documents_in_the_repo():
    """No "DESIGN §N" pointers: the design contract is not part of this repository."""
    offenders = [f"{p.relative_to(REPO)}:{n}" for folder in ("bin", "mlxk_common", "tests", "bench", "scripts")
                 for p in (REPO / folder).rglob("*.py")
                 for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"DESIGN\b", line)
                 and p.name != "test_layout.py"]
    assert not offenders, offenders
