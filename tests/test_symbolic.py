"""The SymPy layer against the engine: sympy.diff of the whole loss, the mirrored tables, and the chain rules."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sympy as sp

from bpviz import config, engine, functions
from bpviz.ids import Bias, Weight
from bpviz.symbolic import (
    PATH_COLOURS,
    ChainRule,
    activation_expr,
    chain_rule,
    format_number,
    forms,
    loss_expression,
    net_symbols,
)

# from the records, so a new activation or loss is covered by every test below without editing them
ELEMENTWISE = tuple(name for name, a in functions.ACTIVATIONS.items() if a.elementwise)
KINKED = tuple(name for name, a in functions.ACTIVATIONS.items() if a.kink is not None)
# every valid (output activation, loss) pairing
PAIRINGS = [(a, loss) for a in functions.output_activations(2) for loss in functions.LOSS_NAMES
            if functions.LOSSES[loss].pairing_problem(a, 2) is None]


def make_scenario(layers, activations, loss, n=1, seed=0, lr=0.5) -> config.Scenario:
    """A random valid scenario; re-drawn until no relu / leaky_relu net input sits near its kink at 0."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        W = [rng.uniform(-1, 1, (layers[l + 1], layers[l])).round(3).tolist() for l in range(len(layers) - 1)]
        B = [rng.uniform(-1, 1, layers[l + 1]).round(3).tolist() for l in range(len(layers) - 1)]
        X = rng.uniform(-1, 1, (n, layers[0])).round(3)
        if functions.LOSSES[loss].targets_sum_to_one:
            T = np.eye(layers[-1])[rng.integers(0, layers[-1], n)]
        else:
            T = rng.uniform(0.05, 0.95, (n, layers[-1])).round(3)
        doc = dict(layers=list(layers), activations=list(activations), loss=loss, weights=W, biases=B,
                   inputs=X.tolist() if n > 1 else X[0].tolist(), targets=T.tolist() if n > 1 else T[0].tolist(),
                   learning_rate=lr)
        sc = config.validate(doc)
        tr = engine.forward(sc)
        if all(np.abs(tr.z[l + 1]).min() > 1e-3 for l, a in enumerate(activations) if a in KINKED):
            return sc
    raise AssertionError("could not draw a scenario away from the relu kink")


def random_configs(count: int, seed: int, max_hidden: int = 2, max_width: int = 3):
    """Seeded random architectures: every pairing, 0..max_hidden hidden layers of random activations."""
    rnd = random.Random(seed)
    out = []
    with_hidden = 0  # the first hidden layers cycle through every activation, so each one is covered
    for i in range(count):
        out_act, loss = PAIRINGS[i % len(PAIRINGS)]
        hidden = i % (max_hidden + 1)
        width = max_width if hidden < 2 else 2  # keeps the deepest expressions small enough to diff quickly
        n_out = rnd.randint(functions.ACTIVATIONS[out_act].min_units, width)
        layers = tuple([rnd.randint(1, width) for _ in range(hidden + 1)] + [n_out])
        first = [ELEMENTWISE[with_hidden % len(ELEMENTWISE)]] if hidden else []
        with_hidden += bool(hidden)
        acts = tuple(first + [rnd.choice(ELEMENTWISE) for _ in range(hidden - 1)] + [out_act])
        out.append((layers, acts, loss, rnd.randrange(10**6)))
    return out


def values_of(sc: config.Scenario, sample: int = 0) -> dict[sp.Symbol, float]:
    """Every input, target and parameter symbol of the scenario -> its number."""
    sy = net_symbols(sc.layers)
    vals = {s: float(v) for s, v in zip(sy.inputs, sc.inputs[sample])}
    vals.update({s: float(v) for s, v in zip(sy.targets, sc.targets[sample])})
    for ref in engine.parameter_refs(sc):
        vals[sy.param(ref)] = engine.value_of(sc, ref)
    return vals


def close(a: float, b: float, rel: float = 1e-12, floor: float = 1e-6) -> bool:
    """|a - b| <= rel · max(|a|, |b|, floor): relative, with a small absolute floor for tiny gradients."""
    return abs(a - b) <= rel * max(abs(a), abs(b), floor)


SEED = config.preset("seed")
N_CONFIGS = max(28, 2 * len(PAIRINGS), 3 * len(ELEMENTWISE))  # every pairing twice, every hidden activation


