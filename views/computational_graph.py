"""Computational graph: the loss split into elementary operations, gradients flowing back one operation at a time."""

import math

import streamlit as st

from bpviz import compgraph, engine
from bpviz.figures.compgraph import compgraph_figure
from bpviz.i18n import t
from bpviz.ids import Neuron, neurons
from bpviz.naming import names_for
from bpviz.ui import boundary, navigation, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState

WINDOW = 560  # px of the graph shown around the current step when following it (the seed's graph is ~1400 px tall)


FOCUS_OPTION = "cg_focus"


def _choose_focus(neuron: Neuron) -> None:
    state.set_option(neuron.format(), FOCUS_OPTION)


def _neuron_choice(app: AppState) -> Neuron:
    s = app.scenario
    nm = names_for(s.layers)
    choices = neurons(s.layers, first_layer=1)
    stored = app.options.get(FOCUS_OPTION)
    chosen = next((n for n in choices if n.format() == stored), choices[0])
    state.seed_widget(FOCUS_OPTION, chosen)
    return st.selectbox(t("Neuron", app.lang), choices, format_func=nm.neuron,
                        **state.on_widget(FOCUS_OPTION, _choose_focus))


def body(app: AppState, comp: Computed) -> None:
    s = app.scenario
    lang = app.lang
    widgets.page_header(__file__, t(
        "The chain rule at its most basic: the loss is split into elementary operations (add, multiply, "
        "exp, ...). Going backwards, each operation multiplies the gradient arriving from above by its own "
        "local derivative and passes it on. Where a value feeds several operations, the gradients add up.",
                 lang), app)
    allowed = compgraph.full_graph_allowed(s)
    modes = {"whole": t("Whole loss", lang), "one": t("One neuron", lang)}
    if allowed:
        mode = st.radio(t("Show", lang), list(modes), horizontal=True, format_func=modes.get,
                        **state.bind_option(app, "cg_mode", "whole"))
    else:
        mode = "one"
        st.info(t("This network's whole loss graph has too many operations to draw readably; pick one neuron to "
                  "see its net and activation as elementary operations (its inputs carry their values and the "
                  "gradient arriving from above, from the engine).", lang))
    focus = _neuron_choice(app) if mode == "one" else None
    graph = compgraph.build_graph(s, focus=focus, sample=comp.sample)
    k = navigation.counter_navigator(f"cg_step_{'full' if focus is None else 'focus'}", t("Backward step", lang),
                                     graph.n_steps, app, default=0)
    _explain_step(app, graph, k)  # above the graph: the words stay on screen next to the Next button
    _explain_overflow(app, graph)
    fig = compgraph_figure(graph, upto_step=k, decimals=app.decimals, lang=lang, large=app.present)
    whole_label = t("Show the whole graph", lang) if focus is None else t("Show all of this neuron's graph",
                                                                              lang)
    if focus is not None:
        st.caption(t("One neuron: its inputs arrive with their forward values, and its output starts the backward pass "
                     "with the gradient ∂E/∂out that the rest of the network sends back (from the engine), so it is "
                     "already final at step 0.", lang))
    if not st.toggle(whole_label, **state.bind_option(app, "cg_whole", False),
                     help=t("Off: the view follows the current step (drag the graph up or down to look around).",
                            lang)):
        follow_step(fig, k)
    st.plotly_chart(fig, key="compgraph_chart", config={"displayModeBar": False})
    if focus is None:
        _leaf_check(app, comp, graph)


def follow_step(fig, k: int) -> None:
    """Show a window of the (tall) graph around the box of step k, so Next and the highlighted box share a screen.

    Before the first step the window shows the bottom, where the backward pass starts (E). The y axis runs downward
    in the figure's pixels, so the window keeps the figure's scale; dragging pans it.
    """
    top, bottom = fig.layout.yaxis.range[1], fig.layout.yaxis.range[0]
    if bottom - top <= WINDOW:
        return
    current = next((tr for tr in fig.data if tr.name == "current node" and tr.y), None)
    centre = current.y[0] if current is not None and k > 0 else bottom
    lo = min(max(centre - WINDOW / 2, top), bottom - WINDOW)
    fig.update_layout(height=fig.layout.height - (bottom - top) + WINDOW, dragmode="pan", uirevision=f"step-{k}")
    fig.update_yaxes(range=[lo + WINDOW, lo], fixedrange=False)


def _pretty(formula: str) -> str:
    """SymPy's printed formula in school notation: v22**2 → v22², 2*v22 → 2·v22."""
    return formula.replace("**2", "²").replace("**", "^").replace("*", "·")


def _who(node: compgraph.OpNode, lang: str = "en") -> str:
    """A node as the student finds it: by name (w5, out_h1, E), or for an unnamed intermediate its id and box."""
    if node.name:
        return f"**{node.name}**"
    return t("**{id}** (the `{op}` box)", lang, id=node.id, op=node.op)


