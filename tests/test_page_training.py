"""AppTest: the Training page (train, loss curve, divergence explained, keep the result, data sets)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bpviz import engine, training
from bpviz.builder import build_scenario
from bpviz.config import preset
from bpviz.datasets import DATASET_LABELS, DATASET_NAMES, dataset

from .apptest_util import array, assert_clean, figures, live, open_page, opened, texts

PAGE = "views/training.py"
XOR = preset("xor_2_4_1")


@pytest.fixture
def at():
    return open_page(PAGE)


def _titles(at) -> list[str]:
    return [f["layout"]["title"]["text"] for f in figures(at)]


def _use(at, scenario) -> None:
    at.session_state["bpviz_app"].scenario = scenario
    at.run()


def _train(at, steps: int) -> None:
    at.number_input(key="train_steps").set_value(steps).run()
    at.button(key="train_run").click().run()
    assert_clean(at)


def test_loads_before_training(at):
    assert_clean(at)
    assert "Press Train" in texts(at)
    assert _others(at) == []  # one sample: a plane of predictions would say nothing
    assert _landscape(at)  # the loss landscape needs no run
    at.switch_page("views/network_builder.py").run()
    at.button(key="bld_preset_xor_2_4_1").click().run()
    at.switch_page(PAGE).run()
    assert len(_others(at)) == 1  # XOR's 4 points over what the untrained net predicts on the plane


def test_xor_241_learns_xor(at):
    at.switch_page("views/network_builder.py").run()
    at.button(key="bld_preset_xor_2_4_1").click().run()
    at.switch_page(PAGE).run()
    _train(at, 1000)
    result = at.session_state["bpviz_app"].train_run.result
    assert result.reason == training.COMPLETED and result.stopped_at == 1000
    out = engine.forward(result.final).outputs[:, 0]
    assert np.all((out > 0.5) == (XOR.targets[:, 0] > 0.5)), out  # 0,1,1,0 on the four corners
    titles = _titles(at)
    assert any(title.startswith("E over 1,000 steps") for title in titles)
    assert any("predicts over the input plane" in title for title in titles)  # 2 inputs: the decision boundary
    assert len(titles) == 5  # loss, outputs, boundary, parameters, landscape
    text = texts(at)
    assert "Steps run 1,000" in text and f"{result.final_loss:.4f}" in text
    assert not at.warning
    # training alone does not change the current network
    assert at.session_state["bpviz_app"].scenario.to_dict() == XOR.to_dict()


def test_huge_learning_rate_explains_the_divergence(at):
    # identity output: nothing bounds the loss, so η = 100 makes it explode within a few steps
    s = build_scenario([2, 4, 1], ["tanh", "identity"], "half_sse", init="xavier", learning_rate=100,
                       inputs=XOR.inputs, targets=XOR.targets)
    _use(at, s)
    _train(at, 50)
    result = at.session_state["bpviz_app"].train_run.result
    assert result.diverged
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and f"step {result.stopped_at}" in warnings[0], warnings
    assert "learning rate" in warnings[0]
    assert warnings[0].count("Training stopped") <= 1  # said once, not twice
    assert any(title.startswith("E over") for title in _titles(at))
    assert np.all(np.isfinite(result.losses))


def test_huge_learning_rate_with_bounded_loss_is_explained(at):
    # softmax + cross-entropy cannot explode, but η = 100 makes the loss worse: say so, with the step
    _use(at, preset("softmax_3class").replace(learning_rate=100))
    _train(at, 20)
    result = at.session_state["bpviz_app"].train_run.result
    assert not result.diverged and result.final_loss > result.losses[0]
    first_worse = int(np.argmax(result.losses > result.losses[0]))
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "worse" in warnings[0] and f"at step {first_worse} " in warnings[0], warnings
    assert "learning rate" in warnings[0]


def test_sidebar_max_learning_rate_never_raises(at):
    _use(at, XOR)
    at.slider(key="sb_lr").set_value(at.slider(key="sb_lr").max).run()
    assert at.session_state["bpviz_app"].scenario.learning_rate == 2.0
    _train(at, 100)
    assert at.session_state["bpviz_app"].train_run.result.stopped_at == 100


def test_continue_from_trained_weights(at):
    _use(at, XOR)
    _train(at, 20)
    final = at.session_state["bpviz_app"].train_run.result.final
    at.button(key="train_keep").click().run()
    assert_clean(at)
    now = at.session_state["bpviz_app"].scenario
    assert now.to_dict() == final.to_dict()
    assert live(at, "sb_w_0_0_0").value == pytest.approx(final.weights[0][0, 0])
    assert f"{engine.forward(final).loss:.4f}" in texts(at)  # the header's E total is the trained network's
    assert "Press Train" in texts(at)
    at.button(key="sb_undo_sb").click().run()  # and Undo goes back
    assert at.session_state["bpviz_app"].scenario.to_dict() == XOR.to_dict()


def test_result_of_another_scenario_is_not_kept(at):
    """A run from other weights is dropped: 'Continue' could otherwise bring back a network trained elsewhere."""
    _use(at, XOR)
    _train(at, 20)
    live(at, "sb_w_0_0_0").set_value(0.5).run()
    assert_clean(at)
    assert "Press Train" in texts(at) and at.session_state["bpviz_app"].train_run is None
    assert not [b for b in at.button if b.key == "train_keep"]


def test_dataset_selector_switches_to_two_moons(at):
    _use(at, XOR)
    at.selectbox(key="train_data").set_value("two_moons").run()
    assert_clean(at)
    s = at.session_state["bpviz_app"].scenario
    X, T = dataset("two_moons")
    assert s.n_samples == 100 and np.array_equal(s.inputs, X) and np.array_equal(s.targets, T)
    assert "100 samples," in texts(at)
    _train(at, 10)
    assert at.session_state["bpviz_app"].train_run.result.outputs.shape[1] == 100
    assert at.selectbox(key="train_data").value == "two_moons"


def test_dataset_selector_follows_a_new_scenario(at):
    _use(at, XOR)
    at.selectbox(key="train_data").set_value("two_moons").run()
    at.switch_page("views/network_builder.py").run()
    at.button(key="bld_preset_xor_2_2_1").click().run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.selectbox(key="train_data").value == "current samples"  # the moons are gone: do not name them


def test_no_dataset_selector_for_three_outputs(at):
    _use(at, preset("softmax_3class"))
    assert_clean(at)
    assert not [s for s in at.selectbox if s.key == "train_data"]
    assert "2 inputs and 1 or 2 outputs" in texts(at)


def test_data_sets_are_shown_by_name_and_stored_as_identifiers(at):
    _use(at, XOR)
    box = at.selectbox(key="train_data")
    assert box.options == ["current samples", "XOR", "AND", "OR", "two moons", "circles"]
    box.set_value("circles").run()
    assert_clean(at)
    assert at.selectbox(key="train_data").value == "circles"
    assert np.array_equal(at.session_state["bpviz_app"].scenario.inputs, dataset("circles")[0])


def test_data_sets_in_chinese_are_labels_and_the_choice_stays_an_identifier():
    at = opened({"lang": "zh"}, PAGE)
    _use(at, XOR)
    box = at.selectbox(key="train_data")
    labels = box.options[1:]
    assert len(labels) == len(DATASET_NAMES) == len(DATASET_LABELS)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in box.options), box.options
    assert not set(labels) & {*DATASET_NAMES, *DATASET_LABELS.values()}, labels
    box.set_value("two_moons").run()
    assert_clean(at)
    assert at.selectbox(key="train_data").value == "two_moons"
    assert at.session_state["bpviz_app"].options["train_data"] == "two_moons"
    assert np.array_equal(at.session_state["bpviz_app"].scenario.inputs, dataset("two_moons")[0])


def _is_landscape(fig: dict) -> bool:
    return any((tr.get("meta") or {}).get("key") == "landscape" for tr in fig["data"])


def _others(at) -> list[dict]:
    """The figures other than the loss landscape."""
    return [f for f in figures(at) if not _is_landscape(f)]


def _landscape(at) -> dict:
    found = [f for f in figures(at) if _is_landscape(f)]
    assert len(found) == 1, f"{len(found)} landscapes"
    return found[0]


def _keyed(fig: dict, key: str) -> dict | None:
    return next((tr for tr in fig["data"] if (tr.get("meta") or {}).get("key") == key), None)


def test_the_landscape_shows_before_training_without_a_path(at):
    assert_clean(at)
    fig = _landscape(at)
    assert _keyed(fig, "path") is None and _keyed(fig, "point") is not None
    assert "current weights" in fig["layout"]["title"]["text"]


@pytest.mark.parametrize("name", ["seed", "xor_2_4_1", "relu_dead_units"])
def test_the_landscape_after_training_draws_the_run_projected(name):
    """After a run: the path is the run's recorded values of the two parameters on the axes, the point sits at the
    end (default) or the start of the run, and the chart says the path is projected."""
    at = open_page(PAGE)
    _use(at, preset(name))
    _train(at, 300)
    result = at.session_state["bpviz_app"].train_run.result
    fig = _landscape(at)
    x_name, y_name = fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]
    cols = [result.param_names.index(n) for n in (x_name, y_name)]
    path = _keyed(fig, "path")
    np.testing.assert_array_equal(array(path["x"]), result.params[:, cols[0]])
    np.testing.assert_array_equal(array(path["y"]), result.params[:, cols[1]])
    assert array(_keyed(fig, "point")["x"])[0] == result.params[-1, cols[0]]
    assert any("projected" in a.get("text", "") for a in fig["layout"]["annotations"])
    at.radio(key="train_land_at").set_value("start").run()
    assert_clean(at)
    assert array(_keyed(_landscape(at), "point")["x"])[0] == result.params[0, cols[0]]


def test_the_axes_follow_the_choosers_and_the_link(at):
    at.selectbox(key="train_land_x").set_value("w:0:0:0").run()
    at.selectbox(key="train_land_y").set_value("b:1:1").run()
    assert_clean(at)
    fig = _landscape(at)
    assert (fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]) == ("w1", "b_o2")
    # the other axis's parameter is not offered on this one
    assert "b:1:1" not in at.selectbox(key="train_land_x").options
    s = at.session_state["bpviz_app"]
    grads = engine.backward(s.scenario)
    arrow = next(a for a in fig["layout"]["annotations"] if a.get("name") == "descent")
    g = np.array([grads.dE_dW[0][0, 0], grads.dE_db[1][1]])
    direction = np.array([arrow["x"] - arrow["ax"], arrow["y"] - arrow["ay"]])
    assert np.dot(direction, g) < 0
    shared = opened({k: v for k, v in at.query_params.items()}, PAGE)
    assert_clean(shared)
    fig = _landscape(shared)
    assert (fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]) == ("w1", "b_o2")


def test_a_chosen_parameter_the_network_lost_falls_back_to_the_default(at):
    at.selectbox(key="train_land_x").set_value("w:0:1:1").run()
    _use(at, build_scenario([2, 1], ["sigmoid"], "half_sse"))  # no hidden layer: w:0:1:1 is gone
    assert_clean(at)
    fig = _landscape(at)
    assert fig["layout"]["xaxis"]["title"]["text"] != fig["layout"]["yaxis"]["title"]["text"]
