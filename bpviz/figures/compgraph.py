"""The computational graph of elementary operations, drawn like micrograd's ``draw_dot`` (pure Plotly, no UI).

Leaves sit left of their first use and E at the right; every box shows the op (or the leaf's name), its forward
value ``d`` (data) and, once the backward pass has reached it, its gradient ``g`` = ∂E/∂node. The node processed
in the current backward step is outlined in red and the edges it pushes its gradient through are labelled with
their local derivative ∂parent/∂child; every edge has it in its hover.

Trace names tests (and the UI) can rely on: "edges pending", "edges traversed", "edges current" (lines),
"edge info" (hover markers, customdata = edge index), "nodes" (customdata = node id), "current node"
(customdata = [node id]). ``layout.meta`` holds {"step", "current", "final", "partial"}.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ..compgraph import OpGraph
from ..i18n import t

COLUMN = 1.0  # x distance between ranks
ROW = 1.0  # minimum y distance between boxes in one column
BOX_W = 0.86
BOX_H = 0.62

FILL_PENDING = "#ffffff"
FILL_PARTIAL = "#fff1c7"  # some consumers have pushed their share: the gradient is still accumulating
FILL_FINAL = "#e3f4e1"
FILL_CURRENT = "#ffd6cc"
BORDER = {"op": "#555555", "weight": "#1f5fbf", "bias": "#7b3fbf", "input": "#888888", "target": "#888888",
          "activation": "#888888", "net": "#888888"}
EDGE_PENDING = "#c8c8c8"
EDGE_TRAVERSED = "#3a8f3a"
EDGE_CURRENT = "#d62728"
GRAD_COLOR = "#b03a2e"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def fmt(value: float, decimals: int = 4) -> str:
    """A value at ``decimals`` places; tiny non-zero values in scientific notation so they do not read as 0."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) < 0.5 * 10.0**-decimals:
        return f"{value:.{max(decimals - 2, 1)}e}"
    text = f"{value:.{decimals}f}"
    return "0" if text.lstrip("-").strip("0.") == "" else text.replace("-", "−")


WIDE_COLUMNS = 17  # the seed's graph has 17 ranks; wider graphs switch to compact box text
DUMMY_H = 0.12  # height reserved in a column for an edge passing through it


def layout(graph: OpGraph) -> tuple[dict[str, tuple[float, float]], dict[int, list[tuple[float, float]]]]:
    """Node centres and edge routes. x by rank (roots right); an edge spanning several ranks passes through a
    reserved slot in every column between (Sugiyama's dummy nodes), so it never crosses a box. In each column
    items sit near the mean y of their consumers, kept apart by a minimum gap."""
    max_rank = max(n.rank for n in graph.nodes)
    order_key = {nid: i for i, nid in enumerate(graph.order)}
    # layout items: real nodes, plus one dummy per edge per column it passes through
    rank: dict[str, int] = {n.id: n.rank for n in graph.nodes}
    ups: dict[str, list[str]] = {n.id: [] for n in graph.nodes}  # item -> the items it feeds (to its right)
    tiebreak: dict[str, tuple] = {n.id: (order_key.get(n.id, len(order_key)), i) for i, n in enumerate(graph.nodes)}
    chains: dict[int, list[str]] = {}
    for e in graph.edges:
        prev = e.parent
        chain = []
        for r in range(rank[e.parent] + 1, rank[e.child]):
            d = f"~{e.index}.{r}"
            rank[d] = r
            ups[d] = [prev]
            tiebreak[d] = tiebreak[e.child]
            chain.append(d)
            prev = d
        ups[e.child].append(prev)
        chains[e.index] = chain
    height = {item: (BOX_H if not item.startswith("~") else DUMMY_H) for item in rank}
    pad = ROW - BOX_H
    by_rank: dict[int, list[str]] = {}
    for item, r in rank.items():
        by_rank.setdefault(r, []).append(item)
    y: dict[str, float] = {}
    for r in range(max_rank + 1):
        items = by_rank.get(r, [])
        desired = {it: (sum(y[u] for u in ups[it]) / len(ups[it]) if ups[it] else 0.0) for it in items}
        items.sort(key=lambda it: (desired[it], tiebreak[it]))
        placed: list[float] = []
        for i, it in enumerate(items):
            want = desired[it]
            if placed:
                want = max(want, placed[-1] + (height[items[i - 1]] + height[it]) / 2 + pad)
            placed.append(want)
        # shift the column so that, on average, items sit where their consumers want them
        shift = sum(desired[it] - p for it, p in zip(items, placed)) / max(len(items), 1)
        for it, p in zip(items, placed):
            y[it] = p + shift
    pos = {n.id: ((max_rank - n.rank) * COLUMN, y[n.id]) for n in graph.nodes}
    routes: dict[int, list[tuple[float, float]]] = {}
    for e in graph.edges:
        (xc, yc), (xp, yp) = pos[e.child], pos[e.parent]
        points = [(xc + BOX_W / 2, yc)]
        for d in reversed(chains[e.index]):  # child side first
            xd = (max_rank - rank[d]) * COLUMN
            points += [(xd - BOX_W / 2, y[d]), (xd + BOX_W / 2, y[d])]
        points.append((xp - BOX_W / 2, yp))
        routes[e.index] = points
    return pos, routes


