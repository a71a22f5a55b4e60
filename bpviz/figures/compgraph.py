"""The computational graph of elementary operations, drawn like micrograd's ``draw_dot`` (pure Plotly, no UI).

Layout, planned for a web page: top to bottom, leaves (inputs, targets, weights, biases) at the top just above their
first use, E at the bottom, one row per rank; the figure grows in height (a page scrolls vertically) and its width is
fixed by the widest row. The axes are in *nominal pixels* of a plot area ``NOMINAL_WIDTH`` wide with both axes at
the same scale, so box sizes and fonts are planned in pixels: at the nominal width (the main column at 1280×800) the
boxes are exactly as planned, a wider plot only adds room at the sides.

Every box shows its op (and, for a named value such as out_h1, the name in blue; a leaf shows its name), the forward
value ``d`` (data) and, once the backward pass has reached it, its gradient ``g`` = ∂E/∂node. The node processed in
the current backward step is outlined in red and the edges it pushes its gradient through are red, each labelled with
its local derivative ∂parent/∂child just under the box receiving it; every edge has it in its hover.

Trace names tests (and the UI) can rely on: "edges pending", "edges traversed", "edges current" (lines, ``meta`` =
edge indices), "edge info" (hover markers, customdata = edge index), "nodes" (customdata = node id, ``text`` = the box
text), "current node" (customdata = [node id]). Box shapes are named "box <id>", local-derivative annotations
"local <edge index>". ``layout.meta`` holds {"step", "current", "final", "partial", "rows", "width"}.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go

from .. import numbers
from ..compgraph import KIND_NAMES, OpEdge, OpGraph
from ..i18n import N_, t

# plot-area width (px) the layout is planned for: the main column at 1280×800 with the sidebar open
NOMINAL_WIDTH = 800
SIDE_PAD = 8  # kept free left and right of the widest row (the real column is a few px narrower)
LARGE_WIDTH = 1180  # presentation mode: the main column at 1280×800 with the sidebar folded away ...
LARGE_FONT = 20  # ... and the box text it aims for (reached where the widest row leaves room)
FONT = 12  # box text (px): op, d, g
CHAR_W = 0.6 * FONT  # monospace advance
LINE_H = 1.3 * FONT  # Plotly's line spacing
BOX_PAD_X = 6  # text to box border, each side
BOX_PAD_TIGHT = 3  # ... when the boxes would not fit the plot otherwise (many decimals)
BOX_H = round(3 * LINE_H + 7)  # every box has three lines: op (+ name) / d / g
ROW_GAP = 26  # vertical gap between rows: edges, and the local-derivative labels under the boxes
RUN_SLOPE = 0.15  # ... at least this times the widest sideways run of an edge through the gap
MAX_ROW_GAP = 60
GAP_BOX = 8  # horizontal gap between two boxes in a row
GAP_EDGE = 6  # ... between a box and an edge passing through the row, or two such edges
EDGE_SLOT = 4  # width reserved for an edge passing through a row
SLOT = "~"  # id prefix of such a slot ("~<edge index>.<row>"): never a node id
SWEEPS = 4  # passes up and down the rows moving each item towards its neighbours, after the first placement
EDGE_END_SPACING = 14.0  # between the ends of edges meeting one side of a box ...
EDGE_END_INSET = 8  # ... which stay this far inside the box's text padding
TOP_PAD = 8
BOTTOM_PAD = 8
MARGIN = {"l": 4, "r": 4, "t": 104, "b": 4}
LABEL_FONT = 12
LABEL_CHAR_W = 6.6  # bold proportional font: a generous average advance
CHIP_CHAR_W, CHIP_PAD = 6.4, 16  # a legend chip's advance per Latin letter (12 px), and its border and gap

FILL_PENDING = "#ffffff"
FILL_PARTIAL = "#fff1c7"  # some consumers have pushed their share: the gradient is still accumulating
FILL_FINAL = "#e3f4e1"
FILL_CURRENT = "#ffd6cc"
HALO_CURRENT = "rgba(214, 39, 40, 0.18)"
BORDER = {"op": "#555555", "weight": "#1f5fbf", "bias": "#7b3fbf", "input": "#888888", "target": "#888888",
          "activation": "#888888", "net": "#888888"}
NAME_COLOR = "#1f4f9f"
EDGE_PENDING = "#c0c0c0"
EDGE_TRAVERSED = "#3a8f3a"
EDGE_CURRENT = "#d62728"
GRAD_COLOR = "#b03a2e"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
# which leaves move to an extra row above when a row is too wide (data first: parameters stay next to their op)
_PUSH_ORDER = {"activation": 0, "input": 0, "net": 0, "target": 1, "bias": 2, "weight": 3}


def fmt(value: float, decimals: int = 4, lang: str = "en") -> str:
    """A number as every page shows it (:func:`bpviz.numbers.text`), with the typographic minus sign; ``lang``: the
    language of the words for a value float64 cannot hold."""
    return numbers.Style(decimals, lang, numbers.MINUS).text(value)


@dataclass(frozen=True)
class GraphLayout:
    """Where everything goes, in nominal px (y grows downwards): box centres and sizes, edge routes (child first,
    parent last), the row of every node (0 = the roots' row, at the bottom) and the canvas size."""

    pos: dict[str, tuple[float, float]]
    size: dict[str, tuple[float, float]]
    routes: dict[int, list[tuple[float, float]]]
    row: dict[str, int]
    width: float
    height: float

    def box(self, node_id: str) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of a node's box."""
        (x, y), (w, h) = self.pos[node_id], self.size[node_id]
        return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def _head(graph: OpGraph, nid: str) -> tuple[str, int]:
    """A box's first line (HTML) and its length in characters: the op and a named value's name, or a leaf's name."""
    n = graph.node(nid)
    if not n.op:
        return f"<b>{n.name}</b>", numbers.columns(n.name)
    if n.name:
        return (f"<b>{n.op}</b> <span style='color:{NAME_COLOR}'><b>{n.name}</b></span>",
                numbers.columns(n.op) + 1 + numbers.columns(n.name))
    return f"<b>{n.op}</b>", numbers.columns(n.op)


def _grad_texts(graph: OpGraph, decimals: int, lang: str = "en") -> dict[str, set[str]]:
    """Every gradient text a box can show during the backward pass (partial sums too), to size the boxes once."""
    texts = {n.id: {fmt(n.grad, decimals, lang)} for n in graph.nodes}
    running = graph.gradients_after(0)
    for r, g in running.items():
        texts[r].add(fmt(g, decimals, lang))
    pending = {n.id: len(n.consumers) for n in graph.nodes}
    for step in graph.steps:
        for i in step.edges:
            e = graph.edges[i]
            running[e.child] = running.get(e.child, 0.0) + e.contribution
            pending[e.child] -= 1
            texts[e.child].add(fmt(running[e.child], decimals, lang) + ("…" if pending[e.child] else ""))
    return texts


def box_sizes(graph: OpGraph, decimals: int = 4, uniform: bool = True,
              pad: float = BOX_PAD_X, lang: str = "en") -> dict[str, tuple[float, float]]:
    """(width, height) in px of every box, wide enough for its longest line at ``FONT`` px monospace. ``uniform``:
    every box as wide as the widest d / g line (or leaf name) of the graph, a named op's box wider if its first line
    needs it; else each box as wide as its own text. Widths count a Chinese character as two (``numbers.columns``);
    ``lang``: the language of the words for a value float64 cannot hold."""
    grads = _grad_texts(graph, decimals, lang)
    body = {n.id: max(2 + numbers.columns(fmt(n.value, decimals, lang)),
                      2 + max(numbers.columns(s) for s in grads[n.id]),
                      0 if n.op else numbers.columns(n.name)) for n in graph.nodes}
    common = max(body.values()) if uniform else 0
    sizes = {}
    for n in graph.nodes:
        chars = max(body[n.id], common, _head(graph, n.id)[1], 6)
        sizes[n.id] = (math.ceil(chars * CHAR_W + 2 * pad), BOX_H)
    return sizes


def _push_class(graph: OpGraph, nid: str) -> int:
    return _PUSH_ORDER.get(graph.node(nid).kind, 9)


def _gap(a: str, b: str) -> float:
    return GAP_BOX if not _is_slot(a) and not _is_slot(b) else GAP_EDGE


def _pack(items: list[str], desired: dict[str, float], width: dict[str, float], canvas: float) -> dict[str, float]:
    """x of the items of one row, in this order, as close as possible (least squares) to ``desired`` while keeping
    every neighbour gap and the canvas: isotonic regression (pool adjacent violators) of desired − offset."""
    offset = [0.0]
    for a, b in zip(items, items[1:]):
        offset.append(offset[-1] + (width[a] + width[b]) / 2 + _gap(a, b))
    targets = [desired[it] - o for it, o in zip(items, offset)]
    blocks: list[list[float]] = []  # [mean, count]
    for v in targets:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    values = [m for m, c in blocks for _ in range(int(c))]
    lo = width[items[0]] / 2 + SIDE_PAD
    hi = canvas - SIDE_PAD - width[items[-1]] / 2 - offset[-1]
    if lo > hi:  # wider than the canvas (cannot happen: the canvas is as wide as the widest row)
        lo = hi = (lo + hi) / 2
    return {it: min(max(v, lo), hi) + o for it, v, o in zip(items, values, offset)}


def _row_width(items: list[str], width: dict[str, float]) -> float:
    return sum(width[it] for it in items) + sum(_gap(a, b) for a, b in zip(items, items[1:]))


def layout(graph: OpGraph, decimals: int = 4, lang: str = "en") -> GraphLayout:
    """Where every box and edge goes (see :func:`_layout`): boxes of one width; if that makes the graph wider than
    the plot, each box as wide as its text, then with less padding. Wider still (many decimals on a neuron with
    many inputs) the canvas grows and :func:`compgraph_figure` scales everything down to the plot's width. ``lang``:
    the language the boxes' texts are in (the words for a value float64 cannot hold)."""
    lay = _layout(graph, box_sizes(graph, decimals, uniform=True, lang=lang))
    if lay.width > NOMINAL_WIDTH:
        lay = _layout(graph, box_sizes(graph, decimals, uniform=False, lang=lang))
    if lay.width > NOMINAL_WIDTH:
        lay = _layout(graph, box_sizes(graph, decimals, uniform=False, pad=BOX_PAD_TIGHT, lang=lang))
    return lay


def _layout(graph: OpGraph, size: dict[str, tuple[float, float]]) -> GraphLayout:
    """Rows top to bottom by rank (roots at the bottom); an edge spanning several rows passes through a reserved slot
    in every row between (Sugiyama's dummy nodes), so it never crosses a box. A row of leaves wider than the plot
    spills its data leaves into an extra row above. In each row items keep an order and sit, in least squares, at the
    mean x of their neighbours (consumers below, operands above), a few sweeps up and down; then every chain of
    one-operand ops (and every long edge) is straightened where the rows leave room.

    Steps: rows (with spills) → canvas width → first placement (row order) → sweeps → chain straightening →
    centring → row heights → edge routes.
    """
    ids = [n.id for n in graph.nodes]
    row, items = _rows(graph, ids, size)
    canvas = max(NOMINAL_WIDTH, max(_row_width(its, items.width) for its in items.rows.values()) + 2 * SIDE_PAD)
    rows, x = _first_placement(graph, items, canvas)
    x = _sweeps(items, rows, x, canvas)
    x = _straighten_chains(items, rows, x, canvas)
    x = _centred(x, items.width, canvas)
    y_of_row, height = _row_heights(rows, items.down, x)
    pos = {nid: (x[nid], y_of_row[row[nid]]) for nid in ids}
    routes = _routes(graph, items, size, x, pos, y_of_row)
    return GraphLayout(pos=pos, size={nid: size[nid] for nid in ids}, routes=routes, row=dict(row), width=canvas,
                       height=height)


@dataclass(frozen=True)
class _Items:
    """What the rows hold: every box, and for an edge spanning rows one slot in each row it passes through."""

    rows: dict[int, list[str]]  # row → its items (boxes, then slots)
    up: dict[str, list[str]]  # item → items right above it (its operands, or the slot its edge comes through)
    down: dict[str, list[str]]  # item → items right below it (its consumers, or the slot its edge goes through)
    chains: dict[int, list[str]]  # edge index → its slots, from the operand's row down
    width: dict[str, float]  # item → its width (a slot: EDGE_SLOT)
    row_of: dict[str, int]  # item → its row


def _slot(edge: int, row: int) -> str:
    """The id of edge ``edge``'s slot in row ``row``."""
    return f"{SLOT}{edge}.{row}"


def _is_slot(item: str) -> bool:
    return item.startswith(SLOT)


def _slot_edge(item: str) -> int:
    """The edge index of a slot."""
    return int(item[len(SLOT):].split(".")[0])


def _items(graph: OpGraph, ids: list[str], row: dict[str, int], size: dict[str, tuple[float, float]]) -> _Items:
    """The items of every row for nodes in rows ``row``: the boxes, and the slots of the edges spanning rows."""
    rows: dict[int, list[str]] = {}
    up: dict[str, list[str]] = {nid: [] for nid in ids}
    down: dict[str, list[str]] = {nid: [] for nid in ids}
    chains: dict[int, list[str]] = {}
    width = {nid: size[nid][0] for nid in ids}
    row_of = dict(row)
    for nid in ids:
        rows.setdefault(row[nid], []).append(nid)
    for e in graph.edges:
        prev = e.child
        chain = []
        for r in range(row[e.child] - 1, row[e.parent], -1):
            d = _slot(e.index, r)
            row_of[d] = r
            width[d] = EDGE_SLOT
            up[d], down[d] = [prev], []
            down[prev].append(d)
            rows.setdefault(r, []).append(d)
            chain.append(d)
            prev = d
        down[prev].append(e.parent)
        up[e.parent].append(prev)
        chains[e.index] = chain
    return _Items(rows, up, down, chains, width, row_of)


def _rows(graph: OpGraph, ids: list[str], size: dict[str, tuple[float, float]]) -> tuple[dict[str, int], _Items]:
    """(row of every node, the rows' items): one row per rank; widen nothing, spill instead: a row wider than the
    plot moves its leaves (one kind at a time, data first) to a new row right above it."""
    row = {nid: graph.node(nid).rank for nid in ids}
    budget = NOMINAL_WIDTH - 2 * SIDE_PAD
    r, opened = 0, False
    while True:
        items = _items(graph, ids, row, size)
        if r > max(items.rows):
            return row, items
        boxes = [it for it in items.rows.get(r, []) if not _is_slot(it)]
        leaves = [it for it in boxes if graph.node(it).is_leaf]
        group = [it for it in leaves if _push_class(graph, it) == min(_push_class(graph, lf) for lf in leaves)]
        if _row_width(items.rows.get(r, []), items.width) <= budget or not leaves or len(group) == len(boxes):
            r, opened = r + 1, False  # fits, or nothing to spill without emptying the row: the canvas grows
            continue
        if not opened:
            for nid in ids:
                if row[nid] > r:
                    row[nid] += 1
            opened = True
        for it in group:  # a whole kind at once (all activations, ...): rows stay tidy
            row[it] = r + 1


def _dfs_order(graph: OpGraph) -> dict[str, int]:
    """Depth-first order from the roots (operands in order): ties in a row keep the formula's left-to-right order."""
    dfs: dict[str, int] = {}
    stack = list(reversed(graph.roots))
    while stack:
        nid = stack.pop()
        if nid not in dfs:
            dfs[nid] = len(dfs)
            stack.extend(reversed(graph.node(nid).children))
    for n in graph.nodes:
        dfs.setdefault(n.id, len(dfs))
    return dfs


def _first_placement(graph: OpGraph, items: _Items, canvas: float) -> tuple[dict[int, list[str]], dict[str, float]]:
    """(every row's items in their final order, x of every item): from the roots up, each row ordered by where its
    consumers are (ties: depth-first order, a slot as its edge's operand), and packed there."""
    dfs = _dfs_order(graph)
    tiebreak = {it: dfs[graph.edges[_slot_edge(it)].child] if _is_slot(it) else dfs[it] for it in items.width}
    down, width = items.down, items.width
    rows: dict[int, list[str]] = {}
    x: dict[str, float] = {}
    for r in range(max(items.rows) + 1):
        if not items.rows.get(r):
            continue
        if r == 0 or not any(down[it] for it in items.rows[r]):
            desired = {it: canvas / 2 for it in items.rows[r]}
        else:
            desired = {it: (sum(x[d] for d in down[it]) / len(down[it]) if down[it] else canvas / 2)
                       for it in items.rows[r]}
        rows[r] = sorted(items.rows[r], key=lambda it: (desired[it], tiebreak[it]))
        if r == 0 or len(set(desired.values())) == 1:
            # roots (or a row with one common target): centred around it
            desired = _side_by_side(rows[r], width, next(iter(desired.values())))
        x.update(_pack(rows[r], desired, width, canvas))
    return rows, x


def _side_by_side(items: list[str], width: dict[str, float], centre: float) -> dict[str, float]:
    """x of ``items`` packed tight, in order, centred on ``centre``."""
    start = centre - _row_width(items, width) / 2
    desired = {}
    for i, it in enumerate(items):
        desired[it] = start + width[it] / 2
        if i + 1 < len(items):
            start += width[it] + _gap(it, items[i + 1])
    return desired


def _sweeps(items: _Items, rows: dict[int, list[str]], x: dict[str, float], canvas: float) -> dict[str, float]:
    """A few sweeps, up then down: each item towards the mean of its neighbours above and below (order kept)."""
    x = dict(x)
    n_rows = max(items.rows) + 1
    for sweep in range(SWEEPS):
        order = range(n_rows - 1, -1, -1) if sweep % 2 == 0 else range(n_rows)
        for r in order:
            if not rows.get(r):
                continue
            desired = {}
            for it in rows[r]:
                sides = [sum(x[o] for o in nb) / len(nb) for nb in (items.up[it], items.down[it]) if nb]
                desired[it] = sum(sides) / len(sides) if sides else x[it]
            x.update(_pack(rows[r], desired, items.width, canvas))
    return x


def _straighten_chains(items: _Items, rows: dict[int, list[str]], x: dict[str, float],
                       canvas: float) -> dict[str, float]:
    """Chains (a → b where a feeds only b and b has only a, such as the slots of a long edge) at one x, the mean of
    their members', as far as their rows allow."""
    up, down = items.up, items.down
    chain_x: dict[str, float] = {}
    for it in x:
        if len(up[it]) == 1 and len(down[up[it][0]]) == 1:
            continue  # not the top of a chain
        members = [it]
        while len(down[members[-1]]) == 1 and len(up[down[members[-1]][0]]) == 1:
            members.append(down[members[-1]][0])
        if len(members) > 1:
            mean = sum(x[m] for m in members) / len(members)
            chain_x.update({m: mean for m in members})
    x = dict(x)
    for row_items in rows.values():
        x.update(_pack(row_items, {it: chain_x.get(it, x[it]) for it in row_items}, items.width, canvas))
    return x


def _centred(x: dict[str, float], width: dict[str, float], canvas: float) -> dict[str, float]:
    """The drawing moved sideways to the middle of the canvas."""
    left = min(x[it] - width[it] / 2 for it in x)
    right = max(x[it] + width[it] / 2 for it in x)
    shift = (canvas - left - right) / 2
    return {it: v + shift for it, v in x.items()}


def _row_heights(rows: dict[int, list[str]], down: dict[str, list[str]],
                 x: dict[str, float]) -> tuple[dict[int, float], float]:
    """(y of every row's centre, total height), rows top to bottom: a gap whose edges run far sideways gets taller
    (up to MAX_ROW_GAP), so they do not lie flat."""
    n_rows = max(rows) + 1
    y_of_row: dict[int, float] = {}
    y = TOP_PAD + BOX_H / 2
    for r in range(n_rows - 1, -1, -1):
        if r < n_rows - 1:
            run = max((abs(x[it] - x[d]) for it in rows.get(r + 1, []) for d in down[it]), default=0.0)
            y += BOX_H + min(max(ROW_GAP, RUN_SLOPE * run), MAX_ROW_GAP)
        y_of_row[r] = y
    return y_of_row, y + BOX_H / 2 + BOTTOM_PAD


def _routes(graph: OpGraph, items: _Items, size: dict[str, tuple[float, float]], x: dict[str, float],
            pos: dict[str, tuple[float, float]], y_of_row: dict[int, float]) -> dict[int, list[tuple[float, float]]]:
    """Every edge's polyline: from its operand's bottom, straight down through each slot, to its op's top."""
    arrive: dict[int, float] = {}
    leave: dict[int, float] = {}
    chains = items.chains
    for n in graph.nodes:
        centre, w = x[n.id], size[n.id][0]
        arrive.update(_edge_ends([e for e in graph.edges if e.parent == n.id], centre, w,
                                 lambda e: x[chains[e.index][-1]] if chains[e.index] else x[e.child]))
        leave.update(_edge_ends([e for e in graph.edges if e.child == n.id], centre, w,
                                lambda e: x[chains[e.index][0]] if chains[e.index] else x[e.parent]))
    routes: dict[int, list[tuple[float, float]]] = {}
    for e in graph.edges:
        points = [(leave[e.index], pos[e.child][1] + BOX_H / 2)]
        for d in chains[e.index]:
            yd = y_of_row[items.row_of[d]]
            points += [(x[d], yd - BOX_H / 2), (x[d], yd + BOX_H / 2)]
        points.append((arrive[e.index], pos[e.parent][1] - BOX_H / 2))
        routes[e.index] = points
    return routes


def _edge_ends(edges: list[OpEdge], centre: float, w: float, other_end: Callable[[OpEdge], float]) -> dict[int, float]:
    """Edge index → x where each of ``edges`` meets one side of a box (centre ``centre``, width ``w``): side by
    side, ordered by where they come from or go (``other_end``), so they do not cross at the box."""
    ordered = sorted(edges, key=lambda e: (other_end(e), e.index))
    m = len(ordered)
    span = max(0.0, min(w - 2 * BOX_PAD_X - EDGE_END_INSET, EDGE_END_SPACING * (m - 1)))
    return {e.index: centre + (span * (i / (m - 1) - 0.5) if m > 1 else 0.0) for i, e in enumerate(ordered)}


def _node_hover(graph: OpGraph, nid: str, grads: dict[str, float], final: frozenset[str],
                traversed: frozenset[int], decimals: int, lang: str) -> str:
    n = graph.node(nid)
    what = n.op or t(KIND_NAMES[n.kind], lang)  # marked with N_ in bpviz.compgraph
    lines = [f"<b>{n.name or n.id}</b>  ({what})"]
    if n.op:
        lines.append(n.formula)
    lines.append(t("data (forward value) = {v}", lang, v=numbers.exact(n.value, lang)))
    if nid in grads:
        state = t("final", lang) if nid in final else t("still accumulating", lang)
        lines.append(t("grad ∂E/∂{n} = {v} ({state})", lang, n=n.id, v=numbers.exact(grads[nid], lang),
                       state=state))
    else:
        lines.append(t("grad: not reached yet", lang))
    if len(n.consumers) > 1:
        parts = [f"{e.parent}: {fmt(e.contribution, decimals, lang)}" for e in graph.edges
                 if e.child == nid and e.index in traversed]
        lines.append(t("used by {k} operations: its gradient is the sum", lang, k=len(n.consumers)))
        if parts:
            lines.append(" + ".join(parts) + (f" = {fmt(grads[nid], decimals, lang)}" if nid in final else " + …"))
    if n.upstream is not None:
        lines.append(t("backward seed ∂E/∂{n} = {v} (from the engine)", lang, n=n.id,
                       v=numbers.exact(n.upstream, lang)))
    if n.reference_grad is not None:
        lines.append(t("total ∂E/∂{n} over all its consumers (engine) = {v}", lang, n=n.id,
                       v=numbers.exact(n.reference_grad, lang)))
    return "<br>".join(lines)


def _legend(current: str | None, lang: str) -> list[dict]:
    """Annotations above the plot (pixel offsets from its top-left corner): what a box shows, the fill colours."""
    notes: list[dict] = []
    base = {"xref": "paper", "yref": "paper", "x": 0, "y": 1, "xanchor": "left", "yanchor": "bottom",
            "showarrow": False, "font": {"size": 12, "color": "#333333"}}
    notes.append({**base, "name": "legend", "yshift": 58,
                  "text": t("Each box: op (a named value's name in blue) or leaf · d = forward value · "
                            "g = gradient ∂E/∂node", lang)})
    chips = [(N_("not reached"), FILL_PENDING, "#888888"), (N_("accumulating …"), FILL_PARTIAL, "#888888"),
             (N_("final"), FILL_FINAL, "#888888"), (N_("this step"), FILL_CURRENT, EDGE_CURRENT)]
    shift = 0.0
    for label, fill, border in chips:
        text = t(label, lang)  # marked with N_ in chips above
        notes.append({**base, "name": f"legend {label}", "yshift": 32, "xshift": shift, "text": text,
                      "bgcolor": fill, "bordercolor": border, "borderwidth": 1.5, "borderpad": 3})
        shift += numbers.columns(text) * CHIP_CHAR_W + CHIP_PAD  # a Chinese character counts as two Latin letters
    if current is not None:
        hint = t("red numbers: the local derivative ∂parent/∂child of this step's edges · hover any box or edge "
                 "for full precision", lang)
    else:
        hint = t("hover any box or edge for full precision", lang)
    notes.append({**base, "name": "legend hint", "yshift": 6, "text": hint})
    return notes


EDGE_WIDTHS = {"edges pending": 1.3, "edges traversed": 2.0, "edges current": 3.2}
HALO_PAD = 6  # the current box's halo reaches this far beyond the box
BOX_LINE, CURRENT_BOX_LINE = 1.3, 3
HOVER_MARKER = 12  # size of the invisible marker that carries an edge's hover text
TITLE_FONT, HOVER_FONT = 16, 13
LABEL_BACKGROUND = "rgba(255,255,255,0.9)"


@dataclass(frozen=True)
class _Progress:
    """Where the backward pass is after k steps."""

    k: int
    current: str | None
    current_edges: frozenset[int]
    grads: dict[str, float]
    final: frozenset[str]
    traversed: frozenset[int]


def _progress(graph: OpGraph, upto_step: int | None) -> _Progress:
    k = graph.n_steps if upto_step is None else max(0, min(int(upto_step), graph.n_steps))
    current = graph.current(k) if upto_step is not None else None
    edges = frozenset(graph.steps[k - 1].edges) if current is not None else frozenset()
    return _Progress(k, current, edges, graph.gradients_after(k), graph.final_after(k), graph.traversed_after(k))


def compgraph_figure(graph: OpGraph, upto_step: int | None = None, decimals: int = 4, lang: str = "en",
                     height: int | None = None, large: bool = False) -> go.Figure:
    """The graph after ``upto_step`` backward steps (None: the whole backward pass, 0: forward values only).

    ``height`` (px) overrides the figure's own height (rows × ~80 px); the plot then scrolls inside it. ``large``
    (presentation mode): everything scaled up for the main column without the sidebar, box text up to 20 px.
    """
    state = _progress(graph, upto_step)
    lay = layout(graph, decimals, lang)
    # a canvas wider than the plot (many decimals) is shown whole: fonts and height scale with it
    zoom, width = (LARGE_FONT / FONT, LARGE_WIDTH) if large else (1.0, NOMINAL_WIDTH)
    scale = min(zoom, width / lay.width)
    hover_trace, edge_hover = _edge_hover(graph, lay, state, decimals, lang)
    shapes, partial = _boxes(graph, lay, state)
    # plain dicts, one go.Figure at the end without per-property validation (speed)
    traces = [*_edge_lines(graph, lay, state), hover_trace, *_node_traces(graph, lay, state, decimals, lang, scale)]
    notes = [*_local_labels(graph, lay, state, edge_hover, decimals, scale, lang), *_legend(state.current, lang)]
    return go.Figure(data=traces, layout=_figure_layout(graph, lay, state, shapes, notes, partial, scale, height,
                                                         _title(graph, state, decimals, lang)), _validate=False)


def _edge_lines(graph: OpGraph, lay: GraphLayout, state: _Progress) -> list[dict]:
    """The edges, from the operand's bottom down to the op's top: pending, traversed, this step's."""
    groups: dict[str, list[int]] = {name: [] for name in EDGE_WIDTHS}
    for e in graph.edges:
        key = "edges current" if e.index in state.current_edges else (
            "edges traversed" if e.index in state.traversed else "edges pending")
        groups[key].append(e.index)
    colours = {"edges pending": EDGE_PENDING, "edges traversed": EDGE_TRAVERSED, "edges current": EDGE_CURRENT}
    traces = []
    for name, eids in groups.items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for i in eids:
            xs += [p[0] for p in lay.routes[i]] + [None]
            ys += [p[1] for p in lay.routes[i]] + [None]
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=name,
                           line={"color": colours[name], "width": EDGE_WIDTHS[name]}, hoverinfo="skip",
                           showlegend=False, meta=eids))
    return traces


