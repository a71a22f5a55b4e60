"""Gradient size per layer: the sizes against the engine's arrays, the deep presets' lessons against their numbers,
and the chart (log axis; zeros and values beyond float64 said in words, never drawn)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz import engine
from bpviz.builder import build_scenario, initial_parameters
from bpviz.config import MAX_HIDDEN_LAYERS, MAX_NEURONS, preset, validate
from bpviz.figures.gradients import gradient_sizes_figure, gradient_sizes_spec
from bpviz.functions import ACTIVATIONS, HIDDEN_ACTIVATIONS
from bpviz.gradient_sizes import (
    DEEP_PRESETS,
    RELU_HE,
    SATURATED,
    SATURATED_NET,
    VANISHING,
    GradientSizes,
    about,
    deep_preset_of,
    frobenius,
    gradient_sizes,
    mean_abs,
    preset_lesson,
    ratio_sentence,
    saturated_share,
    spread,
)
from bpviz.numbers import Style

from .strategies import extreme_documents, fixed_architectures
from .test_fuzz import RAW_NON_FINITE

REL = 1e-12  # the sizes are sums of squares / of |δ|: equal to an independent sum up to a few roundings


def reference(grads: engine.Gradients) -> tuple[list[float], list[float]]:
    """Independently, per weight layer l = 1 … L: √(Σ (∂E/∂w)²) of dE_dW[l − 1] (Python's hypot, which neither
    underflows nor overflows on the way) and Σ (|δ| / count) of dE_dz[l], in exact sums."""
    norms = [math.hypot(*map(float, g.ravel())) for g in grads.dE_dW]
    means = [math.fsum(abs(float(x)) / d.size for x in d.ravel()) for d in grads.dE_dz[1:]]
    return norms, means


def sizes_of(scenario):
    trace = engine.forward(scenario)
    grads = engine.backward(scenario, trace)
    return trace, grads, gradient_sizes(grads)


def assert_equal_to_engine(grads: engine.Gradients) -> None:
    sizes = gradient_sizes(grads)
    norms, means = reference(grads)
    assert len(sizes.weight_norm) == len(sizes.delta_mean) == len(grads.dE_dW)
    np.testing.assert_allclose(sizes.weight_norm, norms, rtol=REL, atol=0)
    np.testing.assert_allclose(sizes.delta_mean, means, rtol=REL, atol=0)


# ---------------------------------------------------------------- the numbers are the engine's


@pytest.mark.parametrize("name", ["seed", *DEEP_PRESETS])
def test_sizes_equal_the_engines_arrays(name):
    assert_equal_to_engine(sizes_of(preset(name))[1])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, MAX_HIDDEN_LAYERS), st.integers(0, 10_000), st.sampled_from(HIDDEN_ACTIVATIONS),
       st.integers(1, MAX_NEURONS), st.integers(1, 6))
def test_sizes_equal_the_engines_arrays_on_random_deep_nets(hidden, seed, act, width, samples):
    rng = np.random.default_rng(seed)
    layers = [int(rng.integers(1, MAX_NEURONS + 1)), *([width] * hidden), int(rng.integers(1, MAX_NEURONS + 1))]
    s = build_scenario(layers, [act] * hidden + ["sigmoid"], "bce", init="uniform", rng_seed=seed,
                       inputs=rng.uniform(-1, 1, (samples, layers[0])),
                       targets=rng.integers(0, 2, (samples, layers[-1])).astype(float))
    assert_equal_to_engine(sizes_of(s)[1])


def test_layer_l_is_weights_l_minus_1_and_delta_of_layer_l():
    """Each size is read from its own layer: make one layer's gradient stand out and find it at its place."""
    grads = sizes_of(preset(VANISHING))[1]
    L = len(grads.dE_dW)
    for l in range(1, L + 1):
        dW = [g * (1e6 if i == l - 1 else 1) for i, g in enumerate(grads.dE_dW)]
        dz = [d * (1e6 if i == l else 1) for i, d in enumerate(grads.dE_dz)]
        sizes = gradient_sizes(engine.Gradients(grads.dE_da, tuple(dz), tuple(dW), grads.dE_db))
        assert int(np.argmax(np.array(sizes.weight_norm) / gradient_sizes(grads).weight_norm)) == l - 1
        assert int(np.argmax(np.array(sizes.delta_mean) / gradient_sizes(grads).delta_mean)) == l - 1


