"""AppTest: a scenario file from the sidebar's uploader: its error under the uploader as plain text, and a toast."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from bpviz.config import SEED_DOCUMENT
from bpviz.ui.sidebar import FILE_DRAWER, UPLOAD_LIMIT_MB

from .apptest_util import open_page

ROOT = Path(__file__).resolve().parents[1]
NAME = "**bold** <b>x</b> :red[red] $x^2$.json"  # every way a name could be read as Markup


def with_file_drawer_open():
    at = open_page()
    at.session_state[FILE_DRAWER] = True  # the uploader is drawn while its drawer is open
    return at.run()


def uploaded(name: str, content: bytes):
    at = with_file_drawer_open()
    at.get("file_uploader")[0].set_value((name, content, "application/json"))
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_bad_file_is_explained_under_the_uploader_in_plain_text_and_the_scenario_is_kept():
    bad = json.loads(json.dumps(SEED_DOCUMENT))
    bad["weights"][1][0][1] = "abc"
    at = uploaded(NAME, json.dumps(bad).encode())
    shown = [el.value for el in at.sidebar.get("text")]
    assert any(NAME in s and 'weights[1][0][1]: expected a finite number, got "abc"' in s for s in shown), shown
    assert not any(NAME in el.value for el in [*at.markdown, *at.warning, *at.sidebar.get("markdown")])
    assert [el.value for el in at.get("toast")] == ["The file could not be loaded: the reason is under the uploader."]
    assert at.session_state["bpviz_app"].scenario.weights[1][0, 1] == 0.45  # the last good state


def test_a_good_file_replaces_the_scenario_without_a_message():
    good = json.loads(json.dumps(SEED_DOCUMENT))
    good["inputs"] = [0.3, 0.6]
    at = uploaded("good.json", json.dumps(good).encode())
    assert at.session_state["bpviz_app"].scenario.inputs[0].tolist() == [0.3, 0.6]
    assert not at.sidebar.get("text") and not at.get("toast")


def test_the_uploader_states_the_limit_the_server_enforces():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == UPLOAD_LIMIT_MB
    label = with_file_drawer_open().get("file_uploader")[0].label
    assert f"at most {UPLOAD_LIMIT_MB} MB" in label
