"""AppTest: the Update page (apply, undo, reset) and state across pages."""

from __future__ import annotations

import pytest

from bpviz.ui import link

from .apptest_util import assert_clean, corpus_doc, latex, live, open_page, opened, texts

PAGE = "views/update.py"


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
    assert live(at, "sb_w_1_0_0").value == pytest.approx(0.3589164797, abs=1e-10)
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
    at = open_page("views/forward_pass.py")
    live(at, "sb_w_1_0_0").set_value(0.6).run()  # w5
    assert at.session_state["bpviz_app"].scenario.weights[1][0, 0] == 0.6
    at.switch_page("views/backward_pass.py").run()
    assert_clean(at)
    assert live(at, "sb_w_1_0_0").value == 0.6
    at.switch_page("views/forward_pass.py").run()
    assert live(at, "sb_w_1_0_0").value == 0.6
    assert "0.2984" not in texts(at)


def test_step_position_survives_page_switch():
    at = open_page("views/forward_pass.py")
    at.button(key="nav_forward_next").click().run()
    at.button(key="nav_forward_next").click().run()
    here = at.selectbox(key="nav_forward_step").value
    at.switch_page("views/update.py").run()
    at.switch_page("views/forward_pass.py").run()
    assert at.selectbox(key="nav_forward_step").value == here


def test_update_that_would_blow_up_is_explained_not_applied(at):
    from bpviz.config import validate
    from bpviz.ui.state import AppState

    # identity output, large input: one step moves w by 100 · 1e9, far past the 1e6 limit
    huge = validate({"layers": [1, 1], "activations": ["identity"], "loss": "half_sse", "weights": [[[1000.0]]],
                     "biases": [[0.0]], "inputs": [1000.0], "targets": [0.0], "learning_rate": 100})
    at.session_state["bpviz_app"] = AppState(scenario=huge)
    at.run()
    at.button(key="update_apply").click().run()
    assert not at.exception
    shown = " ".join(el.value for el in at.main.get("text"))  # on the page, by the button (not in the sidebar)
    assert "The update was not applied" in shown and "learning rate" in shown
    assert not at.sidebar.get("text") or "not applied" not in " ".join(el.value for el in at.sidebar.get("text"))
    assert at.session_state["bpviz_app"].scenario.weights[0][0, 0] == 1000.0  # the last good state is kept


def test_unexpected_error_is_a_short_message_not_a_traceback(at):
    at.session_state["bpviz_app"].decimals = "four"  # corrupt state: formatting numbers now fails
    at.run()
    assert not at.exception
    assert any("Something went wrong" in e.value and "Reset" in e.value for e in at.error)
    at.button(key="error_reset").click().run()  # a fresh state: the page works again
    assert_clean(at)
    assert "0.3589" in texts(at)


def test_table_shows_the_gradients_the_step_used():
    """Under Mazur's output_first order the hidden gradients are backpropagated through the updated output weights:
    the table shows those (p⁺ = p − η·g holds row by row), not backward()'s."""
    from bpviz import engine, numbers
    from bpviz.config import preset
    from bpviz.ids import Weight
    from bpviz.ui.state import AppState

    at = open_page()
    mazur = preset("mazur")
    at.session_state["bpviz_app"] = AppState(scenario=mazur, decimals=8)
    at.switch_page(PAGE).run()
    assert_clean(at)
    table = at.dataframe[0].value
    shown = table[table["parameter"] == "w1"].iloc[0]["∂E/∂p"]
    used = engine.step(mazur).gradient(Weight(0, 0, 0))
    unused = engine.gradient_of(engine.backward(mazur), Weight(0, 0, 0))
    assert shown == numbers.text(used, 8) != numbers.text(unused, 8)


def test_a_step_beyond_float64_is_explained_once_beside_its_numbers():
    at = opened({"s": link.pack(corpus_doc("issue11_identity_7_layers_eta_100"))}, PAGE)
    assert_clean(at)
    boxes = [el.value for el in [*at.warning, *at.info] if "float64" in el.value]
    assert len(boxes) == 1, boxes
