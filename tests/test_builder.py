"""Building scenarios from choices: initialisers, loss pairings, the symmetry lesson."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz import engine
from bpviz.builder import (
    INITIALISERS,
    build_scenario,
    initial_parameters,
    pairing_options,
    symmetric_layers,
    symmetry_note,
)
from bpviz.config import LOSS_NAMES, ScenarioError, preset
from bpviz.training import train

layer_lists = st.lists(st.integers(1, 8), min_size=2, max_size=5)


def test_seed_init_reproduces_the_seed():
    s = build_scenario([2, 2, 2], ["sigmoid", "sigmoid"], "half_sse")
    assert s.to_dict() == preset("seed").to_dict()


def test_seed_init_never_gives_two_neurons_the_same_weights():
    for width in range(1, 9):
        for rows in range(2, 9):
            W = initial_parameters([width, rows], "seed")[0][0]
            assert len({tuple(r) for r in W}) == rows


@settings(max_examples=40, deadline=None)
@given(layers=layer_lists, init=st.sampled_from(INITIALISERS), rng_seed=st.integers(0, 2**32 - 1))
def test_init_shapes_and_determinism(layers, init, rng_seed):
    W, B = initial_parameters(layers, init, rng_seed)
    W2, B2 = initial_parameters(layers, init, rng_seed)
    assert [w.shape for w in W] == [(layers[l + 1], layers[l]) for l in range(len(layers) - 1)]
    assert [b.shape for b in B] == [(n,) for n in layers[1:]]
    for a, b in zip(W + B, W2 + B2):
        np.testing.assert_array_equal(a, b)


def test_different_rng_seeds_give_different_weights():
    for init in ("uniform", "xavier", "he"):
        a = initial_parameters([2, 4, 1], init, 0)[0][0]
        b = initial_parameters([2, 4, 1], init, 1)[0][0]
        assert not np.array_equal(a, b)


def test_init_distributions():
    """Large layers repeated over seeds, so the sample statistics are tight."""
    layers = [8, 8]
    uni = np.concatenate([initial_parameters(layers, "uniform", s)[0][0].ravel() for s in range(200)])
    assert uni.min() >= -1 and uni.max() <= 1 and abs(uni.mean()) < 0.05 and abs(uni.var() - 1 / 3) < 0.03
    r = np.sqrt(6 / (8 + 8))
    xav = np.concatenate([initial_parameters(layers, "xavier", s)[0][0].ravel() for s in range(200)])
    assert xav.min() >= -r and xav.max() <= r and xav.max() > 0.95 * r and abs(xav.var() - r * r / 3) < 0.02
    he = np.concatenate([initial_parameters(layers, "he", s)[0][0].ravel() for s in range(200)])
    assert abs(he.mean()) < 0.03 and abs(he.var() - 2 / 8) < 0.02
    for init in ("xavier", "he", "zeros"):
        assert all(np.all(b == 0) for b in initial_parameters([2, 3, 1], init, 5)[1])
    assert all(np.all(w == 0) for w in initial_parameters([2, 3, 1], "zeros")[0])
    assert np.any(initial_parameters([2, 3, 1], "uniform", 5)[1][0] != 0)


def test_builder_validates_everything():
    with pytest.raises(ScenarioError, match="layers"):
        build_scenario([2] + [2] * 7 + [1], ["sigmoid"] * 8, "half_sse")
    with pytest.raises(ScenarioError, match=r"layers\[1\]"):
        build_scenario([2, 10**9, 1], ["sigmoid"] * 2, "half_sse")  # refused before anything is allocated
    with pytest.raises(ScenarioError, match="loss"):
        build_scenario([2, 2, 1], ["sigmoid", "tanh"], "bce")
    with pytest.raises(ScenarioError, match="init"):
        build_scenario([2, 2, 1], ["sigmoid", "sigmoid"], "bce", init="orthogonal")
    with pytest.raises(ScenarioError, match="learning_rate"):
        build_scenario([2, 2, 1], ["sigmoid", "sigmoid"], "bce", learning_rate=0)
    with pytest.raises(ScenarioError, match="targets"):
        build_scenario([2, 1], ["sigmoid"], "bce", inputs=[[0, 0]], targets=[[2.0]])


def test_builder_passes_settings_and_data_through():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    s = build_scenario([2, 3, 2], ["relu", "softmax"], "cross_entropy", init="he", rng_seed=7, inputs=X,
                       targets=[[1, 0], [0, 1]], learning_rate=0.1, train_biases=False, update_order="output_first")
    np.testing.assert_array_equal(s.inputs, X)
    assert s.learning_rate == 0.1 and not s.train_biases and s.update_order == "output_first" and s.batched
    W, B = initial_parameters([2, 3, 2], "he", 7)
    np.testing.assert_array_equal(s.weights[0], W[0])
    default = build_scenario([3, 4], ["softmax"], "cross_entropy")
    assert default.targets.sum() == 1.0


def test_pairing_options_explain_invalid_losses():
    opts = {o.loss: o for o in pairing_options("sigmoid", 1)}
    assert list(opts) == list(LOSS_NAMES)
    assert opts["bce"].valid and opts["half_sse"].valid and opts["mse"].valid
    assert not opts["cross_entropy"].valid and "softmax" in opts["cross_entropy"].reason
    soft = {o.loss: o for o in pairing_options("softmax", 3)}
    assert soft["cross_entropy"].valid and soft["cross_entropy"].reason is None
    assert not soft["bce"].valid and "sigmoid" in soft["bce"].reason
    relu = {o.loss: o for o in pairing_options("relu", 2)}
    assert [o for o in relu if relu[o].valid] == ["half_sse", "mse"]


def test_zeros_init_is_flagged_and_stays_symmetric():
    s = build_scenario([2, 3, 1], ["sigmoid", "sigmoid"], "bce", init="zeros",
                       inputs=[[0, 0], [0, 1], [1, 0], [1, 1]], targets=[[0], [1], [1], [1]])
    assert symmetric_layers(s) == [1]
    note = symmetry_note(s)
    assert note and "same gradient" in note and "never" in note and note.count(".") <= 2
    trained = train(s, 200).final
    W = trained.weights[0]
    assert np.any(W != 0)  # it did learn something ...
    assert np.all(W[0] == W) and np.all(trained.weights[1] == trained.weights[1][0, 0])  # ... but stayed symmetric
    assert symmetry_note(trained) is not None


def test_random_and_seed_inits_are_not_flagged():
    for init in ("seed", "uniform", "xavier", "he"):
        assert symmetry_note(build_scenario([2, 4, 3, 1], ["tanh", "relu", "sigmoid"], "bce", init=init)) is None
    assert symmetry_note(preset("seed")) is None


def test_equal_first_layer_with_distinct_outgoing_weights_is_not_flagged():
    """Equal rows alone are not enough: different outgoing weights give the neurons different deltas."""
    s = build_scenario([2, 2, 1], ["sigmoid", "sigmoid"], "half_sse", init="zeros")
    s = s.replace(weights=[[[0.0, 0.0], [0.0, 0.0]], [[0.3, -0.2]]])
    assert symmetry_note(s) is None
    g = engine.backward(s)
    assert g.dE_dW[0][0, 0] != g.dE_dW[0][1, 0]


def test_deep_zeros_net_names_every_layer():
    s = build_scenario([2, 3, 3, 1], ["tanh", "tanh", "sigmoid"], "bce", init="zeros")
    assert symmetric_layers(s) == [1, 2]
    assert "layers 1, 2" in symmetry_note(s)
