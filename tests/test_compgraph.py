"""The elementary-op graph: read off SymPy, forward values and gradients equal to the engine's, step-wise backward."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz import compgraph, engine, symbolic
from bpviz.compgraph import GraphTooLarge, build_graph, full_graph_allowed
from bpviz.config import preset, validate
from bpviz.figures.compgraph import compgraph_figure, fmt

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
    shares = [symbolic.SYM_LOSSES[loss].share(sy.out[-1][k], sy.targets[k], K) for k in range(K)]
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
            g = build_graph(s, focus=(l, j))
            assert len(g.nodes) <= compgraph.MAX_FULL_NODES
            # the neuron's own parameters get the engine's gradient (a softmax neuron through every output)
            for k in range(layers[l - 1]):
                ref = engine.ParamRef("w", l - 1, j, k)
                assert g.node(nm.param(ref)).grad == pytest.approx(engine.gradient_of(grads, ref), abs=1e-12)
            ref = engine.ParamRef("b", l - 1, j)
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
        build_graph(s, focus=(0, 0))
    with pytest.raises(ValueError):
        build_graph(s, focus=(1, layers[1]))


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
        assert 700 <= fig.layout.height <= 1000
    # after step 20 (v11 = out_h1·w5 done) out_h1 is accumulating: shown with "…" and listed as partial
    k = g.order.index(next(e.parent for e in g.edges if e.child == "w5")) + 1
    fig = compgraph_figure(g, upto_step=k)
    assert "out_h1" in fig.layout.meta["partial"]
    text = dict(zip(_trace(fig, "nodes").customdata, _trace(fig, "nodes").text))
    assert "…" in text["out_h1"] and "g ·" in text["net_h1"]
    # before any step only E has a gradient; at the end every box shows one
    fig0 = compgraph_figure(g, upto_step=0)
    text0 = dict(zip(_trace(fig0, "nodes").customdata, _trace(fig0, "nodes").text))
    assert "g 1.0000" in text0["E"] and all("g ·" in v for n, v in text0.items() if n != "E")
    fig_end = compgraph_figure(g)
    assert all("g ·" not in v for v in _trace(fig_end, "nodes").text)
    assert len(_trace(fig_end, "edge info").customdata) == len(g.edges)


def test_figure_layout_boxes_do_not_overlap():
    from bpviz.figures.compgraph import BOX_H, BOX_W, layout_positions

    g = build_graph(preset("seed"))
    pos = list(layout_positions(g).values())
    for i, (x1, y1) in enumerate(pos):
        for x2, y2 in pos[i + 1:]:
            assert abs(x1 - x2) >= BOX_W or abs(y1 - y2) >= BOX_H


def test_long_edges_are_routed_between_boxes():
    from bpviz.figures.compgraph import BOX_H, BOX_W, layout

    s = validate({**preset("seed").to_dict(), "loss": "bce"})  # bce: t1 feeds ops three columns apart
    g = build_graph(s)
    pos, routes = layout(g)
    assert any(len(r) > 2 for r in routes.values())
    for r in routes.values():
        for x, y in r[1:-1]:  # bend points sit in the gaps, never inside a box
            for bx, by in pos.values():
                assert not (abs(x - bx) <= BOX_W / 2 + 1e-9 and abs(y - by) < BOX_H / 2)


def test_focus_figure_builds():
    s = _random_scenario(_Fixed(3), (3, 4, 4, 3), "relu", "softmax", "cross_entropy")
    g = build_graph(s, focus=(3, 1))
    fig = compgraph_figure(g, upto_step=2)
    assert len(g.roots) == 3 and fig.layout.meta["current"] == g.current(2)


def test_fmt_keeps_tiny_values_visible():
    assert fmt(0.00043857) == "0.0004" and fmt(0.00001234) == "1.23e-05" and fmt(-0.25) == "−0.2500"
    assert fmt(0.0) == "0"
