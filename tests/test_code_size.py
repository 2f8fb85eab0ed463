"""Small modules, short functions: no module in mmdemo/ over 400 lines, no function over 80.

The house rule (GUIDE.md, "How we write code") holds only while something checks it: this
test reads every module of the package with ``ast`` and names each one that breaks it. A
function counts from its ``def`` line to its last line (any nested function included); a
nested function is checked on its own as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _sources(root: Path) -> list[Path]:
    """Every Python file of the package, in a stable order."""
    return sorted((root / "mmdemo").rglob("*.py"))


def oversized(root: Path = ROOT) -> list[str]:
    """One line per module or function over its limit, as ``path[:line name]: N lines``."""
    found = []
    for path in _sources(root):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines (module, max {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text, filename=name)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{name}:{node.lineno} {node.name}: {length} lines "
                    f"(function, max {MAX_FUNCTION_LINES})"
                )
    return found


def test_package_has_sources() -> None:
    """The walk sees the package (a moved package must not make the size check vacuous)."""
    assert len(_sources(ROOT)) > 50


def test_no_module_or_function_over_the_limits() -> None:
    """Every module of mmdemo/ within 400 lines and every function within 80."""
    found = oversized()
    assert not found, "over the size limits (split them):\n" + "\n".join(found)


def test_the_check_names_an_offender(tmp_path: Path) -> None:
    """The check itself: a long function and a long module are both named."""
    package = tmp_path / "mmdemo"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (package / "long_function.py").write_text(f"def f() -> None:\n{body}\n")
    (package / "long_module.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    (package / "fine.py").write_text("def g() -> None:\n    pass\n")
    assert oversized(tmp_path) == [
        f"mmdemo/long_function.py:1 f: {MAX_FUNCTION_LINES + 1} lines "
        f"(function, max {MAX_FUNCTION_LINES})",
        f"mmdemo/long_module.py: {MAX_MODULE_LINES + 1} lines (module, max {MAX_MODULE_LINES})",
    ]
