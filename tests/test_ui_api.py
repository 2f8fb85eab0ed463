"""The web app's named API endpoints, driven with gradio_client.

Most tests talk to ``python app.py`` in a subprocess (the ``web_app`` fixture: tiny or
offline models, a fresh data folder, the demo collection already indexed); the read-only
rules run against an in-process app, and the deployment rules as pure functions.
"""

import csv
import hashlib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import datasets
import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mmdemo.config import Limits, Settings
from mmdemo.demos import PHOTOS_DIR as DEMO_PHOTOS
from mmdemo.demos import DemoPlan, parse_entry, plan_demos
from mmdemo.errors import InputError
from mmdemo.evaluate.compare import kendall_tau_shared
from mmdemo.models.registry import resolve
from mmdemo.ui.deploy import EPHEMERAL_NOTE, resolve_deployment

from datasetfactory import ROWS, in_memory
from helpers import WebApp, _free_port

pytestmark = pytest.mark.timeout(300)

COLLECTION = "api-test"


def _noise_image(path: Path, seed: int) -> Path:
    """A distinct random image, so no two uploads embed alike."""
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def client(web_app: WebApp) -> Client:
    """A gradio_client connected to the app under test."""
    return Client(web_app.url, verbose=False)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three images, a text file, and a zip holding one more image and a corrupt one."""
    folder = tmp_path_factory.mktemp("uploads")
    files = {
        name: _noise_image(folder / name, seed)
        for seed, name in enumerate(["a.png", "b.png", "c.jpg"])
    }
    files["notes.txt"] = folder / "notes.txt"
    files["notes.txt"].write_text("not an image")
    inner = _noise_image(folder / "d.png", 7)
    files["pack.zip"] = folder / "pack.zip"
    with zipfile.ZipFile(files["pack.zip"], "w") as archive:
        archive.write(inner, "photos/d.png")
        archive.writestr("photos/broken.jpg", b"\xff\xd8\xff\xe0 truncated")
    files["d.png"] = inner
    return files


@pytest.fixture(scope="module")
def indexed(client: Client, uploads: dict[str, Path], web_app: WebApp) -> dict[str, Any]:
    """The /index call on COLLECTION: its report."""
    names = ["a.png", "b.png", "c.jpg", "notes.txt", "pack.zip"]
    files = [handle_file(str(uploads[name])) for name in names]
    return client.predict(
        files=files, collection=COLLECTION, models=[web_app.model], api_name="/index"
    )


def _search(client: Client, web_app: WebApp, **given: Any) -> tuple[Any, ...]:
    """Call /search with defaults for everything not given."""
    values = {"collection": COLLECTION, "model": web_app.model, **given}
    return client.predict(**values, api_name="/search")


def _compare(client: Client, web_app: WebApp, **given: Any) -> dict[str, Any]:
    """Call /compare with both set-ups on the app's model unless given."""
    values = {
        "text": "a photo",
        "collection": COLLECTION,
        "model_a": web_app.model,
        "model_b": web_app.model,
        **given,
    }
    result: dict[str, Any] = client.predict(**values, api_name="/compare")
    return result


def test_index_reports_added_present_and_rejected(indexed: dict[str, Any]) -> None:
    report = indexed
    assert report["added"] == 4
    assert report["present"] == 0
    reasons = {row["file"]: row["reason"] for row in report["rejected"]}
    assert set(reasons) == {"notes.txt", "pack.zip!photos/broken.jpg"}
    assert all(reasons.values())


def test_a_plain_server_path_is_not_an_upload(client: Client, web_app: WebApp) -> None:
    with pytest.raises(AppError, match="handle_file"):
        client.predict(
            files=[str(DEMO_PHOTOS / "rocket.jpg")], collection="sneaky", api_name="/index"
        )
    with pytest.raises(AppError, match="handle_file"):
        _search(client, web_app, collection="demo-photos", image=str(DEMO_PHOTOS / "rocket.jpg"))


def test_the_page_events_are_not_public_endpoints(client: Client) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    expected = {"/index", "/index_existing", "/search", "/compare", "/collections", "/delete"}
    expected |= {"/evaluate", "/vote", "/votes"}
    assert names == expected | {"/status"}


