"""The matrix view of the backward pass against the engine: every shown value, every product computed on the way,
the seed's numbers in the LaTeX, the scalar-to-matrix entry mapping, and LaTeX that KaTeX can parse."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpviz.matrix as mx
from bpviz import engine, functions
from bpviz.config import preset, validate
from bpviz.ids import Bias, Weight

TOL = 1e-12


def _doc(layers, acts, loss, inputs, targets, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "layers": layers,
        "activations": acts,
        "loss": loss,
        "weights": [rng.uniform(-1, 1, (layers[l + 1], layers[l])).round(3).tolist() for l in range(len(layers) - 1)],
        "biases": [rng.uniform(-0.5, 0.5, layers[l + 1]).round(3).tolist() for l in range(len(layers) - 1)],
        "inputs": inputs,
        "targets": targets,
        "learning_rate": 0.5,
    }


SCENARIOS = {
    "seed": preset("seed"),
    "softmax_ce": validate(_doc([3, 4, 3], ["tanh", "softmax"], "cross_entropy", [0.5, -1.0, 2.0], [0, 1, 0], 1)),
    "softmax_ce_batch": validate(
        _doc([2, 3, 3], ["sigmoid", "softmax"], "cross_entropy", [[0.1, 0.2], [1.0, -1.0], [0.3, 0.9]],
             [[1, 0, 0], [0.2, 0.3, 0.5], [0, 0, 1]], 2)
    ),
    "softmax_sse": validate(_doc([2, 3], ["softmax"], "half_sse", [0.4, -0.7], [0.0, 1.0, 0.0], 3)),
    "sigmoid_bce": validate(_doc([2, 3, 2], ["sigmoid", "sigmoid"], "bce", [0.3, 0.8], [1, 0], 4)),
    "deep_tanh_relu": validate(
        _doc([3, 5, 4, 6, 2], ["tanh", "relu", "leaky_relu", "identity"], "mse",
             [[0.2, -0.4, 0.9], [1.0, 0.5, -0.3]], [[0.5, -0.5], [0.1, 0.2]], 5)
    ),
    "deep_relu_sigmoid": validate(
        _doc([2, 4, 4, 4, 1], ["relu", "tanh", "relu", "sigmoid"], "half_sse", [0.7, -0.2], [0.9], 6)
    ),
}
BIG = validate(_doc([8] * 8, ["tanh", "relu", "sigmoid", "leaky_relu", "tanh", "identity", "sigmoid"], "half_sse",
                    [0.1 * k for k in range(8)], [0.5] * 8, 7))


def _run(scenario, sample=0, decimals=4):
    trace = engine.forward(scenario)
    grads = engine.backward(scenario, trace)
    return trace, grads, mx.matrix_steps(scenario, trace, grads, decimals=decimals, sample=sample)


def _all_latex(steps):
    out = []
    for s in steps:
        out += [s.latex_general, s.latex_numeric, *s.derivation, mx.highlighted_latex(s, 0, 0)]
    return out


# ---------------------------------------------------------------- values are the engine's


def _check_against_engine(scenario, sample):
    trace, grads, steps = _run(scenario, sample)
    L = scenario.n_layers
    expected = [("delta", L)]
    for l in range(L, 0, -1):
        expected += [("dE_dW", l), ("dE_db", l)] + ([("delta", l - 1)] if l > 1 else [])
    assert [(s.key, s.layer) for s in steps] == expected
    assert [s.index for s in steps] == list(range(len(steps)))
    for s in steps:
        if s.key == "delta":
            np.testing.assert_array_equal(s.value, grads.dE_dz[s.layer][sample])
        elif s.key == "dE_dW":
            np.testing.assert_array_equal(s.value, grads.dE_dW[s.layer - 1])
        else:
            np.testing.assert_array_equal(s.value, grads.dE_db[s.layer - 1])
        assert mx.step_index(scenario.layers, s.key, s.layer) == s.index
    return trace, grads, steps


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_step_value_is_the_engines(name):
    scenario = SCENARIOS[name]
    for sample in range(scenario.n_samples):
        _check_against_engine(scenario, sample)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_products_computed_here_equal_the_engines_arrays(name):
    """f'(z), the Jacobian product, the fused check and the outer products are computed in matrix.py: hold each
    against the engine."""
    scenario = SCENARIOS[name]
    n = scenario.n_samples
    outers: dict[int, list] = {}
    for sample in range(n):
        trace, grads, steps = _run(scenario, sample)
        for s in steps:
            computed = dict(s.computed)
            if s.key == "delta":
                delta, dE_da = grads.dE_dz[s.layer][sample], grads.dE_da[s.layer][sample]
                if "f_prime" in computed:  # elementwise: δ = ∇_a E ⊙ f'(z)
                    np.testing.assert_allclose(dE_da * computed["f_prime"], delta, rtol=0, atol=TOL)
                if "elementwise_product" in computed:
                    np.testing.assert_allclose(computed["elementwise_product"], delta, rtol=0, atol=TOL)
                if "jacobian" in computed:  # J = diag(o) − o oᵀ
                    o = trace.a[s.layer][sample]
                    np.testing.assert_allclose(computed["jacobian"], np.diag(o) - np.outer(o, o), rtol=0, atol=TOL)
                    np.testing.assert_allclose(computed["jacobian_product"], delta, rtol=0, atol=TOL)
            elif s.key == "dE_dW":
                outers.setdefault(s.layer, []).append(computed["outer"])
                if n > 1:
                    np.testing.assert_array_equal(s.sample_value, computed["outer"])
    # ∂E/∂W is the mean over samples of the per-sample outer products
    for l, products in outers.items():
        np.testing.assert_allclose(np.mean(products, axis=0), grads.dE_dW[l - 1], rtol=0, atol=TOL)


def test_batched_bias_step_shows_the_sample_and_the_engines_mean():
    scenario = SCENARIOS["softmax_ce_batch"]
    _, grads, steps = _run(scenario, sample=1)
    for s in steps:
        if s.key == "dE_db":
            np.testing.assert_array_equal(s.sample_value, grads.dE_dz[s.layer][1])
            assert r"\frac{1}{3}" in s.latex_numeric and "s=2" in s.latex_numeric
        if s.key == "dE_dW":
            assert any("mean" in note for note in s.notes)
        if s.key == "delta":
            assert "Sample 2 of 3" in s.notes[0]


# ---------------------------------------------------------------- the seed's numbers


def test_seed_latex_shows_the_seeds_numbers():
    _, _, steps = _run(SCENARIOS["seed"])
    delta2, dW2, db2, delta1, dW1, db1 = steps
    assert "0.1385" in delta2.latex_numeric and "-0.0381" in delta2.latex_numeric
    assert "0.7414" in delta2.derivation[0] and "0.1868" in delta2.derivation[1]  # ∇_a E, σ'(z)
    for number in ("0.0822", "0.0827", "-0.0226", "-0.0227", "0.5933"):
        assert number in dW2.latex_numeric
    assert "0.1385" in db2.latex_numeric
    # δ^{(1)} goes through W^{(2)ᵀ} (0.40 0.50 / 0.45 0.55: the transpose of the seed's W2)
    assert r"0.4000 & 0.5000 \\ 0.4500 & 0.5500" in delta1.latex_numeric
    assert "0.00877" in delta1.latex_numeric  # at least 3 significant figures
    # the inputs print with the same fixed decimals as every other number: 0.0500 0.1000
    assert r"\begin{bmatrix}0.0500 & 0.1000\end{bmatrix}" in dW1.latex_numeric
    assert "0.000439" in dW1.latex_numeric and "0.00995" in db1.latex_numeric


def test_titles_and_notes_are_plain_text():
    _, _, steps = _run(SCENARIOS["seed"])
    assert steps[0].title == "Output layer error δ⁽²⁾"
    assert steps[1].title == "Weight gradient ∂E/∂W⁽²⁾"
    assert all("\\" not in s.title for s in steps)


# ---------------------------------------------------------------- scalar parameters ↔ matrix entries


def test_entry_mapping_for_the_seed():
    layers = SCENARIOS["seed"].layers
    w5 = mx.matrix_entry_for(Weight(1, 0, 0), layers)
    assert (w5.step_index, w5.row, w5.col) == (1, 0, 0)
    assert w5.text == "∂E/∂w5 is entry (1,1) of ∂E/∂W⁽²⁾"
    w1 = mx.matrix_entry_for(Weight(0, 0, 0), layers)
    assert (w1.step_index, w1.row, w1.col) == (4, 0, 0)
    assert w1.text == "∂E/∂w1 is entry (1,1) of ∂E/∂W⁽¹⁾"
    w7 = mx.matrix_entry_for(Weight(1, 1, 0), layers)
    assert (w7.row, w7.col) == (1, 0) and "(2,1)" in w7.text
    b = mx.matrix_entry_for(Bias(1, 1), layers)
    assert (b.step_index, b.row, b.col) == (2, 1, 0) and b.text == "∂E/∂b_o2 is entry 2 of ∂E/∂b⁽²⁾"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_parameters_entry_holds_its_gradient(name):
    scenario = SCENARIOS[name]
    _, grads, steps = _run(scenario)
    for ref in engine.parameter_refs(scenario):
        entry = mx.matrix_entry_for(ref, scenario.layers)
        step = steps[entry.step_index]
        value = step.value[entry.row, entry.col] if step.value.ndim == 2 else step.value[entry.row]
        assert value == engine.gradient_of(grads, ref)
        assert step.layer == ref.layer + 1 and step.key == ("dE_dW" if isinstance(ref, Weight) else "dE_db")


def test_highlighted_entry_is_boxed_once():
    _, _, steps = _run(SCENARIOS["seed"])
    w5 = mx.matrix_entry_for(Weight(1, 0, 0), SCENARIOS["seed"].layers)
    latex = mx.highlighted_latex(steps[w5.step_index], w5.row, w5.col)
    assert latex.count(r"\boxed") == 1
    assert r"\boxed{\textcolor{#d62728}{0.0822}} & 0.0827" in latex
    assert latex.startswith(r"\frac{\partial E}{\partial W^{(2)}} = ")
    vector = mx.bmatrix([1.0, 2.0, 3.0], highlight=(2, 0))
    assert vector.endswith(r"\boxed{\textcolor{#d62728}{3}}\end{bmatrix}")


# ---------------------------------------------------------------- softmax and the fused losses


def test_softmax_cross_entropy_shows_o_minus_t_equal_to_delta():
    scenario = SCENARIOS["softmax_ce"]
    trace, grads, steps = _run(scenario)
    out = steps[0]
    o, t = trace.a[-1][0], trace.targets[0]
    np.testing.assert_allclose(o - t, out.value, rtol=0, atol=TOL)
    # the closed form, derived by SymPy (Σ_k ∂E/∂a_k ∂a_k/∂z_j with Σ t = 1), then in numbers: o − t
    assert out.latex_general.endswith("= a^{(2)} - t")
    assert out.latex_numeric == rf"\delta^{{(2)}} = {mx.bmatrix(o)} - {mx.bmatrix(t)} = {mx.bmatrix(o - t)}"
    derivation = " ".join(out.derivation)
    assert r"\sum_k \frac{\partial E}{\partial a_k}\frac{\partial a_k}{\partial z_j} = a^{(2)} - t" in derivation
    assert r"\operatorname{diag}(o) - o\,o^{\top}" in derivation
    # both sides in numbers: Jᵀ ∇_a E (the general rule) shows the same vector as o − t
    assert derivation.count(mx.bmatrix(o - t)) >= 1


def test_softmax_without_fused_loss_uses_the_jacobian():
    scenario = SCENARIOS["softmax_sse"]
    trace, grads, steps = _run(scenario)
    out = steps[0]
    J = dict(out.computed)["jacobian"]
    assert mx.bmatrix(J) in " ".join(out.derivation)
    assert out.latex_numeric.startswith(r"\delta^{(1)} = J^{\top}")
    np.testing.assert_allclose(J.T @ grads.dE_da[1][0], out.value, rtol=0, atol=TOL)


def test_sigmoid_bce_shows_o_minus_t_over_k():
    scenario = SCENARIOS["sigmoid_bce"]
    trace, grads, steps = _run(scenario)
    out = steps[0]
    o, t = trace.a[-1][0], trace.targets[0]
    np.testing.assert_allclose((o - t) / 2, out.value, rtol=0, atol=TOL)
    np.testing.assert_allclose(functions.LOSSES["bce"].fused.dE_dz(o, t), out.value, rtol=0, atol=TOL)
    # δ = (a − t)/K, derived by SymPy from ∂E/∂a ⊙ σ'(z) (the a(1 − a) cancels), then in numbers with K = 2
    shown = rf"\frac{{{mx.bmatrix(o)} - {mx.bmatrix(t)}}}{{2}}"
    assert out.latex_numeric == rf"\delta^{{(2)}} = {shown} = {mx.bmatrix((o - t) / 2)}"
    assert r"\left(a^{(2)} \odot \left(1 - a^{(2)}\right)\right) = \frac{a^{(2)} - t}{K}" in " ".join(out.derivation)


# ---------------------------------------------------------------- numbers in LaTeX


def test_number_formatting():
    assert mx.bmatrix([0.05, 0.10]) == r"\begin{bmatrix}0.0500 \\ 0.1000\end{bmatrix}"
    assert mx.bmatrix([[1.0, 0.0], [-2.0, 3.0]]) == r"\begin{bmatrix}1 & 0 \\ -2 & 3\end{bmatrix}"
    assert mx.bmatrix([-0.00001, 0.5], decimals=4) == r"\begin{bmatrix}-1.000 \times 10^{-5} \\ 0.5000\end{bmatrix}"
    assert mx.format_number(-0.0, 2) == "0"  # exactly zero says so
    assert mx.bmatrix([0.0, 0.25]) == r"\begin{bmatrix}0 \\ 0.2500\end{bmatrix}"
    assert mx.format_number(-0.00004, 4) == r"-4.000 \times 10^{-5}"  # small, not zero
    assert mx.bmatrix([0.123456], decimals=2) == r"\begin{bmatrix}0.123\end{bmatrix}"  # 3 significant figures
    assert mx.bmatrix([12.3456], decimals=2) == r"\begin{bmatrix}12.35\end{bmatrix}"
    assert mx.row_vector(np.array([1.5, -2.25])) == r"\begin{bmatrix}1.5000 & -2.2500\end{bmatrix}"


def test_decimals_and_sample_arguments():
    scenario = SCENARIOS["seed"]
    _, _, steps = _run(scenario, decimals=6)
    assert "0.082167" in steps[1].latex_numeric
    trace, grads = engine.forward(scenario), engine.backward(scenario)
    with pytest.raises(ValueError):
        mx.matrix_steps(scenario, trace, grads, sample=1)
    with pytest.raises(ValueError):
        mx.matrix_steps(scenario, trace, grads, decimals=-1)


# ---------------------------------------------------------------- LaTeX well-formed


def _balanced(latex: str) -> bool:
    """Braces balanced (escaped \\{ \\} ignored), \\begin/\\end properly nested, \\left/\\right paired."""
    depth = 0
    for token in re.findall(r"\\[{}]|[{}]", latex):
        if token in ("{", "}"):
            depth += 1 if token == "{" else -1
            if depth < 0:
                return False
    if depth:
        return False
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{(\w+\*?)\}", latex):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            return False
    return not stack and len(re.findall(r"\\left\b", latex)) == len(re.findall(r"\\right\b", latex))


def test_balance_checker_rejects_broken_latex():
    assert _balanced(r"\begin{bmatrix}1 & \{2\}\end{bmatrix}")
    assert not _balanced(r"\begin{bmatrix}1")
    assert not _balanced(r"\begin{bmatrix}1\end{aligned}")
    assert not _balanced(r"\frac{1}{2")
    assert not _balanced(r"\left(1")


@pytest.mark.parametrize("name", [*SCENARIOS, "big"])
def test_latex_is_balanced(name):
    scenario = BIG if name == "big" else SCENARIOS[name]
    for sample in {0, scenario.n_samples - 1}:
        for latex in _all_latex(_run(scenario, sample)[2]):
            assert _balanced(latex), latex


def _katex_module() -> str | None:
    """Streamlit's own bundled KaTeX (what st.latex renders with), if present."""
    import streamlit

    found = glob.glob(os.path.join(os.path.dirname(streamlit.__file__), "static", "static", "js", "katex.*.js"))
    return found[0] if found else None


