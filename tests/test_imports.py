"""mmdemo's modules depend on each other one way: the import graph has no cycle.

Every ``import`` and ``from ... import`` of an mmdemo module that runs counts, wherever it
stands in the file (top level or inside a function): an import inside a function that only
dodges a cycle breaks the package the day someone moves it to the top. Imports under ``if
TYPE_CHECKING:`` never run; they name the types two modules pass each other (a ``Scope``
holds the ``Policy`` that checks it) and are left out.
``from mmdemo.x import y`` depends on the module ``mmdemo.x.y`` when ``y`` is a submodule,
else on ``mmdemo.x``; a package's ``__init__`` counts as a dependency of its submodules
only where one of them really imports it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mmdemo"


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from`` import names, with a relative one resolved against ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.AST) -> bool:
    """Whether ``node`` is an ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) block."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def _run_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` that can run: all but the bodies of ``if TYPE_CHECKING:``."""
    found: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if _is_type_checking(node):
            assert isinstance(node, ast.If)
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def imported_modules(module: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``module`` imports, wherever in its file, when it runs."""
    targets: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in _run_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                targets.add(submodule if submodule in modules else source)
    return {name for name in targets if name in modules and name != module}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    files = module_files(root)
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a path that ends where it starts, or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_package_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


#: The layers whose imports inside functions all say why they are there (``# lazy: ...``
#: above the import, or above the group of imports it starts).
MARKED_LAYERS = ("mmdemo/models", "mmdemo/store", "mmdemo/embed.py", "mmdemo/rerank.py")


def _module_level(tree: ast.Module) -> set[int]:
    """ids of the imports that run when the module is imported (top level, or in a
    top-level ``if`` / ``try``)."""
    found: set[int] = set()
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.add(id(node))
        elif isinstance(node, ast.If):
            todo.extend([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            todo.extend([*node.body, *node.orelse, *node.finalbody])
            todo.extend(stmt for handler in node.handlers for stmt in handler.body)
    return found


def unmarked_lazy_imports(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line`` of each import inside a function of ``path`` that no ``# lazy:`` line
    explains (directly above it or above the imports it follows)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text, str(path))
    top = _module_level(tree)
    unmarked = []
    for node in _run_nodes(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in top:
            continue
        above = node.lineno - 2
        while above >= 0 and lines[above].lstrip().startswith(("import ", "from ")):
            above -= 1
        if above < 0 or not lines[above].lstrip().startswith("# lazy: "):
            unmarked.append(f"{path.relative_to(root)}:{node.lineno}")
    return unmarked


def test_every_import_inside_a_function_of_the_model_and_store_layers_says_why() -> None:
    paths = [p for layer in MARKED_LAYERS for p in sorted(ROOT.glob(f"{layer}/**/*.py"))]
    paths += [ROOT / layer for layer in MARKED_LAYERS if layer.endswith(".py")]
    unmarked = [where for path in paths for where in unmarked_lazy_imports(path)]
    assert not unmarked, "imports inside functions with no `# lazy:` reason: " + ", ".join(unmarked)


def test_an_unexplained_import_inside_a_function_is_found(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "import os\n\ndef f():\n    # lazy: torch\n    import torch\n    import numpy\n\n"
        "def g():\n    import sys\n",
        encoding="utf-8",
    )
    assert [w.rsplit(":", 1)[1] for w in unmarked_lazy_imports(path, tmp_path)] == ["9"]


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )


def test_importing_the_library_changes_nothing_in_the_host_process() -> None:
    """A LangChain or LlamaIndex user's process keeps its own environment (OpenMP's wait
    policy included): only the app and the command line set up the process they own."""
    script = (
        "import os, json; before = dict(os.environ)\n"
        "import mmdemo, mmdemo.integrations.langchain, mmdemo.integrations.llamaindex\n"
        "print(json.dumps([k for k in {*before, *os.environ}"
        " if before.get(k) != os.environ.get(k)]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = _run(script, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


ENTRY_POINTS = {
    # The command line, on a command that needs no model.
    "cli": "import mmdemo.cli\nmmdemo.cli.main(['models'])",
    # The app, stopped where it would read the deployment (before anything is served).
    "app": (
        "import app\nfrom mmdemo.errors import MMDemoError\n"
        "def stop(*args, **kwargs):\n    raise MMDemoError('stop')\n"
        "app.resolve_deployment = stop\nassert app.main([]) == 1"
    ),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_the_entry_points_make_openmp_threads_wait_passively_unless_told_otherwise(
    entry: str, given: str | None, expected: str
) -> None:
    """Spinning OpenMP threads take the CPU the ingest producer needs; a user's own choice
    of ``OMP_WAIT_POLICY`` is kept."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    script = f"{ENTRY_POINTS[entry]}\nimport os\nprint(os.environ['OMP_WAIT_POLICY'])"
    done = _run(script, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == expected, done.stderr


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    """The import graph of a package ``mmdemo`` made of ``files`` (path in it -> text)."""
    for name, text in {"__init__.py": "", **files}.items():
        path = tmp_path / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(tmp_path)


def test_an_import_inside_a_function_closes_a_cycle(tmp_path: Path) -> None:
    files = {"a.py": "from mmdemo.b import f\n", "b.py": "def f():\n    from mmdemo import a\n"}
    graph = _package(tmp_path, files)
    assert find_cycle(graph) == ["mmdemo.a", "mmdemo.b", "mmdemo.a"]


def test_an_import_for_type_checking_only_does_not_count(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "a.py": "from mmdemo.b import f\n",
            "b.py": (
                "import typing\nif typing.TYPE_CHECKING:\n    from mmdemo.a import A\n"
                "else:\n    from mmdemo import c\n"
            ),
            "c.py": "",
        },
    )
    assert graph["mmdemo.b"] == {"mmdemo.c"}
    assert find_cycle(graph) == []


