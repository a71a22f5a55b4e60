"""AppTest: the Backward pass page."""

from __future__ import annotations

import pytest

from bpviz import engine
from bpviz.config import preset
from bpviz.gradient_sizes import DEEP_PRESETS, RELU_HE, SATURATED, VANISHING, gradient_sizes, preset_lesson
from bpviz.ids import Phase, StepId, Weight, backward_order
from bpviz.naming import names_for
from bpviz.numbers import Style

from .apptest_util import (
    SIZES_LABEL,
    array,
    assert_clean,
    assert_sizes_chart_is_the_engines,
    figures,
    highlighted,
    latex,
    live,
    open_page,
    opened,
    sizes_chart,
    texts,
)

PAGE = "views/backward_pass.py"


@pytest.fixture
def at():
    return open_page(PAGE)


def test_starts_at_w5_with_seed_gradient(at):
    assert_clean(at)
    joined = "\n".join(latex(at))
    assert "w_{5}" in joined and "0.0822" in joined
    # the three local derivatives of the seed's derivation
    for number in ("0.7414", "0.1868", "0.5933"):
        assert number in joined, number
    fig = figures(at)[0]
    assert fig["layout"]["meta"]["mode"] == "gradients"
    nodes, edges = highlighted(fig)
    assert "w:1:0:0" in edges


def test_hidden_weight_shows_both_output_paths(at):
    at.selectbox(key="nav_backward_step").set_value(StepId.parse("backward:w:0:0:0")).run()  # w1
    assert_clean(at)
    joined = "\n".join(latex(at))
    assert "w_{1}" in joined and "0.0004" in joined
    _, edges = highlighted(figures(at)[0])
    assert {"w:0:0:0", "w:1:0:0", "w:1:1:0"} <= edges  # w1, and both paths h1→o1 (w5), h1→o2 (w7)
    assert "Path 2 of 2" in texts(at)


def test_next_moves_to_w6(at):
    at.button(key="nav_backward_next").click().run()
    assert "0.0827" in "\n".join(latex(at))


def test_gradient_check_toggle(at):
    at.toggle(key="backward_gradcheck").set_value(True).run()
    assert_clean(at)
    text = texts(at)
    assert "Finite differences" in text and "0.0821670406" in text
    rel = next(m for m in at.metric if m.label == "Relative error")
    assert float(rel.value) < 1e-6


def test_slider_changes_gradient(at):
    live(at, "sb_t_0_0").set_value(0.5).run()  # t1: 0.01 → 0.5
    assert_clean(at)
    joined = "\n".join(latex(at))
    # ∂E/∂w5 = (out_o1 − t1)·out_o1(1 − out_o1)·out_h1 = (0.751365 − 0.5)·0.186816·0.593270, by hand
    assert "0.0279" in joined and "0.0822" not in joined


def test_sample_chosen_in_sidebar_drives_the_chain():
    at = open_page("views/network_builder.py")
    at.button(key="bld_preset_xor_2_4_1").click().run()
    at.switch_page(PAGE).run()
    s = at.session_state["bpviz_app"].scenario
    at.number_input(key="sb_sample").set_value(3).run()
    assert_clean(at)
    tr = engine.forward(s)
    assert f"{tr.outputs[2, 0]:.4f}" in "\n".join(latex(at))  # sample 3's output in the chain's numbers
    assert "sample 3" in texts(at)
    assert figures(at)[0]["layout"]["meta"]["sample"] == 2


def _slope_chart(at) -> dict:
    found = [f for f in figures(at) if any((tr.get("meta") or {}).get("key") == "tangent" for tr in f["data"])]
    assert len(found) == 1, f"{len(found)} slope charts"
    return found[0]


def _tangent_slope(fig: dict) -> float:
    tangent = next(tr for tr in fig["data"] if (tr.get("meta") or {}).get("key") == "tangent")
    (x0, x1), (y0, y1) = array(tangent["x"]), array(tangent["y"])
    return (y1 - y0) / (x1 - x0)


