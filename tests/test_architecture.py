"""The layering ARCHITECTURE.md promises, read from the source so it stays true.

Imports flow one way: pairing <- integrations <- core <- web, jobs <- fika. No shell imports
another shell, nothing outside web/ and fika/ reads ``flask.current_app``, there are no import
circles (lazy imports inside functions count too), no private name of another library is used,
and no test reads a file outside the repository.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pairing", "integrations", "core", "web", "jobs", "fika")
#: What each package may import of the others.
ALLOWED = {
    "pairing": set(),
    "integrations": {"pairing"},
    "core": {"pairing", "integrations"},
    "web": {"pairing", "integrations", "core"},
    "jobs": {"pairing", "integrations", "core"},
    "fika": {"pairing", "integrations", "core", "web", "jobs"},
}
#: The one module of a higher layer a package may import: ``core.i18n`` imports nothing of ours
#: (so no circle can pass through it), and the channels in ``integrations`` render the words
#: people read, in the reader's language, when they send.
ALSO_ALLOWED = {"integrations": {"core.i18n"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(*packages: str) -> dict[str, tuple[Path, ast.Module]]:
    """Module name -> (path, parsed tree) for every .py file of ``packages``."""
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:  # Alembic's generated scripts and env.py
                continue
            found[module_name(path)] = (path, ast.parse(path.read_text(), str(path)))
    return found


MODULES = sources(*PACKAGES)


def imports_of(module: str, tree: ast.Module) -> set[str]:
    """Every module ``module`` imports, at the top or inside a function (resolved to ours)."""
    names = set()
    package = module if (ROOT / module.replace(".", "/")).is_dir() else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parent, base]))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name in MODULES}


def test_imports_flow_one_way():
    wrong = []
    for module, (_, tree) in MODULES.items():
        layer = module.split(".")[0]
        for target in imports_of(module, tree):
            other = target.split(".")[0]
            if (
                other != layer
                and other not in ALLOWED[layer]
                and target not in ALSO_ALLOWED.get(layer, ())
            ):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_there_are_no_import_circles():
    graph = nx.DiGraph()
    for module, (_, tree) in MODULES.items():
        graph.add_node(module)
        for target in imports_of(module, tree):
            # A package importing its own submodules (web/__init__ registering blueprints) is
            # how a package is assembled, not a circle between modules.
            if target != module and not target.startswith(module + "."):
                graph.add_edge(module, target)
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == []


def test_only_the_web_shell_and_the_command_read_current_app():
    readers = [
        module
        for module, (_, tree) in MODULES.items()
        if module.split(".")[0] not in ("web", "fika")
        and any(
            isinstance(node, ast.Name | ast.Attribute | ast.alias)
            and "current_app"
            in (
                getattr(node, "id", None),
                getattr(node, "attr", None),
                getattr(node, "name", None),
            )  # fmt: skip
            for node in ast.walk(tree)
        )
    ]
    assert readers == []


def own_private_names() -> set[str]:
    """Every ``_name`` our own code defines: functions, classes, attributes, module names."""
    names = set()
    for _, tree in [*MODULES.values(), *sources("tests", "benchmarks").values()]:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[-1])
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


@pytest.mark.parametrize("where", [(*PACKAGES,), ("tests", "benchmarks")], ids=["code", "tests"])
def test_no_private_name_of_another_library_is_used(where):
    """A private name of Flask, WTForms, SQLAlchemy or Flask-Limiter breaks on a minor release."""
    ours = own_private_names()
    used = []
    for module, (_, tree) in sources(*where).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if node.module.split(".")[0] in (*PACKAGES, "tests"):
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        used.append(f"{module}: from {node.module} import {alias.name}")
                continue
            else:
                continue
            if name.startswith("_") and not name.startswith("__") and name not in ours:
                used.append(f"{module}:{node.lineno}: .{name}")
    assert used == []


def test_no_test_reads_a_file_outside_the_repository():
    """A clone anywhere must run the suite: no ``..`` paths and no ``shared/`` folder."""
    escapes = []
    for module, (_, tree) in sources("tests").items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text == ".." or text.startswith("../") or "/shared/" in text:
                    escapes.append(f"{module}:{node.lineno}: {text!r}")
    # test_outbox_dir feeds ".." to the file-name cleaner on purpose (it never opens them), and
    # this module names what it looks for.
    allowed = ("tests.integrations.test_outbox_dir:", "tests.test_architecture:")
    assert [e for e in escapes if not e.startswith(allowed)] == []


def test_only_the_outbox_writer_makes_delivery_rows():
    """Every message goes through core.outbox.Outbox.write (one INSERT, ON CONFLICT on the key)."""
    writers = []
    for module, (_, tree) in MODULES.items():
        if module == "core.outbox" or module == "core.models":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.id if isinstance(node.func, ast.Name) else None
            arguments = [a.id for a in node.args if isinstance(a, ast.Name)]
            if called == "Delivery" or (called == "insert" and "Delivery" in arguments):
                writers.append(f"{module}:{node.lineno}")
    assert writers == []
