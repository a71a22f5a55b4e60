"""The gradient-size chart: per weight layer l, ‖∂E/∂W⁽ˡ⁾‖ and mean |δ⁽ˡ⁾| on a log axis, the output layer on the
right, so a gradient that vanishes (or explodes) on its way back reads as a line falling (or rising) to the left.

``gradient_sizes_figure(scenario, grads, lang)`` is a pure function returning a ``go.Figure`` (``gradient_sizes_spec``
the same as Plotly's JSON form, what the app sends on every slider move); the sizes come from
:func:`bpviz.gradient_sizes.gradient_sizes` (the engine's arrays). A log axis cannot show 0 (a layer no gradient
reaches: dead ReLUs, an output exactly at its target) nor a value beyond float64: those points are left out and an
annotation says in words which they are. Colours are Okabe-Ito; the two lines also differ by marker and dash.

How tests find things: traces with ``meta["key"]`` ``"weight_norm"`` and ``"delta_mean"`` (x = l, y = the size or
None where it is not drawn, ``hovertext`` = the full-precision value); annotations named ``"zeros"`` and
``"non_finite"``.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ..config import Scenario
from ..engine import Gradients
from ..gradient_sizes import GradientSizes, delta_mean_symbol, gradient_sizes, weight_norm_symbol
from ..i18n import t
from ..numbers import columns, exact, non_finite
from .training import base_layout

WEIGHT_COLOUR, DELTA_COLOUR = "#0072B2", "#E69F00"  # Okabe-Ito blue and orange
NOTE_COLOUR = "#D55E00"
HEIGHT = 400  # px: the chart, the lesson above it and the caption below fit one 1280×800 screen
MARGIN = {"l": 70, "r": 40, "t": 90, "b": 95}  # above the plot the title and the legend, below it the ticks
# (two lines: "layer 7 / (output)") and the axis title
NOTE_PX, NOTE_LINE_PX = 92, 22  # the notes start this far under the plot (below the axis title), a line this high
NOTE_COLUMNS = 80  # a note's line breaks before this many letters (the main column at 1280 px holds about 90)
MIN_DECADES = 2  # the y axis spans at least this many powers of ten (one point alone: no 2, 3, 4 … 9 between)
MAX_DECADE_TICKS = 7  # at most about this many labelled powers of ten
Y_PAD = 0.08  # room above the highest and below the lowest point, in parts of the span (a marker is not cut)


def _points(values: tuple[float, ...], symbol, lang: str) -> tuple[list, list[str]]:
    """(y, hover texts): a size where a log axis can draw it, None where it cannot (0, or beyond float64)."""
    y = [v if math.isfinite(v) and v > 0 else None for v in values]
    hover = [f"{symbol(l)} = {exact(v, lang)}" for l, v in enumerate(values, start=1)]
    return y, hover


def _not_drawn(sizes: GradientSizes, lang: str) -> tuple[list[str], list[str]]:
    """The sizes left out, by why: (exactly 0, beyond float64), each named with its value in words."""
    zeros, beyond = [], []
    for name, values in ((weight_norm_symbol, sizes.weight_norm),
                         (lambda l: t("mean {delta}", lang, delta=delta_mean_symbol(l)), sizes.delta_mean)):
        for l, v in enumerate(values, start=1):
            if v == 0:
                zeros.append(name(l))
            elif not math.isfinite(v):
                beyond.append(f"{name(l)} ({non_finite(v, lang=lang)})")
    return zeros, beyond


def _wrapped(text: str) -> list[str]:
    """``text`` in lines of at most NOTE_COLUMNS letters (Chinese characters count two), broken at spaces."""
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and columns(f"{lines[-1]} {word}") > NOTE_COLUMNS:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
    return lines


def _notes(sizes: GradientSizes, lang: str) -> tuple[list[dict], int]:
    """Under the plot, in words, the sizes a log axis cannot draw (a line or two of words never hides a point):
    (the annotations, the pixels they take)."""
    zeros, beyond = _not_drawn(sizes, lang)
    notes = []
    if zeros:
        notes.append(("zeros", t("Exactly 0, not drawn (a log scale has no 0): {which}", lang,
                                 which=", ".join(zeros))))
    if beyond:
        notes.append(("non_finite", t("Beyond float64 (about ±1.8 × 10³⁰⁸), not drawn: {which}", lang,
                                      which=", ".join(beyond))))
    annotations, shift = [], NOTE_PX
    for name, text in notes:
        lines = _wrapped(text)
        annotations.append({"name": name, "text": "<br>".join(lines), "x": 0, "xref": "paper", "xanchor": "left",
                            "y": 0, "yref": "paper", "yanchor": "top", "yshift": -shift, "showarrow": False,
                            "align": "left", "font": {"size": 15, "color": NOTE_COLOUR}})
        shift += NOTE_LINE_PX * len(lines)
    return annotations, shift - NOTE_PX


def _y_range(sizes: GradientSizes) -> tuple[list[float], int] | None:
    """(log10 range, decades between labels) of the y axis: every drawn size with room, at least MIN_DECADES
    (None when nothing is drawn)."""
    drawn = [v for v in (*sizes.weight_norm, *sizes.delta_mean) if math.isfinite(v) and v > 0]
    if not drawn:
        return None
    lo, hi = math.log10(min(drawn)), math.log10(max(drawn))
    span = max(hi - lo, MIN_DECADES)
    middle, half = (lo + hi) / 2, span / 2 + Y_PAD * span
    return [middle - half, middle + half], max(1, math.ceil(2 * half / MAX_DECADE_TICKS))


def gradient_sizes_figure(scenario: Scenario, grads: Gradients, lang: str = "en") -> go.Figure:
    """‖∂E/∂W⁽ˡ⁾‖ and mean |δ⁽ˡ⁾| (over samples and neurons) for every weight layer l = 1 … L, log scale."""
    return go.Figure(gradient_sizes_spec(scenario, grads, lang))


def _trace(key: str, name: str, layers: list[int], points: tuple[list, list[str]], line: dict, marker: dict) -> dict:
    y, hover = points
    return {"type": "scatter", "x": layers, "y": y, "mode": "lines+markers", "name": name, "meta": {"key": key},
            "line": line, "marker": marker, "hovertext": hover, "hoverinfo": "text"}


def gradient_sizes_spec(scenario: Scenario, grads: Gradients, lang: str = "en") -> dict:
    """:func:`gradient_sizes_figure` as Plotly's JSON form (plain dicts and lists), what the app sends: Plotly's
    objects, with their per-property checks, took 14 of the figure's 15 ms."""
    sizes = gradient_sizes(grads)
    L = scenario.n_layers
    layers = list(range(1, L + 1))

    def mean_delta(l: int) -> str:
        return t("mean {delta}", lang, delta=delta_mean_symbol(l))

    data = [
        _trace("weight_norm", t("‖∂E/∂W⁽ˡ⁾‖ (all weights of the layer)", lang), layers,
               _points(sizes.weight_norm, weight_norm_symbol, lang), {"color": WEIGHT_COLOUR, "width": 3},
               {"size": 11, "symbol": "circle"}),
        _trace("delta_mean", t("mean |δ⁽ˡ⁾| (over samples and neurons)", lang), layers,
               _points(sizes.delta_mean, mean_delta, lang), {"color": DELTA_COLOUR, "width": 3, "dash": "dash"},
               {"size": 12, "symbol": "diamond"}),
    ]
    ticks = [t("layer {l}", lang, l=l) for l in layers]
    ticks[-1] += "<br>" + t("(output)", lang)  # on a line of its own: one tick's width is the room between two
    annotations, extra = _notes(sizes, lang)
    layout = base_layout(t("Gradient size per layer (log scale)", lang),
                         t("← the backward pass: from the output layer (right) back to layer 1 (left)", lang),
                         t("size (log scale)", lang))
    layout.update(height=HEIGHT + extra, margin={**MARGIN, "b": MARGIN["b"] + extra}, annotations=annotations,
                  legend={**layout["legend"], "orientation": "h", "x": 0, "y": 1.02, "xanchor": "left",
                          "yanchor": "bottom"})
    layout["xaxis"].update(tickvals=layers, ticktext=ticks, range=[0.6, L + 0.4], showgrid=False,
                           ticklabeloverflow="allow", tickangle=0)
    layout["yaxis"].update(type="log", exponentformat="power")
    span = _y_range(sizes)
    if span is not None:
        layout["yaxis"].update(range=span[0], dtick=span[1])
    return {"data": data, "layout": layout}