def _edge_hover(graph: OpGraph, lay: GraphLayout, state: _Progress, decimals: int, lang: str
                ) -> tuple[dict, dict[int, str]]:
    """One invisible marker per edge (middle of its last segment, just above the op) carrying its hover text."""
    ex, ey, etext, ecustom = [], [], [], []
    for e in graph.edges:
        (xa, ya), (xb, yb) = lay.routes[e.index][-2:]
        ex.append((xa + xb) / 2)
        ey.append((ya + yb) / 2)
        ecustom.append(e.index)
        lines = [e.local_formula, t("local derivative = {v}", lang, v=numbers.exact(e.local, lang))]
        if e.index in state.traversed:
            lines.append(t("passes ∂E/∂{p} · {v} = {c} to {ch}", lang, p=e.parent, v=fmt(e.local, decimals, lang),
                           c=numbers.exact(e.contribution, lang), ch=e.child))
        etext.append("<br>".join(lines))
    trace = dict(type="scatter", x=ex, y=ey, mode="markers", name="edge info", customdata=ecustom, hovertext=etext,
                 hoverinfo="text", marker={"size": HOVER_MARKER, "color": "rgba(0,0,0,0)"}, showlegend=False)
    return trace, dict(zip(ecustom, etext))


def _local_labels(graph: OpGraph, lay: GraphLayout, state: _Progress, edge_hover: dict[int, str], decimals: int,
                  scale: float, lang: str = "en") -> list[dict]:
    """The local derivative of each current edge, just under the box that receives grad · local; where the labels
    of one row would touch (a wide sum), the number alone (the legend says what red numbers are)."""
    labels = {i: (lay.routes[i][0], fmt(graph.edges[i].local, decimals, lang)) for i in state.current_edges}
    crowded = any(
        a != b and abs(pa[1] - pb[1]) < 1 and abs(pa[0] - pb[0])
        < (numbers.columns(va) + numbers.columns(vb) + 12) * LABEL_CHAR_W / 2 + 6
        for a, (pa, va) in labels.items() for b, (pb, vb) in labels.items())
    return [{"x": xc, "y": yc + 2, "xanchor": "center", "yanchor": "top", "showarrow": False,
             "text": "<b>" + (value if crowded else t("local {v}", lang, v=value)) + "</b>", "name": f"local {i}",
             "hovertext": edge_hover[i],  # the label sits over the edge's hover point
             "font": {"size": LABEL_FONT * scale, "color": EDGE_CURRENT}, "bgcolor": LABEL_BACKGROUND, "borderpad": 1}
            for i, ((xc, yc), value) in sorted(labels.items())]


