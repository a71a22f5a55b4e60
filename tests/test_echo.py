"""AppTest: a user's action is never undone by what the browser still held from an earlier run (issue: ten presses
on the w5 slider 120 ms apart kept 3).

The browser sends every widget's value with every action, and some of them lag the server: the step box still shows
the step of the run before, the address bar still holds the link of the step before, and w5 has two sliders (the
sidebar's and the one beside the formula), each keeping the report it sent last. None of them may overwrite the
action that arrives with them.
"""

from __future__ import annotations

import pytest

from bpviz.ui import link
from bpviz.ui.state import ECHO_SECONDS

from .apptest_util import assert_clean, live, open_page

PAGE = "views/backward_pass.py"
SIDEBAR, FOCUS = "sb_w_1_0_0", "focus_sb_w_1_0_0"
STEP, NEXT = "nav_backward_step", "nav_backward_next"


@pytest.fixture
def at():
    at = open_page(PAGE)
    assert live(at, FOCUS).value == live(at, SIDEBAR).value == 0.40
    return at


def w5(at) -> float:
    return float(at.session_state["bpviz_app"].scenario.weights[1][0, 0])


def step_index(at) -> int:
    box = at.selectbox(key=STEP)
    return box.index


def test_the_twin_sliders_last_report_does_not_undo_a_move(at):
    live(at, FOCUS).set_value(0.45).run()  # the focus slider's browser half keeps reporting 0.45 from now on
    live(at, SIDEBAR).set_value(0.41).run()
    assert w5(at) == 0.41 and live(at, FOCUS).value == 0.41  # the focus slider is drawn at the new value
    live(at, SIDEBAR).set_value(0.42).run()
    assert_clean(at)
    assert w5(at) == 0.42 and live(at, FOCUS).value == live(at, SIDEBAR).value == 0.42


def test_moving_back_to_a_value_reported_before_counts(at):
    """Every report carries a new nonce: 0.41 → 0.40 → 0.41 on one slider is three moves, not one."""
    for v in (0.41, 0.40, 0.41, 0.40):
        live(at, SIDEBAR).set_value(v).run()
        assert w5(at) == v


def test_the_slider_beside_the_formula_moves_the_weight(at):
    live(at, SIDEBAR).set_value(0.41).run()
    live(at, FOCUS).set_value(0.45).run()
    assert w5(at) == 0.45 and live(at, SIDEBAR).value == 0.45


def test_the_step_box_still_showing_the_old_step_does_not_undo_next(at):
    """Next, then a slider moved before the browser drew the answer: the step box still reports the step before (its
    old value comes back as if the user had chosen it)."""
    first = step_index(at)
    old = at.selectbox(key=STEP).value
    at.button(key=NEXT).click().run()
    assert step_index(at) == first + 1
    at.selectbox(key=STEP).set_value(old)
    live(at, SIDEBAR).set_value(0.41).run()
    assert_clean(at)
    assert step_index(at) == first + 1 and w5(at) == 0.41


def test_after_the_echo_window_the_old_step_is_the_users(at, monkeypatch):
    import time as _time

    old = at.selectbox(key=STEP).value
    at.button(key=NEXT).click().run()
    later = _time.monotonic() + ECHO_SECONDS + 1
    monkeypatch.setattr("bpviz.ui.state.time.monotonic", lambda: later)
    at.selectbox(key=STEP).set_value(old).run()  # back to the first step on purpose, seconds later
    assert at.selectbox(key=STEP).value == old


def test_a_stale_address_bar_does_not_undo_a_move(at):
    live(at, SIDEBAR).set_value(0.41).run()
    stale = dict(at.query_params)  # the link of w5 = 0.41, as written by that run ...
    live(at, SIDEBAR).set_value(0.42).run()
    at.query_params.clear()
    at.query_params.update({k: (v[-1] if isinstance(v, list) else v) for k, v in stale.items()})
    live(at, SIDEBAR).set_value(0.43).run()  # ... still in the address bar when the next move is sent
    assert w5(at) == 0.43
    assert link.unpack(at.query_params["s"][-1] if isinstance(at.query_params["s"], list)
                       else at.query_params["s"])["weights"][1][0][0] == 0.43


def test_a_changed_address_without_an_action_is_still_opened(at):
    """Back/forward or an edited address: no widget changed, so the link is what the user wants."""
    live(at, SIDEBAR).set_value(0.41).run()
    old = dict(at.query_params)
    live(at, SIDEBAR).set_value(0.42).run()
    at.query_params.clear()
    at.query_params.update({k: (v[-1] if isinstance(v, list) else v) for k, v in old.items()})
    at.run()
    assert w5(at) == 0.41
