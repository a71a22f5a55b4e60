"""Training loop, data sets and the presets that go with them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz import engine
from bpviz.builder import build_scenario
from bpviz.config import MAX_ABS_NUMBER, PRESET_DOCUMENTS, SEED_DOCUMENT, ScenarioError, preset, validate
from bpviz.datasets import DATASET_NAMES, dataset, with_dataset
from bpviz.training import (
    COMPLETED,
    DIVERGED,
    LOSS_LIMIT,
    TARGET_REACHED,
    decision_grid,
    train,
)


def flat_params(s) -> np.ndarray:
    return np.concatenate([w.ravel() for w in s.weights] + [b.ravel() for b in s.biases])


# ---------------------------------------------------------------- presets


def test_presets_validate_and_seed_first_unchanged():
    assert list(PRESET_DOCUMENTS)[0] == "seed"
    assert PRESET_DOCUMENTS["seed"] is SEED_DOCUMENT
    for name in PRESET_DOCUMENTS:
        s = preset(name)
        assert validate(s.to_dict()).to_dict() == s.to_dict()
    for name in ("mazur", "xor_2_2_1", "xor_2_4_1", "softmax_3class", "relu_dead_units"):
        assert name in PRESET_DOCUMENTS


def test_mazur_preset_is_the_seed_with_mazurs_conventions():
    m, s = preset("mazur"), preset("seed")
    assert m.train_biases is False and m.update_order == "output_first"
    assert all(np.array_equal(a, b) for a, b in zip(m.weights + m.biases, s.weights + s.biases))


def test_xor_presets_hold_the_xor_truth_table():
    X, T = dataset("xor")
    for name in ("xor_2_2_1", "xor_2_4_1"):
        s = preset(name)
        assert s.activations == ("sigmoid", "sigmoid") and s.loss in ("half_sse", "bce")
        np.testing.assert_array_equal(s.inputs, X)
        np.testing.assert_array_equal(s.targets, T)


@pytest.mark.parametrize("name", ["xor_2_2_1", "xor_2_4_1"])
def test_xor_presets_learn_xor(name):
    s = preset(name)
    r = train(s, 3000, record_every=100)
    assert r.reason == COMPLETED
    predicted = r.outputs[-1][:, 0] > 0.5
    np.testing.assert_array_equal(predicted, s.targets[:, 0] > 0.5)


def test_xor_2_4_1_from_builder_classifies_all_points():
    """XOR from the data set on a freshly built 2-4-1 net (not the preset's pasted numbers)."""
    X, T = dataset("xor")
    s = build_scenario([2, 4, 1], ["sigmoid", "sigmoid"], "bce", init="uniform", rng_seed=0, inputs=X, targets=T,
                       learning_rate=1.0)
    r = train(s, 3000)
    out = engine.forward(r.final).outputs[:, 0]
    np.testing.assert_array_equal(out > 0.5, T[:, 0] > 0.5)
    assert np.all(np.abs(out - T[:, 0]) < 0.2)


def test_softmax_preset_classifies_its_samples():
    s = preset("softmax_3class")
    assert s.activations[-1] == "softmax" and s.loss == "cross_entropy" and s.n_samples >= 3
    assert np.all(s.targets.sum(axis=1) == 1) and set(np.unique(s.targets)) == {0.0, 1.0}
    r = train(s, 500)
    np.testing.assert_array_equal(r.outputs[-1].argmax(axis=1), s.targets.argmax(axis=1))


def test_relu_dead_units_have_exactly_zero_gradients_and_stay_dead():
    s = preset("relu_dead_units")
    trace = engine.forward(s)
    dead = np.all(trace.z[1] < 0, axis=0)
    assert 1 <= dead.sum() < s.layers[1]  # some, not all, hidden units are dead
    g = engine.backward(s, trace)
    assert np.all(g.dE_dW[0][dead] == 0.0) and np.all(g.dE_db[0][dead] == 0.0)
    assert np.all(g.dE_dW[1][:, dead] == 0.0)  # their output is 0, so their outgoing weights get no gradient
    assert np.all(g.dE_dW[0][~dead] != 0.0)
    r = train(s, 2000, record_every=500)
    np.testing.assert_array_equal(r.final.weights[0][dead], s.weights[0][dead])
    np.testing.assert_array_equal(r.final.biases[0][dead], s.biases[0][dead])
    assert r.final_loss < 0.5 * r.losses[0]  # the living units still learn


# ---------------------------------------------------------------- the fast loop is engine.step


def _equivalence_cases():
    seed = preset("seed")
    yield seed
    yield preset("mazur")
    yield seed.replace(update_order="output_first")
    yield seed.replace(train_biases=False)
    yield preset("softmax_3class").replace(update_order="output_first")
    yield preset("relu_dead_units")
    yield build_scenario([2, 3, 4, 2], ["tanh", "leaky_relu", "sigmoid"], "mse", init="he", rng_seed=3,
                         inputs=[[0.1, -0.4], [0.7, 0.2], [-1.0, 0.5]], targets=[[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]],
                         update_order="output_first")
    yield build_scenario([3, 2], ["identity"], "half_sse", init="uniform", rng_seed=4, learning_rate=0.1)


@pytest.mark.parametrize("scenario", list(_equivalence_cases()))
def test_fast_loop_gives_exactly_engine_step(scenario):
    r = train(scenario, 6)
    s = scenario
    for k in range(7):
        if k:
            s = engine.step(s).after
        np.testing.assert_array_equal(r.params[k], flat_params(s))  # bit for bit, not approximately
        np.testing.assert_array_equal(r.outputs[k], engine.forward(s).outputs)
        assert r.losses[k] == engine.forward(s).loss
    np.testing.assert_array_equal(flat_params(r.final), flat_params(s))


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.integers(1, 4),
    order=st.sampled_from(["simultaneous", "output_first"]),
    biases=st.booleans(),
    act=st.sampled_from(["sigmoid", "tanh", "relu"]),
    rng_seed=st.integers(0, 1000),
)
def test_fast_loop_equals_engine_step_property(hidden, order, biases, act, rng_seed):
    s = build_scenario([2, hidden, 2], [act, "sigmoid"], "half_sse", init="uniform", rng_seed=rng_seed,
                       train_biases=biases, update_order=order)
    r = train(s, 3)
    for _ in range(3):
        s = engine.step(s).after
    np.testing.assert_array_equal(r.params[-1], flat_params(s))


