"""AppTest: the Network builder page (presets, a custom network, valid losses only, symmetry warning)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bpviz import engine
from bpviz.builder import INITIALISER_LABELS, INITIALISERS, initial_parameters
from bpviz.config import preset, preset_names
from bpviz.gradient_sizes import DEEP_PRESETS, SATURATED, gradient_sizes, preset_lesson
from bpviz.numbers import Style

from .apptest_util import (
    SIZES_LABEL,
    assert_clean,
    assert_sizes_chart_is_the_engines,
    figures,
    latex,
    open_page,
    opened,
    sizes_chart,
    texts,
)

PAGE = "views/network_builder.py"
OTHER_PAGES = ("views/forward_pass.py", "views/backward_pass.py", "views/update.py",
               "views/computational_graph.py", "views/matrix_view.py")


@pytest.fixture
def at():
    return open_page(PAGE)


def _scenario(at):
    return at.session_state["bpviz_app"].scenario


def test_loads_with_the_seed(at):
    assert_clean(at)
    text = texts(at)
    assert "Current network: 2-2-2" in text and "0.2984" in text
    assert len(figures(at)) == 1
    assert {f"bld_preset_{name}" for name in preset_names()} <= {b.key for b in at.button}


def test_every_preset_button_loads_it(at):
    for name in [*preset_names()[1:], "seed"]:  # one app session: each button replaces the previous network
        at.button(key=f"bld_preset_{name}").click().run()
        assert_clean(at)
        expected = preset(name)
        assert _scenario(at).to_dict() == expected.to_dict(), name
        assert at.selectbox(key="sb_preset").value == name  # the sidebar names the loaded example too
        assert "Current network: " + "-".join(map(str, expected.layers)) in texts(at)
        assert f"{engine.forward(expected).loss:.4f}" in texts(at)


@pytest.mark.parametrize("name", ["xor_2_4_1", "softmax_3class"])
def test_forward_page_shows_the_loaded_preset(at, name):
    at.button(key=f"bld_preset_{name}").click().run()
    at.switch_page("views/forward_pass.py").run()
    assert_clean(at)
    expected = preset(name)
    tr = engine.forward(expected)
    text = texts(at) + "\n".join(latex(at))
    assert f"{tr.loss:.4f}" in text
    assert f"{tr.outputs[0, 0]:.4f}" in text  # sample 1's first output
    # the first forward step is net of the first hidden neuron, with this preset's numbers
    assert f"{tr.z[1][0, 0]:.4f}".rstrip("0").rstrip(".") in "\n".join(latex(at))


def test_seed_button_after_another_preset(at):
    at.button(key="bld_preset_mazur").click().run()
    assert not _scenario(at).train_biases
    at.button(key="bld_preset_seed").click().run()
    assert _scenario(at).to_dict() == preset("seed").to_dict()


def _build_241_tanh_sigmoid_bce(at):
    at.number_input(key="bld_inputs").set_value(2).run()
    at.number_input(key="bld_hidden").set_value(1).run()
    at.number_input(key="bld_outputs").set_value(1).run()
    at.number_input(key="bld_n_0").set_value(4).run()
    at.selectbox(key="bld_act_0").set_value("tanh").run()
    at.selectbox(key="bld_out_act").set_value("sigmoid").run()
    at.selectbox(key="bld_loss").set_value("bce").run()
    at.button(key="bld_build").click().run()


def test_build_custom_241(at):
    _build_241_tanh_sigmoid_bce(at)
    assert_clean(at)
    s = _scenario(at)
    assert s.layers == (2, 4, 1) and tuple(s.activations) == ("tanh", "sigmoid") and s.loss == "bce"
    assert [w.shape for w in s.weights] == [(4, 2), (1, 4)]
    assert "Current network: 2-4-1" in texts(at)
    assert f"{engine.forward(s).loss:.4f}" in texts(at)
    assert not at.warning  # Xavier init: no symmetry warning


def test_built_network_works_on_every_page(at):
    _build_241_tanh_sigmoid_bce(at)
    s = _scenario(at)
    tr = engine.forward(s)
    g = engine.backward(s, tr)
    for page in OTHER_PAGES:
        at.switch_page(page).run()
        assert_clean(at)
        assert _scenario(at).to_dict() == s.to_dict(), page  # visiting a page does not change the network
    at.switch_page("views/backward_pass.py").run()
    assert f"{g.dE_dW[1][0, 0]:.4f}" in "\n".join(latex(at))  # first backward step: the first output weight
    at.switch_page("views/forward_pass.py").run()
    assert f"{tr.outputs[0, 0]:.4f}" in texts(at)


def test_softmax_output_offers_only_valid_losses(at):
    at.number_input(key="bld_outputs").set_value(3).run()
    at.selectbox(key="bld_out_act").set_value("softmax").run()
    assert_clean(at)
    offered = at.selectbox(key="bld_loss").options
    assert set(offered) == {"cross_entropy", "half_sse", "mse"}
    explained = [c.value for c in at.caption if c.value.startswith("Not offered")]
    assert len(explained) == 1 and "bce" in explained[0] and "softmax" in explained[0]
    at.selectbox(key="bld_loss").set_value("cross_entropy").run()
    at.button(key="bld_build").click().run()
    assert_clean(at)
    s = _scenario(at)
    assert s.layers == (2, 2, 3) and s.activations[-1] == "softmax" and s.loss == "cross_entropy"
    assert np.isclose(s.targets.sum(), 1.0)  # a one-hot target, a distribution as softmax outputs are


def test_sigmoid_output_does_not_offer_cross_entropy(at):
    offered = at.selectbox(key="bld_loss").options
    assert "cross_entropy" not in offered and "bce" in offered
    assert any("cross_entropy" in c.value and "softmax" in c.value for c in at.caption)


def test_softmax_needs_two_outputs(at):
    at.number_input(key="bld_outputs").set_value(1).run()
    assert "softmax" not in at.selectbox(key="bld_out_act").options


def test_invalid_loss_is_replaced_when_output_changes(at):
    at.selectbox(key="bld_loss").set_value("bce").run()
    at.selectbox(key="bld_out_act").set_value("softmax").run()  # bce no longer valid
    assert_clean(at)
    assert at.selectbox(key="bld_loss").value in ("cross_entropy", "half_sse", "mse")
    at.button(key="bld_build").click().run()
    assert_clean(at)
    assert _scenario(at).activations[-1] == "softmax"


def test_zeros_init_shows_symmetry_warning(at):
    at.selectbox(key="bld_init").set_value("zeros").run()
    assert "zeros" in texts(at)  # the initialiser's one-line explanation
    at.button(key="bld_build").click().run()
    assert_clean(at)
    assert all(np.all(w == 0) for w in _scenario(at).weights)
    warnings = [w.value for w in at.warning]
    assert any("symmetry" in w and "hidden layer 1" in w for w in warnings), warnings


def test_no_hidden_layer_and_deep_net(at):
    at.number_input(key="bld_hidden").set_value(0).run()
    at.button(key="bld_build").click().run()
    assert_clean(at)
    assert _scenario(at).layers == (2, 2)
    at.number_input(key="bld_hidden").set_value(3).run()
    assert_clean(at)
    at.number_input(key="bld_n_2").set_value(5).run()
    at.selectbox(key="bld_act_1").set_value("relu").run()
    at.button(key="bld_build").click().run()
    assert_clean(at)
    s = _scenario(at)
    assert s.layers == (2, 2, 2, 5, 2) and s.activations[1] == "relu"


def test_builder_choices_survive_a_page_switch(at):
    at.number_input(key="bld_n_0").set_value(5).run()
    at.selectbox(key="bld_init").set_value("he").run()
    at.switch_page("views/forward_pass.py").run()
    at.switch_page(PAGE).run()
    assert at.number_input(key="bld_n_0").value == 5
    assert at.selectbox(key="bld_init").value == "he"


def test_undo_after_building(at):
    _build_241_tanh_sigmoid_bce(at)
    at.button(key="sb_undo_sb").click().run()
    assert_clean(at)
    assert _scenario(at).to_dict() == preset("seed").to_dict()


def test_start_from_the_current_network_fills_the_form():
    at = open_page(PAGE)
    at.button(key="bld_preset_softmax_3class").click().run()
    at.button(key="bld_from_current").click().run()
    assert_clean(at)
    assert (at.number_input(key="bld_inputs").value, at.number_input(key="bld_hidden").value,
            at.number_input(key="bld_outputs").value) == (2, 1, 3)
    assert at.selectbox(key="bld_out_act").value == "softmax" and at.selectbox(key="bld_loss").value == "cross_entropy"
    assert at.selectbox(key="bld_act_0").value == "tanh" and at.number_input(key="bld_n_0").value == 4


def test_initialisers_are_shown_by_name_and_stored_as_identifiers(at):
    box = at.selectbox(key="bld_init")
    assert box.options == ["seed's weights", "uniform", "Xavier", "He", "zeros"] and box.value == "xavier"
    box.set_value("seed").run()
    assert_clean(at)
    assert at.selectbox(key="bld_init").value == "seed"
    assert at.session_state["bpviz_app"].options["bld_init"] == "seed"


def test_initialisers_in_chinese_are_labels_and_the_choice_stays_an_identifier():
    at = opened({"lang": "zh"}, PAGE)
    box = at.selectbox(key="bld_init")
    assert len(box.options) == len(INITIALISERS) == len(INITIALISER_LABELS)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in box.options), box.options
    assert not set(box.options) & {*INITIALISERS, *INITIALISER_LABELS.values()}, box.options
    assert box.value == "xavier"
    box.set_value("he").run()
    assert_clean(at)
    assert at.selectbox(key="bld_init").value == "he" and at.session_state["bpviz_app"].options["bld_init"] == "he"
    at.button(key="bld_build").click().run()
    assert_clean(at)
    weights, _ = initial_parameters([2, 2, 2], "he", rng_seed=0)  # the form's defaults, He's numbers
    assert all(np.array_equal(w, v) for w, v in zip(_scenario(at).weights, weights, strict=True))


# ---------------------------------------------------------------- gradient size per layer


def test_gradient_sizes_of_the_seed_on_request(at):
    """Any network has the section here; for the seed it starts closed (nothing built) and opens on request."""
    assert SIZES_LABEL in [e.label for e in at.expander] and sizes_chart(at) is None
    at.session_state["bpviz_app"].options["bld_grad_sizes"] = True  # what opening the expander stores
    at.run()
    assert_clean(at)
    assert_sizes_chart_is_the_engines(sizes_chart(at), preset("seed"))
    assert "‖∂E/∂W⁽¹⁾‖ / ‖∂E/∂W⁽²⁾‖ = 0.0123" in texts(at)  # 0.00148 / 0.121, the seed's two layers
    assert not at.info  # no deep preset, no lesson
    at.button(key=f"bld_grad_sizes_{SATURATED}").click().run()  # and the deep examples are a click away
    assert _scenario(at).to_dict() == preset(SATURATED).to_dict()


@pytest.mark.parametrize("name", DEEP_PRESETS)
def test_deep_preset_button_shows_its_gradient_sizes(at, name):
    at.button(key=f"bld_preset_{name}").click().run()
    assert_clean(at)
    s = preset(name)
    assert_sizes_chart_is_the_engines(sizes_chart(at), s)  # open at first on a deep network
    lesson = preset_lesson(s, engine.forward(s), gradient_sizes(engine.backward(s)), Style())
    assert lesson in [el.value for el in at.info]
    said = {"deep_sigmoid_vanishing": "sigmoid × 7", "deep_relu_he": "relu × 6, sigmoid",
            "deep_tanh_saturated": "tanh × 6, sigmoid"}[name]  # a run of equal activations, said once
    assert f"activations: {said}; loss: bce" in texts(at)