def test_indexing_the_same_image_again_counts_it_as_present(
    client: Client, uploads: dict[str, Path], web_app: WebApp, indexed: dict[str, Any]
) -> None:
    files = [handle_file(str(uploads["a.png"]))]
    report = client.predict(
        files=files, collection=COLLECTION, models=[web_app.model], api_name="/index"
    )
    assert (report["added"], report["present"], report["rejected"]) == (0, 1, [])


def test_a_folder_upload_with_a_captions_csv_keeps_the_captions(
    client: Client, uploads: dict[str, Path], web_app: WebApp, tmp_path: Path
) -> None:
    captions = tmp_path / "captions.csv"
    captions.write_text("file_name,caption\na.png,static in red and green\nb.png,more static\n")
    files = [handle_file(str(uploads[name])) for name in ("a.png", "b.png")]
    report = client.predict(
        files=files,
        collection="api-captions",
        models=[web_app.model],
        captions=handle_file(str(captions)),
        api_name="/index",
    )
    assert report["added"] == 2
    payload, _ = _search(client, web_app, text="static", collection="api-captions")
    by_file = {row["file_name"]: row["caption"] for row in payload["results"]}
    assert by_file == {"a.png": "static in red and green", "b.png": "more static"}


def test_index_reads_a_local_dataset_folder_with_the_pages_options(
    client: Client, web_app: WebApp, tmp_path: Path
) -> None:
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": in_memory()}).save_to_disk(str(saved))
    report = client.predict(
        collection="api-dataset",
        models=[web_app.model],
        dataset=str(saved),
        caption_column="text",
        limit=2,
        api_name="/index",
    )
    assert (report["added"], report["present"], report["rejected"]) == (2, 0, [])
    payload, _ = _search(client, web_app, text="square", collection="api-dataset")
    rows = payload["results"]
    assert sorted(row["caption"] for row in rows) == sorted(r["text"] for r in ROWS[:2])
    cheap, _ = _search(client, web_app, text="square", collection="api-dataset", where="price < 1")
    assert [row["caption"] for row in cheap["results"]] == [ROWS[0]["text"]]
    report = client.predict(
        collection="api-dataset", models=[web_app.model], dataset=str(saved), api_name="/index"
    )
    assert (report["added"], report["present"]) == (1, 2)


