"""AppTest: the Update page (apply, undo, reset) and state across pages."""

from __future__ import annotations

import pytest

from .apptest_util import assert_clean, latex, open_page, texts

PAGE = "pages/3_Update.py"


@pytest.fixture
def at():
    return open_page(PAGE)


def test_shows_updated_w5(at):
    assert_clean(at)
    assert "0.3589" in texts(at) + "\n".join(latex(at))  # w5⁺ = 0.40 − 0.5·0.0822, the seed's state_dict


def test_apply_undo_reset(at):
    at.button(key="update_apply").click().run()
    assert_clean(at)
    state = at.session_state["bpviz_app"]
    assert state.scenario.weights[1][0, 0] == pytest.approx(0.3589164797, abs=1e-10)
    assert at.slider(key="sb_w_1_0_0").value == pytest.approx(0.3589164797, abs=1e-10)
    assert "0.2805" in texts(at)  # E after the step, from the updated weights (PyTorch convention: 0.280471447)
    at.button(key="update_undo").click().run()
    assert at.session_state["bpviz_app"].scenario.weights[1][0, 0] == 0.40
    at.button(key="update_apply").click().run()
    at.button(key="update_apply").click().run()
    at.button(key="update_reset").click().run()
    assert at.session_state["bpviz_app"].scenario.weights[1][0, 0] == 0.40
    assert_clean(at)


def test_learning_rate_slider(at):
    at.slider(key="sb_lr").set_value(1.0).run()
    # w5⁺ = 0.40 − 1.0·0.0821670406 = 0.3178
    assert "0.3178" in texts(at)


def test_state_survives_page_switch():
    at = open_page("pages/1_Forward_pass.py")
    at.slider(key="sb_w_1_0_0").set_value(0.6).run()  # w5
    assert at.session_state["bpviz_app"].scenario.weights[1][0, 0] == 0.6
    at.switch_page("pages/2_Backward_pass.py").run()
    assert_clean(at)
    assert at.slider(key="sb_w_1_0_0").value == 0.6
    at.switch_page("pages/1_Forward_pass.py").run()
    assert at.slider(key="sb_w_1_0_0").value == 0.6
    assert "0.2984" not in texts(at)


def test_step_position_survives_page_switch():
    at = open_page("pages/1_Forward_pass.py")
    at.button(key="nav_forward_next").click().run()
    at.button(key="nav_forward_next").click().run()
    here = at.selectbox(key="nav_forward_step").value
    at.switch_page("pages/3_Update.py").run()
    at.switch_page("pages/1_Forward_pass.py").run()
    assert at.selectbox(key="nav_forward_step").value == here
