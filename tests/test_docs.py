"""README is a front door and the docs/ pages it links hold together.

README.md is also the Space's card: it stays short (at most 200 lines), and every relative
link in it and in docs/*.md names a file or folder in the repository, so a page moved or
renamed breaks this test instead of a newcomer's first click.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target); the text may span lines.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    """The link targets of ``page`` that point inside the repository (no scheme, no bare anchor)."""
    text = page.read_text(encoding="utf-8")
    targets = [match.group(1) for match in LINK.finditer(text)]
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_readme_is_a_front_door_of_at_most_200_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/"


def test_readme_keeps_the_two_setup_commands_and_the_space_front_matter() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("---\ntitle: mmdemo\n")
    assert "app_file: app.py" in readme.split("\n---\n", 1)[0]
    assert "pip install -r requirements.txt && python app.py" in readme
    assert "bash tests/run.sh" in readme


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_to_a_file_in_the_repo(page: Path) -> None:
    links = relative_links(page)
    missing = [t for t in links if not (page.parent / t.split("#", 1)[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_readme_links_every_docs_page() -> None:
    linked = {(ROOT / t.split("#", 1)[0]).resolve() for t in relative_links(ROOT / "README.md")}
    unlinked = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not unlinked, f"README.md does not link {unlinked}"


def test_the_screenshot_is_small_enough_for_the_space_card() -> None:
    shot = ROOT / "docs" / "images" / "first-screen.png"
    assert shot.stat().st_size < 200_000
