"""The network figure: seed numbers on screen, full precision on hover, highlights = the step, any size builds."""

from __future__ import annotations

import itertools
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz import engine
from bpviz.config import preset, validate
from bpviz.figures import network
from bpviz.figures.network import network_figure
from bpviz.ids import Bias, Neuron, Phase, StepId, TotalLoss, Weight
from bpviz.walkthrough import Step

OUT_H1 = "0.5932699921071872"  # ../shared/seed/README.md, full precision


def _step(nodes=(), edges=(), bias_edges=(), paths=(), phase="forward") -> Step:
    """A step highlighting these (layer, neuron) nodes, (l, j, k) weights and (l, j) biases."""
    return Step(index=0, id=StepId(Phase(phase), TotalLoss()), title="test", latex_symbolic="", latex_numeric="",
                value=0.0, nodes=tuple(Neuron(*n) for n in nodes), edges=tuple(Weight(*e) for e in edges),
                bias_edges=tuple(Bias(*b) for b in bias_edges),
                paths=tuple(tuple(Weight(*e) for e in path) for path in paths))


# the seed's forward step for out_h1, and the backward step for w1 with its two output paths
OUT_H1_STEP = _step(nodes=((0, 0), (0, 1), (1, 0)), edges=((0, 0, 0), (0, 0, 1)), bias_edges=((0, 0),))
W1_STEP = _step(nodes=((0, 0), (1, 0), (2, 0), (2, 1)), edges=((0, 0, 0),), phase="backward",
                paths=(((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (1, 1, 0))))


def _figure(scenario, step=None, **kw):
    trace = engine.forward(scenario)
    return network_figure(scenario, trace, engine.backward(scenario, trace), step, **kw)


def _trace(fig, name):
    found = [tr for tr in fig.data if tr.name == name]
    assert len(found) == 1, f"expected one trace named {name!r}, got {len(found)}"
    return found[0]


def _keys(fig, name) -> set[str]:
    data = _trace(fig, name).customdata
    return set() if data is None else {str(k) for k in data}


def _label(fig, key) -> str:
    found = [a.text for a in fig.layout.annotations if a.name == f"label:{key}"]
    assert found, f"no label for {key}"
    return found[0]


def _random_scenario(layers: list[int], seed: int, n_samples: int = 1):
    rng = np.random.default_rng(seed)
    L = len(layers) - 1

    def samples(width, low):
        rows = rng.uniform(low, 1, (n_samples, width)).round(3).tolist()
        return rows if n_samples > 1 else rows[0]

    return validate({
        "layers": layers, "activations": ["tanh"] * (L - 1) + ["sigmoid"], "loss": "half_sse",
        "weights": [rng.uniform(-2, 2, (layers[l + 1], layers[l])).round(4).tolist() for l in range(L)],
        "biases": [rng.uniform(-1, 1, layers[l + 1]).round(4).tolist() for l in range(L)],
        "inputs": samples(layers[0], -1), "targets": samples(layers[-1], 0), "learning_rate": 0.5,
    })


def _all_edge_keys(layers) -> set[str]:
    w = {f"w:{l}:{j}:{k}" for l in range(len(layers) - 1) for j in range(layers[l + 1]) for k in range(layers[l])}
    return w | {f"b:{l}:{j}" for l in range(len(layers) - 1) for j in range(layers[l + 1])}


# ---------------------------------------------------------------- the seed on screen


def test_seed_values_mode_shows_names_and_rounded_numbers():
    fig = _figure(preset("seed"))
    w5 = _label(fig, "w:1:0:0")
    assert "w5" in w5 and "0.4" in w5
    assert "w1" in _label(fig, "w:0:0:0") and "0.15" in _label(fig, "w:0:0:0")
    assert "b_h1" in _label(fig, "b:0:0")
    values = " ".join(_trace(fig, "node-values").text)
    assert "0.5933" in values and "0.7514" in values and "0.3775" in values
    assert list(_trace(fig, "nodes").text) == ["i1", "i2", "h1", "h2", "o1", "o2"]
    targets = " ".join(_trace(fig, "targets").text)
    assert "0.0100" in targets and "0.9900" in targets
    assert any("0.2984" in a.text for a in fig.layout.annotations if a.name == "loss")
    # every one of the seed's 12 parameters is labelled
    assert {a.name for a in fig.layout.annotations if a.name.startswith("label:")} == {
        f"label:{k}" for k in _all_edge_keys((2, 2, 2))}


def test_seed_gradients_mode_shows_deltas_and_edge_gradients():
    fig = _figure(preset("seed"), mode="gradients")
    w5 = _label(fig, "w:1:0:0")
    assert "0.0822" in w5 and "w5" in w5 and "0.4000" not in w5
    assert "\u22120.0226" in _label(fig, "w:1:1:0")  # w7's gradient is negative: typographic minus
    assert "0.0004" in _label(fig, "w:0:0:0")
    values = list(_trace(fig, "node-values").text)
    assert "δ" in values[4] and "0.1385" in values[4]  # δ_o1 = ∂E/∂net_o1


def test_hover_carries_full_precision():
    fig = _figure(preset("seed"))
    hovers = list(_trace(fig, "nodes").hovertext)
    assert OUT_H1 in hovers[2]
    assert "0.7513650695523157" in hovers[4]
    edge_hover = dict(zip(_trace(fig, "edge-hover").customdata, _trace(fig, "edge-hover").hovertext))
    assert "0.4" in edge_hover["w:1:0:0"] and "0.0821670405" in edge_hover["w:1:0:0"]
    assert repr(float(engine.backward(preset("seed")).dE_db[0][0])) in edge_hover["b:0:0"]


def test_seed_fonts_are_projector_sized():
    fig = _figure(preset("seed"), OUT_H1_STEP)
    assert _trace(fig, "nodes").textfont.size >= 14
    assert _trace(fig, "node-values").textfont.size >= 14
    assert all(a.font.size >= 14 for a in fig.layout.annotations)


def _label_boxes(fig):
    """(x0, y0, x1, y1) of every edge label in the figure's (nominal pixel) coordinates."""
    boxes = []
    for a in fig.layout.annotations:
        if a.name.startswith("label:"):
            w, h = network._text_box(a.text, a.font.size)
            boxes.append((a.x - w / 2 - 4, a.y - h / 2 - 1, a.x + w / 2 + 4, a.y + h / 2 + 1))
    return boxes


def _text_boxes(fig):
    """Estimated boxes of the numbers under the neurons, the targets and the loss (nominal pixels)."""
    boxes = []
    values = _trace(fig, "node-values")
    for x, y, text in zip(values.x, values.y, values.text):
        w, h = network._text_box(text, values.textfont.size)
        boxes.append((x - w / 2, y - h - 2, x + w / 2, y))
    targets = _trace(fig, "targets")
    for x, y, text in zip(targets.x, targets.y, targets.text):
        w, h = network._text_box(text, targets.textfont.size)
        boxes.append((x, y - h / 2, x + w + 2, y + h / 2))
    loss = [a for a in fig.layout.annotations if a.name == "loss"][0]
    w, h = network._text_box(loss.text.replace("<b>", "").replace("</b>", ""), loss.font.size)
    boxes.append((loss.x - w, loss.y - h / 2, loss.x, loss.y + h / 2))
    return boxes


def _overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


@pytest.mark.parametrize("mode", ["values", "gradients"])
def test_seed_labels_do_not_overlap_each_other_or_nodes(mode):
    fig = _figure(preset("seed"), mode=mode)
    labels = _label_boxes(fig)
    assert len(labels) == 12
    for a, b in itertools.combinations(labels, 2):
        assert not _overlaps(a, b)
    nodes = _trace(fig, "nodes")
    r = nodes.marker.size / 2
    for x, y in zip(nodes.x, nodes.y):
        for box in labels:
            assert not _overlaps((x - r, y - r, x + r, y + r), box)


# ---------------------------------------------------------------- highlighting


def test_forward_step_highlights_exactly_its_elements():
    fig = _figure(preset("seed"), OUT_H1_STEP)
    assert _keys(fig, "highlighted-nodes") == {"n:0:0", "n:0:1", "n:1:0"}
    assert _keys(fig, "highlighted-edges") == {"w:0:0:0", "w:0:0:1", "b:0:0"}
    assert _keys(fig, "edge-hover") == _all_edge_keys((2, 2, 2)) - {"w:0:0:0", "w:0:0:1", "b:0:0"}
    assert fig.layout.meta["highlighted_edges"] == sorted({"w:0:0:0", "w:0:0:1", "b:0:0"})
    # highlighted lines are drawn at full opacity, the rest dimmed
    for tr in fig.data:
        if tr.name.startswith("edges:"):
            assert (tr.opacity == 1.0) == tr.name.endswith(":highlight")


def test_hidden_weight_step_shows_both_output_paths():
    fig = _figure(preset("seed"), W1_STEP, mode="gradients")
    keys = _keys(fig, "highlighted-edges")
    assert keys == {"w:0:0:0", "w:1:0:0", "w:1:1:0"}  # w1, then h1→o1 (w5) and h1→o2 (w7)
    drawn = set()
    for tr in fig.data:
        if tr.name.startswith("edges:") and tr.name.endswith(":highlight"):
            drawn |= set(tr.meta["keys"])
    assert drawn == keys
    assert set(_trace(fig, "highlight-halo").meta["keys"]) == keys
    for key in keys:
        label = [a for a in fig.layout.annotations if a.name == f"label:{key}"][0]
        assert label.opacity == 1.0


def test_without_step_nothing_is_highlighted_or_dimmed():
    fig = _figure(preset("seed"))
    assert _keys(fig, "highlighted-nodes") == set() and _keys(fig, "highlighted-edges") == set()
    assert all(tr.opacity == 1.0 for tr in fig.data if tr.name.startswith("edges:"))
    assert set(np.atleast_1d(_trace(fig, "nodes").marker.opacity)) == {1.0}


# ---------------------------------------------------------------- any architecture

LAYERS = st.lists(st.integers(1, 8), min_size=2, max_size=8)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=LAYERS, seed=st.integers(0, 2**16), mode=st.sampled_from(["values", "gradients"]), data=st.data())
def test_any_architecture_builds_with_highlights_equal_to_the_step(layers, seed, mode, data):
    scenario = _random_scenario(layers, seed)
    L = len(layers) - 1
    all_nodes = [(l, j) for l in range(L + 1) for j in range(layers[l])]
    all_edges = [(l, j, k) for l in range(L) for j in range(layers[l + 1]) for k in range(layers[l])]
    all_bias = [(l, j) for l in range(L) for j in range(layers[l + 1])]
    nodes = data.draw(st.lists(st.sampled_from(all_nodes), max_size=6, unique=True))
    edges = data.draw(st.lists(st.sampled_from(all_edges), max_size=10, unique=True))
    bias = data.draw(st.lists(st.sampled_from(all_bias), max_size=3, unique=True))
    path = data.draw(st.lists(st.sampled_from(all_edges), max_size=4, unique=True))
    step = _step(nodes, edges, bias, paths=(tuple(path),) if path else ())
    fig = _figure(scenario, step, mode=mode)

    assert _keys(fig, "highlighted-nodes") == {f"n:{l}:{j}" for l, j in nodes}
    hi = {f"w:{l}:{j}:{k}" for l, j, k in [*edges, *path]} | {f"b:{l}:{j}" for l, j in bias}
    assert _keys(fig, "highlighted-edges") == hi
    # every edge has exactly one hover carrier, every neuron one node
    carriers = list(_trace(fig, "edge-hover").customdata) + list(_trace(fig, "highlighted-edges").customdata)
    assert sorted(carriers) == sorted(_all_edge_keys(layers))
    assert len(_keys(fig, "nodes")) == sum(layers)
    # nothing outside the fixed axis ranges (so nothing is clipped)
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    nodes_tr = _trace(fig, "nodes")
    r = nodes_tr.marker.size / 2
    assert min(nodes_tr.x) - r >= x0 and max(nodes_tr.x) + r <= x1
    assert min(nodes_tr.y) - r >= y0 and max(nodes_tr.y) + r <= y1
    for box in _label_boxes(fig) + _text_boxes(fig):
        assert x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1, box
    # small nets label every edge; big ones the highlighted edges, or, with none, those that find a free spot
    labelled = {a.name.removeprefix("label:") for a in fig.layout.annotations if a.name.startswith("label:")}
    if network.labels_every_edge(tuple(layers)):
        assert labelled == _all_edge_keys(layers)
    elif hi or not network.few_edges(tuple(layers)):
        assert labelled <= hi
    else:
        boxes = _label_boxes(fig)
        assert not any(_overlaps(a, b) for a, b in itertools.combinations(boxes, 2)), "labels overlap"
    assert fig.layout.height >= 480
    assert fig.layout.height <= 560 or _rows_at_their_closest(fig)  # taller only where the rows need it
    assert not _numbers_touch_circles(fig)