def layout_positions(graph: OpGraph) -> dict[str, tuple[float, float]]:
    """(x, y) of every node (see :func:`layout`)."""
    return layout(graph)[0]


def _node_hover(graph: OpGraph, nid: str, grads: dict[str, float], final: frozenset[str],
                traversed: frozenset[int], decimals: int, lang: str) -> str:
    n = graph.node(nid)
    lines = [f"<b>{n.name or n.id}</b>" + (f"  ({n.op})" if n.op else f"  ({t(n.kind, lang)})")]
    if n.op:
        lines.append(n.formula)
    lines.append(t("data (forward value) = {v}", lang, v=repr(n.value)))
    if nid in grads:
        state = t("final", lang) if nid in final else t("still accumulating", lang)
        lines.append(t("grad ∂E/∂{n} = {v} ({state})", lang, n=n.id, v=repr(grads[nid]), state=state))
    else:
        lines.append(t("grad: not reached yet", lang))
    if len(n.consumers) > 1:
        parts = [f"{e.parent}: {fmt(e.contribution, decimals)}" for e in graph.edges
                 if e.child == nid and e.index in traversed]
        lines.append(t("used by {k} operations: its gradient is the sum", lang, k=len(n.consumers)))
        if parts:
            lines.append(" + ".join(parts) + (f" = {fmt(grads[nid], decimals)}" if nid in final else " + …"))
    if n.upstream is not None:
        lines.append(t("backward seed ∂E/∂{n} = {v} (from the engine)", lang, n=n.id, v=repr(n.upstream)))
    if n.reference_grad is not None:
        lines.append(t("total ∂E/∂{n} over all its consumers (engine) = {v}", lang, n=n.id, v=repr(n.reference_grad)))
    return "<br>".join(lines)