@pytest.mark.skipif(shutil.which("node") is None or _katex_module() is None, reason="needs node and Streamlit's KaTeX")
def test_katex_parses_every_formula(tmp_path: Path):
    """Parse every formula with the KaTeX that Streamlit ships (throwOnError, strict) in node: what st.latex does."""
    shutil.copy(_katex_module(), tmp_path / "katex.mjs")
    (tmp_path / "check.mjs").write_text(
        "import katex from './katex.mjs';\nimport { readFileSync } from 'fs';\n"
        "const errors = [];\n"
        "for (const s of JSON.parse(readFileSync(0, 'utf8'))) {\n"
        "  try { katex.renderToString(s, { throwOnError: true, displayMode: true, strict: 'error' }); }\n"
        "  catch (e) { errors.push([s.slice(0, 160), String(e.message)]); }\n}\n"
        "console.log(JSON.stringify(errors));\n"
    )
    items = ["a^{x}^{y}"]  # a known-bad formula proves the checker reports errors
    for scenario in [*SCENARIOS.values(), BIG]:
        items += _all_latex(_run(scenario, scenario.n_samples - 1)[2])
    result = subprocess.run(["node", str(tmp_path / "check.mjs")], input=json.dumps(items), capture_output=True,
                            text=True, timeout=60, check=True)
    errors = json.loads(result.stdout)
    assert [e[0] for e in errors] == ["a^{x}^{y}"], errors[1:]