def _rows_at_their_closest(fig) -> bool:
    """Whether the neurons of the fullest column sit as close as their numbers allow (the figure is no taller than
    it must be)."""
    nodes, values = _trace(fig, "nodes"), _trace(fig, "node-values")
    h = max(network._text_box(t, values.textfont.size)[1] for t in values.text)
    min_row = nodes.marker.size + network.VALUES_BELOW + h + network.ROW_GAP
    by_column = {}
    for x, y in zip(nodes.x, nodes.y):
        by_column.setdefault(round(x, 6), []).append(y)
    gaps = [a - b for ys in by_column.values() for a, b in zip(sorted(ys)[1:], sorted(ys))]
    return bool(gaps) and min(gaps) == pytest.approx(min_row, abs=1)  # the height is whole pixels


def _numbers_touch_circles(fig) -> list:
    """(number box, circle) pairs that overlap: the numbers under a neuron reaching into another neuron."""
    nodes = _trace(fig, "nodes")
    r = nodes.marker.size / 2
    circles = [(x - r, y - r, x + r, y + r) for x, y in zip(nodes.x, nodes.y)]
    values = _text_boxes(fig)[:len(circles)]
    return [(v, c) for v in values for c in circles if _overlaps(v, c)]


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(st.integers(1, 8), min_size=2, max_size=8), decimals=st.sampled_from([1, 4, 8]),
       mode=st.sampled_from(["values", "gradients"]))