def test_parameter_columns_follow_parameter_refs():
    r = train(preset("seed"), 2)
    assert r.refs == tuple(engine.parameter_refs(preset("seed")))
    assert r.param_names[:8] == [f"w{i}" for i in range(1, 9)]
    for j, ref in enumerate(r.refs):
        assert r.params[-1, j] == engine.value_of(r.final, ref)


# ---------------------------------------------------------------- Mazur's published figures


def test_mazur_one_step_error():
    r = train(preset("mazur"), 1)
    assert r.losses[1] == pytest.approx(0.291027924, abs=5e-10)


def test_mazur_ten_thousand_steps():
    r = train(preset("mazur"), 10_000, record_every=10_000)
    np.testing.assert_allclose(r.outputs[-1][0], [0.015912196, 0.984065734], atol=5e-10)
    assert r.steps[-1] == 10_000 and r.reason == COMPLETED


# ---------------------------------------------------------------- recording, stopping, progress


def test_recording_every_k_steps_keeps_first_and_last():
    r = train(preset("seed"), 25, record_every=10)
    np.testing.assert_array_equal(r.steps, [0, 10, 20, 25])
    assert r.params.shape == (4, 12) and r.outputs.shape == (4, 1, 2)
    assert r.losses.shape == (26,)
    assert r.stopped_at == 25 and r.requested_steps == 25