def test_sizes_do_not_overflow_on_the_way():
    big = np.full((3, 4), 1e300)
    assert frobenius(big) == pytest.approx(1e300 * math.sqrt(12), rel=REL)  # Σ x² alone would be inf
    assert mean_abs(np.array([1.7e308, 1.7e308])) == 1.7e308  # so would Σ |x|
    assert frobenius(np.zeros((2, 2))) == 0 and mean_abs(np.zeros(3)) == 0
    assert frobenius(np.array([1.0, np.inf])) == math.inf and math.isnan(frobenius(np.array([1.0, np.nan])))
    assert frobenius(np.array([[3.0, -4.0]])) == 5.0


# ---------------------------------------------------------------- the presets and their lessons


@pytest.mark.parametrize(("name", "activation", "scale"), [(VANISHING, "sigmoid", 0.5), (RELU_HE, "relu", 1.0),
                                                           (SATURATED, "tanh", 4.0)])
def test_deep_presets_share_one_shape_and_one_set_of_he_draws(name, activation, scale):
    s = preset(name)
    assert s.layers == (2, 4, 4, 4, 4, 4, 4, 1) and len(s.layers) - 2 == MAX_HIDDEN_LAYERS
    assert s.activations == (activation,) * 6 + ("sigmoid",) and s.loss == "bce"
    weights, biases = initial_parameters(s.layers, "he", rng_seed=22)
    for w, drawn in zip(s.weights, weights):
        np.testing.assert_array_equal(w, np.round(drawn * scale, 2))
    assert all(not b.any() for b in s.biases) and not (s.inputs == 0).all(axis=1).any()  # no all-zero sample


def test_vanishing_preset_claims():
    s = preset(VANISHING)
    trace, _, sizes = sizes_of(s)
    assert sizes.first_to_last() < 1e-3  # "times smaller": more than three orders of magnitude
    assert all(np.diff(sizes.weight_norm) > 0) and all(np.diff(sizes.delta_mean) > 0)  # "shrinks layer after layer"
    assert all(np.abs(w).max() < 1 for w in s.weights)  # "weights smaller than 1"
    slopes = np.concatenate([ACTIVATIONS["sigmoid"].da_dz(z, a).ravel() for z, a in zip(trace.z[1:], trace.a[1:])])
    assert slopes.max() <= 0.25  # "σ′(net) ≤ 0.25"
    lesson = preset_lesson(s, trace, sizes, Style())
    assert about(1 / sizes.first_to_last()) in lesson and "14,000" in lesson
    assert Style().text(sizes.delta_mean[0]) in lesson and Style().text(sizes.delta_mean[-1]) in lesson


def test_relu_he_preset_claims():
    s = preset(RELU_HE)
    trace, _, sizes = sizes_of(s)
    assert spread(sizes.weight_norm) < 10 and spread(sizes.delta_mean) < 10  # "neither vanishes nor explodes"
    assert 0.1 < sizes.first_to_last() < 10
    lesson = preset_lesson(s, trace, sizes, Style())
    assert Style().text(min(sizes.weight_norm)) in lesson and Style().text(max(sizes.weight_norm)) in lesson
    assert f"within a factor of {about(spread(sizes.weight_norm))}." in lesson


def test_saturated_tanh_preset_claims():
    s = preset(SATURATED)
    trace, _, sizes = sizes_of(s)
    nets = np.concatenate([z.ravel() for z in trace.z[1:-1]])
    share = float(np.mean(np.abs(nets) > SATURATED_NET))
    assert saturated_share(s, trace) == share > 0.5  # most hidden nets beyond ±3 ...
    assert 1 - np.tanh(SATURATED_NET) ** 2 < 0.01  # ... "where tanh′(net) < 0.01"
    assert sizes.first_to_last() < 1e-3  # the gradient dies out on its way back
    largest = max(np.abs(w).max() for w in s.weights)
    assert largest > 5  # "large weights" (He's draws times 4)
    lesson = preset_lesson(s, trace, sizes, Style())
    assert f"{share:.0%} of the hidden nets" in lesson and f"up to {largest:g}" in lesson
    assert about(1 / sizes.first_to_last()) in lesson


