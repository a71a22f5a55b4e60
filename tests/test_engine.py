"""The engine against the seed's reference values, Mazur's published numbers and central differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz import engine, functions, gradcheck
from bpviz.config import loss_pairing_problem, preset, validate
from bpviz.ids import Weight

TOL = 1e-10

# ../shared/seed/README.md, "Reference values (float64)"
SEED_NET = [[0.3775, 0.3925], [1.10590596705977, 1.2249214040964653]]
SEED_OUT = [[0.5932699921071872, 0.596884378259767], [0.7513650695523157, 0.7729284653214625]]
SEED_LOSS = 0.2983711087600027
SEED_DW = [
    [[0.0004385677, 0.0008771355], [0.0004977127, 0.0009954255]],
    [[0.0821670406, 0.0826676278], [-0.0226025405, -0.0227402422]],
]
SEED_DB = [[0.0087713547, 0.0099542547], [0.1384985616, -0.0380982365]]
SEED_W_AFTER = [
    [[0.1497807161, 0.1995614323], [0.2497511436, 0.2995022873]],
    [[0.3589164797, 0.4086661861], [0.5113012702, 0.5613701211]],
]
SEED_B_AFTER = [[0.3456143227, 0.3450228726], [0.5307507192, 0.6190491183]]


def test_seed_forward_matches_reference():
    trace = engine.forward(preset("seed"))
    for l in (1, 2):
        np.testing.assert_allclose(trace.z[l][0], SEED_NET[l - 1], rtol=0, atol=TOL)
        np.testing.assert_allclose(trace.a[l][0], SEED_OUT[l - 1], rtol=0, atol=TOL)
    assert trace.loss == pytest.approx(SEED_LOSS, abs=TOL)
    # each output's share: E_o1 = ½(t1 − out_o1)², E_o2 = ½(t2 − out_o2)²
    np.testing.assert_allclose(
        trace.loss_per_output, [0.5 * (0.01 - SEED_OUT[1][0]) ** 2, 0.5 * (0.99 - SEED_OUT[1][1]) ** 2], atol=TOL
    )


def test_seed_gradients_match_reference_all_twelve():
    g = engine.backward(preset("seed"))
    for l in (0, 1):
        # the README prints 10 decimals, so agreement is to its rounding (5e-11), inside the 1e-10 bar
        np.testing.assert_allclose(g.dE_dW[l], SEED_DW[l], rtol=0, atol=TOL)
        np.testing.assert_allclose(g.dE_db[l], SEED_DB[l], rtol=0, atol=TOL)


def test_seed_hand_derivation_of_w5_and_w1():
    """The seed's hand computation: ∂E/∂w5 = (out_o1 − t1)·out_o1(1 − out_o1)·out_h1, and w1 through both outputs."""
    s = preset("seed")
    tr = engine.forward(s)
    g = engine.backward(s, tr)
    h1, o1, o2 = tr.a[1][0, 0], tr.a[2][0, 0], tr.a[2][0, 1]
    d_o1 = (o1 - 0.01) * o1 * (1 - o1)
    d_o2 = (o2 - 0.99) * o2 * (1 - o2)
    assert g.dE_dW[1][0, 0] == pytest.approx(d_o1 * h1, rel=1e-14)
    dE_douth1 = d_o1 * 0.40 + d_o2 * 0.50
    assert g.dE_dW[0][0, 0] == pytest.approx(dE_douth1 * h1 * (1 - h1) * 0.05, rel=1e-14)
    np.testing.assert_allclose(g.dE_dz[2][0], [d_o1, d_o2], rtol=1e-14)


def test_seed_one_sgd_step_matches_reference():
    s1 = engine.step(preset("seed")).after
    for l in (0, 1):
        np.testing.assert_allclose(s1.weights[l], SEED_W_AFTER[l], rtol=0, atol=TOL)
        np.testing.assert_allclose(s1.biases[l], SEED_B_AFTER[l], rtol=0, atol=TOL)
    assert s1.learning_rate == 0.5 and s1.layers == (2, 2, 2)


@pytest.mark.parametrize(
    ("train_biases", "order", "expected"),
    [
        (False, "output_first", 0.29102792390544197),  # Mazur's published 0.291027924
        (False, "simultaneous", 0.29102777369359933),
        (True, "simultaneous", 0.28047144679143016),  # PyTorch's optimizer.step()
    ],
)
def test_mazur_one_step_losses(train_biases, order, expected):
    s1 = engine.step(preset("seed"), train_biases=train_biases, update_order=order).after
    assert engine.loss_value(s1) == pytest.approx(expected, rel=1e-13)


