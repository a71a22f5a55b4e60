"""AppTest: the Forward pass page."""

from __future__ import annotations

import pytest

from bpviz import engine
from bpviz.config import preset
from bpviz.ids import Neuron, StepId

from .apptest_util import assert_clean, figures, highlighted, latex, live, open_page, texts

PAGE = "views/forward_pass.py"


@pytest.fixture
def at():
    return open_page(PAGE)


def test_loads_with_seed_values(at):
    assert_clean(at)
    text = texts(at)
    for number in ("0.7514", "0.7729", "0.2984"):  # outputs and E_total, the seed's printed values
        assert number in text, number
    assert any("0.3775" in x for x in latex(at))  # first step: net_h1
    assert len(figures(at)) == 1


def test_next_and_prev_change_formula_and_highlight(at):
    first_latex = latex(at)
    nodes0, edges0 = highlighted(figures(at)[0])
    assert "n:1:0" in nodes0 and {"w:0:0:0", "w:0:0:1"} <= edges0  # net_h1 uses w1, w2
    at.button(key="nav_forward_next").click().run()
    assert_clean(at)
    assert latex(at) != first_latex
    assert any("0.5933" in x for x in latex(at))  # out_h1 = σ(net_h1)
    nodes1, edges1 = highlighted(figures(at)[0])
    assert "n:1:0" in nodes1 and (nodes1, edges1) != (nodes0, edges0)
    at.button(key="nav_forward_prev").click().run()
    assert latex(at) == first_latex


def test_jump_to_loss_step(at):
    sel = at.selectbox(key="nav_forward_step")
    assert any("E_total" in o or "Total" in o or "total" in o for o in sel.options), sel.options
    sel.set_value(StepId.parse("loss:total")).run()  # step keys are stable ids; the list shows their titles
    assert_clean(at)
    assert any("0.2984" in x for x in latex(at))


def test_slider_changes_numbers(at):
    live(at, "sb_w_0_0_0").set_value(0.25).run()  # w1: 0.15 → 0.25
    assert_clean(at)
    # net_h1 = 0.25·0.05 + 0.20·0.10 + 0.35 = 0.3825, by hand
    assert any("0.3825" in x for x in latex(at))
    expected = engine.forward(preset("seed").replace(weights=[[[0.25, 0.2], [0.25, 0.3]], [[0.4, 0.45], [0.5, 0.55]]]))
    text = texts(at)
    assert f"{expected.outputs[0, 0]:.4f}" in text and "0.7515" in text  # out_o1 moved from 0.7514
    assert "0.7514" not in text


def test_input_slider_reaches_seed_grid_exactly(at):
    live(at, "sb_x_0_0").set_value(0.1).run()
    live(at, "sb_x_0_0").set_value(0.05).run()
    state = at.session_state["bpviz_app"]
    assert state.scenario.inputs[0, 0] == 0.05  # exactly, not 0.05000000000000001
    assert "0.2984" in texts(at)


def test_decimals_option(at):
    at.slider(key="sb_decimals").set_value(6).run()
    assert "0.751365" in texts(at)


def test_big_network_edits_one_neuron_at_a_time(at):
    from bpviz.builder import build_scenario
    from bpviz.ui.state import AppState

    big = build_scenario([8] + [8] * 6 + [8], ["tanh"] * 6 + ["sigmoid"], "half_sse", init="xavier")
    at.session_state["bpviz_app"] = AppState(scenario=big)
    at.run()
    assert_clean(at)
    assert len(at.sidebar.slider) <= 12  # decimals, one data value, one neuron's 8 weights + bias, learning rate
    assert len(at.main.slider) <= 3  # beside the formula: what the step is about (here the first 3 inputs)
    at.selectbox(key="sb_neuron").set_value(Neuron(3, 3)).run()  # neuron 4 of hidden layer 3
    live(at, "sb_w_2_3_5").set_value(0.5).run()
    assert_clean(at)
    assert at.session_state["bpviz_app"].scenario.weights[2][3, 5] == 0.5
    at.selectbox(key="sb_value").set_value("t3").run()
    live(at, "sb_t_0_2").set_value(0.25).run()
    assert at.session_state["bpviz_app"].scenario.targets[0, 2] == 0.25
    expected = engine.forward(at.session_state["bpviz_app"].scenario).loss
    assert f"{expected:.4f}" in texts(at)
