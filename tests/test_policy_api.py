"""Every named endpoint of a public app under hostile values, and the request policy's
rules as API clients meet them (mmdemo/policy/).

Drives the ``public_app`` fixture (``python app.py`` as a Space runs it: multi-visitor, no
server folder may be named). The walk reads the endpoints and their parameters from
``gradio_client``'s ``view_api()`` and sends each parameter the hostile values of its type,
the other parameters valid: each must come back as one plain sentence, never gradio's
generic error, HTML-escaped text or a server path. Values gradio_client cannot send (NaN,
infinities) go through gradio's REST API (``/gradio_api/call/<endpoint>``), as any client
may send them. An endpoint without a case here fails the walk.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mmdemo.demos import PHOTOS_DIR
from mmdemo.policy.limits import EVALUATE_MAX_QUERIES, EXPECTED_MAX, MODELS_MAX, TOP_K_MAX
from mmdemo.search.hybrid import CAPTION_WEIGHT

from helpers import WebApp

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[1]
SESSION = "hostile-walk-session"
#: The shared collection the walk searches: the photos demo.
DEMO = "demo-photos"
GENERIC = "upstream Gradio app"
NAN, INF = math.nan, math.inf
#: Values a parameter of each API type must refuse, each with one sentence.
NUMBERS: list[Any] = [None, "abc", "0.5", True, NAN, INF, -INF, -1e9, 1e9]
TOO_MANY = [f"model-{i}" for i in range(MODELS_MAX + 1)]
HOSTILE: dict[str, list[Any]] = {
    "str": [12, ["x"], {"x": 1}, "x" * 100_001],
    "int": [*NUMBERS, 2.5, -1, TOP_K_MAX + 1],
    "None | int": [*NUMBERS[1:], 2.5, -1],
    "float": [*NUMBERS, -0.01, 1.01],
    "bool": ["false", "False", "0", "no", None, 0, 1, "true"],
    "None | list[str]": [
        12,
        [12],
        [None],
        ["x" * 100_001],
        [f"m{i}" for i in range(max(MODELS_MAX, EXPECTED_MAX) + 1)],  # over every list's most
    ],
    "None | dict(str, Any)": ["/etc/passwd", 12, {"path": "/etc/passwd"}, ["x"]],
    # an example image, declared as gradio's FileData so MCP clients may give a URL
    "filepath": ["/etc/passwd", 12, {"path": "/etc/passwd"}, ["x"]],
    "None | list[dict(str, Any)]": ["/etc/passwd", ["/etc/passwd"], 12, [{"path": "/etc/hosts"}]],
    "None | list[dict(str, str)]": [
        "abc",
        12,
        [12],
        [{"query": 1, "relevant": "coffee.jpg"}],
        [{"query": "x", "relevant": "y.jpg"}] * (EVALUATE_MAX_QUERIES + 1),
    ],
}
#: Values hostile to one parameter by its name, beside those of its type.
BY_NAME: dict[str, list[Any]] = {
    "backend": ["cuda", "../../etc/passwd", "onnx; rm -rf /", "torch\x00", "ONNX RUNTIME"],
}
#: The API as it was before the policy, every endpoint's parameters in order; since then
#: only added to at the end (``ocr`` and ``backend`` on /index, issues 26 and 25;
#: ``lexical_weight`` and ``backend`` on /search, issues 23 and 25).
PARAMETERS = {
    "/index": [
        "files", "collection", "models", "captions", "dataset", "split", "image_column",
        "caption_column", "limit", "ocr", "backend",
    ],
    "/index_existing": ["collection", "model", "backend"],
    "/search": [
        "collection", "text", "image", "model", "reranker", "top_k", "weight", "negative",
        "negative_weight", "caption_contains", "where", "caption_weight", "lexical_weight",
        "backend",
    ],
    "/compare": [
        "collection", "model_a", "model_b", "text", "image", "reranker_a", "reranker_b", "top_k",
        "expected",
    ],
    "/vote": [
        "collection", "model_a", "model_b", "choice", "text", "image", "reranker_a", "reranker_b",
    ],
    "/votes": ["model_a", "model_b", "reranker_a", "reranker_b"],
    "/collections": [],
    "/delete": ["collection", "confirm"],
    "/status": [],
    "/evaluate": ["collection", "models", "rerankers", "queries", "rerank_captions"],
}  # fmt: skip


def _noise_image(path: Path, seed: int) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(scope="module")
def client(public_app: WebApp) -> Client:
    return Client(public_app.url, verbose=False)


@pytest.fixture(scope="module")
def endpoints(client: Client) -> dict[str, list[dict[str, Any]]]:
    """Each named endpoint's parameters as gradio_client lists them."""
    info = client.view_api(print_info=False, return_format="dict")
    return {name: spec["parameters"] for name, spec in info["named_endpoints"].items()}