# ---------------------------------------------------------------- (a) sympy.diff of E against engine.backward


def _check_against_diff(sc: config.Scenario) -> None:
    E = loss_expression(sc.architecture)
    sy = net_symbols(sc.layers)
    vals = values_of(sc)
    refs = engine.parameter_refs(sc)
    params = {sy.param(r) for r in refs}
    # inputs and targets are constants of the differentiation: fix them first (a smaller tree to diff)
    E_x = E.xreplace({s: sp.Float(v) for s, v in vals.items() if s not in params})
    at = {s: sp.Float(v) for s, v in vals.items()}
    g = engine.backward(sc)
    for ref in refs:
        expected = float(sp.diff(E_x, sy.param(ref)).xreplace(at))
        got = engine.gradient_of(g, ref)
        assert close(got, expected), (sc.architecture, ref, got, expected)
    # and the loss itself
    assert close(float(E.xreplace(at)), engine.forward(sc).loss)


def test_seed_gradients_equal_sympy_diff():
    _check_against_diff(SEED)


@pytest.mark.parametrize("layers,acts,loss,seed", random_configs(N_CONFIGS, seed=1))
def test_random_nets_gradients_equal_sympy_diff(layers, acts, loss, seed):
    _check_against_diff(make_scenario(layers, acts, loss, seed=seed))


# ---------------------------------------------------------------- (b) the mirrored tables agree


def test_each_records_sympy_expression_is_its_numpy_function():
    z = sp.Symbol("z", real=True)
    points = np.array([-2.3, -0.7, -0.01, 0.02, 0.5, 1.9])
    for name, act in functions.ACTIVATIONS.items():
        if not act.elementwise:
            continue
        f = sp.lambdify(z, activation_expr(name, z), "math")
        np.testing.assert_allclose([f(float(p)) for p in points], act.f(points), rtol=1e-14, atol=0)
    zs = sp.symbols("z1:4", real=True)
    soft = sp.lambdify(zs, [activation_expr("softmax", v, list(zs)) for v in zs], "math")
    for row in ([0.1, -0.4, 1.2], [2.0, 2.0, -1.0]):
        np.testing.assert_allclose(soft(*row), functions.ACTIVATIONS["softmax"].f(np.array(row)), rtol=1e-14)
    o, t = sp.symbols("o t", real=True)
    outs, targets = np.array([[0.2, 0.7, 0.1]]), np.array([[0.0, 1.0, 0.0]])
    for loss in functions.LOSSES.values():
        share = sp.lambdify((o, t), loss.expr(o, t, 3), "math")
        expected = loss.share(outs, targets)[0]
        np.testing.assert_allclose([share(a, b) for a, b in zip(outs[0], targets[0])], expected, rtol=1e-14)


# ---------------------------------------------------------------- (c) chain rules


def _factor_number(sc, sample, fm, factor) -> float | None:
    """A factor's general form evaluated (lambdify) with the scenario's numbers: an independent check of the
    value the chain rule read from the engine."""
    if factor.general_expr is None:
        return None
    from bpviz.symbolic import Numbers

    nums = Numbers(sc, engine.forward(sc), engine.backward(sc), sample)
    syms = sorted(factor.general_expr.free_symbols, key=str)
    return float(sp.lambdify(syms, factor.general_expr, "math")(*[nums.num(fm.sources[s]) for s in syms]))


def _check_chains(sc: config.Scenario, sample: int = 0) -> None:
    tr = engine.forward(sc)
    g = engine.backward(sc, tr)
    fm = forms(sc.architecture)
    for ref in engine.parameter_refs(sc):
        c = chain_rule(sc, tr, g, ref, sample=sample)
        assert isinstance(c, ChainRule) and c.ref == ref
        total = sum(math.prod(f.value for f in term) for term in c.terms)
        per_sample = g.dE_dz[ref.layer + 1][sample, ref.row] * (tr.a[ref.layer][sample, ref.col]
                                                                  if isinstance(ref, Weight) else 1.0)
        assert close(total, per_sample, rel=1e-12, floor=1e-9), (ref, total, per_sample)
        assert close(c.value, per_sample, rel=1e-15, floor=1e-12)
        assert c.batch_value == engine.gradient_of(g, ref)
        assert c.lhs_latex in c.symbolic_latex and c.lhs_latex in c.numeric_latex and c.lhs_latex in c.general_latex
        for term in c.terms:
            for f in term:
                expected = _factor_number(sc, sample, fm, f)
                if expected is not None:
                    assert close(f.value, expected, rel=1e-9, floor=1e-9), (ref, f.symbol_latex, f.value, expected)


