"""The elementary-op graph: read off SymPy, forward values and gradients equal to the engine's, step-wise backward."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz import compgraph, engine, symbolic
from bpviz.builder import build_scenario
from bpviz.compgraph import GraphTooLarge, build_graph, full_graph_allowed
from bpviz.config import preset, validate
from bpviz.figures.compgraph import compgraph_figure, fmt
from bpviz.ids import Bias, Neuron, Weight

SEED_LOSS = 0.2983711087600027  # ../shared/seed/README.md


def _named_trees(layers, activations, loss):
    """Every tree the graph is built from (the same SymPy calls, made here independently)."""
    sy = symbolic.net_symbols(layers)
    trees = []
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            trees.append(sp.Add(*[sy.weights[l - 1][j][k] * sy.out[l - 1][k] for k in range(layers[l - 1])])
                         + sy.biases[l - 1][j])
            trees.append(symbolic.activation_expr(activations[l - 1], sy.net[l][j], list(sy.net[l])))
    K = layers[-1]
    shares = [symbolic.loss_share_expr(loss, sy.out[-1][k], sy.targets[k], K) for k in range(K)]
    return trees + shares, K


# ---------------------------------------------------------------- structure comes from SymPy


def test_seed_graph_structure_matches_the_sympy_trees():
    s = preset("seed")
    g = build_graph(s)
    trees, K = _named_trees(s.layers, s.activations, s.loss)
    # distinct non-atomic sub-expressions (Piecewise counted as one op) + the sum E of the shares
    ops = set()
    for tree in trees:
        for sub in sp.preorder_traversal(tree):
            if not sub.is_Atom and not isinstance(sub, sp.core.relational.Relational):
                ops.add(sub)
    n_ops = sum(1 for n in g.nodes if n.kind == "op")
    assert n_ops == len(ops) + (1 if K > 1 else 0) == 37
    assert len(g.nodes) == 53 and len(g.edges) == 56 and g.n_steps == 37
    counts = g.op_counts()
    assert counts == {"bias": 4, "input": 2, "weight": 8, "target": 2, "×": 8, "+": 7, "neg": 6, "exp": 4,
                      "+ 1": 4, "1/x": 4, "x²": 2, "× 1/2": 2}
    # the named trees substituted into each other are exactly the loss expression
    assert compgraph.recomposed_loss(s.architecture) == symbolic.loss_expression(s.architecture)


def test_seed_leaves_are_named_like_the_seed():
    g = build_graph(preset("seed"))
    leaves = {n.id for n in g.nodes if n.is_leaf}
    assert leaves == {"i1", "i2", "t1", "t2", *(f"w{i}" for i in range(1, 9)), "b_h1", "b_h2", "b_o1", "b_o2"}
    for name in ("net_h1", "out_h1", "net_o2", "out_o2", "E_o1", "E"):
        assert g.node(name).kind == "op"
    assert g.node("out_h1").op == "1/x" and g.node("net_h1").op == "+" and g.node("E").op == "+"


@pytest.mark.parametrize(
    ("act", "loss", "expected_ops"),
    [
        ("tanh", "mse", {"tanh", "+", "×", "x²", "× 1/2", "neg"}),
        ("relu", "half_sse", {"relu", "+", "×", "x²", "× 1/2", "neg"}),
        ("leaky_relu", "half_sse", {"leaky_relu", "+", "×", "x²", "× 1/2", "neg"}),
        ("sigmoid", "bce", {"log", "+ 1", "neg", "1/x", "exp", "+", "×", "× (-1/2)"}),
        ("softmax", "cross_entropy", {"exp", "log", "1/x", "+", "×", "× (-1)"}),
    ],
)
def test_op_labels_for_each_activation_and_loss(act, loss, expected_ops):
    hidden = "sigmoid" if act == "softmax" else act
    s = validate({"layers": [2, 2, 2], "activations": [hidden, act], "loss": loss,
                  "weights": [[[0.1, -0.2], [0.3, 0.4]], [[0.5, -0.6], [0.7, 0.8]]], "biases": [[0.1, 0.2], [0.3, 0.4]],
                  "inputs": [0.5, -0.3], "targets": [0.2, 0.8], "learning_rate": 0.1})
    g = build_graph(s)
    ops = {n.op for n in g.nodes if n.kind == "op"}
    assert expected_ops <= ops
    if "relu" in act:  # nested Piecewise: SymPy words the inner condition differently; the same function
        assert compgraph.same_as_loss_expression(s.architecture)
    else:  # the very same tree
        assert compgraph.recomposed_loss(s.architecture) == symbolic.loss_expression(s.architecture)


# ---------------------------------------------------------------- numbers equal the engine's


def test_seed_forward_values_and_gradients_equal_the_engine():
    s = preset("seed")
    g = build_graph(s)
    trace, grads = engine.forward(s), engine.backward(s)
    assert g.node("E").value == pytest.approx(SEED_LOSS, abs=1e-15)
    assert g.loss == pytest.approx(trace.loss, abs=1e-15)
    for ref in engine.parameter_refs(s):
        name = symbolic.net_symbols(s.layers).names.param(ref)
        assert g.node(name).grad == pytest.approx(engine.gradient_of(grads, ref), abs=1e-12), name
    assert len(g.param_gradients()) == 12
    # the named intermediates carry the engine's forward values and per-sample dE/dz, dE/da
    for l, prefix in ((1, "h"), (2, "o")):
        for j in range(2):
            assert g.node(f"net_{prefix}{j + 1}").value == pytest.approx(trace.z[l][0, j], abs=1e-15)
            assert g.node(f"out_{prefix}{j + 1}").value == pytest.approx(trace.a[l][0, j], abs=1e-15)
            assert g.node(f"net_{prefix}{j + 1}").grad == pytest.approx(grads.dE_dz[l][0, j], abs=1e-12)
            assert g.node(f"out_{prefix}{j + 1}").grad == pytest.approx(grads.dE_da[l][0, j], abs=1e-12)


def test_local_derivatives_come_from_sympy_diff():
    g = build_graph(preset("seed"))
    by_pair = {(e.parent, e.child): e for e in g.edges}
    out_h1 = g.node("out_h1")
    # out = 1/v  ->  ∂out/∂v = −1/v²
    (child,) = out_h1.children
    e = by_pair[("out_h1", child)]
    assert e.local == pytest.approx(-1 / g.node(child).value ** 2, rel=1e-14)
    assert "-1/" in e.local_formula and "**2" in e.local_formula
    # E_o1 = v²/2 chain: x² has local derivative 2x
    (sq,) = g.node("E_o1").children
    (diff,) = g.node(sq).children
    assert by_pair[(sq, diff)].local == pytest.approx(2 * g.node(diff).value, rel=1e-14)
    # a product: ∂(out_h1·w5)/∂w5 = out_h1
    mul = next(e.parent for e in g.edges if e.child == "w5")
    assert by_pair[(mul, "w5")].local == pytest.approx(out_h1.value, rel=1e-15)


def _random_scenario(draw, layers, hidden_act, out_act, loss):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_out = layers[-1]
    weights = [rng.uniform(-1.5, 1.5, (layers[l + 1], layers[l])).tolist() for l in range(len(layers) - 1)]
    biases = [rng.uniform(-1, 1, layers[l + 1]).tolist() for l in range(len(layers) - 1)]
    inputs = rng.uniform(-2, 2, layers[0]).tolist()
    if loss == "cross_entropy":
        p = rng.uniform(0.05, 1, n_out)
        targets = (p / p.sum()).tolist()
    elif loss == "bce":
        targets = rng.uniform(0, 1, n_out).tolist()
    else:
        targets = rng.uniform(-1, 1, n_out).tolist()
    acts = [hidden_act] * (len(layers) - 2) + [out_act]
    return validate({"layers": list(layers), "activations": acts, "loss": loss, "weights": weights,
                     "biases": biases, "inputs": inputs, "targets": targets, "learning_rate": 0.1})


COMBOS = [
    ("sigmoid", "sigmoid", "half_sse"),
    ("tanh", "tanh", "mse"),
    ("relu", "identity", "mse"),
    ("leaky_relu", "leaky_relu", "half_sse"),
    ("identity", "tanh", "half_sse"),
    ("tanh", "sigmoid", "bce"),
    ("sigmoid", "softmax", "cross_entropy"),
    ("relu", "softmax", "cross_entropy"),
]


@st.composite
def small_nets(draw):
    hidden, out, loss = draw(st.sampled_from(COMBOS))
    min_out = 2 if out == "softmax" else 1
    shape = draw(st.sampled_from([(1, 1, 1), (2, 1, 1), (1, 2, 1), (2, 2, 1), (2, 2, 2), (1, 1, 2), (1, 1, 1, 1),
                                  (2, 1, 1, 2)]))
    layers = shape[:-1] + (max(shape[-1], min_out),)
    return _random_scenario(draw, layers, hidden, out, loss)


@settings(max_examples=40, deadline=None)
@given(small_nets())
def test_random_small_nets_gradients_equal_the_engine(s):
    assert full_graph_allowed(s)
    g = build_graph(s)
    trace, grads = engine.forward(s), engine.backward(s)
    assert g.loss == pytest.approx(trace.loss, rel=1e-12, abs=1e-12)
    for ref in engine.parameter_refs(s):
        expected = engine.gradient_of(grads, ref)
        got = g.node(symbolic.net_symbols(s.layers).names.param(ref)).grad
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), ref
    assert set(g.param_gradients()) == set(engine.parameter_refs(s))


def test_batched_scenario_uses_one_sample():
    doc = {**preset("seed").to_dict(), "inputs": [[0.05, 0.10], [0.3, -0.2]], "targets": [[0.01, 0.99], [0.5, 0.5]]}
    s = validate(doc)
    for sample in (0, 1):
        g = build_graph(s, sample=sample)
        one = validate({**s.to_dict(), "inputs": s.inputs[sample].tolist(), "targets": s.targets[sample].tolist()})
        grads = engine.backward(one)
        for ref in engine.parameter_refs(s):
            assert g.param_gradients()[ref] == pytest.approx(engine.gradient_of(grads, ref), abs=1e-12)
        assert g.loss == pytest.approx(engine.forward(s).loss_share[sample].sum(), abs=1e-15)
    with pytest.raises(ValueError):
        build_graph(s, sample=2)


# ---------------------------------------------------------------- the DAG and stepping


def test_shared_subexpressions_are_one_node_with_several_consumers():
    g = build_graph(preset("seed"))
    for name in ("out_h1", "out_h2", "i1", "i2"):
        assert len(g.node(name).consumers) == 2, name
    # out_h1's gradient is the sum of what its two consumers pass back
    parts = [e.contribution for e in g.edges if e.child == "out_h1"]
    assert len(parts) == 2 and sum(parts) == pytest.approx(g.node("out_h1").grad, abs=1e-17)
    assert len({n.id for n in g.nodes}) == len(g.nodes)


def test_backward_order_is_reverse_topological_and_steps_accumulate():
    g = build_graph(preset("seed"))
    position = {nid: i for i, nid in enumerate(g.order)}
    assert set(g.order) == {n.id for n in g.nodes if n.kind == "op"}
    for e in g.edges:  # every consumer is processed before the node it consumes
        if e.child in position:
            assert position[e.parent] < position[e.child]
    assert g.order[0] == "E" and g.current(1) == "E" and g.current(0) is None
    assert g.gradients_after(0) == {"E": 1.0} and g.final_after(0) == {"E"} and not g.traversed_after(0)
    for k in range(g.n_steps + 1):
        final, grads = g.final_after(k), g.gradients_after(k)
        assert final <= set(grads)
        for nid in final:  # a final gradient equals the full backward pass's
            assert grads[nid] == pytest.approx(g.node(nid).grad, abs=1e-15)
        for nid in final - set(g.roots):
            assert all(position[c] < k for c in g.node(nid).consumers)
        assert g.traversed_after(k) == {e for st_ in g.steps[:k] for e in st_.edges}
    assert g.final_after(g.n_steps) == {n.id for n in g.nodes}
    # out_h1 is reached by its first consumer before its second: partial, then final
    first, second = sorted(position[c] for c in g.node("out_h1").consumers)
    assert "out_h1" in g.gradients_after(first + 1) and "out_h1" not in g.final_after(first + 1)
    assert "out_h1" in g.final_after(second + 1)


# ---------------------------------------------------------------- size limit and focus graphs


def test_full_graph_allowed_and_too_large():
    assert full_graph_allowed(preset("seed"))
    big = _random_scenario(_Fixed(3), (3, 3, 3), "sigmoid", "sigmoid", "half_sse")
    assert not full_graph_allowed(big)
    with pytest.raises(GraphTooLarge):
        build_graph(big)


class _Fixed:
    """A stand-in for hypothesis' draw in plain tests."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __call__(self, strategy):
        return self.value