def test_the_lesson_is_only_for_the_unchanged_preset():
    for name in DEEP_PRESETS:
        s = preset(name)
        assert deep_preset_of(s) == name
        moved = s.replace(weights=[w + (0.01 if i == 0 else 0) for i, w in enumerate(s.weights)])
        assert deep_preset_of(moved) is None
        trace, _, sizes = sizes_of(moved)
        assert preset_lesson(moved, trace, sizes, Style()) is None
    for name in ("seed", "relu_dead_units", "xor_2_4_1"):
        assert deep_preset_of(preset(name)) is None


def test_lessons_in_chinese_carry_the_same_numbers():
    for name in DEEP_PRESETS:
        s = preset(name)
        trace, _, sizes = sizes_of(s)
        en, zh = (preset_lesson(s, trace, sizes, Style(4, lang)) for lang in ("en", "zh"))
        assert re.search(r"[\u4e00-\u9fff]", zh) and zh != en
        assert re.findall(r"\d[\d.,]*", zh) and set(re.findall(r"\d\.\d+e-\d+|\d+,\d{3}", en)) <= set(
            re.findall(r"\d\.\d+e-\d+|\d+,\d{3}", zh))


@pytest.mark.parametrize(("x", "words"), [(1.0, "1"), (2.94, "2.9"), (14_493.0, "14,000"), (99_600.0, "100,000"),
                                          (8.6e9, "8.6 × 10⁹"), (1.04e12, "1 × 10¹²")])
def test_about_reads_as_two_significant_figures(x, words):
    assert about(x) == words


def test_ratio_sentence():
    sizes = sizes_of(preset(VANISHING))[2]
    sentence = ratio_sentence(sizes, Style())
    assert sentence.startswith("‖∂E/∂W⁽¹⁾‖ / ‖∂E/∂W⁽⁷⁾‖ = 6.900e-05") and "14,000 times smaller" in sentence
    assert ratio_sentence(sizes_of(preset("seed"))[2], Style()).startswith("‖∂E/∂W⁽¹⁾‖ / ‖∂E/∂W⁽²⁾‖ = 0.0123")
    one_layer = build_scenario([2, 1], ["sigmoid"], "half_sse")
    assert ratio_sentence(sizes_of(one_layer)[2], Style()) is None


@pytest.mark.parametrize("norms", [(1e-300, 1e300), (1e300, 1e-300), (5e-324, 1.0), (0.0, 1.0), (1.0, math.inf),
                                   (math.nan, 1.0)])
def test_no_ratio_where_it_or_its_inverse_is_beyond_float64(norms):
    """An extreme network (a link may hold one): the sentence is left out rather than a division failing."""
    sizes = GradientSizes(norms, (1.0, 1.0))
    assert sizes.first_to_last() is None and ratio_sentence(sizes, Style()) is None


def test_ratio_sentence_at_the_edges_of_float64():
    sentence = ratio_sentence(GradientSizes((1e-150, 1e150), (1.0, 1.0)), Style())
    assert sentence.startswith("‖∂E/∂W⁽¹⁾‖ / ‖∂E/∂W⁽²⁾‖ = 1.000e-300") and "1 × 10³⁰⁰ times smaller" in sentence


# ---------------------------------------------------------------- the chart


def trace_with(fig, key: str):
    return next(tr for tr in fig.data if tr.meta["key"] == key)


def notes(fig) -> dict[str, str]:
    return {a.name: a.text for a in fig.layout.annotations}


@pytest.mark.parametrize("name", ["seed", *DEEP_PRESETS])
def test_figure_draws_the_sizes_on_a_log_axis(name):
    s = preset(name)
    _, grads, sizes = sizes_of(s)
    fig = gradient_sizes_figure(s, grads)
    assert fig.layout.yaxis.type == "log"
    L = s.n_layers
    for key, values in (("weight_norm", sizes.weight_norm), ("delta_mean", sizes.delta_mean)):
        tr = trace_with(fig, key)
        assert list(tr.x) == list(range(1, L + 1)) and list(tr.y) == list(values)
        assert all(repr(v) in h for v, h in zip(values, tr.hovertext))  # full precision on hover
    assert list(fig.layout.xaxis.ticktext) == [f"layer {l}" for l in range(1, L)] + [f"layer {L}<br>(output)"]
    assert "‖∂E/∂W⁽¹⁾‖" in trace_with(fig, "weight_norm").hovertext[0]
    assert "mean |δ⁽¹⁾|" in trace_with(fig, "delta_mean").hovertext[0]
    assert not notes(fig)  # nothing left out