def test_seed_chain_rules_multiply_to_the_engine_gradient():
    _check_chains(SEED)


@pytest.mark.parametrize("layers,acts,loss,seed", random_configs(14, seed=2, max_hidden=3))
def test_random_chain_rules_multiply_to_the_engine_gradient(layers, acts, loss, seed):
    _check_chains(make_scenario(layers, acts, loss, seed=seed))


def test_batched_chain_is_one_sample_and_exposes_the_mean():
    sc = make_scenario((2, 3, 2), ("tanh", "sigmoid"), "bce", n=4, seed=5)
    _check_chains(sc, sample=2)
    tr, g = engine.forward(sc), engine.backward(sc)
    ref = Weight(0, 1, 0)
    values = [chain_rule(sc, tr, g, ref, sample=s).value for s in range(4)]
    c = chain_rule(sc, tr, g, ref, sample=1)
    assert c.n_samples == 4 and c.sample == 1
    assert close(float(np.mean(values)), c.batch_value)
    with pytest.raises(IndexError):
        chain_rule(sc, tr, g, ref, sample=4)


def test_sigmoid_factor_is_derived_as_out_times_one_minus_out():
    tr, g = engine.forward(SEED), engine.backward(SEED)
    c = chain_rule(SEED, tr, g, Weight(1, 0, 0))
    f = c.terms[0][1]
    out = net_symbols(SEED.layers).out[2][0]
    assert sp.simplify(f.general_expr - out * (1 - out)) == 0
    assert f.general_latex == r"out_{o1} \left(1 - out_{o1}\right)"
    assert f.numeric_latex == r"0.7514 \cdot \left(1 - 0.7514\right)"


def test_seed_w5_chain_has_the_three_named_factors():
    tr, g = engine.forward(SEED), engine.backward(SEED)
    c = chain_rule(SEED, tr, g, Weight(1, 0, 0))
    assert c.lhs_latex == r"\frac{\partial E}{\partial w_{5}}"
    assert len(c.terms) == 1 and len(c.terms[0]) == 3
    names = [f.symbol_latex for f in c.terms[0]]
    assert names == [r"\frac{\partial E}{\partial out_{o1}}", r"\frac{\partial out_{o1}}{\partial net_{o1}}",
                     r"\frac{\partial net_{o1}}{\partial w_{5}}"]
    # the seed's own derivation: 0.74136507, 0.186815602, 0.593269992
    assert [format_number(f.value, 4) for f in c.terms[0]] == ["0.7414", "0.1868", "0.5933"]
    assert abs(c.terms[0][0].value - 0.74136507) < 1e-8
    assert abs(c.terms[0][1].value - 0.186815602) < 1e-9
    assert abs(c.terms[0][2].value - 0.593269992) < 1e-9
    assert [f.general_latex for f in c.terms[0]] == [r"out_{o1} - t_{1}", r"out_{o1} \left(1 - out_{o1}\right)",
                                                     "out_{h1}"]
    assert c.numeric_latex.endswith(r"0.7414 \cdot 0.1868 \cdot 0.5933 = 0.0822")
    assert abs(c.value - 0.0821670406) < 1e-10


def test_seed_w1_chain_sums_two_output_paths():
    tr, g = engine.forward(SEED), engine.backward(SEED)
    c = chain_rule(SEED, tr, g, Weight(0, 0, 0))
    assert len(c.terms) == 2 and all(len(t) == 5 for t in c.terms)
    # the two paths, each in its colour (the graph draws them in the same colours)
    share = [rf"\frac{{\partial E_{{o{k + 1}}}}}{{\partial out_{{h1}}}}" for k in (0, 1)]
    path = [rf"\textcolor{{{PATH_COLOURS[k]}}}{{{share[k]}}}" for k in (0, 1)]
    assert f"{path[0]} + {path[1]}" in c.symbolic_latex
    assert [t[2].general_latex for t in c.terms] == ["w_{5}", "w_{7}"]
    assert abs(c.value - 0.0004385677) < 1e-10
    # ∂E/∂out_h1 = 0.036350 on its own line, then the chain with that one number
    assert c.intermediate_latex.startswith(r"\frac{\partial E}{\partial out_{h1}} = ")
    assert c.intermediate_latex.endswith(r"0.5000} = 0.0364")
    assert r"0.7414 \cdot 0.1868 \cdot 0.4000" in c.intermediate_latex
    assert abs(sum(math.prod(f.value for f in t[:3]) for t in c.terms) - 0.0363503) < 1e-7
    assert c.numeric_latex == r"\frac{\partial E}{\partial w_{1}} = 0.0364 \cdot 0.2413 \cdot 0.0500 = 0.000439"


def test_softmax_cross_entropy_delta_is_out_minus_t():
    sc = make_scenario((2, 3, 3), ("tanh", "softmax"), "cross_entropy", seed=3)
    tr, g = engine.forward(sc), engine.backward(sc)
    c = chain_rule(sc, tr, g, Weight(1, 1, 2))
    assert len(c.terms) == 1
    assert c.terms[0][0].general_latex == r"out_{o2} - t_{2}"
    assert c.terms[0][0].symbol_latex == r"\frac{\partial E}{\partial net_{o2}}"
    # without the fused loss, ∂E/∂net_j sums over every output
    sc2 = make_scenario((2, 3, 3), ("tanh", "softmax"), "half_sse", seed=3)
    c2 = chain_rule(sc2, engine.forward(sc2), engine.backward(sc2), Weight(1, 1, 2))
    assert len(c2.terms) == 3
    assert c2.terms[0][1].general_latex == r"- out_{o1} out_{o2}"


def test_deep_net_uses_the_delta_recursion():
    sc = make_scenario((2, 3, 3, 3, 2), ("sigmoid", "tanh", "relu", "sigmoid"), "half_sse", seed=4)
    tr, g = engine.forward(sc), engine.backward(sc)
    c = chain_rule(sc, tr, g, Weight(0, 1, 0))
    assert len(c.terms) == 3  # one term per neuron of the next layer, not one per path to the outputs
    assert r"\delta^{(1)}_{2} &= " in c.symbolic_latex and r"\delta^{(2)}_{3}" in c.symbolic_latex


def test_numbers_are_formatted_and_negatives_parenthesised():
    assert format_number(0.15) == "0.1500" and format_number(0.37749999) == "0.3775" and format_number(-1e-13) != "0"
    assert format_number(1.0) == "1" and format_number(-0.00001, 3) == r"-1.00 \times 10^{-5}"
    assert format_number(0.000438568) == "0.000439"  # ∂E/∂w1 of the seed: 3 significant figures, not 0.0004
    tr, g = engine.forward(SEED), engine.backward(SEED)
    c = chain_rule(SEED, tr, g, Weight(1, 1, 0))  # w7: ∂E/∂out_o2 < 0
    assert c.numeric_latex.endswith(r"\left(-0.2171\right) \cdot 0.1755 \cdot 0.5933 = -0.0226")
    assert chain_rule(SEED, tr, g, Weight(1, 1, 0), decimals=2).numeric_latex.endswith("= -0.0226")


def test_relu_factor_shows_the_branch_that_applies():
    sc = make_scenario((2, 2, 1), ("relu", "identity"), "half_sse", seed=8)
    tr, g = engine.forward(sc), engine.backward(sc)
    for j in range(2):
        f = chain_rule(sc, tr, g, Bias(0, j)).terms[0][3]
        z = tr.z[1][0, j]
        assert f.value == (1.0 if z > 0 else 0.0)
        assert f.numeric_latex.startswith("1 " if z > 0 else "0 ") and (">" in f.numeric_latex) == (z > 0)


def test_random_configs_cover_every_pairing_and_hidden_activation():
    cfgs = random_configs(N_CONFIGS, seed=1)
    assert {(acts[-1], loss) for _, acts, loss, _ in cfgs} == set(PAIRINGS)
    assert {a for _, acts, _, _ in cfgs for a in acts[:-1]} == set(ELEMENTWISE)
    assert {len(layers) - 2 for layers, _, _, _ in cfgs} == {0, 1, 2}