def test_zero_steps():
    r = train(preset("seed"), 0)
    assert r.stopped_at == 0 and r.losses.shape == (1,) and r.losses[0] == pytest.approx(0.2983711087600027)
    np.testing.assert_array_equal(r.steps, [0])


def test_stop_loss():
    r = train(preset("seed"), 10_000, stop_loss=0.1, record_every=7)
    assert r.reason == TARGET_REACHED
    assert r.losses[-1] <= 0.1 < r.losses[-2]
    assert r.steps[-1] == r.stopped_at == len(r.losses) - 1


def test_progress_called_at_most_about_100_times():
    calls = []
    train(preset("seed"), 12_345, record_every=100, progress=lambda done, total: calls.append((done, total)))
    assert 10 <= len(calls) <= 101
    assert calls[-1] == (12_345, 12_345)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("bad", [{"steps": -1}, {"steps": 1.5}, {"record_every": 0}, {"stop_loss": float("nan")}])
def test_bad_arguments(bad):
    kwargs = {"steps": 3, **bad}
    with pytest.raises(ValueError):
        train(preset("seed"), **kwargs)


# ---------------------------------------------------------------- divergence


def _exploding():
    """An unbounded (ReLU, identity output) net with a learning rate far too large."""
    return build_scenario([2, 3, 1], ["relu", "identity"], "half_sse", init="xavier", rng_seed=0,
                          inputs=[[0, 0], [0, 1], [1, 0], [1, 1]], targets=[[0], [1], [1], [0]], learning_rate=5.0)


def _first_bad_step(s, limit_steps=1000):
    """Reference by repeated engine.step: (kind, step) of the first exploded loss or out-of-range parameter."""
    for k in range(limit_steps):
        if not engine.forward(s).loss <= LOSS_LIMIT:
            return "loss", k
        with np.errstate(all="ignore"):
            nxt = engine.step(s).after
        if not np.all(np.abs(flat_params(nxt)) <= MAX_ABS_NUMBER):
            return "param", k + 1
        s = nxt
    return None, None


def test_divergence_is_detected_at_the_right_step_without_nan():
    s = _exploding()
    kind, step = _first_bad_step(s)
    assert kind is not None
    r = train(s, 1000)
    assert r.reason == DIVERGED and r.diverged
    expected_stop = step if kind == "loss" else step - 1
    assert r.stopped_at == expected_stop
    assert f"step {step}" in r.explain()
    assert "learning rate" in r.explain()
    for arr in (r.losses, r.outputs, r.params):
        assert np.all(np.isfinite(arr))
    assert len(r.losses) == r.stopped_at + 1 and r.steps[-1] == r.stopped_at
    validate(r.final.to_dict())  # the final scenario stays valid (every |number| ≤ 1e6)


def test_divergence_by_parameter_stops_before_the_bad_update():
    """Cross-entropy caps the loss, so here the weights run away first."""
    s = build_scenario([2, 2], ["softmax"], "cross_entropy", init="zeros", inputs=[[1e5, -1e5], [-1e5, 1e5]],
                       targets=[[1, 0], [0, 1]], learning_rate=100.0)
    kind, step = _first_bad_step(s, 50)
    assert kind == "param"
    r = train(s, 50)
    assert r.reason == DIVERGED and r.stopped_at == step - 1
    assert f"step {step}" in r.explain() and "1e+06" in r.explain()
    assert np.all(np.abs(r.params) <= MAX_ABS_NUMBER)
    validate(r.final.to_dict())


def test_huge_learning_rate_diverges_with_warnings_suppressed(recwarn):
    s = build_scenario([2, 8, 8, 1], ["identity", "relu", "identity"], "mse", init="he", rng_seed=1,
                       inputs=[[1, 2], [3, 4]], targets=[[1], [0]], learning_rate=100.0)
    r = train(s, 100)
    assert r.reason == DIVERGED
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert np.all(np.isfinite(r.losses)) and np.all(np.isfinite(r.params)) and np.all(np.isfinite(r.outputs))