@pytest.mark.parametrize(
    ("layers", "hidden", "out", "loss"),
    [((4, 5, 3), "tanh", "sigmoid", "half_sse"), ((3, 4, 4, 3), "relu", "softmax", "cross_entropy"),
     ((2, 2, 2), "sigmoid", "sigmoid", "half_sse"), ((5, 6, 2), "leaky_relu", "sigmoid", "bce")],
)
def test_focus_graph_gradients_equal_the_engine(layers, hidden, out, loss):
    s = _random_scenario(_Fixed(7), layers, hidden, out, loss)
    grads = engine.backward(s)
    trace = engine.forward(s)
    nm = symbolic.net_symbols(s.layers).names
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            g = build_graph(s, focus=Neuron(l, j))
            assert len(g.nodes) <= compgraph.MAX_FULL_NODES
            # the neuron's own parameters get the engine's gradient (a softmax neuron through every output)
            for k in range(layers[l - 1]):
                ref = Weight(l - 1, j, k)
                assert g.node(nm.param(ref)).grad == pytest.approx(engine.gradient_of(grads, ref), abs=1e-12)
            ref = Bias(l - 1, j)
            assert g.node(nm.param(ref)).grad == pytest.approx(engine.gradient_of(grads, ref), abs=1e-12)
            net = compgraph._net_name(nm, l, j)
            assert g.node(net).value == pytest.approx(trace.z[l][0, j], abs=1e-12)
            assert g.node(net).grad == pytest.approx(grads.dE_dz[l][0, j], abs=1e-12)
            for r in g.roots:
                assert g.node(r).upstream is not None
            # incoming activations: forward values from the engine, the engine's total gradient for reference
            for k in range(layers[l - 1]):
                leaf = g.node(compgraph._out_name(nm, l - 1, k))
                assert leaf.value == pytest.approx(trace.a[l - 1][0, k], abs=1e-15)
                assert leaf.reference_grad == pytest.approx(grads.dE_da[l - 1][0, k], abs=1e-15)
    with pytest.raises(ValueError):
        build_graph(s, focus=Neuron(0, 0))
    with pytest.raises(ValueError):
        build_graph(s, focus=Neuron(1, layers[1]))