def test_large_type_at_a_projector_height_never_puts_numbers_on_circles(layers, decimals, mode):
    """Presentation mode asks for 400 px; a column of big circles with 20 px numbers gets the height it needs."""
    fig = _figure(_random_scenario(layers, 1), mode=mode, decimals=decimals, large=True, height=400)
    assert not _numbers_touch_circles(fig)
    assert fig.layout.height == 400 or _rows_at_their_closest(fig)


def test_big_net_without_step_has_no_edge_labels_but_hover_everywhere():
    layers = [8] * 8
    fig = _figure(_random_scenario(layers, 3), mode="gradients")
    assert not [a for a in fig.layout.annotations if a.name.startswith("label:")]
    assert _keys(fig, "edge-hover") == _all_edge_keys(layers)
    assert len([tr for tr in fig.data]) < 40  # grouped traces, not one per edge


def test_big_net_fan_in_labels_do_not_overlap():
    layers = [8] * 8
    step = _step(nodes=[(2, k) for k in range(8)] + [(3, 4)], edges=[(2, 4, k) for k in range(8)],
                 bias_edges=[(2, 4)])
    fig = _figure(_random_scenario(layers, 1), step)
    labels = _label_boxes(fig)
    assert len(labels) == 9
    for a, b in itertools.combinations(labels, 2):
        assert not _overlaps(a, b)


