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
from .training import PALETTE, _layout

CURVE_COLOUR, TANGENT_COLOUR, STEP_COLOUR, PATH_COLOUR = PALETTE[1], PALETTE[3], PALETTE[2], "#FFFFFF"
POINT_SIZE = 12
NOTE_FONT = 15  # px: the words over a chart (what it cannot draw, and why)
STEP_LABEL_OFFSET = (-60, -55)  # px from the landing point to its label "one step"
Y_PAD = 0.12  # share of the curve's height added above and below it (the tangent is cut at that range)
MIN_Y_SPAN = 1e-3  # a flat curve (a dead unit: ∂E/∂p = 0) still gets a visible y range, relative to |E|
ARROW_SHARE = 0.18  # the descent arrow is this share of the landscape's smaller side
LEGEND_Y = -0.3  # below the x axis's title, also when the legend wraps to two rows
SLOPE_HEIGHT = 430  # px: small beside the formula, readable from the back of the room
LANDSCAPE_HEIGHT = 560
LOG_SPAN = 100.0  # E spanning more than this factor over the plane is coloured by log₁₀ E
CONTOURS = 24


def _y_range(E: np.ndarray, also: list[float]) -> list[float] | None:
    """A y range around the finite part of the curve (and the marked points), so the tangent does not flatten it."""
    values = np.concatenate([E[np.isfinite(E)], [v for v in also if math.isfinite(v)]])
    if values.size == 0:
        return None
    low, high = float(values.min()), float(values.max())
    span = max(high - low, MIN_Y_SPAN * max(1.0, abs(high)))
    return [low - Y_PAD * span, high + Y_PAD * span]


def slope_figure(curve: SlopeCurve, names: Names, style: Style, samples: int = 1, show_step: bool = True) -> go.Figure:
    """E as a function of one parameter p (the others fixed), the tangent at p₀ with slope ∂E/∂p, and (``show_step``)
    where the update p − η·∂E/∂p lands."""
    lang, p = style.lang, names.param(curve.ref)
    fig = go.Figure()
    E = np.where(np.isfinite(curve.E), curve.E, np.nan)  # a gap where float64 ends, said in words below
    fig.add_trace(go.Scatter(
        x=curve.p, y=E, mode="lines", name=t("E({p})", lang, p=p), meta={"key": "curve"},
        line={"color": CURVE_COLOUR, "width": 3}, connectgaps=False,
        hovertemplate=f"{p} = %{{x:.6g}}<br>E = %{{y:.6g}}<extra></extra>",
    ))
    if math.isfinite(curve.E0) and math.isfinite(curve.dE_dp):
        ends = np.array([curve.p[0], curve.p[-1]])
        fig.add_trace(go.Scatter(
            x=ends, y=curve.tangent(ends), mode="lines", meta={"key": "tangent", "slope": curve.dE_dp},
            name=(t("tangent, slope = ∂E/∂{p} = {g} (mean over the {n} samples)", lang, p=p, n=samples,
                    g=style.text(curve.dE_dp)) if samples > 1 else
                  t("tangent, slope ∂E/∂{p} = {g}", lang, p=p, g=style.text(curve.dE_dp))),
            line={"color": TANGENT_COLOUR, "width": 2, "dash": "dash"}, hoverinfo="skip",
        ))
    fig.add_trace(go.Scatter(
        x=[curve.p0], y=[curve.E0], mode="markers", meta={"key": "point"},
        name=t("now: {p} = {v}, E = {e}", lang, p=p, v=style.text(curve.p0), e=style.text(curve.E0)),
        marker={"size": POINT_SIZE, "color": TANGENT_COLOUR, "line": {"width": 2, "color": "#111"}},
        hovertext=[f"{p} = {style.exact(curve.p0)}<br>E = {style.exact(curve.E0)}<br>∂E/∂{p} = "
                   f"{style.exact(curve.dE_dp)}"], hoverinfo="text",
    ))
    if curve.lands and show_step:
        _step(fig, curve, p, style)
    _layout(fig, t("E as a function of {p}, the others fixed", lang, p=p),
            p, t("loss E (mean over {n} samples)", lang, n=samples) if samples > 1 else t("loss E", lang))
    fig.update_yaxes(range=_y_range(curve.E, [curve.E0, curve.E1] if show_step else [curve.E0]))
    fig.update_layout(height=SLOPE_HEIGHT, legend={"orientation": "h", "yanchor": "top", "y": LEGEND_Y, "x": 0})
    problem = _slope_problem(curve, p, lang, show_step)
    if problem:
        fig.add_annotation(text=problem, x=0.5, y=0.98, xref="paper", yref="paper", showarrow=False,
                           font={"size": NOTE_FONT, "color": PALETTE[3]}, bgcolor="rgba(255,255,255,0.9)")
    return fig