def _boxes(graph: OpGraph, lay: GraphLayout, state: _Progress) -> tuple[list[dict], list[str]]:
    """Every node's box, filled by its gradient's state (a halo under this step's); the ids still accumulating."""
    shapes: list[dict] = []  # collected and set once: add_shape validates on every call (slow)
    partial: list[str] = []
    for n in graph.nodes:
        x0, y0, x1, y1 = lay.box(n.id)
        if n.id == state.current:
            fill = FILL_CURRENT
            shapes.append({"type": "rect", "x0": x0 - HALO_PAD, "x1": x1 + HALO_PAD, "y0": y0 - HALO_PAD,
                           "y1": y1 + HALO_PAD, "layer": "below", "fillcolor": HALO_CURRENT, "line": {"width": 0},
                           "name": "halo"})
        elif n.id in state.final:
            fill = FILL_FINAL
        elif n.id in state.grads:
            fill = FILL_PARTIAL
            partial.append(n.id)
        else:
            fill = FILL_PENDING
        current = n.id == state.current
        shapes.append({"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, "fillcolor": fill, "layer": "below",
                       "name": f"box {n.id}",
                       "line": {"color": EDGE_CURRENT if current else BORDER.get(n.kind, "#555555"),
                                "width": CURRENT_BOX_LINE if current else BOX_LINE,
                                "dash": "dot" if n.kind in ("input", "target") else "solid"}})
    return shapes, partial