@pytest.mark.parametrize("layers", [[2, 3, 2], [8, 8, 8, 8, 8, 8, 8, 8]])
def test_multi_sample_scenario_shows_the_chosen_sample(layers):
    scenario = _random_scenario(layers, 7, n_samples=3)
    trace = engine.forward(scenario)
    fig = network_figure(scenario, trace, engine.backward(scenario, trace), sample=2)
    assert repr(float(trace.a[1][2, 0])) in _trace(fig, "nodes").hovertext[layers[0]]  # first hidden neuron
    assert any("3 of 3" in a.text for a in fig.layout.annotations if a.name == "batch")
    sample_loss = float(trace.loss_share[2].sum())
    assert any(f"{sample_loss:.4f}" in a.text for a in fig.layout.annotations if a.name == "loss")
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    for box in _text_boxes(fig):
        assert x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1, box
    with pytest.raises(ValueError):
        network_figure(scenario, trace, engine.backward(scenario, trace), sample=3)


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError):
        _figure(preset("seed"), mode="weights")


def test_figure_json_round_trip_keeps_names_and_keys():
    """What Streamlit's AppTest sees: the figure JSON."""
    fig = _figure(preset("seed"), W1_STEP)
    doc = json.loads(fig.to_json())
    by_name = {tr["name"]: tr for tr in doc["data"]}
    assert set(by_name["highlighted-edges"]["customdata"]) == {"w:0:0:0", "w:1:0:0", "w:1:1:0"}
    assert set(by_name["highlighted-nodes"]["customdata"]) == {"n:0:0", "n:1:0", "n:2:0", "n:2:1"}
    assert doc["layout"]["uirevision"]
    again = pio.from_json(fig.to_json())
    assert _keys(again, "highlighted-edges") == _keys(fig, "highlighted-edges")