def _step(fig: go.Figure, curve: SlopeCurve, p: str, style: Style) -> None:
    """The update step: along the tangent from p₀ to p₁ (what the gradient predicts), then down to E(p₁)."""
    lang = style.lang
    if not curve.moves:  # nothing to draw: say why where the step would be
        fig.add_annotation(text=t("{p} is not trained (fixed biases): an update step leaves it at {v}.", lang, p=p,
                                  v=style.text(curve.p1)), x=0.5, y=0.98, xref="paper", yref="paper",
                           showarrow=False, font={"size": NOTE_FONT}, bgcolor="rgba(255,255,255,0.9)")
        return
    fig.add_trace(go.Scatter(
        x=[curve.p0, curve.p1, curve.p1], y=[curve.E0, curve.tangent(curve.p1), curve.E1], mode="lines",
        meta={"key": "step"}, line={"color": STEP_COLOUR, "width": 3}, hoverinfo="skip", showlegend=False,
    ))
    fig.add_trace(go.Scatter(
        x=[curve.p1], y=[curve.E1], mode="markers", meta={"key": "landing"},
        name=t("after one update step: {p} = {v}, E = {e}", lang, p=p, v=style.text(curve.p1),
               e=style.text(curve.E1)),
        marker={"size": POINT_SIZE, "color": STEP_COLOUR, "symbol": "diamond", "line": {"width": 2, "color": "#111"}},
        hovertext=[f"{p} = {style.exact(curve.p1)}<br>E = {style.exact(curve.E1)}<br>η = "
                   f"{style.exact(curve.learning_rate)}"], hoverinfo="text",
    ))
    fig.add_annotation(x=curve.p1, y=curve.E1, ax=STEP_LABEL_OFFSET[0], ay=STEP_LABEL_OFFSET[1], showarrow=True,
                       arrowhead=2, arrowwidth=2, arrowcolor=STEP_COLOUR, text=t("one step", lang),
                       font={"size": 15, "color": "#111"}, bgcolor="rgba(255,255,255,0.85)")


def _slope_problem(curve: SlopeCurve, p: str, lang: str, show_step: bool = True) -> str | None:
    """What the chart cannot show because float64 ends, in words (None when everything is finite)."""
    if not (math.isfinite(curve.E0) and math.isfinite(curve.dE_dp)):
        return t("E or ∂E/∂{p} at the current point is beyond float64: no tangent can be drawn.", lang, p=p)
    if show_step and not curve.lands:
        return t("One update step would take {p} to {value}, beyond ±{limit:g}, the largest value a parameter may "
                 "hold: its landing point is not drawn.", lang, p=p, value=numbers.text(curve.p1, lang=lang),
                 limit=MAX_ABS_NUMBER)
    if not np.isfinite(curve.E).all():
        return t("E is beyond float64 for some values of {p}: the curve has gaps there.", lang, p=p)
    return None


# ---------------------------------------------------------------- landscape


def landscape_figure(land: Landscape, names: Names, style: Style, fixed_at: str) -> go.Figure:
    """Contours of E over two parameters, the current point with the descent direction −∇E, and the training path
    projected onto the two (``fixed_at`` says in words where the other parameters are held)."""
    lang = style.lang
    px, py = names.param(land.refs[0]), names.param(land.refs[1])
    fig = go.Figure(_surface(land, px, py))
    fig.add_trace(go.Scatter(
        x=[land.point[0]], y=[land.point[1]], mode="markers", meta={"key": "point"},
        name=t("now: {x} = {vx}, {y} = {vy}", lang, x=px, vx=style.text(land.point[0]), y=py,
                vy=style.text(land.point[1])),
        marker={"size": POINT_SIZE, "color": PALETTE[3], "line": {"width": 2, "color": "white"}},
        hovertext=[f"{px} = {style.exact(land.point[0])}<br>{py} = {style.exact(land.point[1])}<br>∂E/∂{px} = "
                   f"{style.exact(land.gradient[0])}<br>∂E/∂{py} = {style.exact(land.gradient[1])}"], hoverinfo="text",
    ))
    if len(land.path):  # after the point: the end star stays visible when the point is the end of the run
        _path(fig, land, style)
    _descent_arrow(fig, land, px, py, style)
    title = t("Loss landscape: E over {x} and {y}, the other parameters fixed at {where}", lang, x=px, y=py,
               where=fixed_at)
    _layout(fig, title, px, py)
    fig.update_layout(height=LANDSCAPE_HEIGHT, legend={"orientation": "h", "yanchor": "top", "y": LEGEND_Y / 2, "x": 0})
    notes = []
    if len(land.path):
        notes.append(t("The path is projected: training moved the other parameters too, so it need not follow "
                        "these contours.", lang))
    if not land.finite:
        notes.append(t("E is beyond float64 in the blank part of the plane.", lang))
    if notes:
        fig.add_annotation(text="<br>".join(notes), x=0, y=1.0, xref="paper", yref="paper", xanchor="left",
                           yanchor="bottom", showarrow=False, font={"size": 14}, bgcolor="rgba(255,255,255,0.9)")
        fig.update_layout(margin={"t": 110})
    return fig