@pytest.mark.parametrize("name", ["seed", "xor_2_4_1", "softmax_3class", "relu_dead_units"])
def test_every_backward_step_has_the_gradient_as_a_slope(name):
    """On each backward step the slope chart is about that step's parameter, and its tangent's slope is the engine's
    (batch) gradient to 1e-9; the landing point is p − η·∂E/∂p."""
    s = preset(name)
    at = opened({}, PAGE)
    at.session_state["bpviz_app"].scenario = s
    at.run()
    grads = engine.backward(s)
    names = names_for(s.layers)
    for ref in backward_order(s.layers)[:6]:
        at.selectbox(key="nav_backward_step").set_value(StepId(Phase.BACKWARD, ref)).run()
        assert_clean(at)
        fig = _slope_chart(at)
        g = engine.gradient_of(grads, ref)
        assert f"of {names.param(ref)}, the others fixed" in fig["layout"]["title"]["text"]
        assert _tangent_slope(fig) == pytest.approx(g, rel=1e-9, abs=1e-9)
        landing = next(tr for tr in fig["data"] if (tr.get("meta") or {}).get("key") == "landing")
        assert array(landing["x"])[0] == engine.value_of(s, ref) - s.learning_rate * g


def test_the_slope_follows_a_slider(at):
    """Moving w5 (0.4 → 0.9) moves the point on the curve and changes the tangent's slope to the new gradient."""
    live(at, "sb_w_1_0_0").set_value(0.9).run()
    assert_clean(at)
    s = at.session_state["bpviz_app"].scenario
    fig = _slope_chart(at)
    point = next(tr for tr in fig["data"] if (tr.get("meta") or {}).get("key") == "point")
    assert array(point["x"])[0] == 0.9
    assert _tangent_slope(fig) == pytest.approx(engine.gradient_of(engine.backward(s), Weight(1, 0, 0)), rel=1e-9)


# ---------------------------------------------------------------- gradient size per layer (deep networks)


def test_no_gradient_size_section_for_the_seed(at):
    """Two weight layers: nothing to vanish over, so the section is not on this page (the builder has it)."""
    assert SIZES_LABEL not in [e.label for e in at.expander]
    assert sizes_chart(at) is None and len(figures(at)) == 2  # the network and the slope chart only


@pytest.mark.parametrize("name", DEEP_PRESETS)
def test_deep_preset_shows_its_gradient_sizes_and_lesson(at, name):
    at.selectbox(key="sb_preset").set_value(name).run()
    assert_clean(at)
    assert SIZES_LABEL in [e.label for e in at.expander]
    assert_sizes_chart_is_the_engines(sizes_chart(at), preset(name))
    s = preset(name)
    trace = engine.forward(s)
    lesson = preset_lesson(s, trace, gradient_sizes(engine.backward(s)), Style())
    assert lesson in [el.value for el in at.info]
    assert at.button(key=f"backward_grad_sizes_{name}").disabled  # the one shown; the other two load theirs


def test_the_section_loads_the_other_deep_presets(at):
    at.selectbox(key="sb_preset").set_value(VANISHING).run()
    for name in (RELU_HE, SATURATED, VANISHING):
        at.button(key=f"backward_grad_sizes_{name}").click().run()
        assert_clean(at)
        assert at.session_state["bpviz_app"].scenario.to_dict() == preset(name).to_dict()
        assert at.selectbox(key="sb_preset").value == name
        assert_sizes_chart_is_the_engines(sizes_chart(at), preset(name))


def test_a_moved_weight_keeps_the_chart_and_drops_the_lesson(at):
    at.selectbox(key="sb_preset").set_value(VANISHING).run()
    assert any(el.value.startswith("Vanishing gradient") for el in at.info)
    live(at, "sb_w_6_0_0").set_value(0.9).run()  # w⁽⁷⁾₁₁, a weight of the output neuron
    assert_clean(at)
    s = at.session_state["bpviz_app"].scenario
    assert s.weights[6][0, 0] == 0.9
    assert_sizes_chart_is_the_engines(sizes_chart(at), s)  # the numbers follow the slider ...
    assert not any(el.value.startswith("Vanishing gradient") for el in at.info)  # ... the preset's words do not
    assert "‖∂E/∂W⁽¹⁾‖ / ‖∂E/∂W⁽⁷⁾‖" in texts(at)


def test_a_closed_section_builds_no_chart(at):
    at.selectbox(key="sb_preset").set_value(VANISHING).run()
    at.session_state["bpviz_app"].options["backward_grad_sizes"] = False  # what closing the expander stores
    at.run()
    assert_clean(at)
    assert SIZES_LABEL in [e.label for e in at.expander] and sizes_chart(at) is None
