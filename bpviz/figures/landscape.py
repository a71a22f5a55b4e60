"""The gradient as a slope (E along one parameter, its tangent, where one step lands) and the loss landscape (E over
two parameters, the descent direction, the training path projected onto them).

Pure functions returning ``go.Figure``. Every trace carries ``meta["key"]``: ``"curve"``, ``"tangent"`` (with
``meta["slope"]``), ``"point"``, ``"step"``, ``"landing"``; ``"landscape"`` (the contours), ``"path"``,
``"path-start"``, ``"path-end"``; the descent arrow is the annotation named ``"descent"``. Full-precision values are
in the hovers (``numbers.exact``).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .. import numbers
from ..config import MAX_ABS_NUMBER
from ..i18n import t
from ..landscape import Landscape, SlopeCurve
from ..naming import Names
from ..numbers import Style
from .training import PALETTE, base_layout

CURVE_COLOUR, TANGENT_COLOUR, STEP_COLOUR, PATH_COLOUR = PALETTE[1], PALETTE[3], PALETTE[2], "#FFFFFF"
POINT_SIZE = 12
NOTE_FONT = 15  # px: the words over a chart (what it cannot draw, and why)
STEP_LABEL_OFFSET = (-60, -55)  # px from the landing point to its label "one step"
Y_PAD = 0.12  # share of the curve's height added above and below it (the tangent is cut at that range)
MIN_Y_SPAN = 1e-3  # a flat curve (a dead unit: ∂E/∂p = 0) still gets a visible y range, relative to |E|
ARROW_SHARE = 0.18  # the descent arrow is this share of the landscape's smaller side
LEGEND_Y = -0.3  # below the x axis's title, also when the legend wraps to two rows
SLOPE_HEIGHT = 430  # px: small beside the formula, readable from the back of the room
LANDSCAPE_HEIGHT = 600
LANDSCAPE_LEGEND_Y = -0.2  # the legend below the x axis's title (the plot is taller than the slope chart's)
LEGEND_MARGIN = 110  # px under the plot: the axis title and a two-row legend
LOG_SPAN = 100.0  # E spanning more than this factor over the plane is coloured by log₁₀ E
CONTOURS = 24
CONTOUR_LABEL_FONT = 12  # px: the values written on the contour lines
NOTES_MARGIN = 110  # px above the landscape when words about it sit over its top
ARROW_LABEL_SHIFT = 14  # px from the arrow's tip to its label "−∇E", further along the arrow
ARROW_LABEL_FONT = 16


def _y_range(E: np.ndarray, also: list[float]) -> list[float] | None:
    """A y range around the finite part of the curve (and the marked points), so the tangent does not flatten it."""
    values = np.concatenate([E[np.isfinite(E)], [v for v in also if math.isfinite(v)]])
    if values.size == 0:
        return None
    low, high = float(values.min()), float(values.max())
    span = max(high - low, MIN_Y_SPAN * max(1.0, abs(high)))
    return [low - Y_PAD * span, high + Y_PAD * span]


def slope_figure(curve: SlopeCurve, names: Names, style: Style, samples: int = 1, show_step: bool = True) -> go.Figure:
    """:func:`slope_spec` as a ``go.Figure``."""
    return go.Figure(slope_spec(curve, names, style, samples, show_step))


def slope_spec(curve: SlopeCurve, names: Names, style: Style, samples: int = 1, show_step: bool = True) -> dict:
    """E as a function of one parameter p (the others fixed), the tangent at p₀ with slope ∂E/∂p, and (``show_step``)
    where the update step lands; Plotly's JSON form (what the app sends on every slider move: building Plotly's
    objects cost 15 ms a run, this 1 ms)."""
    lang, p = style.lang, names.param(curve.ref)
    E = np.where(np.isfinite(curve.E), curve.E, np.nan)  # a gap where float64 ends, said in words below
    data = [{"type": "scatter", "x": curve.p, "y": E, "mode": "lines", "name": t("E({p})", lang, p=p),
             "meta": {"key": "curve"}, "line": {"color": CURVE_COLOUR, "width": 3}, "connectgaps": False,
             "hovertemplate": f"{p} = %{{x:.6g}}<br>E = %{{y:.6g}}<extra></extra>"}]
    if math.isfinite(curve.E0) and math.isfinite(curve.dE_dp):
        ends = np.array([curve.p[0], curve.p[-1]])
        data.append({
            "type": "scatter", "x": ends, "y": curve.tangent(ends), "mode": "lines",
            "meta": {"key": "tangent", "slope": curve.dE_dp},
            "name": (t("tangent, slope = ∂E/∂{p} = {g} (mean over the {n} samples)", lang, p=p, n=samples,
                       g=style.text(curve.dE_dp)) if samples > 1 else
                     t("tangent, slope ∂E/∂{p} = {g}", lang, p=p, g=style.text(curve.dE_dp))),
            "line": {"color": TANGENT_COLOUR, "width": 2, "dash": "dash"}, "hoverinfo": "skip"})
    data.append({
        "type": "scatter", "x": [curve.p0], "y": [curve.E0], "mode": "markers", "meta": {"key": "point"},
        "name": t("now: {p} = {v}, E = {e}", lang, p=p, v=style.text(curve.p0), e=style.text(curve.E0)),
        "marker": {"size": POINT_SIZE, "color": TANGENT_COLOUR, "line": {"width": 2, "color": "#111"}},
        "hovertext": [f"{p} = {style.exact(curve.p0)}<br>E = {style.exact(curve.E0)}<br>∂E/∂{p} = "
                      f"{style.exact(curve.dE_dp)}"], "hoverinfo": "text"})
    annotations: list[dict] = []
    if curve.lands and show_step:
        _step(data, annotations, curve, p, style)
    layout = base_layout(t("E as a function of {p}, the others fixed", lang, p=p), p,
                         t("loss E (mean over {n} samples)", lang, n=samples) if samples > 1 else t("loss E", lang))
    layout["yaxis"]["range"] = _y_range(curve.E, [curve.E0, curve.E1] if show_step else [curve.E0])
    layout.update(height=SLOPE_HEIGHT, legend={**layout["legend"], "orientation": "h", "yanchor": "top",
                                               "y": LEGEND_Y, "x": 0})
    problem = _slope_problem(curve, p, lang, show_step)
    if problem:
        annotations.append(_note(problem, PALETTE[3]))
    layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def _note(text: str, colour: str = "#111") -> dict:
    """Words over the top of a chart: what it cannot draw, and why."""
    return {"text": text, "x": 0.5, "y": 0.98, "xref": "paper", "yref": "paper", "showarrow": False,
            "font": {"size": NOTE_FONT, "color": colour}, "bgcolor": "rgba(255,255,255,0.9)"}


def _step(data: list, annotations: list, curve: SlopeCurve, p: str, style: Style) -> None:
    """The update step: along the tangent from p₀ to p₁ (what the gradient predicts), then down to E(p₁)."""
    lang = style.lang
    if not curve.moves:  # nothing to draw: say why where the step would be
        annotations.append(_note(t("{p} is not trained (fixed biases): an update step leaves it at {v}.", lang, p=p,
                                   v=style.text(curve.p1))))
        return
    data.append({"type": "scatter", "x": [curve.p0, curve.p1, curve.p1],
                 "y": [curve.E0, float(curve.tangent(curve.p1)), curve.E1], "mode": "lines", "meta": {"key": "step"},
                 "line": {"color": STEP_COLOUR, "width": 3}, "hoverinfo": "skip", "showlegend": False})
    data.append({
        "type": "scatter", "x": [curve.p1], "y": [curve.E1], "mode": "markers", "meta": {"key": "landing"},
        "name": t("after one update step: {p} = {v}, E = {e}", lang, p=p, v=style.text(curve.p1),
                  e=style.text(curve.E1)),
        "marker": {"size": POINT_SIZE, "color": STEP_COLOUR, "symbol": "diamond",
                   "line": {"width": 2, "color": "#111"}},
        "hovertext": [f"{p} = {style.exact(curve.p1)}<br>E = {style.exact(curve.E1)}<br>η = "
                      f"{style.exact(curve.learning_rate)}"], "hoverinfo": "text"})
    annotations.append({"x": curve.p1, "y": curve.E1, "ax": STEP_LABEL_OFFSET[0], "ay": STEP_LABEL_OFFSET[1],
                        "showarrow": True, "arrowhead": 2, "arrowwidth": 2, "arrowcolor": STEP_COLOUR,
                        "text": t("one step", lang), "font": {"size": NOTE_FONT, "color": "#111"},
                        "bgcolor": "rgba(255,255,255,0.85)"})


def _slope_problem(curve: SlopeCurve, p: str, lang: str, show_step: bool = True) -> str | None:
    """What the chart cannot show because float64 ends, in words (None when everything is finite)."""
    if not (math.isfinite(curve.E0) and math.isfinite(curve.dE_dp)):
        return t("E or ∂E/∂{p} at the current point is beyond float64: no tangent can be drawn.", lang, p=p)
    if show_step and not math.isfinite(curve.p1):
        return t("One update step would take {p} beyond float64 ({value}): its landing point is not drawn.", lang,
                 p=p, value=numbers.text(curve.p1, lang=lang))
    if show_step and not curve.lands:
        return t("One update step would take {p} to {value}, beyond ±{limit:g}, the largest value a parameter may "
                 "hold: its landing point is not drawn.", lang, p=p, value=numbers.text(curve.p1, lang=lang),
                 limit=MAX_ABS_NUMBER)
    if not np.isfinite(curve.E).all():
        return t("E is beyond float64 for some values of {p}: the curve has gaps there.", lang, p=p)
    return None


# ---------------------------------------------------------------- landscape


def landscape_figure(land: Landscape, names: Names, style: Style, fixed_at: str) -> go.Figure:
    """:func:`landscape_spec` as a ``go.Figure``."""
    return go.Figure(landscape_spec(land, names, style, fixed_at))


def landscape_spec(land: Landscape, names: Names, style: Style, fixed_at: str) -> dict:
    """Contours of E over two parameters, the current point with the descent direction −∇E, and the training path
    projected onto the two (``fixed_at`` says in words where the other parameters are held); Plotly's JSON form."""
    lang = style.lang
    px, py = names.param(land.refs[0]), names.param(land.refs[1])
    data = [_surface(land, px, py), {
        "type": "scatter", "x": [land.point[0]], "y": [land.point[1]], "mode": "markers", "meta": {"key": "point"},
        "name": t("now: {x} = {vx}, {y} = {vy}", lang, x=px, vx=style.text(land.point[0]), y=py,
                  vy=style.text(land.point[1])),
        "marker": {"size": POINT_SIZE, "color": PALETTE[3], "line": {"width": 2, "color": "white"}},
        "hovertext": [f"{px} = {style.exact(land.point[0])}<br>{py} = {style.exact(land.point[1])}<br>∂E/∂{px} = "
                      f"{style.exact(land.gradient[0])}<br>∂E/∂{py} = {style.exact(land.gradient[1])}"],
        "hoverinfo": "text"}]
    if len(land.path):  # after the point: the end star stays visible when the point is the end of the run
        data += _path(land, style)
    title = t("Loss landscape: E over {x} and {y}, the other parameters fixed at {where}", lang, x=px, y=py,
              where=fixed_at)
    layout = base_layout(title, px, py)
    layout.update(height=LANDSCAPE_HEIGHT, legend={**layout["legend"], "orientation": "h", "yanchor": "top",
                                                   "y": LANDSCAPE_LEGEND_Y, "x": 0})
    layout["margin"] = {**layout["margin"], "b": LEGEND_MARGIN}
    layout["annotations"] = _descent_arrow(land, px, py, style)
    notes = []
    if len(land.path):
        notes.append(t("The path is projected: training moved the other parameters too, so it need not follow "
                       "these contours.", lang))
    if not land.finite:
        notes.append(t("E is beyond float64 in the blank part of the plane.", lang))
    if notes:
        layout["annotations"].append({"text": "<br>".join(notes), "x": 0, "y": 1.0, "xref": "paper", "yref": "paper",
                                      "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": NOTE_FONT}, "bgcolor": "rgba(255,255,255,0.9)"})
        layout["margin"] = {**layout["margin"], "t": NOTES_MARGIN}
    return {"data": data, "layout": layout}


