"""Layers import one way (issue #12.1): each module of the package imports only modules of lower layers.

Every import counts, including the lazy ones inside functions. The map is the architecture: to add a module,
give it a layer here (and in docs/architecture.md); a test failure names the import that runs the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autograder"

# layer -> modules (dotted, under autograder.); a module may import only from strictly lower layers
LAYERS: list[set[str]] = [
    # 0: foundations: no autograder imports at all (student helpers run inside the kernel too)
    {
        "errors",
        "course",
        "files",
        "grading.limits",
        "grading.cells",
        "grading.result",
        "student.selfcheck",
        "student.course_utils",
        "gradebook_schema",
        "_startup",  # run by the package itself, before anything imports nbformat
    },
    # 1: reading and cleaning up; the digests of the SIGNS files students download
    {"grading.records", "grading.cleanup", "grading.kernel_log", "data.published"},
    # 2: judging values, sweeping folders
    {"grading.compare", "grading.derive", "grading.leftovers", "grading.translation"},
    # 3: the typed spec (grading.toml); a kernel's own folder (sockets, connection file, log)
    {"grading.spec", "grading.kernel_folder"},
    # 4: running notebooks, stored reference values, the CLI's typed config
    {"grading.runner", "grading.sandbox", "grading.reference_store", "config", "data.download"},
    # 5: the pipeline of steps; nbgrader's release (a converter the grader reads released notebooks from)
    {"grading.pipeline", "release", "data.signs"},
    # 6: grade(): the one runner contract
    {"grading.core", "grading.fingerprint"},
    # 7, 8, 9: reports built from Results: shared helpers and a page's words in each language, the reports,
    # the package's re-exports
    {"report.common", "report.words"},
    {"report.csv_export", "report.feedback", "report.gradebook", "report.nbgrader_course"},
    {"report"},
    # 10: applications over grade(): reference build, what an executor runs, a batch's uploads
    {"reference", "executor.job", "batch.submissions"},
    # 11, 12: executors (one worker process per job), their package, and Celery's (over the local worker process)
    {"executor.worker", "executor.local"},
    {"executor", "executor.celery"},
    # 13: the batch, over an executor
    {"batch.batch", "batch"},
    # 14-19: the course site: its database, assignments, course rules, the submit client; secrets and the
    # sign-in limiter (its counters are rows); accounts, stored uploads, the counted scores; settings, the grading loop, exports, plots, extensions, backups,
    # the demo course; the ASGI application; the CLI handlers
    {"site.models", "site.catalog", "site.client", "site.rules"},
    {"site.security"},
    {"site.accounts", "site.storage", "site.migrations", "site.standing"},
    {"site.settings", "site.grader", "site.demo", "site.exports", "site.plots", "site.extensions", "site.backup"},
    {"site.app"},
    {"site.commands", "site"},
    # 20: the command line
    {"cli"},
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        if name:
            found[name] = path
    return found


def _sandbox_parts(name: str) -> str:
    # grading/sandbox may be one module or a package: its parts share its layer; so do Alembic's migration scripts
    for package in ("grading.sandbox", "site.migrations"):
        if name.startswith(package + "."):
            return package
    return name


def _runtime_nodes(tree: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:`` (imports for annotations only never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                todo.extend(child.orelse)
                continue
            todo.append(child)


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    out = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for full in names:
            if not full.startswith("autograder."):
                continue
            dotted = full.removeprefix("autograder.")
            # `from autograder.grading import spec` names the module grading.spec; `from x import Name` names x
            if dotted in modules:
                out.add(dotted)
    return out


def layer_of(name: str) -> int:
    name = _sandbox_parts(name)
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"autograder.{name} has no layer in tests/test_layers.py")


def test_every_module_has_a_layer():
    for name in _modules():
        if name in ("grading", "student", "data", "batch", "report") or name == "__init__":
            continue
        layer_of(name)


def test_imports_run_one_way():
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        if name in ("grading", "student", "data", "batch"):
            continue
        for imported in _imports(path, modules):
            if imported in ("grading", "student", "data", "batch", "report", "site", "site.migrations") and imported != name:
                continue  # a package's __init__ (empty or a re-export) carries no dependency itself
            if _sandbox_parts(imported) == _sandbox_parts(name):
                continue
            if layer_of(imported) >= layer_of(name):
                wrong.append(f"autograder.{name} (layer {layer_of(name)}) imports autograder.{imported} (layer {layer_of(imported)})")
    assert wrong == []