# ---------------------------------------------------------------- the figure


def _trace(fig, name):
    return next(tr for tr in fig.data if tr.name == name)


def test_figure_builds_and_highlights_the_current_node():
    g = build_graph(preset("seed"))
    for k in (0, 1, 20, g.n_steps, None):
        fig = compgraph_figure(g, upto_step=k)
        nodes = _trace(fig, "nodes")
        assert set(nodes.customdata) == {n.id for n in g.nodes}
        names = {tr.name for tr in fig.data}
        if k in (0, None):
            assert "current node" not in names and not _trace(fig, "edges current").meta
        else:
            current = g.current(k)
            assert list(_trace(fig, "current node").customdata) == [current]
            assert fig.layout.meta["current"] == current
            assert sorted(_trace(fig, "edges current").meta) == sorted(g.steps[k - 1].edges)
            assert current in fig.layout.title.text
        assert fig.layout.height >= 60 * fig.layout.meta["rows"]  # every row gets its room (the page scrolls)
    # after step 20 (v11 = out_h1·w5 done) out_h1 is accumulating: shown with "…" and listed as partial
    k = g.order.index(next(e.parent for e in g.edges if e.child == "w5")) + 1
    fig = compgraph_figure(g, upto_step=k)
    assert "out_h1" in fig.layout.meta["partial"]
    text = dict(zip(_trace(fig, "nodes").customdata, _trace(fig, "nodes").text))
    assert "…" in text["out_h1"] and "g ·" in text["net_h1"]
    # before any step only E has a gradient; at the end every box shows one
    fig0 = compgraph_figure(g, upto_step=0)
    text0 = dict(zip(_trace(fig0, "nodes").customdata, _trace(fig0, "nodes").text))
    assert "g 1<" in text0["E"] + "<" and all("g ·" in v for n, v in text0.items() if n != "E")
    fig_end = compgraph_figure(g)
    assert all("g ·" not in v for v in _trace(fig_end, "nodes").text)
    assert len(_trace(fig_end, "edge info").customdata) == len(g.edges)