def _node_traces(graph: OpGraph, lay: GraphLayout, state: _Progress, decimals: int, lang: str,
                 scale: float) -> list[dict]:
    """Each box's three lines (op or name / d = value / g = gradient) with its hover; a marker at this step's box."""
    texts, hovers, xs, ys, ids = [], [], [], [], []
    for n in graph.nodes:
        x, y = lay.pos[n.id]
        if n.id in state.grads:
            mark = "" if n.id in state.final else "…"
            grad_text = f"<span style='color:{GRAD_COLOR}'>g {fmt(state.grads[n.id], decimals, lang)}{mark}</span>"
        else:
            grad_text = "<span style='color:#aaaaaa'>g ·</span>"
        texts.append(f"{_head(graph, n.id)[0]}<br>d {fmt(n.value, decimals, lang)}<br>{grad_text}")
        hovers.append(_node_hover(graph, n.id, state.grads, state.final, state.traversed, decimals, lang))
        xs.append(x)
        ys.append(y)
        ids.append(n.id)
    traces = [dict(type="scatter", x=xs, y=ys, mode="markers+text", name="nodes", text=texts, customdata=ids,
                   hovertext=hovers, hoverinfo="text", textposition="middle center",
                   textfont={"size": FONT * scale, "family": MONO, "color": "#222222"},
                   marker={"size": BOX_H * scale, "color": "rgba(0,0,0,0)", "symbol": "square"}, showlegend=False)]
    if state.current is not None:
        x, y = lay.pos[state.current]
        traces.append(dict(type="scatter", x=[x], y=[y], mode="markers", name="current node",
                           customdata=[state.current], hoverinfo="skip", showlegend=False,
                           marker={"size": 1, "color": EDGE_CURRENT, "opacity": 0}))
    return traces