def test_index_refuses_a_dataset_that_is_not_one_and_creates_nothing(
    client: Client, web_app: WebApp, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("not a dataset")
    with pytest.raises(AppError, match="is not a dataset: give hf:OWNER/NAME"):
        client.predict(
            collection="api-not-dataset",
            models=[web_app.model],
            dataset=str(tmp_path),
            api_name="/index",
        )
    with pytest.raises(AppError, match="a folder or a dataset to index"):
        client.predict(collection="api-not-dataset", api_name="/index")
    listing = client.predict(api_name="/collections")
    assert "api-not-dataset" not in [row["name"] for row in listing]


def test_collections_lists_images_per_model(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    listing = client.predict(api_name="/collections")
    by_name = {row["name"]: row for row in listing}
    key = resolve(web_app.model, "embedder").key
    assert by_name[COLLECTION]["images"] == 4
    assert by_name[COLLECTION]["models"][key] == 4
    demos = {demo.collection: demo for demo in plan_demos("").demos}
    for name, demo in demos.items():  # the full three-demo first start, every item counted
        expected = sum(len(_pages_or_one(Path(item))) for item in demo.items())
        assert by_name[name]["images"] == expected, name


def test_demo_collection_is_searchable_with_its_captions(client: Client, web_app: WebApp) -> None:
    payload, _ = _search(client, web_app, text="a cup of coffee", collection="demo-photos")
    with (DEMO_PHOTOS / "captions.csv").open(newline="") as handle:
        expected = {row["file_name"]: row["caption"] for row in csv.DictReader(handle)}
    results = payload["results"]
    assert len(results) == 10
    assert {row["file_name"]: row["caption"] for row in results}.items() <= expected.items()


def test_text_search_returns_json_and_a_csv_without_server_paths(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload, csv_path = _search(client, web_app, text="a photo", top_k=3)
    results = payload["results"]
    assert [row["rank"] for row in results] == [1, 2, 3]
    scores = [row["match"] for row in results]
    assert scores == sorted(scores, reverse=True)
    assert set(payload["timings_ms"]) == {"embed", "search", "rerank"}
    assert "path" not in results[0]
    with Path(csv_path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["id"] for row in rows] == [row["id"] for row in results]
    assert "path" not in rows[0]
    assert {(row["query_text"], row["model"], row["reranker"]) for row in rows} == {
        ("a photo", resolve(web_app.model, "embedder").key, "none")
    }
    assert str(web_app.data_dir) not in Path(csv_path).read_text()


def test_a_search_with_no_results_returns_an_empty_list(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload, _ = _search(client, web_app, text="x", caption_contains="no-such-words")
    assert payload["results"] == []


def test_search_filters_on_metadata_and_explains_bad_filters(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    everything, _ = _search(client, web_app, text="noise")
    only, _ = _search(client, web_app, text="noise", where="file_name in (a.png, b.png)")
    assert len(everything["results"]) == 4
    assert sorted(row["file_name"] for row in only["results"]) == ["a.png", "b.png"]
    with pytest.raises(AppError, match="needs a number"):
        _search(client, web_app, text="noise", where="width < wide")
    with pytest.raises(AppError, match="caption weight must be between 0 and 1"):
        _search(client, web_app, text="noise", caption_weight=1.5)
    with pytest.raises(AppError, match="lexical weight must be between 0 and 1"):
        _search(client, web_app, text="noise", lexical_weight=1.5)


def test_search_matches_words_exactly_and_says_which(client: Client, web_app: WebApp) -> None:
    payload, _ = _search(client, web_app, text="coffee", collection="demo-photos")
    top = payload["results"][0]
    assert (top["file_name"], top["matched"], top["strength"]) == (
        "coffee.jpg",
        ["coffee"],
        "strong",
    )
    assert payload["calibrated"] is True
    off, _ = _search(client, web_app, text="coffee", collection="demo-photos", lexical_weight=0.0)
    assert all(row["matched"] == [] for row in off["results"])


def test_an_upload_whose_files_are_all_rejected_creates_no_collection(
    client: Client, uploads: dict[str, Path]
) -> None:
    files = [handle_file(str(uploads["notes.txt"]))]
    report = client.predict(
        files=files, collection="all-rejected", models=["lite"], api_name="/index"
    )
    assert report["added"] == 0 and len(report["rejected"]) == 1
    listing = client.predict(api_name="/collections")
    assert "all-rejected" not in [row["name"] for row in listing]


def test_image_search_finds_that_image_first(
    client: Client, uploads: dict[str, Path], web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload, csv_path = _search(client, web_app, image=handle_file(str(uploads["b.png"])))
    top = payload["results"][0]
    assert top["id"] == _sha256(uploads["b.png"])
    assert top["similarity"] == pytest.approx(1.0, abs=1e-3)
    with Path(csv_path).open(newline="") as handle:
        assert next(csv.DictReader(handle))["query_image"] == "b.png"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"text": "   "}, "Empty query"),
        ({"text": "x", "reranker": "no-such-org/no-such-model"}, "Could not load reranker"),
        ({"text": "x", "reranker": "qwen3-vl-reranker-2b"}, "on this CPU .*: use a GPU Space, or"),
        ({"text": "x", "collection": "no such collection"}, "does not exist"),
    ],
)
def test_search_failures_are_plain_messages(
    client: Client, web_app: WebApp, indexed: dict[str, Any], given: dict[str, Any], message: str
) -> None:
    with pytest.raises(AppError, match=message):
        _search(client, web_app, **given)


def test_search_with_a_model_the_collection_lacks_says_so(
    client: Client, web_app: WebApp, tiny_siglip_dir: Path
) -> None:
    with pytest.raises(AppError, match="not indexed with model"):
        _search(client, web_app, text="x", collection="demo-photos", model=str(tiny_siglip_dir))


def test_compare_offers_indexing_then_measures_agreement(
    client: Client, web_app: WebApp, tiny_siglip_dir: Path, indexed: dict[str, Any]
) -> None:
    siglip = str(tiny_siglip_dir)
    payload = _compare(client, web_app, model_b=siglip)
    assert payload["b"]["indexed"] is False
    assert "/index_existing" in payload["b"]["message"]
    assert payload["agreement"] is None and payload["verdict"] is None

    report = client.predict(collection=COLLECTION, model=siglip, api_name="/index_existing")
    assert report["added"] == 4

    payload = _compare(client, web_app, model_b=siglip)
    assert payload["b"]["model"] == resolve(siglip, "embedder").key
    measures = payload["agreement"]
    # All four images come back on both sides, in whatever order.
    assert (measures["k"], measures["overlap_at_k"]) == (4, 1.0)
    assert 0.0 < measures["rbo"] <= 1.0
    ids_a = [row["id"] for row in payload["a"]["results"]]
    ids_b = [row["id"] for row in payload["b"]["results"]]
    assert measures["kendall_tau"] == pytest.approx(kendall_tau_shared(ids_a, ids_b))
    assert payload["verdict"]


def test_compare_of_identical_setups_agrees_fully_and_says_why(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload = _compare(client, web_app, top_k=3)
    assert payload["agreement"]["rbo"] == pytest.approx(1.0)
    assert payload["agreement"]["overlap_at_k"] == 1.0
    assert payload["agreement"]["kendall_tau"] == pytest.approx(1.0)
    assert payload["verdict"] == [
        "A and B return the same 3 results in the same order.",
        "A and B are the same set-up.",
    ]


def test_compare_with_a_reranker_shows_ranks_before_reranking(
    client: Client, web_app: WebApp, tiny_reranker_dir: Path, indexed: dict[str, Any]
) -> None:
    payload = _compare(client, web_app, reranker_b=str(tiny_reranker_dir))
    reranked = payload["b"]["results"]
    assert payload["b"]["reranker"] == resolve(str(tiny_reranker_dir), "reranker").key
    assert sorted(row["rank_before_rerank"] for row in reranked) == [1, 2, 3, 4]


def test_known_answers_make_the_verdict_name_the_winner(
    client: Client, web_app: WebApp, tiny_reranker_dir: Path, indexed: dict[str, Any]
) -> None:
    reranker = str(tiny_reranker_dir)
    plain = _compare(client, web_app, reranker_b=reranker)
    names_a = [row["file_name"] for row in plain["a"]["results"]]
    names_b = [row["file_name"] for row in plain["b"]["results"]]
    # The image B ranks lowest of those A ranks first or last: whoever ranks it higher wins.
    answer = max((names_a[0], names_a[-1]), key=names_b.index)
    rank_a, rank_b = names_a.index(answer) + 1, names_b.index(answer) + 1
    payload = _compare(client, web_app, reranker_b=reranker, expected=[answer])
    assert payload["expected"] == [answer] and plain["winner"] is None
    winner = "A" if rank_a < rank_b else "B" if rank_b < rank_a else "tie"
    assert payload["winner"] == winner
    if winner == "tie":
        assert payload["verdict"][0].startswith("A tie for this query")
    else:
        loser = {"A": "B", "B": "A"}[winner]
        ranks = {"A": rank_a, "B": rank_b}
        assert payload["verdict"][0] == (
            f"{winner} is better for this query: {winner} finds the expected image ({answer}) "
            f"at #{ranks[winner]}, {loser} at #{ranks[loser]}."
        )


def test_votes_count_once_per_visitor_and_query(
    client: Client, web_app: WebApp, tiny_reranker_dir: Path, indexed: dict[str, Any]
) -> None:
    pair = {
        "model_a": web_app.model,
        "model_b": web_app.model,
        "reranker_b": str(tiny_reranker_dir),
    }
    asked = {"collection": COLLECTION, "text": "a photo of votes", **pair}
    before = client.predict(**pair, api_name="/votes")
    first = client.predict(**asked, choice="A", api_name="/vote")
    assert (first["a"], first["b"]) == (before["a"] + 1, before["b"])
    again = client.predict(**asked, choice="B", api_name="/vote")  # replaces this visitor's A
    assert (again["a"], again["b"], again["votes"]) == (
        before["a"],
        before["b"] + 1,
        first["votes"],
    )
    assert client.predict(**pair, api_name="/votes") == again
    assert "(B) preferred on" in again["sentence"] or again["a"] >= again["b"]
    with pytest.raises(AppError, match="same set-up"):
        client.predict(**asked | {"reranker_b": "none"}, choice="A", api_name="/vote")
    with pytest.raises(AppError, match="must be one of"):
        client.predict(**asked, choice="C", api_name="/vote")


def test_a_setup_whose_model_fails_keeps_the_other_side(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload = _compare(client, web_app, reranker_b="no-such-org/no-such-reranker")
    assert len(payload["a"]["results"]) == 4
    assert "Could not load reranker" in payload["b"]["error"]
    assert payload["verdict"] is None


def test_delete_needs_confirmation_and_spares_the_demo(
    client: Client, uploads: dict[str, Path], web_app: WebApp
) -> None:
    files = [handle_file(str(uploads["c.jpg"]))]
    client.predict(files=files, collection="to-delete", models=[web_app.model], api_name="/index")
    with pytest.raises(AppError, match="confirmation"):
        client.predict(collection="to-delete", api_name="/delete")
    for demo in ("demo-photos", "demo-shop", "demo-documents"):
        with pytest.raises(AppError, match="cannot be deleted"):
            client.predict(collection=demo, confirm=True, api_name="/delete")
    result = client.predict(collection="to-delete", confirm=True, api_name="/delete")
    assert "Deleted collection" in result["message"]
    listing = client.predict(api_name="/collections")
    assert "to-delete" not in {row["name"] for row in listing}
    assert {"demo-photos", "demo-shop", "demo-documents"} <= {row["name"] for row in listing}


# --- read-only mode, in process ------------------------------------------------------------


@contextmanager
def _served(settings: Settings) -> Iterator[tuple[gr.Blocks, str]]:
    """The app for ``settings`` (lite, no demo) served in this process: (app, its URL)."""
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.layout import build_app, launch

    ctx = AppContext(settings, Bootstrap(settings, None, "lite"))
    app = build_app(ctx)
    port = _free_port()
    launch(app, ctx, "127.0.0.1", port, block=False)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        app.close()


def test_readonly_app_refuses_writes_through_the_api(
    tmp_path: Path, uploads: dict[str, Path]
) -> None:
    with _served(Settings(data_dir=tmp_path / "data", readonly=True)) as (_, url):
        ro = Client(url, verbose=False)
        files = [handle_file(str(uploads["a.png"]))]
        calls: list[tuple[dict[str, Any], str]] = [
            ({"files": files, "collection": "x", "models": ["lite"]}, "/index"),
            ({"collection": "x", "dataset": "hf:owner/name"}, "/index"),
            ({"collection": "x", "confirm": True}, "/delete"),
            ({"collection": "x", "model": "lite"}, "/index_existing"),
        ]
        for args, endpoint in calls:
            with pytest.raises(AppError, match="This demo is read-only"):
                ro.predict(**args, api_name=endpoint)


def test_served_app_does_not_summarise_events_for_a_dashboard_it_never_shows(
    tmp_path: Path,
) -> None:
    """Gradio's per-event analytics summary (pandas over up to 10,000 events) stays off."""
    with _served(Settings(data_dir=tmp_path / "data")) as (app, url):
        client = Client(url, verbose=False)
        for _ in range(3):
            client.predict(api_name="/status")
        queue = app._queue
        assert queue.events_recorded >= 3
        assert queue.cached_event_analytics_summary == {"functions": {}}


def test_gradio_keeps_at_most_the_configured_number_of_sessions(tmp_path: Path) -> None:
    """Each session's state costs gradio a copy of the page's config; the oldest go first."""
    settings = Settings(data_dir=tmp_path / "data", limits=Limits(sessions=3))
    with _served(settings) as (app, url):
        clients = [Client(url, verbose=False) for _ in range(5)]
        for client in clients:
            client.predict(api_name="/status")
        kept = app.state_holder.session_data
        assert len(kept) == 3
        assert clients[-1].session_hash in kept and clients[0].session_hash not in kept


@pytest.mark.parametrize(("model", "reranker"), [("lite", "lite"), ("clip-b32", "none")])
def test_search_reranker_defaults_to_what_was_measured_for_the_model(
    tmp_path: Path, model: str, reranker: str
) -> None:
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.layout import build_app

    settings = Settings(data_dir=tmp_path / "data")
    app = build_app(AppContext(settings, Bootstrap(settings, None, model)))
    dropdown = next(b for b in app.blocks.values() if b.elem_id == "search-reranker")
    assert dropdown.value == reranker


def test_the_sample_query_never_replaces_results_already_shown(tmp_path: Path) -> None:
    """A status tick still in flight when the first results showed runs the sample query
    again; it must leave shown results alone, or a slow Space replaces a visitor's search
    with one of their half-edited inputs."""
    from types import SimpleNamespace

    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.layout import build_app

    settings = Settings(data_dir=tmp_path / "data")
    boot = Bootstrap(settings, None, "lite")
    boot.start()
    boot.join(120)
    assert boot.status().finished
    app = build_app(AppContext(settings, boot))
    on_ready = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "on_ready")
    query = {"text": "a tabby cat", "image": None, "weight": 0.9, "negative": None}
    query |= {"negative_weight": 0.5, "caption_contains": None, "where": None}
    query |= {"caption_weight": 0.4, "lexical_weight": 0.4, "collection": None}
    query |= {"model": "lite", "reranker": "none"}
    request = SimpleNamespace(session_hash="visitor")
    skips = tuple(gr.skip() for _ in range(7))
    assert on_ready([], request, **query, top_k=12) != skips  # nothing shown yet: it answers
    assert on_ready([{"id": "shown"}], request, **query, top_k=12) == skips


# --- deployment rules ----------------------------------------------------------------------


def test_local_defaults_and_flags_over_env() -> None:
    plain = resolve_deployment({})
    assert (plain.host, plain.port, plain.data_dir, plain.notes) == ("127.0.0.1", 7860, None, ())
    env = {"MMDEMO_HOST": "0.0.0.0", "MMDEMO_PORT": "9000"}
    assert (resolve_deployment(env).host, resolve_deployment(env).port) == ("0.0.0.0", 9000)
    flagged = resolve_deployment(env, host="localhost", port=8000, data_dir="/tmp/x")
    assert (flagged.host, flagged.port, flagged.data_dir) == ("localhost", 8000, Path("/tmp/x"))


def test_spaces_use_persistent_storage_when_writable(tmp_path: Path) -> None:
    deployment = resolve_deployment({"SPACE_ID": "me/demo"}, spaces_storage=tmp_path)
    assert deployment.host == "0.0.0.0"
    assert deployment.data_dir == tmp_path / "mmdemo"
    assert deployment.notes == ()


def test_spaces_without_storage_warn_that_uploads_are_lost(tmp_path: Path) -> None:
    deployment = resolve_deployment({"SPACE_ID": "me/demo"}, spaces_storage=tmp_path / "none")
    assert deployment.data_dir is None
    assert deployment.notes == (EPHEMERAL_NOTE,)


def test_an_explicit_data_dir_wins_on_spaces(tmp_path: Path) -> None:
    env = {"SPACE_ID": "me/demo", "MMDEMO_DATA_DIR": "/srv/data"}
    assert resolve_deployment(env, spaces_storage=tmp_path).data_dir is None


def test_a_bad_port_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="Port"):
        resolve_deployment({"MMDEMO_PORT": "http"})


# --- start-up work and downloads, in process -----------------------------------------------


def _pages_or_one(path: Path) -> list[int]:
    """How many items a file of a demo gives: a PDF's pages, else one."""
    if path.suffix != ".pdf":
        return [1]
    import pypdfium2

    return list(range(len(pypdfium2.PdfDocument(str(path)))))


def _only(*entries: str) -> DemoPlan:
    """A plan of just the demos named as MMDEMO_DEMO_SOURCES entries."""
    demos = tuple(demo for _, demo in map(parse_entry, entries) if demo is not None)
    return DemoPlan(demos)


def test_bootstrap_reports_a_model_that_fails_to_load(tmp_path: Path) -> None:
    from mmdemo.ui.bootstrap import Bootstrap

    settings = Settings(data_dir=tmp_path / "data")
    boot = Bootstrap(settings, _only(f"photos={DEMO_PHOTOS}"), "no-such-org/no-such-model")
    boot.start()
    boot.join(timeout=120)
    status = boot.status()
    assert status.phase == "failed"
    assert "Could not load embedder" in status.message
    assert status.default_model == "no-such-org/no-such-model"


@pytest.mark.parametrize("folder", ["missing", "empty", "junk"])
def test_bootstrap_fails_clearly_when_the_demo_has_no_images(tmp_path: Path, folder: str) -> None:
    from mmdemo.ui.bootstrap import Bootstrap

    demo = tmp_path / folder
    if folder != "missing":
        demo.mkdir()
    if folder == "junk":
        (demo / "notes.txt").write_text("not a photo")
    settings = Settings(data_dir=tmp_path / "data")
    boot = Bootstrap(settings, _only(f"photos={demo}"), "lite")
    boot.start()
    boot.join(timeout=120)
    status = boot.status()
    assert status.phase == "failed"
    assert f"no image could be indexed from {demo}" in status.message


def test_old_result_csvs_are_pruned_once_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import pandas as pd

    from mmdemo.ui import context, downloads
    from mmdemo.ui.bootstrap import Bootstrap

    clock = [1000.0]
    monkeypatch.setattr(downloads.time, "monotonic", lambda: clock[0])
    settings = Settings(data_dir=tmp_path / "data")
    ctx = context.AppContext(settings, Bootstrap(settings, None, "lite"))
    table = pd.DataFrame({"rank": [1], "id": ["x"]})
    old = ctx.write_csv(table, "search-results.csv")
    assert old.read_text().splitlines() == ["rank,id", "1,x"]
    stale = old.stat().st_mtime - downloads.DOWNLOAD_TTL_S - 1
    os.utime(old.parent, (stale, stale))
    # Searches within the minute after a scan do not scan again ...
    clock[0] += downloads.PRUNE_EVERY_S - 1
    kept = ctx.write_csv(table, "search-results.csv")
    assert old.exists()
    # ... the first one after it removes what expired, and only that.
    clock[0] += 1
    new = ctx.write_csv(table, "search-results.csv")
    assert new.exists() and kept.exists() and not old.exists()


def test_stored_images_are_served_only_through_signed_urls(web_app: WebApp) -> None:
    import httpx

    from mmdemo.ui import media

    def fetch(path: str) -> int:
        return httpx.get(f"{web_app.url}{path}").status_code

    database = web_app.data_dir / "chroma" / "chroma.sqlite3"
    thumbnail = next((web_app.data_dir / "thumbs").iterdir())
    assert database.exists()
    for path in (database, thumbnail):
        assert fetch(f"/gradio_api/file={path.resolve()}") == 403
    assert fetch(f"{media.ROUTE}/thumb/{thumbnail.name}") == 403
    assert fetch(f"{media.ROUTE}/thumb/{thumbnail.name}?s={'0' * 32}") == 403
    assert fetch(f"{media.ROUTE}/thumb/{'f' * 64}.jpg?s={'0' * 32}") == 403  # missing alike


def test_concurrent_searches_prune_old_csvs_safely(tmp_path: Path) -> None:
    import os
    import threading

    import pandas as pd

    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext

    settings = Settings(data_dir=tmp_path / "data")
    table = pd.DataFrame({"rank": [1], "id": ["x"]})
    errors: list[BaseException] = []
    for _ in range(10):
        ctx = AppContext(settings, Bootstrap(settings, None, "lite"))
        for i in range(300):  # results CSVs of searches long ago
            folder = ctx._downloads.folder / f"old{i}"
            folder.mkdir()
            (folder / "r.csv").write_text("rank\n1\n")
            os.utime(folder, (1, 1))
        start = threading.Barrier(2)

        def search_done(ctx: AppContext = ctx, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                ctx.write_csv(table, "r.csv")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=search_done) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(list(ctx._downloads.folder.iterdir())) == 2
    assert errors == []


def test_page_data_is_rebuilt_only_after_a_store_write(tmp_path: Path) -> None:
    """The example row is read from a collection once, and again after any write."""
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext

    settings = Settings(data_dir=tmp_path / "data")
    ctx = AppContext(settings, Bootstrap(settings, None, "lite"))
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    assert ctx.until_store_changes("k", build) == ctx.until_store_changes("k", build) == 1
    ctx.store().add("c", "m", ["a"], np.ones((1, 4), np.float32), [{"file_name": "a.png"}])
    assert ctx.until_store_changes("k", build) == 2
    assert ctx.until_store_changes("other", build) == 3