def test_step_uses_scenario_conventions(seed_doc):
    seed_doc["train_biases"] = False
    seed_doc["update_order"] = "output_first"
    s1 = engine.step(validate(seed_doc)).after
    assert engine.loss_value(s1) == pytest.approx(0.29102792390544197, rel=1e-13)
    np.testing.assert_array_equal(s1.biases[0], [0.35, 0.35])  # fixed biases keep their value


def test_output_first_equals_simultaneous_for_output_layer():
    s = preset("seed")
    a = engine.step(s, update_order="output_first").after
    b = engine.step(s, update_order="simultaneous").after
    np.testing.assert_array_equal(a.weights[1], b.weights[1])
    assert not np.allclose(a.weights[0], b.weights[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("order", ["simultaneous", "output_first"])
@pytest.mark.parametrize("name", ["seed", "xor_2_4_1", "softmax_3class"])
def test_step_returns_the_gradients_it_used(name, order):
    """p⁺ = p − η·g for the g the step reports, under both orders; output_first's hidden g is not backward's."""
    s = preset(name)
    upd = engine.step(s, update_order=order)
    g = engine.backward(s)
    for ref in engine.parameter_refs(s):
        used = upd.gradient(ref)
        assert engine.value_of(upd.after, ref) == engine.value_of(s, ref) - s.learning_rate * used
        if order == "simultaneous" or ref.target.layer == s.n_layers:
            assert used == engine.gradient_of(g, ref)
    if order == "output_first":
        assert not np.allclose(upd.grads.dE_dW[0], g.dE_dW[0], rtol=0, atol=1e-15)


# ---------------------------------------------------------------- random networks: finite differences

SMOOTH = ("sigmoid", "tanh", "identity")
PAIRS = [
    (hidden, out, loss)
    for hidden in functions.HIDDEN_ACTIVATIONS
    for out, loss in [
        ("sigmoid", "half_sse"), ("sigmoid", "mse"), ("sigmoid", "bce"), ("tanh", "half_sse"),
        ("identity", "mse"), ("relu", "half_sse"), ("leaky_relu", "mse"), ("softmax", "cross_entropy"),
        ("softmax", "half_sse"),
    ]
]


def random_scenario(rng: np.random.Generator, hidden: str, out: str, loss: str, n_hidden_layers: int = 1,
                    n_samples: int = 1, scale: float = 1.0):
    n_out = int(rng.integers(2, 4)) if out == "softmax" else int(rng.integers(1, 4))
    layers = [int(rng.integers(1, 4))] + [int(rng.integers(1, 4)) for _ in range(n_hidden_layers)] + [n_out]
    weights = [(rng.uniform(-1, 1, (layers[l + 1], layers[l])) * scale).tolist() for l in range(len(layers) - 1)]
    biases = [rng.uniform(-1, 1, layers[l + 1]).tolist() for l in range(len(layers) - 1)]
    X = rng.uniform(-1, 1, (n_samples, layers[0]))
    if loss == "cross_entropy":
        T = rng.dirichlet(np.ones(n_out), n_samples)
    elif loss == "bce":
        T = rng.uniform(0, 1, (n_samples, n_out))
    else:
        T = rng.uniform(-1, 1, (n_samples, n_out))
    doc = {
        "layers": layers, "activations": [hidden] * n_hidden_layers + [out], "loss": loss,
        "weights": weights, "biases": biases,
        "inputs": X.tolist() if n_samples > 1 else X[0].tolist(),
        "targets": T.tolist() if n_samples > 1 else T[0].tolist(),
        "learning_rate": 0.5,
    }
    return validate(doc)


def _away_from_kinks(s) -> bool:
    """ReLU-type kinks at z = 0 make central differences meaningless; skip draws that come too close."""
    tr = engine.forward(s)
    return all(np.abs(z).min() > 2e-2 for z in tr.z[1:])


@pytest.mark.parametrize(("hidden", "out", "loss"), PAIRS)
def test_finite_differences_every_activation_and_loss(hidden, out, loss):
    rng = np.random.default_rng(hash((hidden, out, loss)) % 2**32)
    checked = 0
    for trial in range(20):
        s = random_scenario(rng, hidden, out, loss, n_hidden_layers=1 + trial % 2, n_samples=1 + trial % 3)
        if not _away_from_kinks(s):
            continue
        check = gradcheck.gradient_check(s)
        smooth = hidden in SMOOTH and out in SMOOTH + ("softmax",)
        assert check.max_relative_error < (1e-6 if smooth else 1e-5), (hidden, out, loss, check.max_relative_error)
        checked += 1
        if checked == 3:
            break
    assert checked >= 1


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_hidden=st.integers(0, 3),
    n_samples=st.integers(1, 4),
    pair=st.sampled_from([("tanh", "sigmoid", "bce"), ("sigmoid", "softmax", "cross_entropy"),
                          ("sigmoid", "identity", "mse"), ("tanh", "tanh", "half_sse")]),
)
def test_property_backprop_equals_central_differences(seed, n_hidden, n_samples, pair):
    s = random_scenario(np.random.default_rng(seed), *pair, n_hidden_layers=n_hidden, n_samples=n_samples)
    assert gradcheck.gradient_check(s).max_relative_error < 1e-6


def test_batched_gradient_is_mean_of_single_sample_gradients():
    rng = np.random.default_rng(7)
    s = random_scenario(rng, "tanh", "sigmoid", "half_sse", n_samples=4)
    g = engine.backward(s)
    singles = [engine.backward(s.replace(inputs=s.inputs[i].tolist(), targets=s.targets[i].tolist()))
               for i in range(4)]
    for l in range(s.n_layers):
        np.testing.assert_allclose(g.dE_dW[l], np.mean([x.dE_dW[l] for x in singles], axis=0), rtol=1e-13)
        np.testing.assert_allclose(g.dE_db[l], np.mean([x.dE_db[l] for x in singles], axis=0), rtol=1e-13)


VALID_OUTPUT_PAIRS = [
    (act, loss)
    for act in functions.ACTIVATION_NAMES
    for loss in functions.LOSS_NAMES
    if loss_pairing_problem(loss, act, 2) is None
]


@pytest.mark.parametrize(("act", "loss"), VALID_OUTPUT_PAIRS)
def test_no_warnings_nan_or_inf_for_large_preactivations(act, loss):
    targets = [0.0, 1.0] if loss in ("bce", "cross_entropy") else [0.3, -0.2]
    for bias in (1e3, -1e3, 0.0):
        doc = {
            "layers": [1, 2], "activations": [act], "loss": loss,
            "weights": [[[1e3], [-1e3]]], "biases": [[bias, -bias]],
            "inputs": [1.0], "targets": targets, "learning_rate": 1.0,
        }
        s = validate(doc)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tr = engine.forward(s)
            g = engine.backward(s, tr)
            s1 = engine.step(s).after
        values = [tr.loss, *tr.a[-1].ravel(), *g.dE_dW[0].ravel(), *g.dE_db[0].ravel(), *s1.weights[0].ravel()]
        assert np.all(np.isfinite(values)), (act, loss, bias, values)


def test_softmax_cross_entropy_delta_is_output_minus_target():
    s = random_scenario(np.random.default_rng(3), "tanh", "softmax", "cross_entropy")
    tr = engine.forward(s)
    g = engine.backward(s, tr)
    np.testing.assert_allclose(g.dE_dz[-1], tr.a[-1] - s.targets, rtol=1e-12, atol=1e-15)


def test_activation_records_derivative_matches_central_difference():
    z = np.linspace(-3, 3, 13)[None, :] + 0.0123  # stay off relu's kink
    h = 1e-6
    for name, act in functions.ACTIVATIONS.items():
        if not act.elementwise:
            continue
        numeric = (act.f(z + h) - act.f(z - h)) / (2 * h)
        np.testing.assert_allclose(act.da_dz(z, act.f(z)), numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_softmax_jacobian_matches_central_difference():
    act = functions.ACTIVATIONS["softmax"]
    z = np.array([[0.3, -1.2, 2.0]])
    a = act.f(z)
    J = act.da_dz(z, a)[0]
    h = 1e-6
    for k in range(3):
        dz = np.zeros_like(z)
        dz[0, k] = h
        np.testing.assert_allclose(J[:, k], ((act.f(z + dz) - act.f(z - dz)) / (2 * h))[0], rtol=1e-7, atol=1e-10)


def test_parameter_refs_follow_seed_numbering():
    refs = engine.parameter_refs(preset("seed"))
    weights = [r for r in refs if isinstance(r, Weight)]
    # w1..w8 = row-major layer by layer: w5 = weights[1][0][0], w7 = weights[1][1][0]
    assert weights[4] == Weight(1, 0, 0)
    assert weights[6] == Weight(1, 1, 0)
    assert len(refs) == 12


def test_batched_finite_differences_equal_one_forward_per_perturbation():
    """numeric_gradients runs all perturbed copies in one batched forward; it must equal the plain loop."""
    s = random_scenario(np.random.default_rng(11), "tanh", "softmax", "cross_entropy", n_hidden_layers=2, n_samples=3)
    h = 1e-3
    for ref in engine.parameter_refs(s):
        values = {}
        for shift in (2, 1, -1, -2):
            W = [w.copy() for w in s.weights]
            B = [b.copy() for b in s.biases]
            ref.write(W, B, ref.read(W, B) + shift * h)
            values[shift] = engine.loss_value(s, W, B)
        loop = (-values[2] + 8 * values[1] - 8 * values[-1] + values[-2]) / (12 * h)
        assert gradcheck.numeric_gradient(s, ref, h) == pytest.approx(loop, rel=1e-9, abs=1e-12)