def _surface(land: Landscape, px: str, py: str) -> go.Contour:
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
    return go.Contour(
        x=land.x, y=land.y, z=z, customdata=E, colorscale="Viridis", ncontours=CONTOURS, colorbar=bar,
        meta={"key": "landscape", "log": log},
        contours={"showlabels": not log, "labelfont": {"size": 12, "color": "white"}},
        hovertemplate=f"{px} = %{{x:.4g}}<br>{py} = %{{y:.4g}}<br>E = %{{customdata:.6g}}<extra></extra>",
    )


def _path(fig: go.Figure, land: Landscape, style: Style) -> None:
    """The training path through the two parameters, with its end marked."""
    # a white line on a dark outline: visible on every colour of the scale, and (the outline) in the legend
    fig.add_trace(go.Scatter(
        x=land.path[:, 0], y=land.path[:, 1], mode="lines", meta={"key": "path-outline"},
        name=t("training path (projected)", style.lang), line={"color": "#111", "width": 6}, hoverinfo="skip",
    ))
    fig.add_trace(go.Scatter(
        x=land.path[:, 0], y=land.path[:, 1], mode="lines", meta={"key": "path"}, showlegend=False,
        line={"color": PATH_COLOUR, "width": 3}, hoverinfo="skip",
    ))
    fig.add_trace(go.Scatter(
        x=land.path[:1, 0], y=land.path[:1, 1], mode="markers", meta={"key": "path-start"},
        name=t("start of training", style.lang),
        marker={"size": POINT_SIZE, "color": PATH_COLOUR, "line": {"width": 2, "color": "#111"}},
        hoverinfo="skip",
    ))
    fig.add_trace(go.Scatter(
        x=land.path[-1:, 0], y=land.path[-1:, 1], mode="markers", meta={"key": "path-end"},
        name=t("end of training", style.lang),
        marker={"size": POINT_SIZE + 6, "symbol": "star", "color": PALETTE[0], "line": {"width": 1, "color": "#111"}},
        hoverinfo="skip",
    ))


def _descent_arrow(fig: go.Figure, land: Landscape, px: str, py: str, style: Style) -> None:
    """An arrow from the current point along −∇E (direction only: its length is a fixed share of the plot)."""
    gx, gy = land.gradient
    norm = math.hypot(gx, gy) if math.isfinite(gx) and math.isfinite(gy) else 0.0
    if norm == 0.0 or not math.isfinite(norm):
        return
    sx, sy = land.x[-1] - land.x[0], land.y[-1] - land.y[0]
    length = ARROW_SHARE * min(sx, sy)
    dx, dy = -gx / norm * length, -gy / norm * length
    tip = (land.point[0] + dx, land.point[1] + dy)
    fig.add_annotation(
        name="descent", x=tip[0], y=tip[1], ax=land.point[0], ay=land.point[1], xref="x", yref="y", axref="x",
        ayref="y", showarrow=True, arrowhead=3, arrowsize=1.4, arrowwidth=3, arrowcolor=PALETTE[3], text="",
        hovertext=f"−(∂E/∂{px}, ∂E/∂{py}) = ({style.exact(-gx)}, {style.exact(-gy)})",
    )
    fig.add_annotation(x=tip[0], y=tip[1], xref="x", yref="y", showarrow=False, text="−∇E", xshift=14 * np.sign(dx),
                       yshift=14 * np.sign(dy), font={"size": 16, "color": "white"}, bgcolor="rgba(0,0,0,0.55)")