def _surface(land: Landscape, px: str, py: str) -> dict:
    """The contours of E; coloured by log₁₀ E when E spans more than LOG_SPAN (near a minimum a linear scale puts
    everything in one colour), the colour bar then labelled in values of E."""
    E = np.where(np.isfinite(land.E), land.E, np.nan)  # blank where float64 ends, said in words
    positive = E[np.isfinite(E) & (E > 0)]
    log = positive.size > 0 and float(positive.max()) > LOG_SPAN * float(positive.min())
    z, bar = E, {"title": {"text": "E"}}
    if log:
        z = np.log10(np.maximum(E, positive.min()))
        decades = np.arange(math.floor(np.nanmin(z)), math.ceil(np.nanmax(z)) + 1)
        bar = {"title": {"text": "E"}, "tickvals": decades.tolist(),
               "ticktext": [format(10.0 ** k, "g") for k in decades]}
    return {"type": "contour", "x": land.x, "y": land.y, "z": z, "customdata": E, "colorscale": "Viridis",
            "ncontours": CONTOURS, "colorbar": bar, "meta": {"key": "landscape", "log": log},
            "contours": {"showlabels": not log, "labelfont": {"size": CONTOUR_LABEL_FONT, "color": "white"}},
            "hovertemplate": f"{px} = %{{x:.4g}}<br>{py} = %{{y:.4g}}<br>E = %{{customdata:.6g}}<extra></extra>"}


