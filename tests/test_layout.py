"""The tree shows the pipeline: one-way layering, no import cycles, small modules, one manifest owner."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "quoteback"
CORE_MAY_NOT_IMPORT = ("app", "cli", "evaluation", "bench", "training")  # the folders beside the core pipeline
MAX_LINES = 320  # "about 300"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Package modules `name` imports anywhere (lazy ones too), except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)}
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = package[: len(package) - node.level + 1]
        target = ".".join([*base, *(node.module.split(".") if node.module else [])])
        for alias in node.names:  # `from . import x` may name a module
            sub = f"{target}.{alias.name}" if target else alias.name
            found.add(sub if sub in modules else target)
    return {m for m in found if m in modules and m != name}


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    # a package's __init__ re-exporting its own modules is not a cycle with them
    graph = {n: {m for m in deps if not (n.startswith(m + ".") and m in modules)} for n, deps in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in graph[node]:
            if state.get(dep) == 1:
                cycles.append(trail[trail.index(dep):] + [dep] if dep in trail else [node, dep])
            elif dep not in state:
                visit(dep, trail + [dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_the_core_never_imports_the_folders_beside_it():
    modules = _modules()
    for name, path in modules.items():
        if name.split(".")[0] in CORE_MAY_NOT_IMPORT or name in ("", "__main__"):
            continue
        outside = {m for m in _imports(name, path, modules) if m.split(".")[0] in CORE_MAY_NOT_IMPORT}
        assert not outside, f"{name} imports {outside}"


def test_modules_stay_small():
    big = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, big


def test_only_the_index_package_reads_manifest_keys():
    pattern = re.compile(r"manifest(\.get\(|\[)")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.parent.name != "index" and pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders
