"""The gradient as a slope and the loss landscape: every point is the engine's E, the tangent's slope is the engine's
gradient, the step lands where p − η·∂E/∂p says, and nothing non-finite reaches a chart without words."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from bpviz import config, engine, landscape, numbers, training
from bpviz.figures.landscape import landscape_figure, slope_figure
from bpviz.ids import Bias, Weight
from bpviz.naming import names_for
from bpviz.numbers import Style

from .apptest_util import array
from .strategies import extreme_scenarios
from .test_engine import PAIRS, random_scenario

SLOPE_TOLERANCE = 1e-9  # the bound: the tangent's slope equals the engine's gradient to 1e-9


def loss_with(s: config.Scenario, changes: dict) -> float:
    """The independent reference: a copy of the parameters with some entries replaced, through engine.loss_value."""
    W, B = [w.copy() for w in s.weights], [b.copy() for b in s.biases]
    for ref, value in changes.items():
        ref.write(W, B, value)
    return engine.loss_value(s, W, B)


def scenarios():
    """Every preset and a random network of every activation × loss pairing (deep, several samples)."""
    out = [(name, config.preset(name)) for name in config.preset_names()]
    for hidden, act, loss in PAIRS:
        rng = np.random.default_rng(zlib.crc32(f"landscape {hidden} {act} {loss}".encode()))
        out.append((f"{hidden}-{act}-{loss}", random_scenario(rng, hidden, act, loss, n_hidden_layers=3,
                                                             n_samples=3)))
    return out


SCENARIOS = scenarios()


@pytest.mark.parametrize("name, s", SCENARIOS, ids=[n for n, _ in SCENARIOS])
def test_every_point_of_every_curve_is_the_engines_loss(name, s):
    for ref in engine.parameter_refs(s):
        curve = landscape.slope_curve(s, ref, points=21)
        for p, drawn in zip(curve.p, curve.E):
            assert drawn == pytest.approx(loss_with(s, {ref: p}), rel=1e-13, abs=1e-15)
        now = curve.E0
        assert now == pytest.approx(engine.forward(s).loss, rel=1e-13, abs=1e-15)
        assert curve.p0 == engine.value_of(s, ref) and curve.p[len(curve.p) // 2] == curve.p0


@pytest.mark.parametrize("name, s", SCENARIOS, ids=[n for n, _ in SCENARIOS])
def test_the_tangent_is_the_engines_gradient_and_the_step_lands_where_the_update_says(name, s):
    grads = engine.backward(s)
    names, style = names_for(s.layers), Style()
    for ref in engine.parameter_refs(s):
        curve = landscape.slope_curve(s, ref, grads=grads)
        g = engine.gradient_of(grads, ref)
        fig = json.loads(slope_figure(curve, names, style, s.n_samples).to_json())
        tangent = _trace(fig, "tangent")
        (x0, x1), (y0, y1) = array(tangent["x"]), array(tangent["y"])
        assert (y1 - y0) / (x1 - x0) == pytest.approx(g, rel=SLOPE_TOLERANCE, abs=SLOPE_TOLERANCE)
        assert tangent["meta"]["slope"] == g
        landing = _trace(fig, "landing")
        if not curve.moves:  # a fixed bias (Mazur's example): nothing lands anywhere
            assert landing is None and curve.p1 == curve.p0
            continue
        assert landing["x"] == [engine.value_of(engine.step(s).after, ref)]  # the scenario's own update step
        assert landing["y"][0] == pytest.approx(loss_with(s, {ref: curve.p1}), rel=1e-13, abs=1e-15)
        drawn = array(_trace(fig, "curve")["x"])
        lo, hi = drawn.min(), drawn.max()
        assert lo <= curve.p1 <= hi, "the landing point is inside the chart"


def test_the_landing_point_follows_the_scenarios_update_rules():
    """Mazur's example: biases fixed (a bias does not move: no landing point, words instead) and output-layer-first
    updates (a hidden weight lands where engine.step puts it, not at p − η·∂E/∂p)."""
    s = config.preset("mazur")
    assert not s.train_biases and s.update_order == "output_first"
    after = engine.step(s).after
    w1, b = Weight(0, 0, 0), Bias(0, 0)
    curve = landscape.slope_curve(s, w1)
    assert curve.p1 == engine.value_of(after, w1) != curve.p0 - s.learning_rate * curve.dE_dp
    fig = slope_figure(landscape.slope_curve(s, b), names_for(s.layers), Style(), s.n_samples)
    data = json.loads(fig.to_json())
    assert _trace(data, "landing") is None and _trace(data, "step") is None
    assert any("not trained" in a.text for a in fig.layout.annotations)


def test_several_samples_say_the_slope_is_their_mean():
    s = config.preset("xor_2_2_1")
    curve = landscape.slope_curve(s, Weight(1, 0, 0))
    fig = json.loads(slope_figure(curve, names_for(s.layers), Style(), s.n_samples).to_json())
    assert "mean over the 4 samples" in _trace(fig, "tangent")["name"]


def test_the_slope_is_the_derivative_of_the_curve_itself():
    """An independent check of the tangent: central differences of the curve's own E around p₀ (seed, every
    parameter) agree with the slope drawn."""
    s = config.preset("seed")
    for ref in engine.parameter_refs(s):
        curve = landscape.slope_curve(s, ref)
        h = 1e-5
        E_minus, E_plus = landscape.losses_at(s, [ref], [curve.p0 - h, curve.p0 + h])
        assert (E_plus - E_minus) / (2 * h) == pytest.approx(curve.dE_dp, rel=1e-7, abs=1e-10)


def test_seed_w5_matches_the_seeds_published_gradient():
    """The seed's own numbers: ∂E/∂w5 = 0.082167 (the worked example), and one step with η = 0.5 lands at 0.358916."""  # noqa: E501
    s = config.preset("seed")
    curve = landscape.slope_curve(s, Weight(1, 0, 0))
    assert curve.dE_dp == pytest.approx(0.08216704, abs=1e-8)
    assert curve.p1 == pytest.approx(0.35891648, abs=1e-8)
    now = curve.E0
    assert now == pytest.approx(0.298371109, abs=1e-9)
    assert curve.E1 < curve.E0  # the step goes downhill


def test_the_range_holds_three_steps_either_side():
    s = config.preset("seed").replace(learning_rate=100.0)
    curve = landscape.slope_curve(s, Weight(0, 0, 0))
    step = abs(curve.p1 - curve.p0)
    assert curve.p[-1] - curve.p0 >= landscape.STEP_SPAN * step - 1e-12
    assert curve.p0 - curve.p[0] >= landscape.STEP_SPAN * step - 1e-12


@pytest.mark.parametrize("name", config.preset_names())
def test_the_landscape_grid_is_the_engines_loss_and_spans_the_path(name):
    s = config.preset(name)
    result = training.train(s, 300, record_every=10)
    refs = landscape.default_pair(s, np.abs(result.params[-1] - result.params[0]))
    idx = [list(result.refs).index(r) for r in refs]
    path = result.params[:, idx]
    land = landscape.landscape(s, refs, path, points=13)
    for i in (0, 6, 12):
        for j in (0, 5, 12):
            assert land.E[i, j] == pytest.approx(loss_with(s, {refs[0]: land.x[j], refs[1]: land.y[i]}),
                                                 rel=1e-13, abs=1e-15)
    assert land.x[0] < path[:, 0].min() and land.x[-1] > path[:, 0].max()
    assert land.y[0] < path[:, 1].min() and land.y[-1] > path[:, 1].max()
    grads = engine.backward(s)
    assert land.gradient == (engine.gradient_of(grads, refs[0]), engine.gradient_of(grads, refs[1]))


def test_the_landscape_figure_draws_the_projected_path_and_says_so():
    s = config.preset("xor_2_4_1")
    result = training.train(s, 500, record_every=5)
    refs = landscape.default_pair(s, np.abs(result.params[-1] - result.params[0]))
    path = result.params[:, [list(result.refs).index(r) for r in refs]]
    land = landscape.landscape(result.final, refs, path)
    fig = json.loads(landscape_figure(land, names_for(s.layers), Style(), "the end").to_json())
    drawn = _trace(fig, "path")
    np.testing.assert_array_equal(array(drawn["x"]), path[:, 0])
    np.testing.assert_array_equal(array(drawn["y"]), path[:, 1])
    assert _trace(fig, "point")["x"] == [engine.value_of(result.final, refs[0])]
    assert any("projected" in a.get("text", "") for a in fig["layout"]["annotations"])
    arrow = next(a for a in fig["layout"]["annotations"] if a.get("name") == "descent")
    g = land.gradient
    direction = np.array([arrow["x"] - arrow["ax"], arrow["y"] - arrow["ay"]])
    assert np.dot(direction, g) < 0  # downhill
    assert abs(direction[0] * g[1] - direction[1] * g[0]) <= 1e-9 * np.linalg.norm(direction) * np.linalg.norm(g)
    surface = _trace(fig, "landscape")
    np.testing.assert_array_equal(array(surface["customdata"]), land.E)


