"""AppTest: the Matrix view page (δ and ∂E/∂W per layer, the chosen parameter's entry boxed, linked to Backward)."""

from __future__ import annotations

import pytest

from bpviz import engine
from bpviz.builder import build_scenario
from bpviz.config import preset
from bpviz.ids import Bias, StepId, Weight

from .apptest_util import assert_clean, latex, live, open_page, texts

PAGE = "views/matrix_view.py"


@pytest.fixture
def at():
    return open_page(PAGE)


def _boxed(at) -> list[str]:
    return [x for x in latex(at) if r"\boxed" in x]


def test_loads_with_seed_matrices(at):
    assert_clean(at)
    joined = "\n".join(latex(at))
    for number in ("0.0822", "0.1385", "0.0827", "-0.0226", "-0.0381", "0.00877", "0.000439"):  # README's gradients
        assert number in joined, number
    # the entry box and the one-line locator agree with the engine for the parameter shown
    assert len(_boxed(at)) == 1
    assert any("∂E/∂" in i.value for i in at.info)


def test_opens_on_the_backward_pages_first_parameter(at):
    """With no step chosen yet, both views start on the same parameter (w5, the backward page's first step)."""
    assert at.selectbox(key="matrix_param").value == Weight(1, 0, 0)
    boxed = _boxed(at)[0]
    assert r"\boxed{\textcolor{#d62728}{0.0822}}" in boxed  # w5 is entry (1,1) of ∂E/∂W⁽²⁾
    assert "0.0822" in "\n".join(i.value for i in at.info)


def test_choosing_w1_boxes_its_entry_and_moves_backward_page(at):
    at.selectbox(key="matrix_param").set_value(Weight(0, 0, 0)).run()
    assert_clean(at)
    boxed = _boxed(at)
    assert len(boxed) == 1 and r"\boxed{\textcolor{#d62728}{0.000439}}" in boxed[0]
    assert r"\partial W^{(1)}" in boxed[0]  # the hidden layer's matrix, not the output layer's
    info = "\n".join(i.value for i in at.info)
    assert "w1" in info and "(1,1)" in info and "0.000439" in info
    assert at.session_state["bpviz_app"].steps["backward"] == StepId.parse("backward:w:0:0:0")

    at.switch_page("views/backward_pass.py").run()
    assert_clean(at)
    assert at.selectbox(key="nav_backward_step").value == StepId.parse("backward:w:0:0:0")
    joined = "\n".join(latex(at))
    assert "w_{1}" in joined and "0.0004" in joined

    at.switch_page(PAGE).run()  # and back: the matrix page still shows w1
    assert at.selectbox(key="matrix_param").value == Weight(0, 0, 0)


def test_backward_page_choice_moves_matrix_box():
    at = open_page("views/backward_pass.py")
    at.selectbox(key="nav_backward_step").set_value(StepId.parse("backward:b:1:1")).run()  # b_o2
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.selectbox(key="matrix_param").value == Bias(1, 1)
    assert r"\boxed{\textcolor{#d62728}{-0.0381}}" in _boxed(at)[0]


def test_bias_choice(at):
    at.selectbox(key="matrix_param").set_value(Bias(1, 0)).run()
    assert_clean(at)
    assert r"\boxed{\textcolor{#d62728}{0.1385}}" in _boxed(at)[0]


def test_slider_changes_matrices(at):
    live(at, "sb_t_0_0").set_value(0.5).run()  # t1: 0.01 → 0.5
    assert_clean(at)
    s = preset("seed").replace(targets=[0.5, 0.99])
    g = engine.backward(s)
    joined = "\n".join(latex(at))
    assert f"{g.dE_dW[1][0, 0]:.4f}" in joined and "0.0279" in joined  # ∂E/∂w5, as on the backward page
    assert "0.0822" not in joined


@pytest.mark.parametrize("layers, acts, loss", [
    ([2, 2], ["sigmoid"], "half_sse"),  # no hidden layer
    ([3, 4, 3, 2], ["tanh", "relu", "softmax"], "cross_entropy"),  # two hidden layers, softmax output
])
def test_other_architectures_render(layers, acts, loss):
    at = open_page()
    at.session_state["bpviz_app"].scenario = build_scenario(layers, acts, loss, init="xavier")
    at.switch_page(PAGE).run()
    assert_clean(at)
    s = at.session_state["bpviz_app"].scenario
    delta_out = engine.backward(s).dE_dz[-1][0]  # the output layer's δ, one entry per output
    joined = "\n".join(latex(at))
    assert all(f"{d:.4f}" in joined for d in delta_out), delta_out
    assert len(_boxed(at)) == 1
    assert texts(at)


def test_batch_sample_choice():
    at = open_page("views/network_builder.py")
    at.button(key="bld_preset_xor_2_4_1").click().run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    s = at.session_state["bpviz_app"].scenario
    tr = engine.forward(s)
    sample1 = "\n".join(latex(at))
    assert f"{tr.outputs[0, 0]:.4f}" in sample1
    at.number_input(key="sb_sample").set_value(4).run()  # the sidebar picks the sample every page shows
    assert_clean(at)
    assert f"{tr.outputs[3, 0]:.4f}" in "\n".join(latex(at))