# ---------------------------------------------------------------- size and speed


def test_eight_by_eight_matrices_render_compactly():
    trace, grads, steps = _run(BIG)
    assert max(s.value.shape[0] for s in steps) == 8
    w = steps[1]
    assert w.value.shape == (8, 8)
    # wide: one "=" per line (2 alignment &s), then the row vector aᵀ (7 &s) and the 8×8 result (8 · 7 &s)
    assert w.latex_numeric.startswith(r"\begin{aligned} \frac{\partial E}{\partial W^{(7)}} &= ")
    assert w.latex_numeric.count("&") == 2 + 7 + 8 * 7
    _, _, seed_steps = _run(SCENARIOS["seed"])
    assert r"\begin{aligned}" not in seed_steps[1].latex_numeric  # narrow: one line
    # every number 3 significant figures or 4 decimals (at most "-0.001234") or a short power of ten
    numbers = re.findall(r"-?\d+\.\d+", w.latex_numeric)
    assert numbers and all(len(x.lstrip("-")) <= 8 for x in numbers)


# ---------------------------------------------------------------- property: any small network


@st.composite
def networks(draw):
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    out_act = draw(st.sampled_from(["sigmoid", "tanh", "identity", "softmax"]))
    n_out = draw(st.integers(2 if out_act == "softmax" else 1, 3))
    layers = [draw(st.integers(1, 3)), *hidden, n_out]
    acts = [draw(st.sampled_from(functions.HIDDEN_ACTIVATIONS)) for _ in hidden] + [out_act]
    if out_act == "softmax":
        loss = draw(st.sampled_from(["cross_entropy", "half_sse"]))
    elif out_act == "sigmoid":
        loss = draw(st.sampled_from(["bce", "mse", "half_sse"]))
    else:
        loss = draw(st.sampled_from(["mse", "half_sse"]))
    n = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    targets = rng.uniform(0, 1, (n, n_out))
    if loss == "cross_entropy":
        targets = targets / targets.sum(axis=1, keepdims=True)
    doc = _doc(layers, acts, loss, rng.uniform(-2, 2, (n, layers[0])).tolist(), targets.tolist(),
               draw(st.integers(0, 2**16)))
    return validate(doc)


@settings(max_examples=40, deadline=None)
@given(networks(), st.integers(0, 2))
def test_any_small_network_matches_the_engine_and_is_balanced(scenario, sample):
    sample = min(sample, scenario.n_samples - 1)
    trace, grads, steps = _check_against_engine(scenario, sample)
    for latex in _all_latex(steps):
        assert _balanced(latex), latex
    for ref in engine.parameter_refs(scenario):
        entry = mx.matrix_entry_for(ref, scenario.layers)
        value = steps[entry.step_index].value
        assert (value[entry.row, entry.col] if value.ndim == 2 else value[entry.row]) == engine.gradient_of(grads, ref)