def _figure_graphs():
    """The graphs a student sees: the seed, its bce and softmax variants, and one neuron of a 6×8 network."""
    seed = preset("seed")
    softmax = validate({**seed.to_dict(), "activations": ["sigmoid", "softmax"], "loss": "cross_entropy",
                        "targets": [0.2, 0.8]})
    deep = build_scenario([8] + [8] * 6 + [8], ["tanh"] * 7, "half_sse", init="xavier")
    return {"seed": build_graph(seed), "bce": build_graph(validate({**seed.to_dict(), "loss": "bce"})),
            "softmax": build_graph(softmax), "focus": build_graph(deep, focus=Neuron(3, 2))}


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _check_layout(g, lay):
    """Boxes apart and inside the canvas, edges downwards (operand above its op), routes clear of every box."""
    from bpviz.figures.compgraph import GAP_BOX

    boxes = {nid: lay.box(nid) for nid in lay.pos}
    ids = list(boxes)
    for i, a in enumerate(ids):
        x0, y0, x1, y1 = boxes[a]
        assert x0 >= 0 and x1 <= lay.width and y0 >= 0 and y1 <= lay.height, a
        for b in ids[i + 1:]:
            grown = (boxes[b][0] - GAP_BOX + 1e-9, boxes[b][1], boxes[b][2] + GAP_BOX - 1e-9, boxes[b][3])
            assert not _overlap(boxes[a], grown), (a, b)
    for e in g.edges:
        assert boxes[e.child][3] < boxes[e.parent][1], e  # the operand's box ends above its op's box
        route = lay.routes[e.index]
        assert route[0][1] == pytest.approx(boxes[e.child][3]) and route[-1][1] == pytest.approx(boxes[e.parent][1])
        assert boxes[e.child][0] < route[0][0] < boxes[e.child][2]
        assert boxes[e.parent][0] < route[-1][0] < boxes[e.parent][2]
        for (xa, ya), (xb, yb) in zip(route, route[1:]):
            assert yb >= ya  # always downwards
            for f in np.linspace(0, 1, 41)[1:-1]:  # no point of the segment inside any box
                x, y = xa + f * (xb - xa), ya + f * (yb - ya)
                for nid, (x0, y0, x1, y1) in boxes.items():
                    assert not (x0 + 0.5 < x < x1 - 0.5 and y0 + 0.5 < y < y1 - 0.5), (e, nid)


