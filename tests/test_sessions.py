"""New gradio sessions build their block configs lazily (mmdemo/ui/sessions.py)."""

import re
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio.blocks import BlocksConfig
from gradio.state_holder import SessionState
from gradio_client import Client
from test_ui_api import _served

from mmdemo.config import Settings
from mmdemo.ui import sessions
from mmdemo.ui.bootstrap import Bootstrap
from mmdemo.ui.context import AppContext
from mmdemo.ui.layout import build_app
from mmdemo.ui.sessions import CHECKED_GRADIO, LazyConfigs, lazy_session_configs

pytestmark = pytest.mark.timeout(300)

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> gr.Blocks:
    """The app's whole page (lite, no demo), built but not served."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("sessions") / "data")
    return build_app(AppContext(settings, Bootstrap(settings, None, "lite")))


def _eager(page: gr.Blocks) -> SessionState:
    """A session as gradio itself builds it."""
    state = SessionState.__new__(SessionState)
    sessions._GRADIO_INIT(state, page)
    return state


def test_the_pinned_gradio_is_the_one_the_lazy_sessions_mirror() -> None:
    """Bumping gradio in requirements.txt fails here until sessions.py is checked against
    the new release's SessionState.__init__ (and CHECKED_GRADIO moved with it)."""
    pinned = re.search(r"^gradio==(\S+)$", REQUIREMENTS.read_text(), re.MULTILINE)
    assert pinned is not None and pinned.group(1) == CHECKED_GRADIO == gr.__version__
    assert lazy_session_configs()
    assert lazy_session_configs()  # idempotent
    assert SessionState.__init__ is sessions._lazy_init


def test_a_new_session_builds_no_block_config(
    page: gr.Blocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy_session_configs()
    built: list[int] = []
    original = BlocksConfig.config_for_block

    def counting(_id: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(_id)
        return original(_id, *args, **kwargs)

    monkeypatch.setattr(BlocksConfig, "config_for_block", staticmethod(counting))
    state = SessionState(page)
    assert built == []
    assert len(state.config_values) == len(page.blocks) > 200
    first = next(iter(page.blocks))
    assert state.config_values[first]["id"] == first
    assert built == [first]


def test_lazy_sessions_read_as_gradios_own(page: gr.Blocks) -> None:
    """Whole configs (what a deep link saves), updated input values and replaced blocks."""
    lazy_session_configs()
    lazy, eager = SessionState(page), _eager(page)
    assert isinstance(lazy.config_values, LazyConfigs)
    assert not isinstance(eager.config_values, LazyConfigs)
    textbox = next(k for k, b in page.blocks.items() if isinstance(b, gr.Textbox))
    markdown = next(k for k, b in page.blocks.items() if isinstance(b, gr.Markdown))
    for state in (lazy, eager):
        state._update_value_in_config(textbox, "a red bicycle")
        state[markdown] = gr.Markdown("replaced")
    assert lazy.config_values[textbox]["props"]["value"] == "a red bicycle"
    assert list(lazy.components) == list(eager.components)
    assert lazy.config_values == eager.config_values


def test_lazy_configs_behave_as_a_complete_dict() -> None:
    built: list[int] = []

    def build(key: int, block: str) -> str:
        built.append(key)
        return block.upper()

    configs = LazyConfigs({1: "a", 2: "b", 3: "c"}, build)
    assert len(configs) == 3 and 2 in configs and 9 not in configs and built == []
    assert configs.get(2) == "B" and configs.get(9, "none") == "none" and built == [2]
    configs[3] = "set"
    del configs[1]
    assert built == [2] and len(configs) == 2 and 1 not in configs
    with pytest.raises(KeyError):
        configs[1]
    assert dict(configs.items()) == {2: "B", 3: "set"} == configs
    assert list(configs) == [2, 3] and built == [2]


def test_a_served_session_builds_configs_only_when_read(tmp_path: Path) -> None:
    """An API call makes a session that builds a few configs (its inputs'), and gradio's
    deep-link route still saves every block's."""
    with _served(Settings(data_dir=tmp_path / "data")) as (app, url):
        client = Client(url, verbose=False)
        client.predict(api_name="/status")
        configs = app.state_holder.session_data[client.session_hash].config_values
        assert isinstance(configs, LazyConfigs)
        touched = set(dict.keys(configs))  # built by the call: its output's value is recorded
        assert 0 < len(touched) < 5
        link = httpx.get(
            f"{url}/gradio_api/deep_link", params={"session_hash": client.session_hash}
        )
        assert link.status_code == 200 and link.json()
        assert not configs._missing
        fresh = _eager(app).config_values
        assert list(configs) == list(fresh)
        assert {k: v for k, v in configs.items() if k not in touched} == {
            k: v for k, v in fresh.items() if k not in touched
        }