def _title(graph: OpGraph, state: _Progress, decimals: int, lang: str) -> str:
    """What happens in this step."""
    if state.current is not None:
        node = graph.node(state.current)
        kids = ", ".join(graph.edges[i].child for i in sorted(state.current_edges))
        return t("Backward step {k} of {n}: {node} ({op}) passes its gradient to {kids}", lang, k=state.k,
                 n=graph.n_steps, node=state.current, op=node.op, kids=kids)
    if state.k == 0:
        return t("Forward pass done: E = {e}. Backward: start at E with ∂E/∂E = 1", lang,
                 e=fmt(graph.loss, decimals, lang))
    return t("Backward pass done: every node holds ∂E/∂node", lang)


def _figure_layout(graph: OpGraph, lay: GraphLayout, state: _Progress, shapes: list[dict], notes: list[dict],
                   partial: list[str], scale: float, height: int | None, title: str) -> dict:
    plot_h = lay.height
    return dict(
        title={"text": title, "x": 0, "xref": "paper", "xanchor": "left", "y": 1, "yref": "container",
               "yanchor": "top", "pad": {"t": 8, "l": 2}, "font": {"size": TITLE_FONT * max(1.0, scale)}},
        height=height if height is not None else int(round(plot_h * scale + MARGIN["t"] + MARGIN["b"])),
        autosize=True,
        margin=MARGIN,
        plot_bgcolor="white",
        paper_bgcolor="white",
        hovermode="closest",
        hoverlabel={"font": {"size": HOVER_FONT}, "bgcolor": "white"},
        dragmode=False,
        shapes=shapes,
        annotations=notes,
        meta={"step": state.k, "current": state.current, "final": sorted(state.final), "partial": sorted(partial),
              "rows": max(lay.row.values()) + 1, "width": lay.width},
        # nominal px on both axes at the same scale: a wider plot shows the same boxes with room at the sides
        xaxis={"visible": False, "range": [0, lay.width], "fixedrange": True},
        yaxis={"visible": False, "range": [plot_h, 0], "fixedrange": True, "scaleanchor": "x", "scaleratio": 1},
    )
