"""The network figure: neurons left to right, every weight an edge, the current walkthrough step highlighted.

``network_figure(scenario, trace, grads, step)`` is a pure function returning a ``go.Figure``. Two modes:
``"values"`` labels neurons with net/out and edges with weights; ``"gradients"`` labels neurons with
δ = ∂E/∂net and edges with ∂E/∂w. Edge colour is the sign (Okabe-Ito blue #0072B2 positive, vermillion
#D55E00 negative), edge width the magnitude. On-screen numbers are rounded to ``decimals`` and use the
typographic minus "−" (U+2212); hover texts carry the full ``repr`` of every float.

Layout: the plot's axes are in *nominal pixels* (a plot area ``NOMINAL_WIDTH`` wide and ``height`` minus margins
high); node sizes, fonts and label boxes are chosen in those pixels, so the label placer (greedy, first free
spot along the edge among a fixed list of fractions) knows what overlaps. A wider screen only adds room.

How tests (and Streamlit's AppTest, reading the figure JSON) find things. Keys: neuron ``"n:l:j"``, weight edge
``"w:l:j:k"`` (= weights[l][j][k], from neuron (l, k) to (l + 1, j)), bias edge ``"b:l:j"`` (= biases[l][j], into
neuron (l + 1, j)), bias node ``"bn:l"`` (the "+1" feeding layer l + 1).

- trace ``"nodes"``: every neuron, ``customdata`` = keys, ``hovertext`` = full-precision description.
- trace ``"highlighted-nodes"``: exactly the step's neurons (``customdata`` = their keys; empty without a step).
- trace ``"edge-hover"``: one invisible marker per non-highlighted edge (weights and biases), ``customdata`` = keys.
- trace ``"highlighted-edges"``: one marker per highlighted edge (step.edges, every edge of step.paths, and
  step.bias_edges), ``customdata`` = keys.
- traces ``"edges:<kind>:<sign>:<bucket>:<state>"``: the drawn lines, grouped by kind (w/b), sign, width bucket and
  state (normal/dim/highlight), ``meta["keys"]`` = keys of the edges they draw. ``"highlight-halo"`` underlines
  the highlighted ones.
- trace ``"node-values"``: the numbers under the neurons (``text``), ``customdata`` = neuron keys;
  trace ``"targets"``: targets and loss shares next to the outputs.
- edge labels are layout annotations named ``"label:<edge key>"`` (all edges on small nets, else only highlighted
  ones); annotation ``"loss"`` is E_total (one sample) or that sample's E, ``"batch"`` the batch mean (n > 1),
  ``"legend"`` explains colours and widths.
- ``layout.meta`` = {"mode", "sample", "highlighted_nodes", "highlighted_edges", "labelled_edges"}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from .. import numbers
from ..config import Scenario
from ..engine import Gradients, Trace
from ..i18n import t
from ..ids import Bias, Neuron, ParamRef, Weight
from ..naming import Names, names_for
from ..walkthrough import Step

MODES = ("values", "gradients")

# Okabe-Ito: distinguishable with every common colour-vision deficiency
INPUT_COLOUR = "#009E73"
HIDDEN_COLOUR = "#56B4E9"
OUTPUT_COLOUR = "#E69F00"
BIAS_COLOUR = "#DDDDDD"
POSITIVE_COLOUR = "#0072B2"
NEGATIVE_COLOUR = "#D55E00"
ZERO_COLOUR = "#999999"
HALO_COLOUR = "rgba(240, 228, 66, 0.9)"  # Okabe-Ito yellow, a highlighter pen under the edge
TEXT_COLOUR = "#111111"
DIM_OPACITY = 0.18
LOSS_FONT = 17

# plot-area width (px) the layout is planned for: the main column at 1280×800 with the sidebar open; wider screens
# only add room, a narrower plot would squeeze labels together
NOMINAL_WIDTH = 800
GRAZE_AREA = 2.0  # a placement costing under HARD × this (≤ 50 px² grazing the numbers under neurons) labels all
MARGIN = {"l": 8, "r": 8, "t": 46, "b": 8}
WIDTH_BUCKETS = 4
# where along an edge (fraction from its source) a label may go, in order of preference
LABEL_SPOTS = (0.3, 0.7, 0.5, 0.38, 0.62, 0.22, 0.78, 0.45, 0.55, 0.15, 0.85)
MAX_ALL_LABELS = 40  # nets with more edges than this only label highlighted edges ...
MAX_GAP_LABELS = 9  # ... and so do nets with more than this many edges (weights + biases) between two columns
MAX_PATH_LABELS = 24  # at most this many highlighted edges get labels (the step's own edges always do)
_SHADOW = "1px 1px 1px white, -1px -1px 1px white, 1px -1px 1px white, -1px 1px 1px white, 0 0 3px white"

# Text boxes are estimated, not measured: the browser lays the text out, the layout only knows its font size
CHAR_WIDTH = 0.6  # average advance of a character, in font sizes
LINE_HEIGHT = 1.3  # Plotly's line spacing, in font sizes

# Vertical geometry (nominal px)
TOP_ROOM = 12  # between the top neuron's circle and the top of the plot area
NUMBERS_ROOM = 4  # planned between the lowest neuron's circle and the numbers under it ...
BIAS_ROW_GAP = 6  # ... and between those numbers and the "+1" circles below them
BOTTOM_ROOM = 10  # between the "+1" circles and the bottom of the plot area
MAX_ROW_H = 190.0  # centre to centre of two neurons in a column at most: small nets do not spread over all the height
VALUES_BELOW = 2  # the numbers under a neuron start this far below its circle ...
VALUES_SLACK = 1  # ... and block labels from this much more on either side

# Horizontal geometry (nominal px)
LEFT_ROOM = 10  # between the plot's left edge and the input circles (or their numbers, if wider)
TARGET_GAP = 10  # between an output circle and its target text
RIGHT_ROOM = 12  # between the target texts and the plot's right edge
LOSS_INSET = 4  # between the loss text and the plot's right and bottom edges (and its clearance above)
LOSS_GAP = 12  # between the output column's numbers and the loss, when a tall output column reaches down to it
BIAS_LOSS_GAP = 8  # between the last "+1" circle and the loss

# Edge labels
OBSTACLE_PAD = 2  # circles and target texts block labels from this far around them
LABEL_PAD = 2  # a label's box keeps this far from anything else
LABEL_FRAME_W = 8  # what a label's border and padding add to its text's width ...
LABEL_FRAME_H = 2  # ... and height
ONE_LINE_LABEL_COL = 210  # columns narrower than this cannot fit a one-line label such as "w12 = −0.1234"
LABEL_BORDER = 1  # a label's border width ...
LABEL_BORDER_HIGHLIGHT = 2  # ... on a highlighted edge
LABEL_BORDERPAD = 2
LABEL_BACKGROUND = "rgba(255,255,255,0.92)"
DIM_LABEL_OPACITY = 0.45  # labels of the edges a step does not use

# Edges and markers
EDGE_WIDTH = 1.6  # line width of the thinnest edges (width bucket 0) ...
EDGE_WIDTH_STEP = 1.4  # ... and what each further bucket adds (both times _Sizes.line_scale)
HIGHLIGHT_EXTRA_WIDTH = 1.5  # a highlighted edge is this much wider than its bucket
HALO_EXTRA_WIDTH = 10  # the highlighter halo is this much wider than the widest highlighted edge
OUTLINE_WIDTH = 1.5  # of neurons and "+1"s
NODE_OUTLINE = "#333333"
BIAS_OUTLINE = "#555555"
HIGHLIGHT_OUTLINE = "#000000"
BIG_NODE_D = 40  # neurons at least this wide get the bigger highlight ring:
HIGHLIGHT_RING_BIG = (4, 4)  # (px added to the marker, outline width)
HIGHLIGHT_RING_SMALL = (2, 3)
BIAS_MIN_FONT = 11  # the "+1" text never smaller than this
DIM_NODE_OPACITY = DIM_OPACITY + 0.12  # neurons a step does not use: a little more visible than dimmed edges
DIM_BIAS_OPACITY = DIM_OPACITY + 0.15
DIM_TEXT_COLOUR = f"rgba(17,17,17,{DIM_OPACITY + 0.2})"  # TEXT_COLOUR, dimmed
HOVER_MARKER = 16  # size of the invisible hover markers on the edges
HOVER_SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7)  # where along an unlabelled edge its hover marker may go, in order
HOVER_SEPARATION = 6  # two hover markers at least this far apart (|dx| + |dy|) ...
HOVER_LOOKBACK = 64  # ... checked against this many markers placed before (keeps big nets linear)
EDGE_STATE_ORDER = {"dim": 0, "normal": 1, "highlight": 2}  # drawn in this order: highlighted edges on top

# Annotations above the plot (legend, batch mean) and hover boxes
TOP_ROW_FONT = 14
TOP_ROW_SHIFT = 6  # px above the plot area
HOVER_FONT = 14


@dataclass(frozen=True)
class _Sizes:
    """Pixel sizes for one architecture: big nets get smaller nodes and fonts so nothing collides."""

    node_d: float
    name_font: float
    value_font: float
    edge_font: float
    bias_d: float
    line_scale: float
    height: int


# (widest layer up to, sizes): the first row whose width fits applies; the last applies to all wider nets
SIZES = (
    (2, _Sizes(node_d=60, name_font=20, value_font=16, edge_font=16, bias_d=34, line_scale=1.0, height=520)),
    (4, _Sizes(node_d=48, name_font=17, value_font=14, edge_font=14, bias_d=30, line_scale=0.9, height=520)),
    (6, _Sizes(node_d=34, name_font=13, value_font=12, edge_font=13, bias_d=24, line_scale=0.75, height=540)),
    (None, _Sizes(node_d=28, name_font=14, value_font=10.5, edge_font=12, bias_d=20, line_scale=0.6, height=560)),
)


def _sizes(max_width: int) -> _Sizes:
    return next(sz for up_to, sz in SIZES if up_to is None or max_width <= up_to)


def _fmt(v: float, decimals: int) -> str:
    """A number as every page shows it (:func:`bpviz.numbers.text`), with the typographic minus sign."""
    return numbers.text(v, decimals, minus="\u2212")


def _text_box(text: str, font: float) -> tuple[float, float]:
    """Estimated (width, height) in px of a (possibly <br>-split) text at ``font`` px."""
    lines = text.split("<br>")
    return max(len(s) for s in lines) * CHAR_WIDTH * font, len(lines) * font * LINE_HEIGHT


def _values_bottom(y: float, r: float, h: float) -> float:
    """Lowest y the numbers (``h`` px tall) under a neuron at height ``y`` (radius ``r``) block labels down to."""
    return y - r - (VALUES_BELOW + VALUES_SLACK) - h


def _edge_width(bucket: int) -> float:
    """Line width of an edge in width ``bucket``, before scaling by :attr:`_Sizes.line_scale`."""
    return EDGE_WIDTH + EDGE_WIDTH_STEP * bucket


def _plain(names: Names, what: str, l: int, j: int) -> str:
    """Plain-text net/out name: net_h1 / out_h1 (seed style) or z⁽¹⁾₁ / a⁽¹⁾₁."""
    node = names.node(l, j)
    if names.seed_style:
        return f"{what}_{node}"
    return ("z" if what == "net" else "a") + node[1:]


def _keys_of(step: Step | None) -> tuple[set, set, set, set]:
    """(node keys, weight-edge keys, bias-edge keys, the step's own edge keys) highlighted by ``step``."""
    if step is None:
        return set(), set(), set(), set()
    nodes = {n.format() for n in step.nodes}
    own = {w.format() for w in step.edges}
    edges = set(own) | {w.format() for path in step.paths for w in path}
    bias = {b.format() for b in step.bias_edges}
    return nodes, edges, bias, own | bias


@dataclass
class _Edge:
    ref: ParamRef
    key: str  # ref.format()
    kind: str  # ref.TAG: "w" or "b"
    x0: float
    y0: float
    x1: float
    y1: float
    shown: float  # the number the edge shows (weight or ∂E/∂w)
    label: str
    hover: str


class _Placer:
    """Greedy label placement: boxes in nominal px, first spot along the edge that overlaps nothing.

    Overlap cost is area times the obstacle's weight: labels and nodes weigh ``HARD``, the numbers under the
    neurons 1 (a label may graze them if nothing else fits, but never another label).
    """

    HARD = 25.0

    def __init__(self, boxes: list[tuple[float, float, float, float]], weights: list[float]) -> None:
        self.boxes = np.array(boxes, dtype=float).reshape(-1, 4)  # x0, y0, x1, y1
        self.weights = np.array(weights, dtype=float)
        self.cost = 0.0

    def _overlap(self, box: np.ndarray) -> float:
        b = self.boxes
        w = np.minimum(b[:, 2], box[2]) - np.maximum(b[:, 0], box[0])
        h = np.minimum(b[:, 3], box[3]) - np.maximum(b[:, 1], box[1])
        return float(np.dot(self.weights, np.clip(w, 0, None) * np.clip(h, 0, None)))

    def place(self, e: _Edge, texts: list[tuple[str, float, float]]) -> tuple[float, float, str]:
        """(x, y, text) of the cheapest spot on edge ``e``: the first text variant (text, w, h) that fits
        somewhere, at its first free spot; if none fits, the least overlapping of all."""
        best, best_cost = None, np.inf
        for text, w, h in texts:
            for f in LABEL_SPOTS:
                x, y = e.x0 + f * (e.x1 - e.x0), e.y0 + f * (e.y1 - e.y0)
                pad = LABEL_PAD
                box = np.array([x - w / 2 - pad, y - h / 2 - pad, x + w / 2 + pad, y + h / 2 + pad])
                cost = self._overlap(box)
                if cost < best_cost:
                    best, best_cost = (x, y, text, box), cost
                if cost == 0:
                    break
            if best_cost == 0:
                break
        self.boxes = np.vstack([self.boxes, best[3]])
        self.weights = np.append(self.weights, self.HARD)
        self.cost += best_cost
        return best[0], best[1], best[2]


def _place_labels(edges: list[_Edge], boxes: list, weights: list, font: float,
                  variants: list) -> tuple[dict[str, tuple[float, float, str]], float]:
    """Place every edge's label. Tries ever more compact texts, first one variant for all labels (consistent),
    then each label falling back from one variant to the next; the first collision-free attempt wins, else the
    cheapest."""
    levels = [variants[i:i + 1] for i in range(len(variants))]
    levels += [variants[i - 1:i + 1] for i in range(1, len(variants))]
    best: tuple[dict, float] = ({}, np.inf)
    for level in levels:
        placer = _Placer(boxes, weights)
        out = {}
        for e in edges:
            texts = [(text, *_text_box(text, font)) for text in (v(e) for v in level)]
            out[e.key] = placer.place(e, [(text, w + LABEL_FRAME_W, h + LABEL_FRAME_H) for text, w, h in texts])
        if placer.cost < best[1]:
            best = (out, placer.cost)
        if placer.cost == 0:
            break
    return best


def network_figure(
    scenario: Scenario,
    trace: Trace,
    grads: Gradients,
    step: Step | None = None,
    mode: str = "values",
    decimals: int = 4,
    sample: int = 0,
    lang: str = "en",
) -> go.Figure:
    """The network as a Plotly figure: neurons, weighted edges, biases, targets and loss, ``step`` highlighted."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not 0 <= sample < scenario.n_samples:
        raise ValueError(f"sample must be in [0, {scenario.n_samples}), got {sample}")
    layers = scenario.layers
    L = len(layers) - 1
    names = names_for(layers)
    sz = _sizes(max(layers))
    r, rb = sz.node_d / 2, sz.bias_d / 2
    vf = sz.value_font
    grad_mode = mode == "gradients"
    hi_nodes, hi_edges, hi_bias, own_edges = _keys_of(step)
    dimming = step is not None

    # ------------------------------------------------------------ texts under the neurons and next to the outputs
    def node_value_text(l: int, j: int) -> str:
        if l == 0:
            return _fmt(trace.a[0][sample, j], decimals)
        if grad_mode:
            return f"δ {_fmt(grads.dE_dz[l][sample, j], decimals)}"
        net, out = (t("net", lang), t("out", lang)) if names.seed_style else ("z", "a")
        return f"{net} {_fmt(trace.z[l][sample, j], decimals)}<br>{out} {_fmt(trace.a[l][sample, j], decimals)}"

    def loss_share_name(k: int) -> str:
        return f"E_{names.node(L, k)}" if names.seed_style else f"E{k + 1}"

    value_texts = [[node_value_text(l, j) for j in range(n)] for l, n in enumerate(layers)]
    target_texts = [
        f"t{k + 1} = {_fmt(scenario.targets[sample, k], decimals)}<br>"
        f"{loss_share_name(k)} = {_fmt(trace.loss_share[sample, k], decimals)}"
        for k in range(layers[-1])
    ]
    text_h = max(_text_box(s, vf)[1] for col in value_texts for s in col)
    loss_name = "E_total" if names.seed_style else "E"
    if scenario.n_samples > 1:  # this sample's loss here; the batch mean goes in the top row
        sample_loss = float(trace.loss_share[sample].sum())
        loss_text = "<b>" + t("E (sample {s})", lang, s=sample + 1) + f" = {_fmt(sample_loss, decimals)}</b>"
        loss_hover = t("E (sample {s})", lang, s=sample + 1) + f" = {sample_loss!r}"
    else:
        loss_text = f"<b>{loss_name} = {_fmt(trace.loss, decimals)}</b>"
        loss_hover = f"{loss_name} = {trace.loss!r}"

    # ------------------------------------------------------------ geometry in nominal px
    height = sz.height
    plot_h = height - MARGIN["t"] - MARGIN["b"]
    top_pad = r + TOP_ROOM
    # lowest neuron's centre to the bias row: its numbers fit in between
    bias_gap = r + NUMBERS_ROOM + text_h + BIAS_ROW_GAP + rb
    bottom_pad = rb + BOTTOM_ROOM
    rows = max(layers) - 1
    row_h = min(MAX_ROW_H, (plot_h - top_pad - bias_gap - bottom_pad) / rows) if rows else 0.0
    used = top_pad + rows * row_h + bias_gap + bottom_pad
    top_y = plot_h - top_pad - max(0.0, plot_h - used) / 2
    ys = [[top_y - ((max(layers) - n) / 2 + j) * row_h for j in range(n)] for n in layers]
    y_bias = top_y - rows * row_h - bias_gap
    # the loss sits bottom right, level with the "+1"s (but inside the plot)
    loss_w, loss_h = _text_box(loss_text.replace("<b>", "").replace("</b>", ""), LOSS_FONT)
    y_loss = max(y_bias, loss_h / 2 + LOSS_INSET)

    input_w = max(_text_box(s, vf)[0] for s in value_texts[0])
    target_w = max(_text_box(s, vf)[0] for s in target_texts)
    left_pad = max(r, input_w / 2) + LEFT_ROOM
    right_pad = r + TARGET_GAP + target_w + RIGHT_ROOM
    out_text_w, out_text_h = _text_box(value_texts[L][-1], vf)
    if _values_bottom(ys[L][-1], r, out_text_h) < y_loss + loss_h / 2 + LOSS_INSET:
        # a tall output column reaches down to the loss: make room for the loss right of its numbers
        right_pad = max(right_pad, out_text_w / 2 + LOSS_GAP + loss_w)
    if L > 1:
        # keep the last "+1" (at column L - 1) left of the loss
        room = NOMINAL_WIDTH - LOSS_INSET - loss_w - rb - BIAS_LOSS_GAP - left_pad
        right_pad = max(right_pad, NOMINAL_WIDTH - left_pad - L / (L - 1) * room)
    col_w = (NOMINAL_WIDTH - left_pad - right_pad) / L
    xs = [left_pad + l * col_w for l in range(L + 1)]

    # ------------------------------------------------------------ neurons
    node_keys, node_x, node_y, node_names, node_colours, node_hover = [], [], [], [], [], []
    for l, n in enumerate(layers):
        colour = INPUT_COLOUR if l == 0 else (OUTPUT_COLOUR if l == L else HIDDEN_COLOUR)
        for j in range(n):
            node_keys.append(Neuron(l, j).format())
            node_x.append(xs[l])
            node_y.append(ys[l][j])
            node_names.append(names.node(l, j))
            node_colours.append(colour)
            node_hover.append(_node_hover(scenario, trace, grads, names, l, j, sample, lang))
    node_x_arr, node_y_arr = np.array(node_x), np.array(node_y)
    node_dim = np.array([dimming and k not in hi_nodes for k in node_keys])

    # ------------------------------------------------------------ edges (weights, then biases)
    edges: list[_Edge] = []
    batched = scenario.n_samples > 1
    for l in range(L):
        W, dW = scenario.weights[l], grads.dE_dW[l]
        if batched:  # the shown sample's own gradient δ_j·a_k, as the nodes' δ and the formula (batch mean in hover)
            dW = np.outer(grads.dE_dz[l + 1][sample], trace.a[l][sample])
        for j in range(layers[l + 1]):
            for k in range(layers[l]):
                ref = Weight(l, j, k)
                pname = names.param(ref)
                shown = dW[j, k] if grad_mode else W[j, k]
                label = f"∂E/∂{pname} = {_fmt(shown, decimals)}" if grad_mode else f"{pname} = {_fmt(shown, decimals)}"
                hover = (
                    f"<b>{pname}</b>: {names.node(l, k)} → {names.node(l + 1, j)}<br>"
                    f"{t('weight', lang)} {pname} = {float(W[j, k])!r}<br>"
                    f"∂E/∂{pname} = {float(dW[j, k])!r}"
                )
                edges.append(_Edge(ref, ref.format(), ref.TAG, xs[l], ys[l][k], xs[l + 1], ys[l + 1][j],
                                   float(shown), label, hover))
    for l in range(L):
        B, dB = scenario.biases[l], grads.dE_db[l]
        if batched:
            dB = grads.dE_dz[l + 1][sample]
        for j in range(layers[l + 1]):
            ref = Bias(l, j)
            pname = names.param(ref)
            shown = dB[j] if grad_mode else B[j]
            label = f"∂E/∂{pname} = {_fmt(shown, decimals)}" if grad_mode else f"{pname} = {_fmt(shown, decimals)}"
            hover = (
                f"<b>{pname}</b>: +1 → {names.node(l + 1, j)}<br>"
                f"{t('bias', lang)} {pname} = {float(B[j])!r}<br>"
                f"∂E/∂{pname} = {float(dB[j])!r}"
            )
            edges.append(_Edge(ref, ref.format(), ref.TAG, xs[l], y_bias, xs[l + 1], ys[l + 1][j], float(shown), label,
                               hover))
    if batched:
        for e in edges:
            mean = e.ref.read(grads.dE_dW, grads.dE_db)
            e.hover += "<br>" + t("(∂E/∂ of sample {s}'s loss; the update uses the mean over the {n} samples: {m})",
                                  lang, s=sample + 1, n=scenario.n_samples, m=repr(float(mean)))
    hi_all = hi_edges | hi_bias


    # ------------------------------------------------------------ edge labels: all on small nets, else highlighted ones
    pad = OBSTACLE_PAD
    obstacles = [(x - r - pad, y - r - pad, x + r + pad, y + r + pad) for x, y in zip(node_x, node_y)]
    obstacles += [(xs[l] - rb - pad, y_bias - rb - pad, xs[l] + rb + pad, y_bias + rb + pad) for l in range(L)]
    weights = [_Placer.HARD] * len(obstacles)
    for x, y, s in zip(node_x, node_y, [s for col in value_texts for s in col]):
        w, h = _text_box(s, vf)
        obstacles.append((x - w / 2, _values_bottom(y, r, h), x + w / 2, y - r - (VALUES_BELOW - VALUES_SLACK)))
        weights.append(1.0)
    for k, s in enumerate(target_texts):
        w, h = _text_box(s, vf)
        obstacles.append((xs[L] + r + (TARGET_GAP - pad), ys[L][k] - h / 2, xs[L] + r + (TARGET_GAP + pad) + w,
                          ys[L][k] + h / 2))
        weights.append(_Placer.HARD)
    obstacles.append((NOMINAL_WIDTH - 2 * LOSS_INSET - loss_w, y_loss - loss_h / 2, NOMINAL_WIDTH,
                      y_loss + loss_h / 2))
    weights.append(_Placer.HARD)
    ef = sz.edge_font
    variants = [lambda e: e.label, lambda e: e.label.replace(" = ", "<br>"), lambda e: e.label.split(" = ")[1]]
    if col_w < ONE_LINE_LABEL_COL:
        variants = variants[1:]
    labels: dict[str, tuple[float, float, str]] = {}
    cost = np.inf
    gap_edges = max(layers[l] * layers[l + 1] + layers[l + 1] for l in range(L))
    if len(edges) <= MAX_ALL_LABELS and gap_edges <= MAX_GAP_LABELS:
        # every edge, in a fixed order, so labels stay put from one step to the next; value-only boxes when the
        # named ones do not fit, and a label may graze the numbers under a neuron (weight 1) but never another
        # label or a node: dropping every label because one grazes looked like the labels vanished at random
        labels, cost = _place_labels(edges, obstacles, weights, ef, variants)
        if cost < _Placer.HARD * GRAZE_AREA:
            cost = 0.0
    if cost > 0:
        hi_list = [e for e in edges if e.key in hi_all]
        if len(hi_list) > MAX_PATH_LABELS:
            hi_list = [e for e in hi_list if e.key in own_edges]
        labels = _place_labels(hi_list, obstacles, weights, ef, variants)[0]

    # ------------------------------------------------------------ build traces
    traces: list[dict] = []  # plain dicts: go.Figure validates them once
    magnitude = np.array([abs(e.shown) for e in edges])
    top = magnitude.max() if magnitude.size and magnitude.max() > 0 else 1.0
    buckets = np.minimum((magnitude / top * WIDTH_BUCKETS).astype(int), WIDTH_BUCKETS - 1)
    groups: dict[tuple[str, str, int, str], list[int]] = {}
    for i, e in enumerate(edges):
        sign = "+" if e.shown > 0 else ("-" if e.shown < 0 else "0")
        state = "highlight" if e.key in hi_all else ("dim" if dimming else "normal")
        groups.setdefault((e.kind, sign, int(buckets[i]), state), []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: (EDGE_STATE_ORDER[kv[0][3]], kv[0]))

    hi_idx = [i for i, e in enumerate(edges) if e.key in hi_all]
    if hi_idx:
        widths = [_edge_width(b) for b in buckets[hi_idx]]
        halo = (max(widths) + HALO_EXTRA_WIDTH) * sz.line_scale
        traces.append(_lines("highlight-halo", edges, hi_idx, HALO_COLOUR, halo, "solid", 1.0))
    for (kind, sign, bucket, state), idx in ordered:
        colour = {"+": POSITIVE_COLOUR, "-": NEGATIVE_COLOUR, "0": ZERO_COLOUR}[sign]
        width = _edge_width(bucket) * sz.line_scale + (HIGHLIGHT_EXTRA_WIDTH if state == "highlight" else 0.0)
        traces.append(_lines(f"edges:{kind}:{sign}:{bucket}:{state}", edges, idx, colour, width,
                             "dot" if kind == "b" else "solid", DIM_OPACITY if state == "dim" else 1.0))

    # bias nodes "+1"
    bias_keys = [f"bn:{l}" for l in range(L)]
    bias_dim = [dimming and not any(b.layer == l for b in step.bias_edges) for l in range(L)]
    traces.append(dict(
        type="scatter", name="bias-nodes", x=np.array(xs[:L]), y=np.full(L, y_bias), mode="markers+text",
        text=np.array(["+1"] * L, dtype=object), textposition="middle center",
        textfont={"size": max(BIAS_MIN_FONT, vf), "color": TEXT_COLOUR},
        marker={"size": sz.bias_d, "color": BIAS_COLOUR, "line": {"color": BIAS_OUTLINE, "width": OUTLINE_WIDTH},
                "opacity": np.where(bias_dim, DIM_BIAS_OPACITY, 1.0)},
        customdata=np.array(bias_keys, dtype=object),
        hovertext=np.array([t("+1: the constant input that multiplies the biases of layer {l}", lang, l=l + 1)
                            for l in range(L)], dtype=object),
        hoverinfo="text", showlegend=False,
    ))
    # neurons
    text_colour = np.where(node_dim, DIM_TEXT_COLOUR, TEXT_COLOUR)
    traces.append(dict(
        type="scatter", name="nodes", x=node_x_arr, y=node_y_arr, mode="markers+text",
        text=np.array(node_names, dtype=object), textposition="middle center",
        textfont={"size": sz.name_font, "color": text_colour, "weight": "bold"},
        marker={"size": sz.node_d, "color": np.array(node_colours, dtype=object),
                "line": {"color": NODE_OUTLINE, "width": OUTLINE_WIDTH},
                "opacity": np.where(node_dim, DIM_NODE_OPACITY, 1.0)},
        customdata=np.array(node_keys, dtype=object), hovertext=np.array(node_hover, dtype=object),
        hoverinfo="text", showlegend=False,
    ))
    hi_pos = [i for i, k in enumerate(node_keys) if k in hi_nodes]
    grow, ring = HIGHLIGHT_RING_BIG if sz.node_d >= BIG_NODE_D else HIGHLIGHT_RING_SMALL
    traces.append(dict(
        type="scatter", name="highlighted-nodes", x=node_x_arr[hi_pos], y=node_y_arr[hi_pos], mode="markers+text",
        text=np.array([node_names[i] for i in hi_pos], dtype=object), textposition="middle center",
        textfont={"size": sz.name_font, "color": TEXT_COLOUR, "weight": "bold"},
        marker={"size": sz.node_d + grow,
                "color": np.array([node_colours[i] for i in hi_pos], dtype=object),
                "line": {"color": HIGHLIGHT_OUTLINE, "width": ring}},
        customdata=np.array([node_keys[i] for i in hi_pos], dtype=object),
        hovertext=np.array([node_hover[i] for i in hi_pos], dtype=object), hoverinfo="text", showlegend=False,
    ))
    # numbers under the neurons (white halo keeps them readable where an edge passes behind)
    flat_values = [s for col in value_texts for s in col]
    traces.append(dict(
        type="scatter", name="node-values", x=node_x_arr, y=node_y_arr - r - VALUES_BELOW, mode="text",
        text=np.array(flat_values, dtype=object), textposition="bottom center",
        textfont={"size": vf, "color": text_colour, "shadow": _SHADOW},
        customdata=np.array(node_keys, dtype=object), hoverinfo="skip", showlegend=False,
    ))
    # targets and loss shares next to the outputs
    out_dim = node_dim[-layers[-1]:]
    traces.append(dict(
        type="scatter", name="targets", x=np.full(layers[-1], xs[L] + r + TARGET_GAP), y=np.array(ys[L]), mode="text",
        text=np.array(target_texts, dtype=object), textposition="middle right",
        textfont={"size": vf, "color": np.where(out_dim, DIM_TEXT_COLOUR, TEXT_COLOUR)},
        customdata=np.array([f"t:{k}" for k in range(layers[-1])], dtype=object), hoverinfo="skip",
        showlegend=False,
    ))
    # hover carriers on the edges (Plotly cannot hover on line segments)
    carriers = _hover_points(edges, labels)
    for name, pick in (("edge-hover", lambda e: e.key not in hi_all), ("highlighted-edges", lambda e: e.key in hi_all)):
        idx = [i for i, e in enumerate(edges) if pick(e)]
        traces.append(dict(
            type="scatter", name=name, x=carriers[idx, 0] if idx else np.array([]),
            y=carriers[idx, 1] if idx else np.array([]),
            mode="markers", marker={"size": HOVER_MARKER, "color": "rgba(0,0,0,0)"},
            customdata=np.array([edges[i].key for i in idx], dtype=object),
            hovertext=np.array([edges[i].hover for i in idx], dtype=object), hoverinfo="text", showlegend=False,
        ))

    # ------------------------------------------------------------ annotations: edge labels, legend, loss
    annotations = []
    colour_of = {"+": POSITIVE_COLOUR, "-": NEGATIVE_COLOUR, "0": ZERO_COLOUR}
    for e in edges:
        if e.key not in labels:
            continue
        x, y, text = labels[e.key]
        sign = "+" if e.shown > 0 else ("-" if e.shown < 0 else "0")
        highlighted = e.key in hi_all
        annotations.append({
            "name": f"label:{e.key}", "x": x, "y": y, "text": text, "showarrow": False,
            "font": {"size": ef, "color": TEXT_COLOUR}, "bgcolor": LABEL_BACKGROUND,
            "bordercolor": colour_of[sign], "borderwidth": LABEL_BORDER_HIGHLIGHT if highlighted else LABEL_BORDER,
            "borderpad": LABEL_BORDERPAD, "opacity": 1.0 if highlighted or not dimming else DIM_LABEL_OPACITY,
        })
    what = t("∂E/∂w", lang) if grad_mode else t("weight", lang)
    legend = (
        f'<span style="color:{POSITIVE_COLOUR}">━━</span> {what} &gt; 0   '
        f'<span style="color:{NEGATIVE_COLOUR}">━━</span> {what} &lt; 0   '
        + t("width ∝ |{what}|", lang, what=what) + "   ┈ " + t("bias", lang) + "   "
        + t("hover for full precision", lang)
    )
    annotations.append({"name": "legend", "x": 0, "y": 1, "xref": "paper", "yref": "paper", "xanchor": "left",
                        "yanchor": "bottom", "text": legend, "showarrow": False, "font": {"size": TOP_ROW_FONT},
                        "yshift": TOP_ROW_SHIFT})
    annotations.append({"name": "loss", "x": NOMINAL_WIDTH - LOSS_INSET, "y": y_loss, "xanchor": "right",
                        "yanchor": "middle", "text": loss_text, "showarrow": False, "font": {"size": LOSS_FONT},
                        "hovertext": loss_hover})
    if scenario.n_samples > 1:
        batch = (t("sample {s} of {n}", lang, s=sample + 1, n=scenario.n_samples) + " · " + t("batch mean", lang)
                 + f" <b>{loss_name} = {_fmt(trace.loss, decimals)}</b>")
        annotations.append({"name": "batch", "x": 1, "y": 1, "xref": "paper", "yref": "paper", "xanchor": "right",
                            "yanchor": "bottom", "text": batch, "showarrow": False,
                            "font": {"size": TOP_ROW_FONT}, "yshift": TOP_ROW_SHIFT,
                            "hovertext": f"{loss_name} = {trace.loss!r}"})

    layout = {
        "height": height, "autosize": True, "margin": MARGIN, "showlegend": False,
        "paper_bgcolor": "white", "plot_bgcolor": "white", "uirevision": f"network:{layers}",
        "dragmode": False, "hovermode": "closest", "hoverlabel": {"font": {"size": HOVER_FONT}, "bgcolor": "white"},
        "xaxis": {"range": [0, NOMINAL_WIDTH], "visible": False, "fixedrange": True},
        "yaxis": {"range": [0, plot_h], "visible": False, "fixedrange": True},
        "annotations": annotations,
        "meta": {
            "mode": mode, "sample": sample,
            "highlighted_nodes": sorted(hi_nodes), "highlighted_edges": sorted(hi_all),
            "labelled_edges": sorted(labels),
        },
    }
    # Built on every slider move: Plotly's per-property validation was ~80% of the build time (13 ms of the seed's
    # 16), so skip it here; tests/test_figures_network.py validates the same dicts with a normal go.Figure.
    return go.Figure(data=_lists(traces), layout=layout, _validate=False)


def _lists(value):
    """Numpy arrays to lists: Streamlit base64-encodes every array in a figure (~15 ms for the seed's ~50 arrays),
    while short lists go out as JSON directly."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def _lines(name: str, edges: list[_Edge], idx: list[int], colour: str, width: float, dash: str,
           opacity: float) -> dict:
    """One line trace drawing several edges, separated by NaN gaps (three points per edge: start, end, gap)."""
    x = np.full(3 * len(idx), np.nan)
    y = np.full(3 * len(idx), np.nan)
    x[0::3] = [edges[i].x0 for i in idx]
    x[1::3] = [edges[i].x1 for i in idx]
    y[0::3] = [edges[i].y0 for i in idx]
    y[1::3] = [edges[i].y1 for i in idx]
    return dict(
        type="scatter", name=name, x=x, y=y, mode="lines", line={"color": colour, "width": width, "dash": dash},
        opacity=opacity, hoverinfo="skip", showlegend=False, meta={"keys": [edges[i].key for i in idx]},
    )


def _hover_points(edges: list[_Edge], labels: dict) -> np.ndarray:
    """One hover point per edge: on its label if it has one, else its midpoint, nudged along the edge when two
    midpoints coincide (crossing diagonals share theirs)."""
    taken: list[tuple[float, float]] = []
    points = np.empty((len(edges), 2))
    for i, e in enumerate(edges):
        if e.key in labels:
            points[i] = labels[e.key][:2]
            taken.append(tuple(points[i]))
            continue
        for f in HOVER_SPOTS:
            p = (e.x0 + f * (e.x1 - e.x0), e.y0 + f * (e.y1 - e.y0))
            if all(abs(p[0] - q[0]) + abs(p[1] - q[1]) > HOVER_SEPARATION for q in taken[-HOVER_LOOKBACK:]):
                break
        points[i] = p
        taken.append(p)
    return points


def _node_hover(scenario: Scenario, trace: Trace, grads: Gradients, names: Names, l: int, j: int, sample: int,
                lang: str) -> str:
    """Full-precision description of neuron (l, j) for the hover box."""
    L = scenario.n_layers
    node = names.node(l, j)
    if l == 0:
        return (f"<b>{node}</b> — " + t("input {k}", lang, k=j + 1) + "<br>"
                f"{node} = {float(trace.a[0][sample, j])!r}<br>"
                f"∂E/∂{node} = {float(grads.dE_da[0][sample, j])!r}")
    kind = t("output neuron {k}", lang, k=j + 1) if l == L else t("hidden neuron {k} of layer {l}", lang, k=j + 1, l=l)
    net, out = _plain(names, "net", l, j), _plain(names, "out", l, j)
    act = scenario.activations[l - 1]
    text = (f"<b>{node}</b> — {kind} ({act})<br>"
            f"{net} = {float(trace.z[l][sample, j])!r}  (" + t("weighted sum + bias", lang) + ")<br>"
            f"{out} = {act}({net}) = {float(trace.a[l][sample, j])!r}<br>"
            f"δ = ∂E/∂{net} = {float(grads.dE_dz[l][sample, j])!r}<br>"
            f"∂E/∂{out} = {float(grads.dE_da[l][sample, j])!r}")
    if l == L:
        text += (f"<br>{t('target', lang)} t{j + 1} = {float(scenario.targets[sample, j])!r}"
                 f"<br>{t('loss share', lang)} = {float(trace.loss_share[sample, j])!r}")
    if scenario.n_samples > 1:
        text += "<br>" + t("sample {s} of {n}", lang, s=sample + 1, n=scenario.n_samples)
    return text