def compgraph_figure(graph: OpGraph, upto_step: int | None = None, decimals: int = 4, lang: str = "en",
                     height: int | None = None) -> go.Figure:
    """The graph after ``upto_step`` backward steps (None: the whole backward pass, 0: forward values only)."""
    k = graph.n_steps if upto_step is None else max(0, min(int(upto_step), graph.n_steps))
    current = graph.current(k) if upto_step is not None else None
    grads = graph.gradients_after(k)
    final = graph.final_after(k)
    traversed = graph.traversed_after(k)
    current_edges = set(graph.steps[k - 1].edges) if current is not None else set()
    pos, routes = layout(graph)
    fig = go.Figure()
    shapes: list[dict] = []  # collected and set once: add_shape / add_annotation validate on every call (slow)
    notes: list[dict] = []

    # ---- edges: from the child's right side to the parent's left side
    groups: dict[str, list[int]] = {"edges pending": [], "edges traversed": [], "edges current": []}
    for e in graph.edges:
        key = "edges current" if e.index in current_edges else (
            "edges traversed" if e.index in traversed else "edges pending")
        groups[key].append(e.index)
    style = {"edges pending": (EDGE_PENDING, 1.2), "edges traversed": (EDGE_TRAVERSED, 1.8),
             "edges current": (EDGE_CURRENT, 3.0)}
    for name, eids in groups.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for i in eids:
            xs += [p[0] for p in routes[i]] + [None]
            ys += [p[1] for p in routes[i]] + [None]
        color, width = style[name]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line={"color": color, "width": width},
                                 hoverinfo="skip", showlegend=False, meta=eids))

    # ---- edge hover markers (and a visible label of the local derivative on the current edges)
    ex, ey, etext, ecustom = [], [], [], []
    for e in graph.edges:
        (xa, ya), (xb, yb) = routes[e.index][-2:]  # hover point: middle of the last segment, next to the parent
        ex.append((xa + xb) / 2)
        ey.append((ya + yb) / 2)
        ecustom.append(e.index)
        lines = [e.local_formula, t("local derivative = {v}", lang, v=repr(e.local))]
        if e.index in traversed:
            lines.append(t("passes ∂E/∂{p} · {v} = {c} to {ch}", lang, p=e.parent, v=fmt(e.local, decimals),
                           c=repr(e.contribution), ch=e.child))
        etext.append("<br>".join(lines))
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="markers", name="edge info", customdata=ecustom, hovertext=etext,
                             hoverinfo="text", marker={"size": 9, "color": "rgba(0,0,0,0)"}, showlegend=False))
    for i in sorted(current_edges):
        # the local derivative of a current edge, just under the box that receives grad · local
        e = graph.edges[i]
        xc, yc = pos[e.child]
        notes.append({"x": xc, "y": yc + BOX_H / 2, "text": f"local {fmt(e.local, decimals)}", "showarrow": False,
                      "yshift": -8, "font": {"size": 10, "color": EDGE_CURRENT}, "name": f"local {e.index}"})

    # ---- boxes
    partial: list[str] = []
    for n in graph.nodes:
        x, y = pos[n.id]
        if n.id == current:
            fill = FILL_CURRENT
        elif n.id in final:
            fill = FILL_FINAL
        elif n.id in grads:
            fill = FILL_PARTIAL
            partial.append(n.id)
        else:
            fill = FILL_PENDING
        border = EDGE_CURRENT if n.id == current else BORDER.get(n.kind, "#555555")
        shapes.append({"type": "rect", "x0": x - BOX_W / 2, "x1": x + BOX_W / 2, "y0": y - BOX_H / 2,
                       "y1": y + BOX_H / 2, "fillcolor": fill, "layer": "below", "name": f"box {n.id}",
                       "line": {"color": border, "width": 3 if n.id == current else 1.3,
                                "dash": "dot" if n.kind in ("input", "target") else "solid"}})
        if n.op and n.name:
            # a named intermediate (net_h1, out_h1, E_o1, E): its name above the box
            notes.append({"x": x, "y": y - BOX_H / 2, "text": f"<b>{n.id}</b>", "showarrow": False, "yshift": 7,
                          "font": {"size": 10, "color": "#1f3f7f"}})

    # wide graphs (more than ~17 columns on a 1280 px screen): smaller text, no "d"/"g" prefixes, so values fit
    compact = max(n.rank for n in graph.nodes) + 1 > WIDE_COLUMNS
    d_prefix, g_prefix = ("", "") if compact else ("d ", "g ")
    texts, hovers, xs, ys, ids = [], [], [], [], []
    for n in graph.nodes:
        x, y = pos[n.id]
        head = f"<b>{n.op}</b>" if n.op else f"<b>{n.name}</b>"
        if n.id in grads:
            mark = "" if n.id in final else "…"
            grad_text = f"<span style='color:{GRAD_COLOR}'>{g_prefix}{fmt(grads[n.id], decimals)}{mark}</span>"
        else:
            grad_text = f"<span style='color:#bbbbbb'>{g_prefix}·</span>"
        texts.append(f"{head}<br>{d_prefix}{fmt(n.value, decimals)}<br>{grad_text}")
        hovers.append(_node_hover(graph, n.id, grads, final, traversed, decimals, lang))
        xs.append(x)
        ys.append(y)
        ids.append(n.id)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers+text", name="nodes", text=texts, customdata=ids,
                             hovertext=hovers, hoverinfo="text", textposition="middle center",
                             textfont={"size": 10 if compact else 11, "family": MONO},
                             marker={"size": 30, "color": "rgba(0,0,0,0)", "symbol": "square"},
                             showlegend=False))
    if current is not None:
        x, y = pos[current]
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name="current node", customdata=[current],
                                 hoverinfo="skip", showlegend=False,
                                 marker={"size": 1, "color": EDGE_CURRENT, "opacity": 0}))

    # ---- title: what happens in this step
    if current is not None:
        node = graph.node(current)
        kids = ", ".join(graph.edges[i].child for i in sorted(current_edges))
        title = t("Backward step {k} of {n}: {node} ({op}) passes its gradient to {kids}", lang, k=k,
                  n=graph.n_steps, node=current, op=node.op, kids=kids)
    elif k == 0:
        title = t("Forward pass done: E = {e}. Backward: start at E with ∂E/∂E = 1", lang, e=fmt(graph.loss, decimals))
    else:
        title = t("Backward pass done: every node holds ∂E/∂node", lang)
    if compact:
        legend = t("each box: op (or leaf name) · forward value · gradient ∂E/∂node in red (… = still accumulating)",
                   lang)
    else:
        legend = t("each box: op (or leaf name) · d = forward value · g = gradient ∂E/∂node (… = still accumulating)",
                   lang)
    if current is not None:
        legend += " · " + t("local = ∂parent/∂child of this step's edges (every edge: hover)", lang)

    xs_all = [p[0] for p in pos.values()]
    ys_all = [p[1] for p in pos.values()]
    rows = (max(ys_all) - min(ys_all)) / ROW + 1
    if height is None:
        height = int(min(max(160 + 92 * rows, 420), 1000))
    fig.update_layout(
        title={"text": f"{title}<br><sup>{legend}</sup>", "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="closest",
        dragmode="pan",
        shapes=shapes,
        annotations=notes,
        meta={"step": k, "current": current, "final": sorted(final), "partial": sorted(partial)},
        xaxis={"visible": False, "range": [min(xs_all) - 0.6, max(xs_all) + 0.6], "fixedrange": False},
        yaxis={"visible": False, "range": [max(ys_all) + 0.7, min(ys_all) - 0.9]},
    )
    return fig