def test_figure_layout_top_to_bottom_boxes_apart_edges_clear():
    from bpviz.figures.compgraph import NOMINAL_WIDTH, layout

    for name, g in _figure_graphs().items():
        lay = layout(g)
        _check_layout(g, lay)
        assert lay.width == NOMINAL_WIDTH, name  # planned for an 800 px plot: nothing scaled down there
        # leaves on top of their first use, E (the roots) at the very bottom
        bottom = max(lay.pos[n.id][1] for n in g.nodes)
        assert all(lay.pos[r][1] == bottom for r in g.roots)
        for n in g.nodes:
            if n.is_leaf:
                assert lay.row[n.id] > max(lay.row[c] for c in n.consumers)


def test_box_text_fits_its_box_at_every_step():
    """Every line a box shows (op and name, d, g at any step) fits its box at ≥ 12 px monospace."""
    import re

    from bpviz.figures.compgraph import BOX_PAD_X, CHAR_W, FONT, layout

    assert FONT >= 12
    for name, g in _figure_graphs().items():
        lay = layout(g)
        for k in range(g.n_steps + 1):
            fig = compgraph_figure(g, upto_step=k)
            nodes = _trace(fig, "nodes")
            assert nodes.textfont.size >= 12
            for nid, text in zip(nodes.customdata, nodes.text):
                lines = [re.sub(r"<[^>]+>", "", line) for line in text.split("<br>")]
                assert len(lines) == 3
                longest = max(len(line) for line in lines)
                assert longest * CHAR_W + 2 * BOX_PAD_X <= lay.size[nid][0] + 1e-9, (name, k, nid, lines)
                assert 3 * 1.3 * nodes.textfont.size <= lay.size[nid][1]


