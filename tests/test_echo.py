"""AppTest: a key press is never undone by what the browser still held from an earlier run (issue: ten presses on
the w5 slider 120 ms apart kept 3).

Two ways the browser's copy lags the server: a second slider for the same weight (the sidebar's and the one beside
the formula) reports the value it had before the last run's output arrived; and the address bar still holds the
link of the step before. Both arrive with the next key press, and neither may overwrite it.
"""

from __future__ import annotations

import pytest

from bpviz.ui import link
from bpviz.ui.state import ECHO_SECONDS

from .apptest_util import assert_clean, open_page

PAGE = "views/backward_pass.py"
SIDEBAR, FOCUS = "sb_w_1_0_0", "focus_sb_w_1_0_0"


@pytest.fixture
def at():
    at = open_page(PAGE)
    assert at.slider(key=FOCUS).value == at.slider(key=SIDEBAR).value == 0.40
    return at


def w5(at) -> float:
    return float(at.session_state["bpviz_app"].scenario.weights[1][0, 0])


def test_the_other_sliders_stale_value_does_not_undo_a_press(at):
    at.slider(key=SIDEBAR).set_value(0.41).run()
    assert w5(at) == 0.41 and at.slider(key=FOCUS).value == 0.41
    # the next press arrives before the browser drew the focus slider at 0.41: it still reports 0.40
    at.slider(key=SIDEBAR).set_value(0.42)
    at.slider(key=FOCUS).set_value(0.40)
    at.run()
    assert_clean(at)
    assert w5(at) == 0.42 and at.slider(key=FOCUS).value == at.slider(key=SIDEBAR).value == 0.42


def test_the_sidebars_stale_value_does_not_undo_a_press_beside_the_formula(at):
    at.slider(key=FOCUS).set_value(0.41).run()
    assert w5(at) == 0.41 and at.slider(key=SIDEBAR).value == 0.41
    at.slider(key=FOCUS).set_value(0.42)
    at.slider(key=SIDEBAR).set_value(0.40)  # the sidebar's copy from before the last run's output arrived
    at.run()
    assert_clean(at)
    assert w5(at) == 0.42 and at.slider(key=FOCUS).value == at.slider(key=SIDEBAR).value == 0.42


def test_the_slider_beside_the_formula_still_moves_the_weight(at):
    at.slider(key=SIDEBAR).set_value(0.41).run()
    at.slider(key=FOCUS).set_value(0.45).run()  # a value the browser never held: the user's
    assert w5(at) == 0.45 and at.slider(key=SIDEBAR).value == 0.45


def test_after_the_echo_window_the_old_value_is_the_users(at, monkeypatch):
    import time as _time

    at.slider(key=SIDEBAR).set_value(0.41).run()
    later = _time.monotonic() + ECHO_SECONDS + 1
    monkeypatch.setattr("bpviz.ui.state.time.monotonic", lambda: later)
    at.slider(key=FOCUS).set_value(0.40).run()  # back to 0.40 on purpose, seconds later
    assert w5(at) == 0.40


def test_a_stale_address_bar_does_not_undo_a_press(at):
    at.slider(key=SIDEBAR).set_value(0.41).run()
    stale = dict(at.query_params)  # the link of w5 = 0.41, as written by that run ...
    at.slider(key=SIDEBAR).set_value(0.42).run()
    at.query_params.clear()
    at.query_params.update({k: (v[-1] if isinstance(v, list) else v) for k, v in stale.items()})
    at.slider(key=SIDEBAR).set_value(0.43).run()  # ... still in the address bar when the next press is sent
    assert w5(at) == 0.43
    assert link.unpack(at.query_params["s"][-1] if isinstance(at.query_params["s"], list)
                       else at.query_params["s"])["weights"][1][0][0] == 0.43


def test_a_changed_address_without_a_press_is_still_opened(at):
    """Back/forward or an edited address: no widget changed, so the link is what the user wants."""
    at.slider(key=SIDEBAR).set_value(0.41).run()
    old = dict(at.query_params)
    at.slider(key=SIDEBAR).set_value(0.42).run()
    at.query_params.clear()
    at.query_params.update({k: (v[-1] if isinstance(v, list) else v) for k, v in old.items()})
    at.run()
    assert w5(at) == 0.41
