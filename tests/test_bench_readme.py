"""bench/README.md stays the short index that code, docs and tests cite.

Constants justify themselves by a section of bench/README.md (`(bench/README.md,
"Backends: int8")`); a citation whose section is gone points at nothing. The README stays
a suite's guide of about 300 lines (dated runs go to bench/results/), and every
calibration script it lists names the constant it sets, which the file it names defines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
CITING = ["mmdemo", "tests", "tools", "bench", "docs", "app.py", "README.md", "ARCHITECTURE.md"]
#: `bench/README.md` (or its markdown link), then at most a comma or "section", then a
#: title in double or single quotes; comment markers and line breaks read as spaces.
CITATION = re.compile(
    r"""bench/README\.md(?:\]\([^)]*\))?,?\s*(?:section\s*)?(?:"([^"]+)"|'([^']+)')"""
)


def _flat(text: str) -> str:
    """``text`` with each line break and the comment marker after it read as one space."""
    return re.sub(r"\s*\n\s*(?:#:?\s*)?", " ", text)


def _files() -> list[Path]:
    found = []
    for name in CITING:
        path = ROOT / name
        found += (
            sorted(path.rglob("*.py")) + sorted(path.rglob("*.md")) if path.is_dir() else [path]
        )
    skip = {README, Path(__file__).resolve()}
    return [path for path in found if path not in skip and "results" not in path.parts]


def cited_titles() -> dict[str, set[str]]:
    """Every title cited as a bench/README.md section, with the files citing it."""
    titles: dict[str, set[str]] = {}
    for path in _files():
        text = _flat(path.read_text(encoding="utf-8"))
        for double, single in CITATION.findall(text):
            titles.setdefault(double or single, set()).add(str(path.relative_to(ROOT)))
    table = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for row in table.splitlines():
        cells = row.split("|")
        if len(cells) > 3 and '"' in cells[2]:
            for title in re.findall(r'"([^"]+)"', cells[2]):
                titles.setdefault(title, set()).add("docs/benchmarks.md")
    return titles


def headings() -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()
    return [line.lstrip("#").strip() for line in lines if line.startswith("#")]


def test_the_citation_pattern_reads_a_comment_broken_over_lines() -> None:
    text = '#: split (bench/README.md, "Backends:\n#: int8"), outside'
    assert CITATION.findall(_flat(text)) == [("Backends: int8", "")]


def test_code_and_docs_cite_sections_and_every_cited_section_exists() -> None:
    titles = cited_titles()
    assert {"Backends", "Backends: int8", "Speed: one bench"} <= set(titles)
    have = headings()
    missing = {
        title: sorted(where)
        for title, where in titles.items()
        if not any(heading.startswith(title) for heading in have)
    }
    assert not missing, f"cited bench/README.md sections that do not exist: {missing}"


def test_the_readme_is_a_guide_of_about_300_lines() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 320, f"bench/README.md has {len(lines)} lines; dated runs go to results/"


def _defined(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def calibrations() -> list[tuple[str, str, str]]:
    """(script, constant, file) of each row of the README's calibration table."""
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        found = re.match(r"\| `bench/(\w+)\.py` \| `(\w+)` \| `([\w/]+\.py)` \|", line)
        if found:
            rows.append((found[1], found[2], found[3]))
    return rows


def test_each_calibration_script_names_a_constant_its_file_defines() -> None:
    rows = calibrations()
    assert len(rows) >= 8
    for script, constant, where in rows:
        assert constant in _defined(ROOT / where), f"{where} defines no {constant}"
        module = ast.parse((ROOT / "bench" / f"{script}.py").read_text(encoding="utf-8"))
        doc = _flat(ast.get_docstring(module) or "")
        assert f"``{constant}``" in doc and where in doc, f"bench/{script}.py names no {constant}"
