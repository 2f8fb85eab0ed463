"""What mmdemo takes from gradio's and chromadb's internals (mmdemo/compat.py) still holds,
on the releases it was checked against: an upgrade fails here until compat.py is read
against the new release and CHECKED moves with it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import chromadb
import gradio as gr
import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from mmdemo import compat

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


@pytest.mark.parametrize("library", sorted(compat.CHECKED))
def test_the_installed_and_pinned_release_is_the_one_compat_was_checked_against(
    library: str,
) -> None:
    pinned = re.search(rf"^{library}==(\S+)$", REQUIREMENTS.read_text(), re.MULTILINE)
    assert pinned is not None, f"{library} is not pinned in requirements.txt"
    assert metadata.version(library) == pinned.group(1) == compat.CHECKED[library], (
        f"{library} {metadata.version(library)} is installed, {pinned.group(1)} pinned: read "
        f"mmdemo/compat.py against it, then set CHECKED[{library!r}]"
    )


def _client(folder: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(
        path=str(folder), settings=ChromaSettings(anonymized_telemetry=False)
    )


def test_forgetting_a_chroma_system_makes_the_next_client_a_new_one(tmp_path: Path) -> None:
    system = _client(tmp_path)._system  # looked up in chromadb's cache, one per folder
    assert _client(tmp_path)._system is system
    compat.forget_chroma_system(str(tmp_path))
    assert str(tmp_path) not in SharedSystemClient._identifier_to_system
    assert _client(tmp_path)._system is not system
    compat.forget_chroma_system(str(tmp_path / "never-opened"))  # nothing to drop: no error


def test_a_missing_collection_is_told_from_other_chroma_failures(tmp_path: Path) -> None:
    client = _client(tmp_path)
    with pytest.raises(Exception) as missing:
        client.get_collection("not-there")
    assert compat.is_chroma_not_found(missing.value)
    with pytest.raises(Exception) as invalid:
        client.create_collection("x")  # too short a name
    assert not compat.is_chroma_not_found(invalid.value)
    assert not compat.is_chroma_not_found(KeyError("NotFoundError"))
    compat.forget_chroma_system(str(tmp_path))


def test_an_events_payload_is_what_the_page_sent() -> None:
    assert compat.event_payload(gr.EventData(None, {"index": 3})) == {"index": 3}
    assert compat.event_payload(gr.EventData(None, None)) == {}


def test_the_queue_no_longer_rebuilds_its_monitoring_summary_after_every_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    with gr.Blocks() as plain:
        gr.Markdown("plain")
    plain.queue()
    assert plain._queue.ANAYLTICS_CACHE_FREQUENCY == 1  # gradio's own: after every event

    compat.quiet_queue_analytics()
    with gr.Blocks() as quiet:
        gr.Markdown("quiet")
    quiet.queue()
    assert quiet._queue.ANAYLTICS_CACHE_FREQUENCY == 2**62


def test_an_operators_own_analytics_frequency_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")
    compat.quiet_queue_analytics()
    with gr.Blocks() as page:
        gr.Markdown("page")
    page.queue()
    assert page._queue.ANAYLTICS_CACHE_FREQUENCY == 100


def test_datasets_imagefolder_learns_an_extension(tmp_path: Path) -> None:
    """A label folder of files with a taught extension is read as an imagefolder, one row
    per file (datasets' own list is Pillow's, without HEIC)."""
    import datasets

    for label in ("cats", "dogs"):
        (tmp_path / label).mkdir()
        (tmp_path / label / f"{label}.heic").write_bytes(b"not read here")
    compat.teach_imagefolder({".heic"})
    rows = datasets.load_dataset(str(tmp_path), split="train", streaming=True)
    rows = rows.cast_column("image", datasets.Image(decode=False))
    assert sorted(Path(row["image"]["path"]).name for row in rows) == ["cats.heic", "dogs.heic"]


SKIPPED_CHECKS = """
import json, sys
from pathlib import Path
import overrides
module = sys.modules["overrides.overrides"]
calls = []
validate = module._validate_method
module._validate_method = lambda *args: calls.append(1) or validate(*args)
if sys.argv[1] == "skip":
    from mmdemo.compat import skip_override_checks
    skip_override_checks()
import chromadb
client = chromadb.PersistentClient(path=sys.argv[2])
items = client.get_or_create_collection("items", embedding_function=None)
items.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
found = items.query(query_embeddings=[[0.9, 0.1]], n_results=1)["ids"]
print(json.dumps({"checks": len(calls), "found": found}))
"""


@pytest.mark.parametrize("skip", [True, False])
def test_chromadb_runs_without_the_override_checks_it_would_make(
    skip: bool, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SKIPPED_CHECKS, "skip" if skip else "check", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REQUIREMENTS.parent)},
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["found"] == [["a"]]
    # chromadb still decorates its methods (else the replacement should go), and skipped
    # they are never checked
    assert (found["checks"] == 0) if skip else (found["checks"] > 100)