def test_figure_height_follows_the_rows():
    from bpviz.figures.compgraph import BOX_H, MARGIN, ROW_GAP, layout

    for name, g in _figure_graphs().items():
        lay = layout(g)
        fig = compgraph_figure(g, upto_step=1)
        rows = fig.layout.meta["rows"]
        assert fig.layout.height == round(lay.height + MARGIN["t"] + MARGIN["b"])
        per_row = (fig.layout.height - MARGIN["t"] - MARGIN["b"]) / rows
        assert BOX_H + ROW_GAP * (rows - 1) / rows <= per_row <= 100, (name, per_row)
        # both axes in nominal px at one scale
        assert list(fig.layout.xaxis.range) == [0, lay.width] and list(fig.layout.yaxis.range) == [lay.height, 0]
        assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1


def test_long_edges_are_routed_between_boxes():
    from bpviz.figures.compgraph import layout

    s = validate({**preset("seed").to_dict(), "loss": "bce"})  # bce: t1 feeds ops three rows apart
    g = build_graph(s)
    lay = layout(g)
    assert any(len(r) > 2 for r in lay.routes.values())
    _check_layout(g, lay)


def test_wide_row_of_leaves_spills_upwards():
    """One neuron with 8 inputs: 16 leaves do not fit one 800 px row; the activations go one row up."""
    from bpviz.figures.compgraph import layout

    g = _figure_graphs()["focus"]
    lay = layout(g)
    acts = {lay.row[n.id] for n in g.nodes if n.kind == "activation"}
    weights = {lay.row[n.id] for n in g.nodes if n.kind == "weight"}
    assert len(acts) == 1 and len(weights) == 1 and acts.pop() == weights.pop() + 1


