"""AppTest: the Computational graph page (whole loss or one neuron, backward one operation at a time)."""

from __future__ import annotations

import re

import pytest

from bpviz import compgraph, engine, numbers
from bpviz.builder import build_scenario
from bpviz.config import preset
from bpviz.ids import Neuron

from .apptest_util import assert_clean, figures, live, open_page, texts, trace_named

PAGE = "views/computational_graph.py"


@pytest.fixture
def at():
    return open_page(PAGE)


def _current(at) -> list[str]:
    """Ids of the highlighted (current) node in the graph figure; [] before the first backward step."""
    tr = trace_named(figures(at)[0], "current node")
    return list(tr["customdata"]) if tr else []


def _leaf_table(at):
    return next(df.value for df in at.dataframe if "agree" in df.value.columns)


def test_seed_whole_loss_graph_renders(at):
    assert_clean(at)
    assert at.radio(key="cg_mode").value == "whole"  # shown as "Whole loss"
    fig = figures(at)[0]
    nodes = trace_named(fig, "nodes")
    graph = compgraph.build_graph(preset("seed"))
    assert set(nodes["customdata"]) == {n.id for n in graph.nodes}
    assert {"w1", "w5", "b_h1", "out_o1", "E"} <= set(nodes["customdata"])
    assert "E = 0.2984" in fig["layout"]["title"]["text"]
    assert _current(at) == []
    assert at.slider(key="cg_step_full").max == graph.n_steps


def test_next_moves_the_highlighted_node(at):
    seen = []
    for _ in range(3):
        at.button(key="cg_step_full_next").click().run()
        assert_clean(at)
        seen.append(_current(at))
    assert seen[0] == ["E"]  # the backward pass starts at the loss
    assert seen[1] != seen[0] and seen[2] != seen[1]
    assert seen == [[s.node] for s in compgraph.build_graph(preset("seed")).steps[:3]]
    assert at.slider(key="cg_step_full").value == 3
    assert "Step 3 of 37" in texts(at)
    at.button(key="cg_step_full_prev").click().run()
    assert _current(at) == seen[1]


def test_step_text_names_every_node_it_mentions(at):
    """An unnamed intermediate (v23, ...) is introduced with its box before a formula uses it."""
    at.slider(key="cg_step_full").set_value(4).run()
    assert_clean(at)
    step_text = "\n".join(m.value for m in at.markdown if "Step 4 of" in m.value or m.value.startswith("- to"))
    ids = set(re.findall(r"\bv\d+\b", step_text))
    assert ids, step_text
    for vid in ids:
        assert f"**{vid}** (the `" in step_text, (vid, step_text)
    assert "**" not in step_text.replace("**", "")  # no Python power syntax left (v22**2)
    assert "2·v22" in step_text or "2·v" in step_text


def test_last_step_leaves_every_parameter_with_its_gradient(at):
    at.slider(key="cg_step_full").set_value(37).run()
    assert_clean(at)
    assert "step 37 of 37" in figures(at)[0]["layout"]["title"]["text"]
    assert at.button(key="cg_step_full_next").disabled
    nodes = trace_named(figures(at)[0], "nodes")
    text_of = dict(zip(nodes["customdata"], nodes["text"]))
    g = engine.backward(preset("seed"))
    for name, value in (("w5", g.dE_dW[1][0, 0]), ("w1", g.dE_dW[0][0, 0]), ("b_o2", g.dE_db[1][1])):
        shown = numbers.text(value, 4, minus="−")  # typographic minus, at least 3 significant figures
        assert f"g {shown}<" in text_of[name], (name, text_of[name])


def test_leaf_table_agrees_with_engine(at):
    table = _leaf_table(at)
    g = engine.backward(preset("seed"))
    assert len(table) == 12
    assert set(table["agree"]) == {"✓"}
    rows = dict(zip(table["parameter"], table["engine"]))
    assert rows["w5"] == f"{g.dE_dW[1][0, 0]:.4f}" == "0.0822"
    assert rows["w1"] == "0.000439" and rows["b_o1"] == "0.1385"


def test_slider_moves_graph_values(at):
    live(at, "sb_w_1_0_0").set_value(0.6).run()  # w5
    assert_clean(at)
    s = preset("seed").replace(weights=[[[0.15, 0.2], [0.25, 0.3]], [[0.6, 0.45], [0.5, 0.55]]])
    assert f"E = {engine.forward(s).loss:.4f}" in figures(at)[0]["layout"]["title"]["text"]
    assert set(_leaf_table(at)["agree"]) == {"✓"}


def test_one_neuron_mode(at):
    at.radio(key="cg_mode").set_value("one").run()
    assert_clean(at)
    assert at.selectbox(key="cg_focus").value == Neuron(1, 0)  # h1
    at.selectbox(key="cg_focus").set_value(Neuron(2, 1)).run()  # o2
    at.button(key="cg_step_focus_next").click().run()
    assert_clean(at)
    assert _current(at) == ["out_o2"]
    assert "out_o2" in figures(at)[0]["layout"]["title"]["text"]


def test_batch_scenario_compares_sample_one():
    at = open_page("views/network_builder.py")
    at.button(key="bld_preset_xor_2_2_1").click().run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert set(_leaf_table(at)["agree"]) == {"✓"}
    assert "sample 1" in texts(at)


def test_deep_wide_network_uses_one_neuron_mode(at):
    s = build_scenario([2] + [8] * 6 + [2], ["tanh"] * 6 + ["sigmoid"], "half_sse", init="xavier")
    assert not compgraph.full_graph_allowed(s)
    at.session_state["bpviz_app"].scenario = s
    at.run()
    assert_clean(at)
    assert not at.main.radio  # no whole-loss choice offered (the sidebar's radio is the language switch)
    assert any("too many operations" in i.value for i in at.info)
    focus = at.selectbox(key="cg_focus")
    assert len(focus.options) == 6 * 8 + 2
    focus.set_value(Neuron(6, 3)).run()  # the 4th neuron of the last hidden layer
    at.button(key="cg_step_focus_next").click().run()
    assert_clean(at)
    fig = figures(at)[0]
    graph = compgraph.build_graph(s, focus=Neuron(6, 3))
    assert _current(at) == [graph.steps[0].node]
    assert set(trace_named(fig, "nodes")["customdata"]) == {n.id for n in graph.nodes}


def test_view_follows_the_current_step_unless_whole_graph(at):
    for _ in range(3):
        at.button(key="cg_step_full_next").click().run()
    fig = figures(at)[0]
    low, high = sorted(fig["layout"]["yaxis"]["range"])
    y = trace_named(fig, "current node")["y"][0]
    assert low <= y <= high and high - low < 700  # a window around the current box, not the whole ~1400 px
    at.toggle(key="cg_whole").set_value(True).run()
    whole = figures(at)[0]
    w_low, w_high = sorted(whole["layout"]["yaxis"]["range"])
    assert w_high - w_low > high - low and w_low <= 0 + 1e-9
