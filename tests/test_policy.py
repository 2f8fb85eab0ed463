"""The request policy's rules, without a server (mmdemo/policy/, mmdemo/ui/requests.py).

The same rules run for the page's events and the API's endpoints (test_policy_api.py
drives them through gradio): here each rule's edges, who may name what, and the way the
page and the API show a refusal.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from mmdemo.config import Settings
from mmdemo.errors import InputError, MMDemoError, ReadOnlyError
from mmdemo.policy import Policy, Request
from mmdemo.policy.limits import EVALUATE_MAX_QUERIES, MODELS_MAX, TOP_K_MAX
from mmdemo.tenancy import Visitor
from mmdemo.ui import requests
from mmdemo.ui.requests import (
    DeleteRequest,
    DuplicatesDeleteRequest,
    EvaluateRequest,
    IndexRequest,
    SearchRequest,
)
from mmdemo.ui.shared import answers_errors, shows_errors

OPERATOR = Visitor.operator()


def policy(tmp_path: Path, **settings: Any) -> Policy:
    """A policy over a fresh data dir, the start-up work done, default model ``lite``."""
    status = SimpleNamespace(
        finished=True, done=0, total=0, default_model="lite", demo_ready=lambda _: True
    )
    startup = SimpleNamespace(
        demo=lambda name: name if name == "demo" else None, status=lambda: status
    )
    chosen = Settings(data_dir=tmp_path / "data", **settings)
    return Policy(chosen, startup, lambda: SimpleNamespace(collections=list))  # type: ignore[arg-type]


def search(rules: Policy, **given: Any) -> SearchRequest:
    return rules.admit(SearchRequest, {"collection": "demo", "text": "cat", **given}, OPERATOR)


@pytest.mark.parametrize(
    "value", [None, "abc", "10", True, 2.5, 0, TOP_K_MAX + 1, 10**9, math.nan, math.inf]
)
def test_top_k_is_a_whole_number_from_one_to_the_maximum(tmp_path: Path, value: Any) -> None:
    with pytest.raises(InputError, match=r"\(top_k\) must be a whole number from 1 to 100, got"):
        search(policy(tmp_path), top_k=value)


def test_a_whole_float_counts_and_the_request_holds_an_int(tmp_path: Path) -> None:
    asked = search(policy(tmp_path), top_k=12.0)
    assert asked.top_k == 12 and isinstance(asked.top_k, int)
    assert asked.setup.top_k == 12


@pytest.mark.parametrize("name", ["weight", "negative_weight", "caption_weight"])
@pytest.mark.parametrize("value", [None, "abc", "0.5", False, math.nan, -math.inf, -0.01, 1.01])
def test_weights_are_finite_numbers_from_zero_to_one(tmp_path: Path, name: str, value: Any) -> None:
    label = name.replace("_", " ")
    with pytest.raises(InputError, match=f"The {label} must be between 0 and 1, got"):
        search(policy(tmp_path), **{name: value})


@pytest.mark.parametrize("value", ["false", "False", "0", "no", "true", None, 0, 1, [True]])
def test_only_the_boolean_true_confirms(tmp_path: Path, value: Any) -> None:
    rules = policy(tmp_path)
    with pytest.raises(InputError, match="confirm it with true"):
        rules.admit(DeleteRequest, {"collection": "mine", "confirm": value}, OPERATOR)
    with pytest.raises(InputError, match="Tick the confirmation box"):
        rules.admit(DeleteRequest, {"collection": "mine", "confirm": False}, OPERATOR)


def test_read_only_refuses_a_write_before_looking_at_its_values(tmp_path: Path) -> None:
    with pytest.raises(ReadOnlyError, match="read-only: deleting collections is turned off"):
        policy(tmp_path, readonly=True).admit(DeleteRequest, {"confirm": "junk"}, OPERATOR)


@pytest.mark.parametrize("folder", [".", "/root", "~/models", "../x", "a/b/c"])
def test_visitors_name_no_server_folder_and_the_answer_gives_nothing_away(
    tmp_path: Path, folder: str
) -> None:
    rules = policy(tmp_path)
    with pytest.raises(InputError, match="accepted only from the command line") as refused:
        rules.admit(EvaluateRequest, {"collection": "demo", "models": [folder]}, OPERATOR)
    assert str(Path.cwd()) not in str(refused.value) and "exist" not in str(refused.value)
    with pytest.raises(InputError, match="accepted only from the command line"):
        search(rules, reranker=folder)


def test_an_operator_who_allows_local_models_may_name_folders(tmp_path: Path) -> None:
    rules = policy(tmp_path, allow_local_models=True)
    asked = rules.admit(EvaluateRequest, {"collection": "demo", "models": ["."]}, OPERATOR)
    assert asked.models == (".",) and asked.rerankers == (None,)


def test_lists_are_capped_deduplicated_and_a_single_name_is_a_list(tmp_path: Path) -> None:
    rules = policy(tmp_path)
    names = {"collection": "demo", "models": "lite", "rerankers": ["none", "none", "lite"]}
    asked = rules.admit(EvaluateRequest, names, OPERATOR)
    assert (asked.models, asked.rerankers) == (("lite",), (None, "lite"))
    too_many = [f"org/model-{i}" for i in range(MODELS_MAX + 1)]
    with pytest.raises(InputError, match=f"At most {MODELS_MAX} models per request"):
        rules.admit(EvaluateRequest, {"collection": "demo", "models": too_many}, OPERATOR)


def test_index_models_default_to_the_apps_but_an_empty_list_is_refused(tmp_path: Path) -> None:
    rules = policy(tmp_path)
    files = {"folder": ["/tmp/a.png"], "collection": "mine"}
    assert rules.admit(IndexRequest, files, OPERATOR).models == ("lite",)
    with pytest.raises(InputError, match="Name at least one embedding model"):
        rules.admit(IndexRequest, {**files, "models": []}, OPERATOR)


def test_evaluate_queries_are_text_rows_up_to_the_maximum(tmp_path: Path) -> None:
    rules = policy(tmp_path)
    row = {"query": "a cat", "relevant": "cat.jpg"}
    given = {"collection": "demo", "models": ["lite"]}
    assert rules.admit(EvaluateRequest, given | {"queries": [row]}, OPERATOR).queries == (row,)
    with pytest.raises(InputError, match=f"at most {EVALUATE_MAX_QUERIES} queries"):
        queries = [row] * (EVALUATE_MAX_QUERIES + 1)
        rules.admit(EvaluateRequest, given | {"queries": queries}, OPERATOR)
    with pytest.raises(InputError, match="Each query is a row of text columns"):
        rules.admit(EvaluateRequest, given | {"queries": [{"query": 3}]}, OPERATOR)


def test_texts_have_a_type_and_a_length(tmp_path: Path) -> None:
    rules = policy(tmp_path)
    assert search(rules, negative=None).negative == ""  # a box the page never rendered
    with pytest.raises(InputError, match="The where must be text, got 12"):
        search(rules, where=12)
    with pytest.raises(InputError, match="The text is too long: at most 2000 characters"):
        search(rules, text="x" * 2001)


def test_the_api_takes_uploaded_files_only_the_page_takes_gradios_paths(tmp_path: Path) -> None:
    rules = policy(tmp_path)
    uploaded = {"path": "/tmp/gradio/x.png", "meta": {"_type": "gradio.FileData"}}
    values = {"collection": "demo", "image": uploaded}
    assert rules.admit(SearchRequest, values, OPERATOR, api=True).image == "/tmp/gradio/x.png"
    for sent in ("/etc/passwd", {"path": "/etc/passwd"}):
        with pytest.raises(InputError, match="handle_file"):
            rules.admit(SearchRequest, {"collection": "demo", "image": sent}, OPERATOR, api=True)
    assert search(rules, image="/tmp/gradio/y.png").image == "/tmp/gradio/y.png"


def test_a_name_no_request_asks_for_is_a_bug_not_a_refusal(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="asks for no"):
        search(policy(tmp_path), contains="x")


def test_every_request_field_is_declared_with_its_rule_and_api_fields_are_described() -> None:
    from mmdemo.ui.api import ENDPOINTS

    kinds = [k for k in vars(requests).values() if inspect.isclass(k) and issubclass(k, Request)]
    assert len(kinds) > 10
    for kind in kinds:
        assert [f.name for f in dataclasses.fields(kind) if "ask" not in f.metadata] == ["visitor"]
    for endpoint in ENDPOINTS:
        asks = dataclasses.fields(endpoint.kind)[1:]
        assert all(f.metadata["ask"].doc for f in asks if f.metadata["ask"].api), endpoint.name


def test_the_page_shows_a_refusal_escaped_and_the_api_returns_it_as_typed() -> None:
    def refuse() -> None:
        raise InputError("Condition 'price<' has no value after '<'.")

    with pytest.raises(gr.Error) as page:
        shows_errors(refuse)()
    with pytest.raises(gr.Error) as api:
        answers_errors(refuse)()
    assert page.value.message == "Condition 'price&lt;' has no value after '&lt;'."
    assert api.value.message == "Condition 'price<' has no value after '<'."


def _demos_policy(tmp_path: Path, *ready: str, finished: bool = False) -> Policy:
    """A policy over the three bundled demos' start-up, ``ready`` of them indexed so far."""
    from mmdemo.demos import plan_demos
    from mmdemo.ui.bootstrap import Bootstrap

    boot = Bootstrap(Settings(data_dir=tmp_path / "data"), plan_demos(""), "lite")
    for name in ready:
        boot.mark_ready(name)
    status = boot.status()
    startup = SimpleNamespace(
        demo=boot.demo,
        status=lambda: dataclasses.replace(status, phase="ready" if finished else "indexing"),
    )
    return Policy(Settings(data_dir=tmp_path / "data"), startup, lambda: None)  # type: ignore[arg-type]