def test_local_derivative_labels_of_the_current_edges():
    from bpviz.figures.compgraph import LABEL_CHAR_W

    for name, g in _figure_graphs().items():
        for k in (1, 2, 3, g.n_steps):
            fig = compgraph_figure(g, upto_step=k)
            labels = {a.name: a for a in fig.layout.annotations if (a.name or "").startswith("local ")}
            assert set(labels) == {f"local {i}" for i in g.steps[k - 1].edges}, (name, k)
            placed = []
            for i in g.steps[k - 1].edges:
                a = labels[f"local {i}"]
                assert fmt(g.edges[i].local) in a.text and a.font.size >= 12
                assert repr(g.edges[i].local) in a.hovertext  # the label covers the edge's hover point
                w = (len(a.text) - len("<b></b>")) * LABEL_CHAR_W
                placed.append((a.x - w / 2, a.y, a.x + w / 2, a.y + 16))
            for i, p in enumerate(placed):
                assert not any(_overlap(p, q) for q in placed[i + 1:]), (name, k)


def test_too_wide_graph_is_scaled_as_a_whole():
    """8 decimals on a neuron with 8 inputs: wider than 800 px, so fonts and height shrink with the boxes."""
    from bpviz.figures.compgraph import FONT, MARGIN, NOMINAL_WIDTH, layout

    g = _figure_graphs()["focus"]
    lay = layout(g, 8)
    _check_layout(g, lay)
    assert lay.width > NOMINAL_WIDTH
    fig = compgraph_figure(g, upto_step=2, decimals=8)
    scale = NOMINAL_WIDTH / lay.width
    assert _trace(fig, "nodes").textfont.size == pytest.approx(FONT * scale)
    assert fig.layout.height == round(lay.height * scale + MARGIN["t"] + MARGIN["b"])


@settings(max_examples=20, deadline=None)
@given(small_nets(), st.integers(1, 6))
def test_random_small_nets_layout(s, decimals):
    from bpviz.figures.compgraph import layout

    g = build_graph(s)
    _check_layout(g, layout(g, decimals))


def test_focus_figure_builds():
    s = _random_scenario(_Fixed(3), (3, 4, 4, 3), "relu", "softmax", "cross_entropy")
    g = build_graph(s, focus=Neuron(3, 1))
    fig = compgraph_figure(g, upto_step=2)
    assert len(g.roots) == 3 and fig.layout.meta["current"] == g.current(2)


def test_fmt_keeps_tiny_values_visible():
    # at least 3 significant figures: ∂E/∂w1 of the seed reads 0.000439, not 0.0004
    assert fmt(0.00043857) == "0.000439" and fmt(0.00001234) == "1.234e-05" and fmt(-0.25) == "−0.2500"
    assert fmt(0.0) == "0"


def test_figure_is_valid_plotly():
    """compgraph_figure skips Plotly's validation for speed: the same figure must pass it."""
    import plotly.graph_objects as go

    graph = build_graph(preset("seed"))
    for k in (0, 3, None):
        go.Figure(compgraph_figure(graph, upto_step=k).to_dict())  # raises ValueError on an invalid property


def test_presentation_mode_draws_the_graph_half_as_large_again():
    """Box text 12 px → 17.7 px (the main column without the sidebar is 1180 px; the canvas is 800 wide)."""
    from bpviz.figures.compgraph import FONT, LARGE_WIDTH, NOMINAL_WIDTH, compgraph_figure

    graph = build_graph(preset("seed"))
    normal, large = compgraph_figure(graph, upto_step=3), compgraph_figure(graph, upto_step=3, large=True)
    size = {name: next(tr for tr in fig.data if tr.name == "nodes").textfont.size
            for name, fig in (("normal", normal), ("large", large))}
    assert size == {"normal": FONT, "large": pytest.approx(FONT * LARGE_WIDTH / NOMINAL_WIDTH)}
    assert size["large"] >= 17.5
    ratio = (large.layout.height - 60) / (normal.layout.height - 60)
    assert ratio == pytest.approx(LARGE_WIDTH / NOMINAL_WIDTH, rel=0.05)  # the boxes grow with the text