def test_figure_says_which_sizes_are_zero_instead_of_drawing_them():
    """A dead ReLU layer: no gradient reaches it or any layer below, its outputs are 0 so the weights above it get
    none either (δ⁽³⁾ is not 0, ∂E/∂W⁽³⁾ = δ⁽³⁾ a⁽²⁾ᵀ is), and a log axis cannot show 0."""
    s = build_scenario([2, 3, 3, 1], ["relu", "relu", "sigmoid"], "bce", init="he", rng_seed=1)
    s = s.replace(biases=[s.biases[0], np.full(3, -100.0), s.biases[2]])  # layer 2's nets < 0 for every sample
    _, grads, sizes = sizes_of(s)
    assert sizes.weight_norm == (0.0, 0.0, 0.0) and sizes.delta_mean[:2] == (0.0, 0.0) and sizes.delta_mean[2] > 0
    fig = gradient_sizes_figure(s, grads)
    assert list(trace_with(fig, "weight_norm").y) == [None, None, None]
    assert list(trace_with(fig, "delta_mean").y) == [None, None, sizes.delta_mean[2]]
    text = notes(fig)["zeros"]
    assert text.startswith("Exactly 0, not drawn (a log scale has no 0)")
    for name in ("‖∂E/∂W⁽¹⁾‖", "‖∂E/∂W⁽²⁾‖", "‖∂E/∂W⁽³⁾‖", "mean |δ⁽¹⁾|", "mean |δ⁽²⁾|"):
        assert name in text
    assert "mean |δ⁽³⁾|" not in text and "non_finite" not in notes(fig)


def test_figure_says_what_overflowed_in_words():
    s = preset(VANISHING)
    grads = sizes_of(s)[1]
    dW = list(grads.dE_dW)
    dW[0] = dW[0].copy()
    dW[0][0, 0] = np.inf
    dW[1] = dW[1].copy()
    dW[1][0, 0] = np.nan
    fig = gradient_sizes_figure(s, engine.Gradients(grads.dE_da, grads.dE_dz, tuple(dW), grads.dE_db))
    assert list(trace_with(fig, "weight_norm").y)[:2] == [None, None]
    text = notes(fig)["non_finite"]
    assert "float64" in text and "‖∂E/∂W⁽¹⁾‖ (overflow)" in text and "‖∂E/∂W⁽²⁾‖ (undefined)" in text
    as_json = fig.to_json()
    assert "Infinity" not in as_json and "NaN" not in as_json
    assert "overflow" in trace_with(fig, "weight_norm").hovertext[0]


def test_figure_in_chinese():
    s = preset(VANISHING)
    fig = gradient_sizes_figure(s, sizes_of(s)[1], lang="zh")
    words = json.dumps([fig.layout.title.text, fig.layout.yaxis.title.text, *fig.layout.xaxis.ticktext,
                        *(tr.name for tr in fig.data)], ensure_ascii=False)
    assert "第 7 层<br>（输出层）" in words and "对数坐标" in words
    assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", words)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(extreme_documents(architectures=fixed_architectures()))
def test_extreme_scenarios_give_words_not_errors(doc):
    """Weights up to 10⁶ through six layers: sizes from 10⁻³⁰⁰ to beyond float64. No exception, no raw inf/nan in
    the chart or the sentence, and every value that is not drawn is named under the chart."""
    s = validate(doc)
    with np.errstate(all="ignore"):
        grads = engine.backward(s)
    sizes = gradient_sizes(grads)
    if all(map(math.isfinite, sizes.weight_norm + sizes.delta_mean)):
        assert_equal_to_engine(grads)
    for lang in ("en", "zh"):
        sentence = ratio_sentence(sizes, Style(4, lang)) or ""
        spec = gradient_sizes_spec(s, grads, lang)
        shown = json.dumps(spec, ensure_ascii=False, allow_nan=False) + sentence
        assert not RAW_NON_FINITE.search(shown)
        left_out = sum(v is None for tr in spec["data"] for v in tr["y"])
        assert bool(left_out) == bool(spec["layout"]["annotations"])
