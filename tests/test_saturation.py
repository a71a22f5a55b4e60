"""Correctness at saturation: the loss shown and its gradient are one function and its derivative, everywhere.

bce after a sigmoid and cross_entropy after softmax are computed from the output layer's nets (the logits), as
PyTorch's BCEWithLogitsLoss and CrossEntropyLoss do. References: SymPy's exact derivative of that same loss evaluated
with 60 significant digits, and finite differences of the loss the engine reports.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz import config, engine, functions, gradcheck
from bpviz.ids import Weight
from bpviz.symbolic import loss_expression, net_symbols

from .conftest import ROOT

REL, ABS = 1e-9, 1e-12
DIGITS = 60

BCE_50 = {"layers": [1, 1], "activations": ["sigmoid"], "loss": "bce", "weights": [[[50.0]]], "biases": [[0.0]],
          "inputs": [1.0], "targets": [0.0], "learning_rate": 0.1}
CE_800 = {"layers": [1, 2], "activations": ["softmax"], "loss": "cross_entropy", "weights": [[[0.0], [800.0]]],
          "biases": [[0.0, 0.0]], "inputs": [1.0], "targets": [1.0, 0.0], "learning_rate": 0.1}


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(REL * max(abs(a), abs(b)), ABS)


def exact(sc: config.Scenario) -> tuple[float, dict]:
    """(E, {ref: ∂E/∂p}) of one sample, from SymPy's loss expression (the logits form where the engine uses it),
    evaluated with 60 significant digits."""
    assert sc.n_samples == 1
    E = loss_expression(sc.architecture)
    sy = net_symbols(sc.layers)
    refs = engine.parameter_refs(sc)

    def big(v: float) -> sp.Float:
        return sp.Float(repr(float(v)), DIGITS)

    data = {s: big(v) for s, v in zip(sy.inputs, sc.inputs[0])} | {s: big(v) for s, v in zip(sy.targets, sc.targets[0])}
    params = {sy.param(r): big(engine.value_of(sc, r)) for r in refs}
    E_x = E.xreplace(data)
    value = float(E_x.xreplace(params).evalf(DIGITS))
    grads = {r: float(sp.diff(E_x, sy.param(r)).xreplace(params).evalf(DIGITS)) for r in refs}
    return value, grads


def assert_consistent(sc: config.Scenario) -> None:
    """The engine's loss and gradients equal SymPy's to 1e-9 relative (1e-12 absolute), and finite differences of
    the loss the engine reports agree with its gradients, or say why they cannot (a kink, a sharp bend)."""
    trace = engine.forward(sc)
    grads = engine.backward(sc, trace)
    value, reference = exact(sc)
    assert np.isfinite(trace.loss) and close(trace.loss, value), (trace.loss, value)
    for ref, g in reference.items():
        got = engine.gradient_of(grads, ref)
        assert np.isfinite(got) and close(got, g), (sc.architecture, ref, got, g)
    check = gradcheck.gradient_check(sc, grads=grads)
    assert check.explained, [(r, why) for r, why in zip(check.refs, check.reasons) if why == gradcheck.DIFFERS]


# ---------------------------------------------------------------- the two documents of the issue


def test_bce_saturated_one_neuron_is_the_logits_loss_and_its_slope():
    sc = config.validate(BCE_50)
    trace, grads = engine.forward(sc), engine.backward(sc)
    assert trace.outputs[0, 0] == 1.0  # the probability shown rounds to exactly 1 ...
    assert trace.loss == pytest.approx(50.0, rel=1e-15)  # ... but the loss is softplus(50) − 0·50 = 50, not 100
    assert grads.dE_dW[0][0, 0] == pytest.approx(1.0, rel=1e-15)  # σ(50) − 0
    assert_consistent(sc)
    assert gradcheck.gradient_check(sc).agrees


def test_cross_entropy_with_an_underflowing_probability():
    sc = config.validate(CE_800)
    trace, grads = engine.forward(sc), engine.backward(sc)
    assert trace.outputs[0, 0] == 0.0  # e^-800 underflows ...
    assert trace.loss == pytest.approx(800.0, rel=1e-15)  # ... the loss is log-sum-exp: 800, not the clamp's 100
    np.testing.assert_allclose(grads.dE_dW[0][:, 0], [-1.0, 1.0], rtol=1e-15)
    assert_consistent(sc)
    assert gradcheck.gradient_check(sc).agrees


@pytest.mark.parametrize("doc", [BCE_50, CE_800])
def test_cli_prints_the_same_function_and_its_slope(doc, tmp_path):
    path = tmp_path / "saturated.json"
    path.write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, "-m", "bpviz.cli", "compute", str(path)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = json.loads(r.stdout)
    assert out["loss"] in (50.0, 800.0)
    assert out["gradient_check"]["agrees"] is True and out["gradient_check"]["max_relative_error"] < 1e-9


def test_the_clamped_outputs_form_differs_only_at_saturation():
    """BCELoss on the sigmoid outputs (log clamped at −100) is the logits form's function away from saturation; near
    it, log(1 − o) loses digits (o is within a few ulps of 1), and where o rounds to 1 the clamp takes over."""
    bce = functions.LOSSES["bce"]
    z = np.array([[-5.0, -2.0, 0.3, 5.0]])
    t = np.array([[0.0, 1.0, 0.5, 0.2]])
    o = functions.ACTIVATIONS["sigmoid"].f(z)
    np.testing.assert_allclose(bce.share(o, t), bce.fused.share(z, t), rtol=1e-9)
    z_near = np.array([[30.0]])
    near = bce.share(functions.ACTIVATIONS["sigmoid"].f(z_near), np.array([[1.0]]))[0, 0]
    assert abs(near / bce.fused.share(z_near, np.array([[1.0]]))[0, 0] - 1) > 1e-4  # digits lost
    z_sat = np.array([[50.0]])
    assert bce.share(functions.ACTIVATIONS["sigmoid"].f(z_sat), np.array([[0.0]]))[0, 0] == 100.0  # the clamp
    assert bce.fused.share(z_sat, np.array([[0.0]]))[0, 0] == 50.0


# ---------------------------------------------------------------- saturated random networks


PAIRINGS = [(a, loss) for a in functions.output_activations(2) for loss in functions.LOSS_NAMES
            if functions.LOSSES[loss].pairing_problem(a, 2) is None]
SMOOTH_HIDDEN = [name for name, a in functions.ACTIVATIONS.items() if a.elementwise and a.kink is None]


def saturated(layers, acts, loss, seed: int, z_out: float) -> config.Scenario:
    """A random network whose largest output net is ±z_out (the output layer's weights and biases scaled)."""
    rng = np.random.default_rng(seed)
    L = len(layers) - 1
    W = [rng.uniform(-1, 1, (layers[l + 1], layers[l])) for l in range(L)]
    B = [rng.uniform(-1, 1, layers[l + 1]) for l in range(L)]
    x = rng.uniform(-1, 1, layers[0])
    if functions.LOSSES[loss].targets_sum_to_one:
        tgt = np.eye(layers[-1])[rng.integers(layers[-1])]
    else:
        tgt = rng.uniform(0, 1, layers[-1])
    doc = {"layers": list(layers), "activations": list(acts), "loss": loss, "inputs": x.round(6).tolist(),
           "targets": tgt.round(6).tolist(), "learning_rate": 0.5}
    unscaled = config.validate({**doc, "weights": [w.tolist() for w in W], "biases": [b.tolist() for b in B]})
    factor = z_out / max(np.abs(engine.forward(unscaled).z[-1]).max(), 1e-3)
    W[-1], B[-1] = W[-1] * factor, B[-1] * factor
    return config.validate({**doc, "weights": [w.round(6).tolist() for w in W],
                            "biases": [b.round(6).tolist() for b in B]})


@pytest.mark.parametrize("out_act,loss", PAIRINGS)
@pytest.mark.parametrize("z_out", [30.0, 300.0, 1000.0])
def test_saturated_networks_every_pairing(out_act, loss, z_out):
    hidden = SMOOTH_HIDDEN[len(loss) % len(SMOOTH_HIDDEN)]
    sc = saturated((2, 3, 2), (hidden, out_act), loss, seed=len(out_act) + int(z_out), z_out=z_out)
    assert np.abs(engine.forward(sc).z[-1]).max() == pytest.approx(z_out, rel=1e-3)  # saturated indeed
    assert_consistent(sc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairing=st.sampled_from(PAIRINGS), hidden=st.sampled_from(sorted(functions.HIDDEN_ACTIVATIONS)),
       n_hidden=st.integers(0, 1), width=st.integers(1, 3), seed=st.integers(0, 2**16),
       scale=st.sampled_from([1.0, 10.0, 100.0, 1000.0]))
def test_large_weights_every_activation_and_loss(pairing, hidden, n_hidden, width, seed, scale):
    out_act, loss = pairing
    n_out = max(2, functions.ACTIVATIONS[out_act].min_units)
    layers = (2, *([width] * n_hidden), n_out)
    acts = (*([hidden] * n_hidden), out_act)
    assert_consistent(saturated(layers, acts, loss, seed, scale))


def test_a_relu_exactly_at_its_kink_is_explained():
    """The one legitimate disagreement: a ReLU whose net is exactly 0 (backprop takes the slope 0, as PyTorch)."""
    sc = config.validate({"layers": [1, 1, 1], "activations": ["relu", "identity"], "loss": "half_sse",
                          "weights": [[[1.0]], [[1.0]]], "biases": [[-0.5], [0.0]], "inputs": [0.5],
                          "targets": [1.0], "learning_rate": 0.1})
    check = gradcheck.gradient_check(sc)
    assert engine.forward(sc).z[1][0, 0] == 0.0
    assert not check.agrees and check.explained
    i = check.refs.index(Weight(0, 0, 0))
    assert check.reasons[i] == gradcheck.KINK and "kink" in gradcheck.verdict(check, i)


def test_a_loss_that_bends_within_the_stencil_is_explained():
    """An input of 10⁶ makes ±2h in its weight move z by ±2000: finite differences with h = 0.001 cannot see the
    slope of the sigmoid there, and the check says so instead of reporting a mismatch."""
    sc = config.validate({"layers": [1, 1, 1], "activations": ["sigmoid", "identity"], "loss": "half_sse",
                          "weights": [[[1e-6]], [[1.0]]], "biases": [[0.0], [0.0]], "inputs": [1e6],
                          "targets": [0.0], "learning_rate": 0.1})
    check = gradcheck.gradient_check(sc)
    i = check.refs.index(Weight(0, 0, 0))
    assert check.reasons[i] == gradcheck.BENDS and check.explained
    assert "bends" in gradcheck.verdict(check, i)
    value, reference = exact(sc)
    assert close(engine.gradient_of(engine.backward(sc), Weight(0, 0, 0)), reference[Weight(0, 0, 0)])


def test_every_view_shows_the_same_loss_and_slope_at_saturation():
    """Walkthrough, matrix view, computational graph and handout all show E = 50 and ∂E/∂w = 1 for the saturated
    neuron, not the clamped 100 and a slope that contradicts it."""
    from bpviz import compgraph, explain
    from bpviz.matrix import matrix_steps
    from bpviz.walkthrough import build_walkthrough

    sc = config.validate(BCE_50)
    trace, grads = engine.forward(sc), engine.backward(sc)
    wt = build_walkthrough(sc, trace, grads)
    share = wt[wt.index_of("loss:share:0")]
    assert share.value == 50.0 and share.latex_numeric.endswith("= 50")
    assert r"\log{\left(e^{50} + 1 \right)}" in share.latex_numeric  # computed from net, not from out = 1
    w = wt[wt.index_of("backward:w:0:0:0")]
    assert w.value == 1.0 and w.latex_numeric.endswith("= 1")
    delta = matrix_steps(sc, trace, grads)[0]
    assert np.all(np.isfinite(delta.value)) and delta.latex_numeric.endswith(r"\begin{bmatrix}1\end{bmatrix}")
    assert any("rounds to exactly 0 or 1" in n for n in delta.notes)
    graph = compgraph.build_graph(sc)
    assert graph.loss == pytest.approx(50.0, rel=1e-15)
    assert graph.param_gradients()[Weight(0, 0, 0)] == pytest.approx(1.0, rel=1e-12)
    handout = explain.render(sc)
    assert "= 50 $$" in handout and " 100" not in handout.replace("0.100000", "")


def test_a_wrong_gradient_is_reported_as_differing_even_where_the_loss_bends():
    """The check must still catch a real error: backprop's gradients off by 1% (and by a sign) are "differs", on the
    seed and on a saturated network where the finite differences need much smaller steps to settle."""
    saturated = config.validate(json.loads(json.dumps(BCE_50)) | {"weights": [[[3.0]]]})
    for sc in (config.preset("seed"), saturated):
        grads = engine.backward(sc)
        wrong = type(grads)(grads.dE_da, grads.dE_dz, tuple(w * 1.01 for w in grads.dE_dW),
                            tuple(-b for b in grads.dE_db))
        check = gradcheck.gradient_check(sc, grads=wrong)
        assert set(check.reasons) == {gradcheck.DIFFERS}, check.reasons


def test_a_step_that_jumps_a_saturated_unit_is_explained_as_a_bend():
    """Found by the fuzz tests: a tanh output with net ≈ 0 whose net moves by 1e12 per unit of its weight; with
    h = 1e-3 the stencil sees a step function (and h/2 one too: the old check called that a real difference), with
    h ≈ 6e-14 it agrees with backprop."""
    doc = {"layers": [1, 1, 1], "activations": ["identity", "tanh"], "loss": "mse", "weights": [[[1.0]], [[1e-300]]],
           "biases": [[0.0], [0.0]], "inputs": [1e6], "targets": [0.5], "learning_rate": 0.5}
    doc["weights"][0][0][0] = 1e6  # hidden out = 1e12: the output's net moves by 1e12 per unit of w2
    check = gradcheck.gradient_check(config.validate(doc))
    assert check.explained and gradcheck.BENDS in check.reasons, check.reasons