def test_each_demo_is_refused_only_while_it_itself_is_being_indexed(tmp_path: Path) -> None:
    rules = _demos_policy(tmp_path, "demo-photos")
    asked = rules.admit(SearchRequest, {"collection": "demo-photos", "text": "cat"}, OPERATOR)
    assert asked.collection.stored == "demo-photos"  # searched while the others index
    for name in ("demo-shop", " demo-documents "):
        with pytest.raises(MMDemoError, match="still being indexed"):
            rules.admit(SearchRequest, {"collection": name, "text": "cat"}, OPERATOR)
    done = _demos_policy(tmp_path, "demo-photos", finished=True)
    asked = done.admit(SearchRequest, {"collection": "demo-shop", "text": "cat"}, OPERATOR)
    assert asked.collection.stored == "demo-shop"  # start-up over: found or not, as any name


@pytest.mark.parametrize("name", ["demo-photos", "demo-shop", "demo-documents", " demo-shop "])
def test_every_demo_is_protected_from_deleting(tmp_path: Path, name: str) -> None:
    rules = _demos_policy(tmp_path, "demo-photos", "demo-shop", "demo-documents")
    with pytest.raises(InputError, match="cannot be deleted here"):
        rules.admit(DeleteRequest, {"collection": name, "confirm": True}, OPERATOR)
    with pytest.raises(InputError, match="cannot be changed here"):
        rules.admit(DuplicatesDeleteRequest, {"collection": name, "confirm": True}, OPERATOR)
    mine = rules.admit(DeleteRequest, {"collection": "demo-mine", "confirm": True}, OPERATOR)
    assert mine.collection.stored == "demo-mine"  # demo-shaped, but no demo: the visitor's own


def test_the_backend_is_one_the_app_knows_or_blank_for_its_own(tmp_path: Path) -> None:
    rules = policy(tmp_path)
    assert search(rules).backend is None and search(rules).setup.backend is None
    assert search(rules, backend=" ONNX ").setup.backend == "onnx"
    index = rules.admit(IndexRequest, {"collection": "mine", "backend": "openvino"}, OPERATOR)
    assert index.backend == "openvino"
    with pytest.raises(InputError, match="backend must be one of auto, torch, onnx, openvino"):
        search(rules, backend="cuda")