def _path(land: Landscape, style: Style) -> list[dict]:
    """The training path through the two parameters, with its start and end marked."""
    x, y = land.path[:, 0], land.path[:, 1]
    return [
        # a white line on a dark outline: visible on every colour of the scale, and (the outline) in the legend
        {"type": "scatter", "x": x, "y": y, "mode": "lines", "meta": {"key": "path-outline"},
         "name": t("training path (projected)", style.lang), "line": {"color": "#111", "width": 6},
         "hoverinfo": "skip"},
        {"type": "scatter", "x": x, "y": y, "mode": "lines", "meta": {"key": "path"}, "showlegend": False,
         "line": {"color": PATH_COLOUR, "width": 3}, "hoverinfo": "skip"},
        {"type": "scatter", "x": x[:1], "y": y[:1], "mode": "markers", "meta": {"key": "path-start"},
         "name": t("start of training", style.lang),
         "marker": {"size": POINT_SIZE, "color": PATH_COLOUR, "line": {"width": 2, "color": "#111"}},
         "hoverinfo": "skip"},
        {"type": "scatter", "x": x[-1:], "y": y[-1:], "mode": "markers", "meta": {"key": "path-end"},
         "name": t("end of training", style.lang),
         "marker": {"size": POINT_SIZE + 6, "symbol": "star", "color": PALETTE[0],
                    "line": {"width": 1, "color": "#111"}}, "hoverinfo": "skip"},
    ]