def test_from_a_package_import_a_submodule_depends_on_the_submodule(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "models/__init__.py": "from mmdemo.models.base import X\n",
            "models/base.py": "X = 1\n",
            "models/loading.py": "from mmdemo.models import base\nfrom . import X\n",
        },
    )
    assert graph["mmdemo.models.loading"] == {"mmdemo.models.base", "mmdemo.models"}
    # A submodule is not taken to import its package's __init__ unless it does.
    assert graph["mmdemo.models.base"] == set()
    assert find_cycle(graph) == []


def cross_test_imports(source: str, test_modules: set[str]) -> list[str]:
    """The imports in ``source`` of a test module or of conftest, each as ``line: module``:
    ``import test_x``, ``from test_x import y``, ``from tests.test_x import y``, ``from
    tests import test_x`` and ``from conftest import y`` (bare or under ``tests.``)."""
    forbidden = test_modules | {"conftest"}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
            if node.module == "tests":
                names = [f"tests.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            module = parts[1] if parts[0] == "tests" and len(parts) > 1 else parts[0]
            if module in forbidden:
                found.append(f"{node.lineno}: {name}")
    return found


def test_cross_test_imports_are_found() -> None:
    source = (
        "import test_a\nfrom test_a import x\nfrom tests.test_a import x\n"
        "from tests import test_a\nfrom conftest import WebApp\nfrom tests.conftest import y\n"
        "def f():\n    import tests.test_a\n"
        "from helpers import x\nfrom tests import helpers\nimport test_other_name\n"
    )
    assert cross_test_imports(source, {"test_a"}) == [
        "1: test_a",
        "2: test_a",
        "3: tests.test_a",
        "4: tests.test_a",
        "5: conftest",
        "6: tests.conftest",
        "8: tests.test_a",
    ]


def test_no_test_module_imports_another_or_conftest() -> None:
    """Test modules share helpers through tests/helpers.py, tests/browser_helpers.py and
    the factories beside them, fixtures through conftest.py: importing a test module runs
    its module-level set-up and ties two test files together, and importing conftest runs
    it a second time."""
    tests = Path(__file__).resolve().parent
    test_modules = {path.stem for path in tests.glob("test_*.py")}
    found = [
        f"{path.name}:{hit}"
        for path in sorted(tests.glob("*.py"))
        for hit in cross_test_imports(path.read_text(encoding="utf-8"), test_modules)
    ]
    assert not found, "import helpers from tests/helpers.py instead:\n" + "\n".join(found)