def test_without_a_run_there_is_no_path_and_no_projection_note():
    s = config.preset("seed")
    land = landscape.landscape(s, (Weight(1, 0, 0), Bias(1, 0)))
    fig = json.loads(landscape_figure(land, names_for(s.layers), Style(), "now").to_json())
    assert _trace(fig, "path") is None
    assert not any("projected" in a.get("text", "") for a in fig["layout"].get("annotations", []))


def test_default_pair_prefers_what_moved_then_the_largest_gradient():
    s = config.preset("seed")
    refs = engine.parameter_refs(s)
    moved = np.zeros(len(refs))
    moved[[3, 9]] = [2.0, 1.0]
    assert landscape.default_pair(s, moved) == (refs[3], refs[9])
    grads = engine.backward(s)
    sizes = [abs(engine.gradient_of(grads, r)) for r in refs]
    top = sorted(np.argsort(sizes)[-2:])
    assert landscape.default_pair(s) == (refs[top[0]], refs[top[1]])


def test_a_step_beyond_the_parameter_limit_is_said_in_words_not_drawn():
    """Weights at the limit with identity units and η = 100: one step would put w5 near −8e32, far beyond the ±1e6
    a parameter may hold; the chart draws the curve and the tangent, no landing point, and says why."""
    doc = {**config.SEED_DOCUMENT, "activations": ["identity", "identity"],
           "weights": [[[1e6, 1e6], [1e6, 1e6]], [[1e6, 1e6], [1e6, 1e6]]], "inputs": [1e6, 1e6],
           "learning_rate": 100.0}
    s = config.validate(doc)
    curve = landscape.slope_curve(s, Weight(1, 0, 0))
    assert abs(curve.p1) > config.MAX_ABS_NUMBER and not curve.lands
    fig = slope_figure(curve, names_for(s.layers), Style(), 1)
    data = json.loads(fig.to_json())
    _assert_finite_or_gap(data)
    assert _trace(data, "landing") is None and _trace(data, "tangent") is not None
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "beyond ±1e+06" in notes and f"w5 to {numbers.text(curve.p1)}," in notes


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(extreme_scenarios())
def test_any_valid_scenario_gives_a_strict_json_chart(s):
    ref = engine.parameter_refs(s)[-1]
    with np.errstate(all="ignore"):
        curve = landscape.slope_curve(s, ref)
        land = landscape.landscape(s, tuple(engine.parameter_refs(s)[:2]), points=9)
    for fig in (slope_figure(curve, names_for(s.layers), Style(), s.n_samples),
                landscape_figure(land, names_for(s.layers), Style(), "now")):
        _assert_finite_or_gap(json.loads(fig.to_json()))


def _trace(fig: dict, key: str) -> dict | None:
    return next((tr for tr in fig["data"] if (tr.get("meta") or {}).get("key") == key), None)


def _assert_finite_or_gap(fig: dict) -> None:
    """No infinity anywhere in the figure; NaN only as a gap in a drawn curve or surface (Plotly leaves it blank),
    and every text finite."""
    text = json.dumps(fig)
    assert "Infinity" not in text and "NaN" not in text
    for tr in fig["data"]:
        for axis in ("x", "y", "z", "customdata"):
            if axis in tr:
                values = array(tr[axis]).astype(float)
                assert not np.isinf(values).any(), (tr["meta"], axis)


def test_a_landing_point_beyond_float64_is_said_to_be_so():
    """Found by the page fuzzer: output-first updates through weights of 1e6 give a new value that is undefined (NaN);
    the chart names float64 beside the word, as every place that shows one must."""
    doc = {"layers": [3, 1, 1, 1, 1, 2], "activations": ["identity"] * 5, "loss": "mse",
           "weights": [[[0.0, 0.0, 0.0]], [[1e6]], [[1.0]], [[1.0]], [[0.0], [1e6]]],
           "biases": [[16.0], [0.0], [0.0], [0.0], [0.0, 0.0]], "inputs": [0.0, 0.0, 0.0], "targets": [0.0, 0.0],
           "learning_rate": 0.5, "train_biases": False, "update_order": "output_first"}
    s = config.validate(doc)
    with np.errstate(all="ignore"):
        curve = landscape.slope_curve(s, Weight(0, 0, 0))
    assert not np.isfinite(curve.p1)
    notes = " ".join(a.text for a in slope_figure(curve, names_for(s.layers), Style(), 1).layout.annotations)
    assert "float64" in notes and numbers.text(curve.p1) in notes