def _descent_arrow(land: Landscape, px: str, py: str, style: Style) -> list[dict]:
    """An arrow from the current point along −∇E (direction only: its length is a fixed share of the plot), and its
    label; none where the gradient is 0 or beyond float64."""
    gx, gy = land.gradient
    norm = math.hypot(gx, gy) if math.isfinite(gx) and math.isfinite(gy) else 0.0
    if norm == 0.0 or not math.isfinite(norm):
        return []
    sx, sy = land.x[-1] - land.x[0], land.y[-1] - land.y[0]
    length = ARROW_SHARE * min(sx, sy)
    dx, dy = -gx / norm * length, -gy / norm * length
    tip = (land.point[0] + dx, land.point[1] + dy)
    return [
        {"name": "descent", "x": tip[0], "y": tip[1], "ax": land.point[0], "ay": land.point[1], "xref": "x",
         "yref": "y", "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 3, "arrowsize": 1.4,
         "arrowwidth": 3, "arrowcolor": PALETTE[3], "text": "",
         "hovertext": f"−(∂E/∂{px}, ∂E/∂{py}) = ({style.exact(-gx)}, {style.exact(-gy)})"},
        {"x": tip[0], "y": tip[1], "xref": "x", "yref": "y", "showarrow": False, "text": "−∇E",
         "xshift": ARROW_LABEL_SHIFT * float(np.sign(dx)), "yshift": ARROW_LABEL_SHIFT * float(np.sign(dy)),
         "font": {"size": ARROW_LABEL_FONT, "color": "white"}, "bgcolor": "rgba(0,0,0,0.55)"},
    ]