def _upload(app: WebApp, path: Path) -> dict[str, Any]:
    """``path`` uploaded as a client does, as the file object an endpoint takes."""
    with path.open("rb") as handle:
        answer = httpx.post(f"{app.url}/gradio_api/upload", files={"files": handle}, timeout=60)
    [stored] = answer.json()
    return {"path": stored, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def call(app: WebApp, endpoint: str, values: dict[str, Any], names: list[str]) -> Any:
    """Call ``endpoint`` through gradio's REST API in the walk's session; returns the
    result, or raises AppError with the message the app sent. NaN and infinities go as
    the JSON literals Python writes for them."""
    data = [values.get(name) for name in names]
    body = json.dumps({"data": data, "session_hash": SESSION})
    url = f"{app.url}/gradio_api/call{endpoint}"
    started = httpx.post(url, content=body, headers={"content-type": "application/json"})
    started.raise_for_status()
    stream = httpx.get(f"{url}/{started.json()['event_id']}", timeout=300).text
    event = ""
    for line in stream.splitlines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event in ("complete", "error"):
            payload = json.loads(line.removeprefix("data: "))
            if event == "complete":
                return payload
            message = payload.get("error") if isinstance(payload, dict) else payload
            raise AppError(message or f"{GENERIC} (no message)")
    raise AssertionError(f"{endpoint} sent no result: {stream[-500:]}")


def assert_one_plain_sentence(message: str, app: WebApp) -> None:
    """What a refusal must be: one short plain sentence, nothing of the server in it."""
    assert message and GENERIC not in message, message
    assert "\n" not in message and len(message) < 400, message
    assert "&lt;" not in message and "&gt;" not in message and "&amp;" not in message, message
    for secret in (str(ROOT), str(app.data_dir), "Traceback", "KeyError", "Unrecognized model"):
        assert secret not in message, message


@pytest.fixture(scope="module")
def cases(app_files: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Valid values for every endpoint, in the walk's session; one case per endpoint."""
    return {
        "/index": {"files": [app_files["b"]], "collection": "walked", "models": ["lite"]},
        "/index_existing": {"collection": "keep-me", "model": "lite"},
        "/search": {"collection": DEMO, "text": "a cup of coffee"},
        "/compare": {"collection": DEMO, "model_a": "lite", "model_b": "lite", "text": "cat"},
        "/vote": {
            "collection": DEMO,
            "model_a": "lite",
            "model_b": "lite",
            "reranker_b": "lite",
            "choice": "B",
            "text": "cat",
        },
        "/votes": {"model_a": "lite", "model_b": "lite", "reranker_b": "lite"},
        "/collections": {},
        "/delete": {"collection": "keep-me", "confirm": True},
        "/status": {},
        "/evaluate": {
            "collection": DEMO,
            "models": ["lite"],
            "queries": [{"query": "a cup of coffee", "relevant": "coffee.jpg"}],
        },
    }


@pytest.fixture(scope="module")
def app_files(public_app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("walk")
    return {name: _upload(public_app, _noise_image(folder / f"{name}.png", i)) for i, name in
            enumerate(["a", "b"])}  # fmt: skip


def _defaults(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {p["parameter_name"]: p.get("parameter_default") for p in parameters}


def test_the_api_keeps_its_endpoints_and_parameters(
    endpoints: dict[str, list[dict[str, Any]]],
) -> None:
    assert {name: [p["parameter_name"] for p in ps] for name, ps in endpoints.items()} == PARAMETERS
    search = _defaults(endpoints["/search"])
    assert (search["top_k"], search["reranker"], search["caption_weight"]) == (
        10,
        "none",
        CAPTION_WEIGHT,
    )


def test_every_endpoint_refuses_every_hostile_value_with_one_sentence(
    public_app: WebApp,
    endpoints: dict[str, list[dict[str, Any]]],
    cases: dict[str, dict[str, Any]],
    app_files: dict[str, Any],
) -> None:
    assert set(endpoints) == set(cases), "every named endpoint needs a case in this walk"
    mine = {"files": [app_files["a"]], "collection": "keep-me", "models": ["lite"]}
    index = endpoints["/index"]
    call(public_app, "/index", _defaults(index) | mine, [p["parameter_name"] for p in index])
    refused: dict[str, int] = {}
    walked: set[tuple[str, str]] = set()
    for endpoint, parameters in sorted(endpoints.items()):
        names = [p["parameter_name"] for p in parameters]
        base = _defaults(parameters) | cases[endpoint]
        if endpoint != "/delete":  # its case is shown valid last: it deletes
            assert call(public_app, endpoint, base, names) is not None
        for parameter in parameters:
            kind = parameter["python_type"]["type"]
            assert kind in HOSTILE, f"no hostile values for {endpoint} {kind}"
            required = not parameter.get("parameter_has_default", True)
            extra = BY_NAME.get(parameter["parameter_name"], [])
            for value in HOSTILE[kind] + extra + ([None] if kind == "str" and required else []):
                with pytest.raises(AppError) as refusal:
                    call(public_app, endpoint, base | {parameter["parameter_name"]: value}, names)
                assert_one_plain_sentence(str(refusal.value.args[0]), public_app)
                refused[endpoint] = refused.get(endpoint, 0) + 1
                walked.add((endpoint, parameter["parameter_name"]))
    listing = call(public_app, "/collections", {}, [])
    assert "keep-me" in [row["name"] for row in listing[0]]  # no hostile confirm deleted it
    names = [p["parameter_name"] for p in endpoints["/delete"]]
    [deleted] = call(public_app, "/delete", cases["/delete"], names)
    assert "Deleted collection" in deleted["message"]
    assert set(refused) == {name for name, parameters in endpoints.items() if parameters}
    every = {(name, p["parameter_name"]) for name, ps in endpoints.items() for p in ps}
    assert walked == every and ("/index", "ocr") in walked  # each parameter, the new ones too


@pytest.mark.parametrize("value", [False, "false", "False", "0", "no", None, 0, 1, "true"])
def test_only_a_real_true_confirms_a_delete(client: Client, tmp_path: Path, value: Any) -> None:
    files = [handle_file(str(_noise_image(tmp_path / "confirm.png", 9)))]
    client.predict(files=files, collection="doomed", models=["lite"], api_name="/index")
    with pytest.raises(AppError, match="confirm"):
        client.predict(collection="doomed", confirm=value, api_name="/delete")
    assert "doomed" in [row["name"] for row in client.predict(api_name="/collections")]


def test_api_errors_are_plain_text(client: Client, public_app: WebApp) -> None:
    with pytest.raises(AppError) as refusal:
        client.predict(collection=DEMO, text="x", where="price<", api_name="/search")
    message = str(refusal.value.args[0])
    assert "'price<'" in message
    assert_one_plain_sentence(message, public_app)


@pytest.mark.parametrize("kind", ["models", "rerankers"])
def test_evaluate_refuses_server_folders_and_says_nothing_about_them(
    client: Client, public_app: WebApp, tmp_path: Path, kind: str
) -> None:
    """Whether a folder exists, or what it holds, makes no difference to the answer."""
    answers = []
    for folder in [".", "/root", str(tmp_path), str(tmp_path / "missing"), "../models"]:
        given = {"models": ["lite"], "rerankers": ["none"]} | {kind: [folder]}
        with pytest.raises(AppError) as refusal:
            client.predict(collection=DEMO, **given, api_name="/evaluate")
        message = str(refusal.value.args[0])
        assert_one_plain_sentence(message, public_app)
        assert "accepted only from the command line" in message
        answers.append(message.replace(repr(folder), "NAME"))
    assert len(set(answers)) == 1, answers


def test_evaluate_takes_at_most_the_documented_number_of_queries(client: Client) -> None:
    queries = [{"query": f"query {i}", "relevant": "coffee.jpg"} for i in range(2000)]
    with pytest.raises(
        AppError, match=f"at most {EVALUATE_MAX_QUERIES} queries: this one has 2000"
    ):
        client.predict(collection=DEMO, models=["lite"], queries=queries, api_name="/evaluate")


def test_top_k_is_a_whole_number_up_to_the_documented_maximum(client: Client) -> None:
    for value in (10**9, TOP_K_MAX + 1, 0, 2.5, "abc"):
        with pytest.raises(AppError, match=f"whole number from 1 to {TOP_K_MAX}"):
            client.predict(collection=DEMO, text="cat", top_k=value, api_name="/search")
    payload, _ = client.predict(collection=DEMO, text="cat", top_k=TOP_K_MAX, api_name="/search")
    with (PHOTOS_DIR / "captions.csv").open(encoding="utf-8") as handle:
        held = sum(1 for _ in csv.DictReader(handle))
    assert len(payload["results"]) == held  # all the photos demo holds


def test_two_sessions_cannot_reach_each_others_collections_through_any_endpoint(
    public_app: WebApp, tmp_path: Path
) -> None:
    alice = Client(public_app.url, verbose=False)
    bob = Client(public_app.url, verbose=False)
    image = handle_file(str(_noise_image(tmp_path / "alice.png", 11)))
    alice.predict(files=[image], collection="alice-own", models=["lite"], api_name="/index")
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("/search", {"text": "a photo"}),
        ("/compare", {"text": "a photo", "model_a": "lite", "model_b": "lite"}),
        ("/evaluate", {"models": ["lite"]}),
        ("/index_existing", {"model": "lite"}),
        ("/delete", {"confirm": True}),
    ]
    nowhere = []
    for endpoint, values in attempts:
        for name in ("alice-own", "no-such-collection"):
            with pytest.raises(AppError, match="does not exist") as refusal:
                bob.predict(collection=name, **values, api_name=endpoint)
            nowhere.append(str(refusal.value.args[0]).replace(name, "NAME"))
    assert len(nowhere) == 2 * len(attempts)
    assert "alice-own" not in [row["name"] for row in bob.predict(api_name="/collections")]
    assert "alice-own" in [row["name"] for row in alice.predict(api_name="/collections")]
    payload, _ = alice.predict(collection="alice-own", text="a photo", api_name="/search")
    assert len(payload["results"]) == 1
