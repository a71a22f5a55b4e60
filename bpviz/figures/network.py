"""The network figure: neurons left to right, every weight an edge, the current walkthrough step highlighted.

``network_figure(scenario, trace, grads, step)`` is a pure function returning a ``go.Figure``. Two modes:
``"values"`` labels neurons with net/out and edges with weights; ``"gradients"`` labels neurons with
δ = ∂E/∂net and edges with ∂E/∂w. Edge colour is the sign (Okabe-Ito blue #0072B2 positive, vermillion
#D55E00 negative), edge width the magnitude. On-screen numbers are rounded to ``decimals`` and use the
typographic minus "−" (U+2212); hover texts carry the full ``repr`` of every float.

Layout: the plot's axes are in *nominal pixels* (a plot area ``_Sizes.width`` wide and ``height`` minus margins
high); node sizes, fonts and label boxes are chosen in those pixels, so the label placer (greedy, first free
spot along the edge among a fixed list of fractions) knows what overlaps. A wider screen only adds room. The
figure is built in stages, one function each: texts (their sizes shape the rest) → geometry (rows, then columns)
→ edges and label placement → traces → annotations → layout; small frozen dataclasses carry what one stage hands
the next, and every length is a named constant.

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

``hidden`` (the quiz, :func:`bpviz.quiz.hidden_quantities`): the quantities to draw as "?" instead of their number,
in labels and hover texts alike: a step's value by its :class:`~bpviz.ids.StepId` (net, out, loss share, total
loss, ∂E/∂p), a neuron's δ and ∂E/∂out by :class:`~bpviz.ids.Delta` / :class:`~bpviz.ids.OutGrad`. An edge whose
∂E/∂w is hidden is drawn grey and thin in gradients mode: its colour and width would give the sign and size away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from .. import numbers
from ..config import Scenario
from ..engine import Gradients, Trace
from ..i18n import t
from ..ids import Bias, Delta, LossShare, Net, Neuron, Out, OutGrad, ParamRef, Phase, StepId, TotalLoss, Weight
from ..naming import Names, names_for
from ..numbers import exact
from ..symbolic import path_colour
from ..walkthrough import Step

MODES = ("values", "gradients")
HIDDEN = "?"  # in place of a number the quiz hides

# Okabe-Ito: distinguishable with every common colour-vision deficiency
INPUT_COLOUR = "#009E73"
HIDDEN_COLOUR = "#56B4E9"
OUTPUT_COLOUR = "#E69F00"
BIAS_COLOUR = "#DDDDDD"
POSITIVE_COLOUR = "#0072B2"
NEGATIVE_COLOUR = "#D55E00"
ZERO_COLOUR = "#999999"
SIGN_COLOURS = {"+": POSITIVE_COLOUR, "-": NEGATIVE_COLOUR, "0": ZERO_COLOUR}  # of an edge, by its number's sign
HALO_COLOUR = "rgba(240, 228, 66, 0.9)"  # Okabe-Ito yellow, a highlighter pen under the edge
TEXT_COLOUR = "#111111"
DIM_OPACITY = 0.18

# plot-area width (px) the layout is planned for: the main column at 1280×800 with the sidebar open; wider screens
# only add room, a narrower plot would squeeze labels together
GRAZE_AREA = 2.0  # a placement costing under HARD × this (≤ 50 px² grazing the numbers under neurons) labels all
MARGIN = {"l": 8, "r": 8, "t": 46, "b": 8}
WIDTH_BUCKETS = 4
# where along an edge (fraction from its source) a label may go, in order of preference
LABEL_SPOTS = (0.3, 0.7, 0.5, 0.38, 0.62, 0.22, 0.78, 0.45, 0.55, 0.15, 0.85)
MAX_ALL_LABELS = 40  # nets with more edges than this only label highlighted edges ...
MAX_GAP_LABELS = 9  # ... and so do nets with more than this many edges (weights + biases) between two columns
MAX_PATH_LABELS = 24  # at most this many highlighted edges get labels (the step's own edges always do)
MAX_ALL_LABEL_LAYERS = 2  # ... and so do nets with more weight layers than this (deeper columns are too narrow)
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
ROW_GAP = 6  # at least between the numbers under a neuron and the circle of the neuron below it
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
PLACEMENT_CACHE = 512  # label placements kept (by sizes): a lecture moves sliders over a few architectures and steps
LABEL_FRAME_W = 8  # what a label's border and padding add to its text's width ...
LABEL_FRAME_H = 2  # ... and height
# a label's text, from the most to the least explicit: "w5 = 0.4000", the same on two lines, the number alone
LABEL_VARIANTS = (lambda e: e.label, lambda e: e.label.replace(" = ", "<br>"), lambda e: e.label.split(" = ")[1])
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
TOP_ROW_SHIFT = 6  # px above the plot area


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
    width: float = 800  # the plot area in nominal px: the main column at 1280×800 with the sidebar open
    step_labels_only: bool = False  # with a step, label only its edges (presentation: few, large, named labels)
    loss_font: float = 17
    top_font: float = 14  # the legend and the batch line above the plot
    hover_font: float = 14


# (widest layer up to, sizes): the first row whose width fits applies; the last applies to all wider nets
SIZES = (
    (2, _Sizes(node_d=60, name_font=20, value_font=16, edge_font=16, bias_d=34, line_scale=1.0, height=520)),
    (4, _Sizes(node_d=48, name_font=17, value_font=14, edge_font=14, bias_d=30, line_scale=0.9, height=520)),
    (6, _Sizes(node_d=34, name_font=13, value_font=12, edge_font=13, bias_d=24, line_scale=0.75, height=540)),
    (None, _Sizes(node_d=28, name_font=14, value_font=10.5, edge_font=12, bias_d=20, line_scale=0.6, height=560)),
)


LARGE_SCALE = 1.25  # large type (presentation mode): circles and fonts this much bigger ...
LARGE_MIN_FONT = 20  # ... and no text smaller than this (legible from the back of a lecture hall)
LARGE_WIDTH = 1180  # ... in the main column without the sidebar (1280 px wide): fonts are screen px, so the layout
# must know the width it is drawn at, or wide numbers would reach the next column


def _sizes(max_width: int, large: bool = False, height: int | None = None) -> _Sizes:
    """The sizes for a network whose widest layer has ``max_width`` neurons; ``large`` for a projector."""
    sz = next(sz for up_to, sz in SIZES if up_to is None or max_width <= up_to)
    if large:
        font = {f: max(getattr(sz, f) * LARGE_SCALE, LARGE_MIN_FONT)
                for f in ("name_font", "value_font", "edge_font", "loss_font", "top_font", "hover_font")}
        sz = replace(sz, node_d=sz.node_d * LARGE_SCALE, bias_d=sz.bias_d * LARGE_SCALE, width=LARGE_WIDTH,
                     step_labels_only=True, **font)
    return sz if height is None else replace(sz, height=height)


def _fmt(v: float, decimals: int, lang: str = "en") -> str:
    """A number as every page shows it (:func:`bpviz.numbers.text`), with the typographic minus sign; ``lang``: the
    language of the words for a value float64 cannot hold."""
    return numbers.Style(decimals, lang, numbers.MINUS).text(v)


def _text_box(text: str, font: float) -> tuple[float, float]:
    """Estimated (width, height) in px of a (possibly <br>-split) text at ``font`` px; a Chinese character counts
    as two Latin letters (:func:`bpviz.numbers.columns`)."""
    lines = text.split("<br>")
    return max(numbers.columns(s) for s in lines) * CHAR_WIDTH * font, len(lines) * font * LINE_HEIGHT


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


@dataclass(frozen=True)
class _Request:
    """What to draw: the scenario with its forward and backward numbers, and how to show them."""

    scenario: Scenario
    trace: Trace
    grads: Gradients
    names: Names
    mode: str
    decimals: int
    sample: int
    lang: str
    hidden: frozenset = frozenset()  # quantities shown as HIDDEN (the quiz)

    @property
    def layers(self) -> tuple[int, ...]:
        return self.scenario.layers

    @property
    def L(self) -> int:
        """Index of the output layer."""
        return len(self.scenario.layers) - 1

    @property
    def grad_mode(self) -> bool:
        return self.mode == "gradients"

    @property
    def batched(self) -> bool:
        return self.scenario.n_samples > 1

    def fmt(self, v: float) -> str:
        return _fmt(v, self.decimals, self.lang)

    def exact(self, v: float) -> str:
        return exact(v, self.lang)

    def shown(self, quantity, v: float) -> str:
        """``v`` rounded, or HIDDEN when the quiz hides ``quantity``."""
        return HIDDEN if quantity in self.hidden else self.fmt(v)

    def shown_exact(self, quantity, v: float) -> str:
        """``v`` in full, or HIDDEN when the quiz hides ``quantity``."""
        return HIDDEN if quantity in self.hidden else self.exact(v)


@dataclass(frozen=True)
class _Texts:
    """The numbers drawn as text (their sizes shape the geometry): under the neurons, next to the outputs, the loss."""

    values: tuple[tuple[str, ...], ...]  # under each neuron, by layer
    targets: tuple[str, ...]  # target and loss share next to each output
    loss: str  # the loss annotation (HTML): E_total, or in a batch this sample's E
    loss_hover: str
    loss_name: str  # "E_total" (seed style) or "E"

    @property
    def flat_values(self) -> list[str]:
        """:attr:`values` in the order of the neurons (inputs first)."""
        return [s for col in self.values for s in col]


@dataclass(frozen=True)
class _Geometry:
    """Where things go, in nominal px of the plot area (x from its left edge, y up from its bottom)."""

    sizes: _Sizes
    plot_h: int  # plot-area height
    xs: tuple[float, ...]  # x of each layer's column
    ys: tuple[tuple[float, ...], ...]  # y of each neuron, by layer
    y_bias: float  # the row of "+1"s, the one feeding layer l + 1 at column l
    loss: tuple[float, float, float]  # the loss text: (centre y, width, height), right-aligned near the right edge
    col_w: float  # distance between two columns

    @property
    def L(self) -> int:
        return len(self.xs) - 1

    @property
    def r(self) -> float:
        """Neuron radius."""
        return self.sizes.node_d / 2

    @property
    def rb(self) -> float:
        """Radius of a "+1"."""
        return self.sizes.bias_d / 2


@dataclass(frozen=True)
class _Neurons:
    """Every neuron, inputs first (the order of the "nodes" trace)."""

    keys: tuple[str, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    names: tuple[str, ...]
    colours: tuple[str, ...]
    hover: tuple[str, ...]


@dataclass(frozen=True)
class _Highlight:
    """What a walkthrough step highlights, as keys; without a step nothing is highlighted and nothing dimmed."""

    nodes: frozenset[str] = frozenset()
    edges: frozenset[str] = frozenset()  # the step's weights, every weight on its paths, its biases
    own: frozenset[str] = frozenset()  # the step's own weights and biases: labelled even when the paths are too many
    bias_layers: frozenset[int] = frozenset()  # l of every "+1" (feeding layer l + 1) whose bias the step uses
    dimming: bool = False  # everything else drawn faint
    path_colour: dict = field(default_factory=dict)  # edge key -> the colour of its path in the formula


@dataclass(frozen=True)
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

    @property
    def sign(self) -> str:
        return "+" if self.shown > 0 else ("-" if self.shown < 0 else "0")


class _Placer:
    """Greedy label placement: boxes in nominal px, first spot along the edge that overlaps nothing.

    Overlap cost is area times the obstacle's weight: labels and nodes weigh ``HARD``, the numbers under the
    neurons ``SOFT`` (a label may graze them if nothing else fits, but never another label).
    """

    HARD = 25.0
    SOFT = 1.0

    def __init__(self, boxes: list[tuple[float, float, float, float]], weights: list[float]) -> None:
        self.boxes = np.array(boxes, dtype=float).reshape(-1, 4)  # x0, y0, x1, y1
        self.weights = np.array(weights, dtype=float)
        self.cost = 0.0
        self.hard = False  # whether some label lies on a node or another label (not only on numbers)

    def _areas(self, box: np.ndarray) -> np.ndarray:
        b = self.boxes
        w = np.minimum(b[:, 2], box[2]) - np.maximum(b[:, 0], box[0])
        h = np.minimum(b[:, 3], box[3]) - np.maximum(b[:, 1], box[1])
        return np.maximum(w, 0.0) * np.maximum(h, 0.0)  # not np.clip: its Python overhead was a third of the figure

    def _overlap(self, box: np.ndarray) -> float:
        return float(np.dot(self.weights, self._areas(box)))

    def place(self, e: _Edge, texts: list[tuple[str, float, float]],
              only_free: bool = False) -> tuple[float, float, str] | None:
        """(x, y, text) of the cheapest spot on edge ``e``: the first text variant (text, w, h) that fits
        somewhere, at its first free spot; if none fits, the least overlapping of all (``only_free``: None when
        every spot lies on a node or another label)."""
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
        on_something = bool(np.any(self._areas(best[3])[self.weights >= self.HARD] > 0))
        if only_free and on_something:
            return None
        self.hard = self.hard or on_something
        self.boxes = np.vstack([self.boxes, best[3]])
        self.weights = np.append(self.weights, self.HARD)
        self.cost += best_cost
        return best[0], best[1], best[2]


def _place_labels(edges: list[_Edge], boxes: list, weights: list, font: float,
                  variants: list) -> tuple[dict[str, tuple[float, float, str]], float, bool]:
    """Place every edge's label. Returns (labels, cost, whether a label lies on a node or another label).

    Where a label goes depends only on sizes (a text's box depends on its length), not on the digits: so the
    placement is computed on sizes (:func:`_placement`, cached) and the texts are filled in after. A slider move
    usually keeps every length, and the placement is looked up (it was a tenth of a rerun's server time)."""
    texts = [[v(e) for v in variants] for e in edges]
    sizes = tuple(tuple(_text_box(text, font) for text in row) for row in texts)
    spans = tuple(_Span(e.x0, e.y0, e.x1, e.y1) for e in edges)
    spots, cost, hard = _placement(spans, sizes, tuple(map(tuple, boxes)), tuple(weights))
    labels = {e.key: (x, y, texts[i][j]) for i, (e, (x, y, j)) in enumerate(zip(edges, spots))}
    return labels, cost, hard


class _Span(NamedTuple):
    """Where an edge runs (what :meth:`_Placer.place` reads of it)."""

    x0: float
    y0: float
    x1: float
    y1: float


@lru_cache(maxsize=PLACEMENT_CACHE)
def _placement(spans: tuple[_Span, ...], sizes: tuple[tuple[tuple[float, float], ...], ...], boxes: tuple,
               weights: tuple) -> tuple[tuple[tuple[float, float, int], ...], float, bool]:
    """(x, y, variant) of each edge's label, the cost, and whether a label lies on something hard. Tries ever more
    compact variants, first one variant for all labels (consistent), then each label falling back from one variant
    to the next; the first collision-free attempt wins, else the cheapest."""
    n = len(sizes[0]) if sizes else 0
    levels = [range(i, i + 1) for i in range(n)] + [range(i - 1, i + 1) for i in range(1, n)]
    best: tuple[tuple, float, bool] = ((), np.inf, True)
    for level in levels:
        placer = _Placer(list(boxes), list(weights))
        out = tuple(placer.place(span, [(j, row[j][0] + LABEL_FRAME_W, row[j][1] + LABEL_FRAME_H) for j in level])
                    for span, row in zip(spans, sizes))
        if placer.cost < best[1]:
            best = (out, placer.cost, placer.hard)
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
    large: bool = False,
    height: int | None = None,
    hidden: frozenset = frozenset(),
) -> go.Figure:
    """The network as a Plotly figure: neurons, weighted edges, biases, targets and loss, ``step`` highlighted.

    ``large``: type for a projector (no text under 20 px); ``height`` (px) overrides the architecture's height;
    ``hidden``: the quantities drawn as "?" (see the module's docstring).
    """
    # Built on every slider move: Plotly's per-property validation was ~80% of the build time (13 ms of the seed's
    # 16), so skip it here; tests/test_figures_network.py validates the same dicts with a normal go.Figure.
    return go.Figure(network_spec(scenario, trace, grads, step, mode, decimals, sample, lang, large, height, hidden),
                     _validate=False)


def network_spec(
    scenario: Scenario,
    trace: Trace,
    grads: Gradients,
    step: Step | None = None,
    mode: str = "values",
    decimals: int = 4,
    sample: int = 0,
    lang: str = "en",
    large: bool = False,
    height: int | None = None,
    hidden: frozenset = frozenset(),
) -> dict:
    """:func:`network_figure` as Plotly's JSON form, ``{"data": [...], "layout": {...}}`` (plain lists and dicts).

    What the app sends on every slider move: Plotly's objects cost more than the figure itself (building
    go.Figure from these dicts and its deep copy back to a dict took ~4 of the seed's ~6 ms). Built in stages:
    the texts (their sizes shape the layout) → geometry → edges and label placement → traces → annotations →
    layout.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not 0 <= sample < scenario.n_samples:
        raise ValueError(f"sample must be in [0, {scenario.n_samples}), got {sample}")
    req = _Request(scenario, trace, grads, names_for(scenario.layers), mode, decimals, sample, lang, hidden)
    texts = _texts(req)
    geo = _geometry(req.layers, texts, _sizes(max(req.layers), large, height))
    neurons, hi = _neurons(req, geo), _highlight(step)
    edges = [_path_label(req, e) if e.key in hi.path_colour else e for e in _edges(req, geo)]
    labels = _edge_labels(req.layers, geo, edges, hi, *_obstacles(geo, neurons, texts))
    traces = [  # plain dicts: go.Figure validates them once
        *_edge_traces(edges, hi, geo.sizes),
        _bias_trace(req, geo, hi),
        *_neuron_traces(geo, neurons, hi),
        *_text_traces(geo, neurons, texts, hi),
        *_hover_traces(edges, labels, hi),
    ]
    annotations = [*_label_annotations(edges, labels, hi, geo.sizes.edge_font), _legend(req, geo),
                   *_loss_annotations(req, geo, texts)]
    return {"data": _lists(traces), "layout": _lists(_figure_layout(req, geo, hi, labels, annotations))}


# ---------------------------------------------------------------- texts


def _texts(req: _Request) -> _Texts:
    """The numbers under the neurons, the targets and loss shares next to the outputs, and the loss."""
    names, s, fmt = req.names, req.sample, req.fmt
    values = tuple(tuple(_value_text(req, l, j) for j in range(n)) for l, n in enumerate(req.layers))

    def loss_share_name(k: int) -> str:
        return f"E_{names.node(req.L, k)}" if names.seed_style else f"E{k + 1}"

    targets = tuple(
        f"t{k + 1} = {fmt(req.scenario.targets[s, k])}<br>"
        f"{loss_share_name(k)} = {req.shown(StepId(Phase.LOSS, LossShare(k)), req.trace.loss_share[s, k])}"
        for k in range(req.layers[-1])
    )
    loss_name = "E_total" if names.seed_style else "E"
    total = StepId(Phase.LOSS, TotalLoss())  # hidden with (or after) every share: this sample's sum of them too
    if req.batched:  # this sample's loss here; the batch mean goes in the top row
        sample_loss = float(req.trace.loss_share[s].sum())
        what = t("E (sample {s})", req.lang, s=s + 1)
        loss = f"<b>{what} = {req.shown(total, sample_loss)}</b>"
        hover = f"{what} = {req.shown_exact(total, sample_loss)}"
    else:
        loss = f"<b>{loss_name} = {req.shown(total, req.trace.loss)}</b>"
        hover = f"{loss_name} = {req.shown_exact(total, req.trace.loss)}"
    return _Texts(values, targets, loss, hover, loss_name)


def _value_text(req: _Request, l: int, j: int) -> str:
    """The numbers under neuron (l, j): an input's value, else its δ (gradients mode) or its net and out."""
    s, n = req.sample, Neuron(l, j)
    if l == 0:
        return req.fmt(req.trace.a[0][s, j])
    if req.grad_mode:
        return f"δ {req.shown(Delta(n), req.grads.dE_dz[l][s, j])}"
    net, out = (t("net", req.lang), t("out", req.lang)) if req.names.seed_style else ("z", "a")
    return (f"{net} {req.shown(StepId(Phase.FORWARD, Net(n)), req.trace.z[l][s, j])}<br>"
            f"{out} {req.shown(StepId(Phase.FORWARD, Out(n)), req.trace.a[l][s, j])}")


# ---------------------------------------------------------------- geometry


def _geometry(layers: tuple[int, ...], texts: _Texts, sz: _Sizes) -> _Geometry:
    """Rows (y), the loss's place, columns (x), for these sizes (the height grown if the rows need it)."""
    text_h = max(_text_box(s, sz.value_font)[1] for s in texts.flat_values)
    sz = _tall_enough(layers, sz, text_h)
    plot_h = sz.height - MARGIN["t"] - MARGIN["b"]
    ys, y_bias = _rows(layers, sz, text_h, plot_h)
    # the loss sits bottom right, level with the "+1"s (but inside the plot)
    loss_w, loss_h = _text_box(texts.loss.replace("<b>", "").replace("</b>", ""), sz.loss_font)
    loss = (max(y_bias, loss_h / 2 + LOSS_INSET), loss_w, loss_h)
    xs, col_w = _columns(layers, sz, texts, ys, loss)
    return _Geometry(sz, plot_h, xs, ys, y_bias, loss, col_w)


def _pads(sz: _Sizes, text_h: float) -> tuple[float, float, float]:
    """(above the top neuron's centre, from the lowest neuron's centre to the "+1" row (its numbers fit in between),
    below the "+1" row's centre)."""
    r, rb = sz.node_d / 2, sz.bias_d / 2
    return r + TOP_ROOM, r + NUMBERS_ROOM + text_h + BIAS_ROW_GAP + rb, rb + BOTTOM_ROOM


def _tall_enough(layers: tuple[int, ...], sz: _Sizes, text_h: float) -> _Sizes:
    """``sz``, its height grown where a neuron's numbers would otherwise reach the circle below them (a chosen
    height, as presentation mode's, is a wish: a tall column of big circles and large type needs more)."""
    rows = max(layers) - 1
    min_row = sz.node_d + VALUES_BELOW + text_h + ROW_GAP
    needed = math.ceil(sum(_pads(sz, text_h)) + rows * min_row + MARGIN["t"] + MARGIN["b"])
    return sz if sz.height >= needed else replace(sz, height=needed)


def _rows(layers: tuple[int, ...], sz: _Sizes, text_h: float,
          plot_h: int) -> tuple[tuple[tuple[float, ...], ...], float]:
    """(y of every neuron by layer, y of the "+1" row): columns centred on each other, neurons at most MAX_ROW_H
    apart, the "+1"s below the lowest neuron's numbers, the whole block centred in the plot's height."""
    top_pad, bias_gap, bottom_pad = _pads(sz, text_h)
    rows = max(layers) - 1
    row_h = min(MAX_ROW_H, (plot_h - top_pad - bias_gap - bottom_pad) / rows) if rows else 0.0
    used = top_pad + rows * row_h + bias_gap + bottom_pad
    top_y = plot_h - top_pad - max(0.0, plot_h - used) / 2
    ys = tuple(tuple(top_y - ((max(layers) - n) / 2 + j) * row_h for j in range(n)) for n in layers)
    return ys, top_y - rows * row_h - bias_gap


def _columns(layers: tuple[int, ...], sz: _Sizes, texts: _Texts, ys: tuple[tuple[float, ...], ...],
             loss: tuple[float, float, float]) -> tuple[tuple[float, ...], float]:
    """(x of every column, column width): room for the inputs' numbers at the left and the targets at the right,
    the loss (bottom right) clear of the output column's numbers and of the last "+1"."""
    L = len(layers) - 1
    r, rb, vf = sz.node_d / 2, sz.bias_d / 2, sz.value_font
    y_loss, loss_w, loss_h = loss
    input_w = max(_text_box(s, vf)[0] for s in texts.values[0])
    target_w = max(_text_box(s, vf)[0] for s in texts.targets)
    left_pad = max(r, input_w / 2) + LEFT_ROOM
    right_pad = r + TARGET_GAP + target_w + RIGHT_ROOM
    out_text_w, out_text_h = _text_box(texts.values[L][-1], vf)
    if _values_bottom(ys[L][-1], r, out_text_h) < y_loss + loss_h / 2 + LOSS_INSET:
        # a tall output column reaches down to the loss: make room for the loss right of its numbers
        right_pad = max(right_pad, out_text_w / 2 + LOSS_GAP + loss_w)
    if L > 1:
        # keep the last "+1" (at column L - 1) left of the loss
        room = sz.width - LOSS_INSET - loss_w - rb - BIAS_LOSS_GAP - left_pad
        right_pad = max(right_pad, sz.width - left_pad - L / (L - 1) * room)
    col_w = (sz.width - left_pad - right_pad) / L
    return tuple(left_pad + l * col_w for l in range(L + 1)), col_w


def _neurons(req: _Request, geo: _Geometry) -> _Neurons:
    """Every neuron's key, place, name, colour and full-precision hover text."""
    rows = []
    for l, n in enumerate(req.layers):
        colour = INPUT_COLOUR if l == 0 else (OUTPUT_COLOUR if l == req.L else HIDDEN_COLOUR)
        rows += [(Neuron(l, j).format(), geo.xs[l], geo.ys[l][j], req.names.node(l, j), colour,
                  _node_hover(req, l, j))
                 for j in range(n)]
    return _Neurons(*(tuple(column) for column in zip(*rows)))


def _highlight(step: Step | None) -> _Highlight:
    """The keys ``step`` highlights."""
    if step is None:
        return _Highlight()
    own = {w.format() for w in step.edges}
    bias = {b.format() for b in step.bias_edges}
    # each path's own edges (not the step's shared one) in the colour its term has in the formula
    colours = {w.format(): path_colour(i) for i, path in enumerate(step.paths) for w in path
               if len(step.paths) > 1 and w.format() not in own}
    return _Highlight(
        nodes=frozenset(n.format() for n in step.nodes),
        edges=frozenset(own | {w.format() for path in step.paths for w in path} | bias),
        own=frozenset(own | bias),
        bias_layers=frozenset(b.layer for b in step.bias_edges),
        dimming=True,
        path_colour=colours,
    )


def _edges(req: _Request, geo: _Geometry) -> list[_Edge]:
    """Every weight edge (layer by layer, in the order of ``weights[l]``), then every bias edge."""
    edges: list[_Edge] = []
    s, grads, node = req.sample, req.grads, req.names.node
    for l in range(req.L):
        W, dW = req.scenario.weights[l], grads.dE_dW[l]
        if req.batched:  # the shown sample's own gradient δ_j·a_k, as the nodes' δ and the formula (mean in hover)
            dW = np.outer(grads.dE_dz[l + 1][s], req.trace.a[l][s])
        for j in range(req.layers[l + 1]):
            for k in range(req.layers[l]):
                edges.append(_edge(req, Weight(l, j, k), W[j, k], dW[j, k], f"{node(l, k)} → {node(l + 1, j)}",
                                   (geo.xs[l], geo.ys[l][k]), (geo.xs[l + 1], geo.ys[l + 1][j])))
    for l in range(req.L):
        B, dB = req.scenario.biases[l], grads.dE_db[l]
        if req.batched:
            dB = grads.dE_dz[l + 1][s]
        for j in range(req.layers[l + 1]):
            edges.append(_edge(req, Bias(l, j), B[j], dB[j], f"+1 → {node(l + 1, j)}", (geo.xs[l], geo.y_bias),
                               (geo.xs[l + 1], geo.ys[l + 1][j])))
    return edges


def _path_label(req: _Request, e: _Edge) -> _Edge:
    """A path's edge beyond the step's own is labelled with its weight: the factor the formula multiplies by."""
    if not req.grad_mode:
        return e
    value = e.ref.read(req.scenario.weights, req.scenario.biases)
    return replace(e, label=f"{req.names.param(e.ref)} = {req.fmt(value)}")


def _edge(req: _Request, ref: ParamRef, value: float, grad: float, route: str, start: tuple[float, float],
          end: tuple[float, float]) -> _Edge:
    """The edge of parameter ``ref`` (``route``: "i1 → h1") from ``start`` to ``end``: its label (value or
    gradient, rounded) and its hover text (both in full; in a batch, also the mean gradient the update uses)."""
    pname, grad_mode = req.names.param(ref), req.mode == "gradients"
    gradient = StepId(Phase.BACKWARD, ref)
    shown = grad if grad_mode else value
    if grad_mode:
        label = f"∂E/∂{pname} = {req.shown(gradient, grad)}"
        shown = 0.0 if gradient in req.hidden else shown  # grey and thin: no sign or size given away
    else:
        label = f"{pname} = {req.fmt(shown)}"
    if ref.TAG == "w":
        own = t("weight {p} = {v}", req.lang, p=pname, v=req.exact(value))
    else:
        own = t("bias {p} = {v}", req.lang, p=pname, v=req.exact(value))
    hover = f"<b>{pname}</b>: {route}<br>" + own + f"<br>∂E/∂{pname} = {req.shown_exact(gradient, grad)}"
    if req.batched:
        mean = ref.read(req.grads.dE_dW, req.grads.dE_db)
        hover += "<br>" + t("(∂E/∂ of sample {s}'s loss; the update uses the mean over the {n} samples: {m})",
                            req.lang, s=req.sample + 1, n=req.scenario.n_samples, m=req.shown_exact(gradient, mean))
    return _Edge(ref, ref.format(), ref.TAG, *start, *end, float(shown), label, hover)


# ---------------------------------------------------------------- edge labels


def _obstacles(geo: _Geometry, neurons: _Neurons, texts: _Texts) -> tuple[list, list]:
    """(boxes, weights) edge labels must avoid: neurons, "+1"s, target texts and the loss weigh ``_Placer.HARD``,
    the numbers under the neurons ``_Placer.SOFT`` (a label may graze them)."""
    r, rb, pad, vf, L = geo.r, geo.rb, OBSTACLE_PAD, geo.sizes.value_font, geo.L
    boxes = [(x - r - pad, y - r - pad, x + r + pad, y + r + pad) for x, y in zip(neurons.x, neurons.y)]
    yb = geo.y_bias
    boxes += [(geo.xs[l] - rb - pad, yb - rb - pad, geo.xs[l] + rb + pad, yb + rb + pad) for l in range(L)]
    weights = [_Placer.HARD] * len(boxes)
    for x, y, s in zip(neurons.x, neurons.y, texts.flat_values):
        w, h = _text_box(s, vf)
        boxes.append((x - w / 2, _values_bottom(y, r, h), x + w / 2, y - r - (VALUES_BELOW - VALUES_SLACK)))
        weights.append(_Placer.SOFT)
    x_out = geo.xs[L]
    for k, s in enumerate(texts.targets):
        w, h = _text_box(s, vf)
        y = geo.ys[L][k]
        boxes.append((x_out + r + (TARGET_GAP - pad), y - h / 2, x_out + r + (TARGET_GAP + pad) + w, y + h / 2))
        weights.append(_Placer.HARD)
    y_loss, loss_w, loss_h = geo.loss
    width = geo.sizes.width
    boxes.append((width - 2 * LOSS_INSET - loss_w, y_loss - loss_h / 2, width, y_loss + loss_h / 2))
    weights.append(_Placer.HARD)
    return boxes, weights


def _edge_labels(layers: tuple[int, ...], geo: _Geometry, edges: list[_Edge], hi: _Highlight, boxes: list,
                 weights: list) -> dict[str, tuple[float, float, str]]:
    """Edge key → (x, y, text) of its label: every edge on a small net if they all fit, else the highlighted
    ones (only the step's own when its paths have too many edges)."""
    variants = list(LABEL_VARIANTS)
    if geo.col_w < ONE_LINE_LABEL_COL:
        variants = variants[1:]
    font = geo.sizes.edge_font
    labels: dict[str, tuple[float, float, str]] = {}
    cost = np.inf
    if labels_every_edge(layers) and not (geo.sizes.step_labels_only and hi.edges):
        # every edge, in a fixed order, so labels stay put from one step to the next; value-only boxes when the
        # named ones do not fit, and a label may graze the numbers under a neuron (SOFT) but never another
        # label or a node: dropping every label because one grazes looked like the labels vanished at random
        labels, cost, hard = _place_labels(edges, boxes, weights, font, variants)
        # with a step, grazing the numbers is not worth it: its own edges get room instead; without one, labels that
        # only graze numbers beat no labels at all
        if cost < _Placer.HARD * GRAZE_AREA or (not hi.edges and not hard):
            cost = 0.0
    if cost > 0 and not hi.edges and few_edges(layers):  # no step: every label that finds a free spot, none on another
        placer = _Placer(boxes, weights)
        compact = variants[-1:]
        placed = {e.key: placer.place(e, [(text, w + LABEL_FRAME_W, h + LABEL_FRAME_H) for text, w, h in
                                          [(v(e), *_text_box(v(e), font)) for v in compact]], only_free=True)
                  for e in edges}
        return {k: v for k, v in placed.items() if v is not None}
    if cost > 0:
        chosen = [e for e in edges if e.key in hi.edges]
        if len(chosen) > MAX_PATH_LABELS:
            chosen = [e for e in chosen if e.key in hi.own]
        labels = _place_labels(chosen, boxes, weights, font, variants)[0]
    return labels


def few_edges(layers: tuple[int, ...]) -> bool:
    """Whether a network has few enough edges, overall and between any two columns, to label them all."""
    gap_edges = max(layers[l] * layers[l + 1] + layers[l + 1] for l in range(len(layers) - 1))
    n_edges = sum(layers[l] * layers[l + 1] + layers[l + 1] for l in range(len(layers) - 1))
    return n_edges <= MAX_ALL_LABELS and gap_edges <= MAX_GAP_LABELS


def labels_every_edge(layers: tuple[int, ...]) -> bool:
    """Whether every edge gets a label: few edges and columns wide enough (else the step's edges are labelled;
    with no step, a deeper net with few edges labels those that find a free spot)."""
    return len(layers) - 1 <= MAX_ALL_LABEL_LAYERS and few_edges(layers)


# ---------------------------------------------------------------- traces


def _edge_traces(edges: list[_Edge], hi: _Highlight, sz: _Sizes) -> list[dict]:
    """The edges' lines, one trace per (kind, sign, width bucket, state): dimmed first, highlighted last over a
    highlighter halo."""
    magnitude = np.array([abs(e.shown) for e in edges])
    top = magnitude.max() if magnitude.size and magnitude.max() > 0 else 1.0
    buckets = np.minimum((magnitude / top * WIDTH_BUCKETS).astype(int), WIDTH_BUCKETS - 1)
    groups: dict[tuple[str, str, int, str], list[int]] = {}
    for i, e in enumerate(edges):
        state = "highlight" if e.key in hi.edges else ("dim" if hi.dimming else "normal")
        colour = hi.path_colour.get(e.key)  # a path's edge: its colour in the formula, not its sign's
        groups.setdefault((e.kind, colour or e.sign, int(buckets[i]), state), []).append(i)
    traces = []
    hi_idx = [i for i, e in enumerate(edges) if e.key in hi.edges]
    if hi_idx:
        widths = [_edge_width(b) for b in buckets[hi_idx]]
        halo = (max(widths) + HALO_EXTRA_WIDTH) * sz.line_scale
        traces.append(_lines("highlight-halo", edges, hi_idx, HALO_COLOUR, halo, "solid", 1.0))
    for (kind, sign, bucket, state), idx in sorted(groups.items(), key=lambda kv: (EDGE_STATE_ORDER[kv[0][3]], kv[0])):
        width = _edge_width(bucket) * sz.line_scale + (HIGHLIGHT_EXTRA_WIDTH if state == "highlight" else 0.0)
        colour = SIGN_COLOURS.get(sign, sign)
        what = sign if sign in SIGN_COLOURS else "path"
        name = f"edges:{kind}:{what}:{bucket}:{state}"
        traces.append(_lines(name, edges, idx, colour, width, "dot" if kind == "b" else "solid",
                             DIM_OPACITY if state == "dim" else 1.0))
    return traces


def _bias_trace(req: _Request, geo: _Geometry, hi: _Highlight) -> dict:
    """The "+1" nodes, the one feeding layer l + 1 at column l."""
    L = req.L
    dim = [hi.dimming and l not in hi.bias_layers for l in range(L)]
    return dict(
        type="scatter", name="bias-nodes", x=np.array(geo.xs[:L]), y=np.full(L, geo.y_bias), mode="markers+text",
        text=np.array(["+1"] * L, dtype=object), textposition="middle center",
        textfont={"size": max(BIAS_MIN_FONT, geo.sizes.value_font), "color": TEXT_COLOUR},
        marker={"size": geo.sizes.bias_d, "color": BIAS_COLOUR,
                "line": {"color": BIAS_OUTLINE, "width": OUTLINE_WIDTH},
                "opacity": np.where(dim, DIM_BIAS_OPACITY, 1.0)},
        customdata=np.array([f"bn:{l}" for l in range(L)], dtype=object),
        hovertext=np.array([t("+1: the constant input that multiplies the biases of layer {l}", req.lang, l=l + 1)
                            for l in range(L)], dtype=object),
        hoverinfo="text", showlegend=False,
    )


def _dimmed(neurons: _Neurons, hi: _Highlight) -> np.ndarray:
    """For every neuron: drawn faint (a step is shown and does not use it)."""
    return np.array([hi.dimming and k not in hi.nodes for k in neurons.keys])


def _neuron_traces(geo: _Geometry, neurons: _Neurons, hi: _Highlight) -> list[dict]:
    """Every neuron ("nodes"), then the step's neurons again with a ring ("highlighted-nodes")."""
    sz = geo.sizes
    x, y, dim = np.array(neurons.x), np.array(neurons.y), _dimmed(neurons, hi)
    every = dict(
        type="scatter", name="nodes", x=x, y=y, mode="markers+text",
        text=np.array(neurons.names, dtype=object), textposition="middle center",
        textfont={"size": sz.name_font, "color": np.where(dim, DIM_TEXT_COLOUR, TEXT_COLOUR), "weight": "bold"},
        marker={"size": sz.node_d, "color": np.array(neurons.colours, dtype=object),
                "line": {"color": NODE_OUTLINE, "width": OUTLINE_WIDTH},
                "opacity": np.where(dim, DIM_NODE_OPACITY, 1.0)},
        customdata=np.array(neurons.keys, dtype=object), hovertext=np.array(neurons.hover, dtype=object),
        hoverinfo="text", showlegend=False,
    )
    pos = [i for i, k in enumerate(neurons.keys) if k in hi.nodes]
    grow, ring = HIGHLIGHT_RING_BIG if sz.node_d >= BIG_NODE_D else HIGHLIGHT_RING_SMALL
    highlighted = dict(
        type="scatter", name="highlighted-nodes", x=x[pos], y=y[pos], mode="markers+text",
        text=np.array([neurons.names[i] for i in pos], dtype=object), textposition="middle center",
        textfont={"size": sz.name_font, "color": TEXT_COLOUR, "weight": "bold"},
        marker={"size": sz.node_d + grow, "color": np.array([neurons.colours[i] for i in pos], dtype=object),
                "line": {"color": HIGHLIGHT_OUTLINE, "width": ring}},
        customdata=np.array([neurons.keys[i] for i in pos], dtype=object),
        hovertext=np.array([neurons.hover[i] for i in pos], dtype=object), hoverinfo="text", showlegend=False,
    )
    return [every, highlighted]


def _text_traces(geo: _Geometry, neurons: _Neurons, texts: _Texts, hi: _Highlight) -> list[dict]:
    """The numbers under the neurons (a white halo keeps them readable where an edge passes behind), then the
    targets and loss shares next to the outputs."""
    vf, n_out = geo.sizes.value_font, len(texts.targets)
    colour = np.where(_dimmed(neurons, hi), DIM_TEXT_COLOUR, TEXT_COLOUR)
    values = dict(
        type="scatter", name="node-values", x=np.array(neurons.x), y=np.array(neurons.y) - geo.r - VALUES_BELOW,
        mode="text", text=np.array(texts.flat_values, dtype=object), textposition="bottom center",
        textfont={"size": vf, "color": colour, "shadow": _SHADOW},
        customdata=np.array(neurons.keys, dtype=object), hoverinfo="skip", showlegend=False,
    )
    targets = dict(
        type="scatter", name="targets", x=np.full(n_out, geo.xs[geo.L] + geo.r + TARGET_GAP),
        y=np.array(geo.ys[geo.L]), mode="text", text=np.array(texts.targets, dtype=object),
        textposition="middle right", textfont={"size": vf, "color": colour[-n_out:]},
        customdata=np.array([f"t:{k}" for k in range(n_out)], dtype=object), hoverinfo="skip", showlegend=False,
    )
    return [values, targets]


def _hover_traces(edges: list[_Edge], labels: dict, hi: _Highlight) -> list[dict]:
    """Invisible markers carrying the edges' hover texts (Plotly cannot hover on line segments), the highlighted
    edges' in their own trace."""
    carriers = _hover_points(edges, labels)
    traces = []
    for name, pick in (("edge-hover", lambda e: e.key not in hi.edges),
                       ("highlighted-edges", lambda e: e.key in hi.edges)):
        idx = [i for i, e in enumerate(edges) if pick(e)]
        traces.append(dict(
            type="scatter", name=name, x=carriers[idx, 0] if idx else np.array([]),
            y=carriers[idx, 1] if idx else np.array([]),
            mode="markers", marker={"size": HOVER_MARKER, "color": "rgba(0,0,0,0)"},
            customdata=np.array([edges[i].key for i in idx], dtype=object),
            hovertext=np.array([edges[i].hover for i in idx], dtype=object), hoverinfo="text", showlegend=False,
        ))
    return traces


# ---------------------------------------------------------------- annotations and layout


def _label_annotations(edges: list[_Edge], labels: dict, hi: _Highlight, font: float) -> list[dict]:
    """The edge labels, framed in the edge's colour (thicker on a highlighted edge), faint on dimmed edges."""
    notes = []
    for e in edges:
        if e.key not in labels:
            continue
        x, y, text = labels[e.key]
        highlighted = e.key in hi.edges
        notes.append({
            "name": f"label:{e.key}", "x": x, "y": y, "text": text, "showarrow": False,
            "font": {"size": font, "color": TEXT_COLOUR}, "bgcolor": LABEL_BACKGROUND,
            "bordercolor": SIGN_COLOURS[e.sign], "borderwidth": LABEL_BORDER_HIGHLIGHT if highlighted else LABEL_BORDER,
            "borderpad": LABEL_BORDERPAD, "opacity": 1.0 if highlighted or not hi.dimming else DIM_LABEL_OPACITY,
        })
    return notes


def _legend(req: _Request, geo: _Geometry) -> dict:
    """What colours, widths and dotted lines mean, above the plot at the left."""
    lang = req.lang
    what = "∂E/∂w" if req.grad_mode else t("weight", lang)
    legend = (
        f'<span style="color:{POSITIVE_COLOUR}">━━</span> {what} &gt; 0   '
        f'<span style="color:{NEGATIVE_COLOUR}">━━</span> {what} &lt; 0   '
        + t("width ∝ |{what}|", lang, what=what) + "   ┈ " + t("bias", lang) + "   "
        + t("hover for full precision", lang)
    )
    return {"name": "legend", "x": 0, "y": 1, "xref": "paper", "yref": "paper", "xanchor": "left",
            "yanchor": "bottom", "text": legend, "showarrow": False, "font": {"size": geo.sizes.top_font},
            "yshift": TOP_ROW_SHIFT}


def _loss_annotations(req: _Request, geo: _Geometry, texts: _Texts) -> list[dict]:
    """The loss at the bottom right; in a batch also the batch mean, above the plot at the right."""
    notes = [{"name": "loss", "x": geo.sizes.width - LOSS_INSET, "y": geo.loss[0], "xanchor": "right",
              "yanchor": "middle", "text": texts.loss, "showarrow": False, "font": {"size": geo.sizes.loss_font},
              "hovertext": texts.loss_hover}]
    if req.batched:
        lang, name, loss = req.lang, texts.loss_name, req.trace.loss
        total = StepId(Phase.LOSS, TotalLoss())
        batch = (t("sample {s} of {n}", lang, s=req.sample + 1, n=req.scenario.n_samples) + " · "
                 + t("batch mean", lang) + f" <b>{name} = {req.shown(total, loss)}</b>")
        notes.append({"name": "batch", "x": 1, "y": 1, "xref": "paper", "yref": "paper", "xanchor": "right",
                      "yanchor": "bottom", "text": batch, "showarrow": False, "font": {"size": geo.sizes.top_font},
                      "yshift": TOP_ROW_SHIFT, "hovertext": f"{name} = {req.shown_exact(total, loss)}"})
    return notes


def _figure_layout(req: _Request, geo: _Geometry, hi: _Highlight, labels: dict, annotations: list[dict]) -> dict:
    """The layout: fixed axes in nominal px, the annotations, and ``meta`` for tests and the UI."""
    return {
        "height": geo.sizes.height, "autosize": True, "margin": MARGIN, "showlegend": False,
        "paper_bgcolor": "white", "plot_bgcolor": "white", "uirevision": f"network:{req.layers}",
        "dragmode": False, "hovermode": "closest",
        "hoverlabel": {"font": {"size": geo.sizes.hover_font}, "bgcolor": "white"},
        "xaxis": {"range": [0, geo.sizes.width], "visible": False, "fixedrange": True},
        "yaxis": {"range": [0, geo.plot_h], "visible": False, "fixedrange": True},
        "annotations": annotations,
        "meta": {
            "mode": req.mode, "sample": req.sample,
            "highlighted_nodes": sorted(hi.nodes), "highlighted_edges": sorted(hi.edges),
            "labelled_edges": sorted(labels),
        },
    }


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


def _node_hover(req: _Request, l: int, j: int) -> str:
    """Full-precision description of neuron (l, j) for the hover box ("?" for what the quiz hides)."""
    scenario, trace, grads, names, sample, lang = req.scenario, req.trace, req.grads, req.names, req.sample, req.lang
    L, n, full = scenario.n_layers, Neuron(l, j), req.shown_exact
    node = names.node(l, j)
    if l == 0:
        return (f"<b>{node}</b> — " + t("input {k}", lang, k=j + 1) + "<br>"
                f"{node} = {exact(trace.a[0][sample, j], lang)}<br>"
                f"∂E/∂{node} = {full(OutGrad(n), grads.dE_da[0][sample, j])}")
    kind = t("output neuron {k}", lang, k=j + 1) if l == L else t("hidden neuron {k} of layer {l}", lang, k=j + 1, l=l)
    net, out = _plain(names, "net", l, j), _plain(names, "out", l, j)
    act = scenario.activations[l - 1]
    text = (f"<b>{node}</b> — {kind} ({act})<br>"
            f"{net} = {full(StepId(Phase.FORWARD, Net(n)), trace.z[l][sample, j])}  ("
            + t("weighted sum + bias", lang) + ")<br>"
            f"{out} = {act}({net}) = {full(StepId(Phase.FORWARD, Out(n)), trace.a[l][sample, j])}<br>"
            f"δ = ∂E/∂{net} = {full(Delta(n), grads.dE_dz[l][sample, j])}<br>"
            f"∂E/∂{out} = {full(OutGrad(n), grads.dE_da[l][sample, j])}")
    if l == L and not math.isfinite(grads.dE_da[l][sample, j]) and OutGrad(n) not in req.hidden:
        text += "<br>" + t("(∂E/∂out is beyond float64 where an output rounds to exactly 0 or 1; the loss is computed "
                           "from the net, so δ above is exact)", lang)
    if l == L:
        target = f"t{j + 1}"
        text += ("<br>" + t("target {label} = {v}", lang, label=target, v=exact(scenario.targets[sample, j], lang))
                 + "<br>" + t("loss share = {v}", lang,
                              v=full(StepId(Phase.LOSS, LossShare(j)), trace.loss_share[sample, j])))
    if scenario.n_samples > 1:
        text += "<br>" + t("sample {s} of {n}", lang, s=sample + 1, n=scenario.n_samples)
    return text