def _explain_step(app: AppState, graph: compgraph.OpGraph, k: int) -> None:
    lang, d = app.lang, app.decimals
    if k == 0:
        st.markdown(t("**Forward values only.** Press Next: the backward pass starts at the loss with "
                      "∂E/∂E = 1.", lang))
        return
    step = graph.steps[k - 1]
    node = graph.node(step.node)
    grads = graph.gradients_after(k)
    st.markdown(t("**Step {k} of {n}**: {who}, defined as {formula}; value {value}, gradient ∂E/∂{id} = {grad}",
                  lang=lang, k=k, n=graph.n_steps, who=_who(node, lang), formula=_pretty(node.formula),
                  value=widgets.fmt(node.value, d, lang), id=node.id,
                  grad=widgets.fmt(grads.get(node.id, 0.0), d, lang)))
    lines = []
    for e in step.edges:
        edge = graph.edges[e]
        child = graph.node(edge.child)
        lines.append(t("- to {child}: local derivative {formula} = {local}; passes {grad} × {local} = "
                       "**{contribution}**", lang=lang, child=_who(child, lang), formula=_pretty(edge.local_formula),
                       local=widgets.fmt(edge.local, d, lang), grad=widgets.fmt(grads.get(node.id, 0.0), d, lang),
                       contribution=widgets.fmt(edge.contribution, d, lang)))
    st.markdown("\n".join(lines))
    st.caption(t("Unnamed intermediate values are called v1, v2, ...: hover a box in the graph to see its name.",
                 lang))


def _explain_overflow(app: AppState, graph: compgraph.OpGraph) -> None:
    """Where the elementary operations leave float64 (boxes then say "overflow" or "undefined"), and why the
    engine's numbers stay finite."""
    where = graph.overflow()
    if where is None:
        return
    lang, d = app.lang, app.decimals
    node = graph.node(where.node)
    if where.edge is None:
        args = ", ".join(widgets.fmt(graph.node(c).value, d, lang) for c in node.children)
        first = t("In the forward pass {who} = {op}({args}) is {value}: beyond what float64 holds "
                  "(about ±1.8 × 10³⁰⁸), or not a number at all (∞ − ∞, 0 · ∞).", lang, who=_who(node, lang),
                  op=node.op, args=args, value=widgets.fmt(node.value, d, lang))
    else:
        edge = graph.edges[where.edge]
        first = t("In the backward pass {who} passes ∂E/∂{id} × local derivative {local} to {child}, which is "
                  "{value}: beyond what float64 holds, or not a number (0 · ∞).", lang, who=_who(node, lang),
                  id=node.id, local=widgets.fmt(edge.local, d, lang), child=_who(graph.node(edge.child), lang),
                  value=widgets.fmt(edge.contribution, d, lang))
    st.warning(first + " " + t(
        "Every box computed from it says so too. The engine does not build the loss from these elementary "
        "operations: it uses stable closed forms (σ(z) without e^(−z) for large |z|, the loss from the logits, "
        "log-sum-exp), so its numbers on the other pages stay finite.", lang))


def _leaf_check(app: AppState, comp: Computed, graph: compgraph.OpGraph) -> None:
    """The parameter leaves' gradients beside the engine's (they must agree)."""
    s = app.scenario
    grads = comp.grads
    if s.n_samples > 1:
        # the graph is one sample's loss: compare with the engine on that sample alone
        i = comp.sample
        grads = engine.backward(s.replace(inputs=s.inputs[i].tolist(), targets=s.targets[i].tolist()))
        st.caption(t("The graph shows sample {s}'s loss (the update uses the mean over all samples).", lang=app.lang,
                     s=i + 1))
    nm = names_for(s.layers)
    rows = []
    for ref, g in graph.param_gradients().items():
        e = engine.gradient_of(grads, ref)
        rows.append({t("parameter", app.lang): nm.param(ref),
                     t("graph", app.lang): widgets.fmt(g, app.decimals, app.lang),
                     t("engine", app.lang): widgets.fmt(e, app.decimals, app.lang),
                     t("agree", app.lang): _agree(g, e, app.lang)})
    with st.expander(t("Parameter leaves vs the engine's backward pass", app.lang)):
        st.dataframe(rows, hide_index=True, width="stretch")


def _agree(graph_value: float, engine_value: float, lang: str) -> str:
    """✓ or ≠, or why they cannot be compared (the graph's arithmetic overflowed: see the note above the graph)."""
    if not math.isfinite(graph_value):
        return t("graph overflowed", lang)
    return "✓" if abs(graph_value - engine_value) <= 1e-12 * max(1.0, abs(engine_value)) else "≠"


boundary.run_page(body)