def test_deterministic():
    assert _figure(preset("seed"), W1_STEP).to_json() == _figure(preset("seed"), W1_STEP).to_json()




@pytest.mark.parametrize("mode", ["values", "gradients"])
def test_figure_is_valid_plotly(mode):
    """network_figure skips Plotly's validation for speed: the same figure must pass it."""
    fig = _figure(preset("seed"), W1_STEP, mode=mode)
    go.Figure(fig.to_dict())  # raises ValueError on any invalid property


def test_batched_gradients_mode_shows_the_samples_own_gradient():
    """Edges agree with the nodes' δ and the formula (one sample's loss); the batch mean is in the hover."""
    scenario = preset("xor_2_4_1")
    trace = engine.forward(scenario)
    grads = engine.backward(scenario, trace)
    fig = network_figure(scenario, trace, grads, mode="gradients", sample=2)
    hover = dict(zip(_trace(fig, "edge-hover").customdata, _trace(fig, "edge-hover").hovertext))
    own = grads.dE_dz[2][2, 0] * trace.a[1][2, 0]  # ∂E_3/∂w (output neuron 0, hidden neuron 0) = δ·a
    assert f"= {float(own)!r}" in hover["w:1:0:0"]
    assert repr(float(grads.dE_dW[1][0, 0])) in hover["w:1:0:0"] and "mean" in hover["w:1:0:0"]


@pytest.mark.parametrize("change", ["w7_negative", "six_decimals"])
def test_seed_keeps_every_label_when_numbers_change(change):
    """Regression: one label grazing a neuron's numbers used to drop all twelve labels."""
    s = preset("seed")
    kw = {}
    if change == "w7_negative":
        w = [x.tolist() for x in s.weights]
        w[1][1][0] = -0.5
        s = s.replace(weights=w)
    else:
        kw["decimals"] = 6
    fig = _figure(s, **kw)
    assert len(fig.layout.meta["labelled_edges"]) == 12


def test_hidden_weight_paths_in_the_formulas_colours_with_the_weights_it_uses():
    """On ∂E/∂w1 each output path is drawn in its term's colour, and w5, w7 carry the weights the formula
    multiplies by (0.40, 0.50), not their own gradients."""
    from bpviz.symbolic import PATH_COLOURS

    sc = preset("seed")
    trace, grads = engine.forward(sc), engine.backward(sc)
    from bpviz.walkthrough import build_walkthrough

    wt = build_walkthrough(sc, trace, grads)
    step = wt[wt.index_of("backward:w:0:0:0")]
    fig = network_figure(sc, trace, grads, step, mode="gradients")
    colour_of = {key: tr.line.color for tr in fig.data if tr.name.startswith("edges:") for key in tr.meta["keys"]}
    assert colour_of["w:1:0:0"] == PATH_COLOURS[0] and colour_of["w:1:1:0"] == PATH_COLOURS[1]  # w5, w7
    assert colour_of["w:0:0:0"] == network.POSITIVE_COLOUR  # w1 itself: the sign of its gradient
    one_line = {key: _label(fig, key).replace("<br>", " = ") for key in ("w:1:0:0", "w:1:1:0", "w:0:0:0")}
    assert one_line == {"w:1:0:0": "w5 = 0.4000", "w:1:1:0": "w7 = 0.5000", "w:0:0:0": "∂E/∂w1 = 0.000439"}