# ---------------------------------------------------------------- data sets


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_dataset_shapes_ranges_and_determinism(name):
    X, T = dataset(name)
    assert X.ndim == 2 and X.shape[1] == 2 and T.shape == (X.shape[0], 1)
    assert set(np.unique(T)) <= {0.0, 1.0} and len(np.unique(T)) == 2
    assert np.all(np.isfinite(X)) and np.all(np.abs(X) < 5)
    X2, T2 = dataset(name)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(T, T2)
    X3, T3 = dataset(name, n=40, seed=0)
    assert X3.shape == (40, 2) and T3.shape == (40, 1)
    X4, _ = dataset(name, n=40, seed=1)
    assert not np.array_equal(X3, X4)


def test_logic_gates_are_their_truth_tables():
    corners = [[0, 0], [0, 1], [1, 0], [1, 1]]
    for name, table in {"xor": [0, 1, 1, 0], "and": [0, 0, 0, 1], "or": [0, 1, 1, 1]}.items():
        X, T = dataset(name)
        np.testing.assert_array_equal(X, corners)
        np.testing.assert_array_equal(T[:, 0], table)


def test_dataset_rejects_bad_requests():
    with pytest.raises(ValueError):
        dataset("spiral")
    with pytest.raises(ValueError):
        dataset("xor", n=1)
    with pytest.raises(ValueError):
        dataset("circles", n=10_000)


def test_with_dataset_one_output_and_one_hot():
    s = with_dataset(preset("xor_2_4_1"), "two_moons", n=50)
    assert s.inputs.shape == (50, 2) and s.targets.shape == (50, 1) and s.batched
    two = with_dataset(preset("seed"), "circles", n=30)
    assert two.targets.shape == (30, 2)
    np.testing.assert_array_equal(two.targets.sum(axis=1), 1.0)
    soft = build_scenario([2, 3, 2], ["tanh", "softmax"], "cross_entropy")
    with_dataset(soft, "xor")  # one-hot targets are valid cross-entropy targets


def test_with_dataset_needs_two_inputs():
    with pytest.raises(ScenarioError) as e:
        with_dataset(build_scenario([3, 2, 1], ["sigmoid", "sigmoid"], "half_sse"), "xor")
    assert e.value.path == "layers[0]"
    with pytest.raises(ScenarioError):
        with_dataset(preset("softmax_3class"), "xor")


# ---------------------------------------------------------------- decision grid


def test_decision_grid_matches_forward():
    s = preset("xor_2_4_1")
    xs, ys, Z = decision_grid(s, resolution=7, bounds=(-1, 2, -0.5, 1.5))
    assert xs.shape == (7,) and ys.shape == (7,) and Z.shape == (7, 7, 1)
    assert xs[0] == -1 and xs[-1] == 2 and ys[0] == -0.5 and ys[-1] == 1.5
    i, j = 2, 5
    one = s.replace(inputs=[xs[j], ys[i]], targets=[0.0])
    assert Z[i, j, 0] == pytest.approx(engine.forward(one).outputs[0, 0], abs=1e-15)
    xs2, ys2, Z2 = decision_grid(s)
    assert Z2.shape == (60, 60, 1) and xs2[0] < 0 < 1 < xs2[-1]
    with pytest.raises(ValueError):
        decision_grid(build_scenario([3, 1], ["sigmoid"], "half_sse"))


def test_loss_too_large_from_the_start():
    s = build_scenario([1, 1], ["identity"], "half_sse", init="zeros", inputs=[[1000.0]], targets=[[0.0]])
    s = s.replace(weights=[[[1000.0]]])
    r = train(s, 10)
    assert r.reason == DIVERGED and r.stopped_at == 0
    assert r.losses.tolist() == [0.5e12] and r.steps.tolist() == [0]
    assert "step 0" in r.explain() and "starting numbers" in r.explain()


def test_history_size_is_capped():
    s = preset("softmax_3class")
    with pytest.raises(ValueError, match="record_every"):
        train(s, 1_000_000, record_every=1)
