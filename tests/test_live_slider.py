"""The live slider (bpviz/ui/live_slider.py): what the server does with the browser half's reports.

The browser half (live_slider.js) is driven in tests/e2e/test_e2e_live_slider.py; here, its reports are sent as
AppTest widget states: a value in range, on the grid, clamped, rejected, and the share link round trip.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st_
from streamlit.testing.v1 import AppTest

from bpviz import engine, numbers
from bpviz.config import preset
from bpviz.ui import live_slider
from bpviz.ui.live_slider import Grid, read_value

from .apptest_util import assert_clean, live, open_page, opened

PAGE = "views/backward_pass.py"
W5, FOCUS_W5 = "sb_w_1_0_0", "focus_sb_w_1_0_0"
SEED = Grid(-1.0, 1.0, 0.01)


def w5(at: AppTest) -> float:
    return float(at.session_state["bpviz_app"].scenario.weights[1][0, 0])


# ---------------------------------------------------------------- the values


@pytest.mark.parametrize("v", [0.15, 0.05, 0.4, 0.45, 0.55, -0.3, 0.99])
def test_the_seeds_values_are_exactly_on_the_grid(v):
    assert read_value({"v": v + 1e-12, "n": 1}, SEED) == v  # written exactly as in the seed (no 0.15000000000000002)
    assert repr(read_value({"v": v, "n": 1}, SEED)) == repr(v)


@given(st_.integers(-100, 100))
def test_every_grid_point_reads_back_as_written_with_two_decimals(i):
    v = float(f"{i / 100:.2f}")
    assert read_value({"v": v, "n": 1}, SEED) == v


def test_a_value_off_the_grid_is_kept():
    """A trained weight (0.3589164797) is not moved to the grid by being read back."""
    assert read_value({"v": 0.3589164797, "n": 1}, SEED) == 0.3589164797


@pytest.mark.parametrize(("v", "expected"), [(5, 1.0), (-7.5, -1.0), (1e308, 1.0)])
def test_a_value_outside_the_range_is_clamped(v, expected):
    assert read_value({"v": v, "n": 1}, SEED) == expected


@pytest.mark.parametrize("report", [None, 0.5, "0.5", [0.5], {"v": "0.5"}, {"v": True}, {"v": None},
                                    {"v": math.nan}, {"v": math.inf}, {"n": 3}, {}])
def test_anything_else_is_not_a_value(report):
    assert read_value(report, SEED) is None


def test_the_grid_knows_its_decimals():
    assert (Grid(-1, 1, 0.01).places, Grid(0, 10, 1).places, Grid(0, 1, 0.001).places, Grid(0, 1, 0.5).places) \
        == (2, 0, 3, 1)


# ---------------------------------------------------------------- in the app


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_page(PAGE)


def test_a_report_moves_the_weight_and_both_sliders(at):
    live(at, W5).set_value(0.45).run()
    assert_clean(at)
    assert w5(at) == 0.45
    assert live(at, W5).value == live(at, FOCUS_W5).value == 0.45
    expected = engine.loss_value(preset("seed").with_parameters(*_with_w5(0.45)))
    assert at.metric[-1].value == numbers.text(expected, 4)  # E total, as the engine computes it


def _with_w5(v: float):
    s = preset("seed")
    W = [w.copy() for w in s.weights]
    W[1][0, 0] = v
    return W, s.biases


def test_a_report_beyond_the_range_stops_at_its_end(at):
    live(at, FOCUS_W5).set_value(3.0).run()
    assert w5(at) == 1.0 and live(at, W5).value == 1.0


@pytest.mark.parametrize("report", [{"v": "0.2", "n": 10 ** 6}, {"v": math.nan, "n": 10 ** 6 + 1}, "<b>0.2</b>",
                                    None, {"n": 10 ** 6 + 2}])
def test_a_bad_report_changes_nothing_and_shows_no_error(at, report):
    live(at, W5).set_value(0.3).run()
    live(at, W5).send(report).run()
    assert_clean(at)
    assert w5(at) == 0.3


def test_the_label_range_and_decimals_reach_the_browser_as_data(at):
    data = live(at, W5).data
    assert (data["label"], data["min"], data["max"], data["step"], data["grid_places"], data["places"]) \
        == ("w5 (h1 → o1)", -1.0, 1.0, 0.01, 2, 4)
    targets = live(at, "sb_t_0_0").data
    assert targets["min"] == 0.0 and targets["help"]  # a sigmoid's target lies in [0, 1]; its help is a sentence


def test_the_end_of_every_run_tells_the_sliders_which_report_was_applied(at):
    slider = live(at, W5).set_value(0.2)
    slider.run()
    done = [el for el in at.get("bidi_component") if el.proto.component_name == "bpviz_run_done"]
    assert len(done) == 1
    assert json.loads(done[0].proto.json)["acks"][W5] == _last_nonce(at, W5)


def _last_nonce(at: AppTest, key: str) -> int:
    from .apptest_util import reports
    return reports(at)[key]["n"]


def test_the_value_is_part_of_the_share_link():
    at = open_page(PAGE)
    live(at, W5).set_value(0.45).run()
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    again = opened(query)
    assert w5(again) == 0.45
    assert live(again, W5).value == 0.45


def test_the_browser_half_writes_text_never_markup():
    """Labels and values reach the page as text (textContent, attributes), never as HTML."""
    js = live_slider.JS
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", js)
    assert "textContent" in js
    assert Path(live_slider.__file__).with_suffix(".js").read_text(encoding="utf-8") == js


# ---------------------------------------------------------------- the library behaviour the state name avoids


QUIRK_APP = '''
import streamlit as st
c = st.components.v2.component("quirk", js="export default function() {}")
def called():
    st.session_state["called"] = True
c(key="k", data=None, on_{name}_change=called)
'''


@pytest.mark.parametrize(("name", "fires"), [("value", False), ("move", True)])
def test_streamlit_fires_no_callback_for_a_dict_valued_state_named_value(name, fires):
    """Why the live slider's state is called ``move``: Streamlit 1.67 unwraps a JSON state ``{"value": {...}}`` as
    if it were its own wrapper of all states, and looks for callbacks named after the dict's keys. If this starts
    failing for "value", Streamlit has changed that, and the name may be anything."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    at = AppTest.from_string(QUIRK_APP.replace("{name}", name)).run()
    states = at._tree.get_widget_states()
    comp = at.get("bidi_component")[0]
    states.widgets.append(WidgetState(id=comp.proto.id, json_value=json.dumps({name: {"v": 0.5, "n": 1}})))
    at._run(states)
    assert at.session_state["called"] is fires if "called" in at.session_state else not fires


def test_an_installed_package_carries_every_file_bpviz_reads():
    """``pip install .`` (the Dockerfile) copies .py files only, unless pyproject's package-data names the others."""
    import fnmatch
    import tomllib

    root = Path(live_slider.__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for path in (root / "bpviz").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            rel = path.relative_to(root)  # a glob may reach into a package's subfolders ("locale/*/LC_MESSAGES/*.mo")
            assert any(fnmatch.fnmatch(rel.relative_to(Path(*package.split("."))).as_posix(), g)
                       for package, globs in data.items() if rel.is_relative_to(Path(*package.split(".")))
                       for g in globs), f"{path} is not package data"


def test_an_unchanged_slider_goes_to_the_browser_as_a_hash():
    """Each live slider's element carries its JS and CSS; .streamlit/config.toml lets Streamlit send the ones the
    browser already holds as a hash (a slider move on the Backward page: 184 kB with Streamlit's default, 50 kB)."""
    import tomllib

    root = Path(live_slider.__file__).resolve().parents[2]
    limit = tomllib.loads((root / ".streamlit" / "config.toml").read_text())["global"]["minCachedMessageSize"]
    assert len(live_slider.JS) + len(live_slider.CSS) > limit
