"""Training figures: the loss curve, parameter and output traces, and the decision boundary over the input plane.

Pure functions returning ``go.Figure``. Colours are Okabe-Ito (safe for every common colour-vision deficiency);
classes also differ by marker shape, so nothing depends on colour alone. Fonts are sized for a projector.

How tests (and the UI) find things: every trace carries ``meta["key"]``: ``"loss"``, ``"diverged"``,
``"target-reached"``, ``"param:<name>"``, ``"output:<sample>:<k>"``, ``"target:<sample>:<k>"``, ``"surface"``,
``"boundary"``, ``"class:<c>"`` (trace names are what the legend shows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..config import Scenario
from ..i18n import t, tn
from ..naming import names_for
from ..training import DIVERGED, TARGET_REACHED, TrainResult, decision_grid, default_bounds

# Okabe-Ito, in the order classes and lines get them (orange/blue first, as in TensorFlow Playground)
PALETTE = ("#E69F00", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
LINE_PALETTE = PALETTE[:7]  # lines skip the yellow: too faint as a thin line on white
CLASS_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "star", "hexagon", "x")
DASHES = ("solid", "dash", "dot", "dashdot")
DIVERGED_COLOUR = "#D55E00"
TARGET_COLOUR = "#009E73"
FONT = {"size": 16, "color": "#111111"}
MAX_POINTS = 4000  # a curve with more steps is thinned (keeping each stretch's min and max, so spikes survive)
MAX_SAMPLES_SHOWN = 6
SURFACE_TINT = 0.45  # the plane is a light tint of the class colour, so the full-colour points stand out on it


def base_layout(title: str, x_title: str, y_title: str) -> dict:
    """The layout every chart of a run shares (Plotly's JSON form): title, projector-sized type, light grid."""
    # automargin: a half-width column at 1280 px clipped the y title beside wide tick labels such as 10⁻¹
    axis = {"showgrid": True, "gridcolor": "#E5E5E5", "zeroline": False, "linecolor": "#444", "ticks": "outside",
            "automargin": True}
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 18}, "automargin": True},
        "font": dict(FONT),
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 70, "r": 20, "t": 60, "b": 60},
        "legend": {"font": {"size": 15}},
        "hoverlabel": {"font": {"size": 15}},
        "xaxis": {"title": {"text": x_title}, **axis},
        "yaxis": {"title": {"text": y_title}, **axis},
    }


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    fig.update_layout(base_layout(title, x_title, y_title))
    return fig


def _thin(n: int, y: np.ndarray | None = None) -> np.ndarray:
    """Indices to draw of a curve with n points: all of them, or per stretch its first, min and max, plus the
    last point, so a long run stays light without hiding a spike."""
    if n <= MAX_POINTS:
        return np.arange(n)
    edges = np.linspace(0, n, MAX_POINTS // 3 + 1).astype(int)
    keep = [0, n - 1]
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi <= lo:
            continue
        keep.append(lo)
        if y is not None:
            keep.append(lo + int(np.argmin(y[lo:hi])))
            keep.append(lo + int(np.argmax(y[lo:hi])))
    return np.unique(keep)


# ---------------------------------------------------------------- loss


def loss_curve_figure(result: TrainResult, log_scale: bool = False, lang: str = "en") -> go.Figure:
    """E against the step number; a divergence (or reaching the target loss) is marked where it happened."""
    losses = result.losses
    steps = np.arange(len(losses))
    y = losses
    if log_scale:  # a log axis cannot show 0: put exact zeros a decade below the smallest positive loss
        positive = losses[losses > 0]
        floor = positive.min() / 10 if positive.size else 1e-16
        y = np.maximum(losses, floor)
    idx = _thin(len(y), y)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=steps[idx], y=y[idx], mode="lines", name="loss", meta={"key": "loss"}, line={"color": PALETTE[1], "width": 3},
        hovertemplate=t("step %{x}<br>E = %{y:.6g}", lang) + "<extra></extra>", showlegend=False,
    ))
    k = result.stopped_at
    if result.reason == DIVERGED:
        fig.add_vline(x=k, line={"color": DIVERGED_COLOUR, "width": 2, "dash": "dash"})
        fig.add_trace(go.Scatter(
            x=[k], y=[y[-1]], mode="markers", name="diverged", meta={"key": "diverged"},
            marker={"symbol": "x", "size": 18, "color": DIVERGED_COLOUR, "line": {"width": 2}},
            hovertext=[result.explain(lang) or ""], hoverinfo="text", showlegend=False,
        ))
        fig.add_annotation(
            x=k, y=1, yref="paper", xanchor="right", yanchor="top", showarrow=False,
            text=t("diverged at step {k}", lang, k=format(k, ",")), font={"size": 17, "color": DIVERGED_COLOUR},
            bgcolor="rgba(255,255,255,0.85)",
        )
    elif result.reason == TARGET_REACHED:
        fig.add_trace(go.Scatter(
            x=[k], y=[y[-1]], mode="markers", name="target-reached", meta={"key": "target-reached"},
            marker={"symbol": "star", "size": 18, "color": TARGET_COLOUR, "line": {"width": 1, "color": "#111"}},
            hovertemplate=t("target loss reached at step %{x}: E = %{y:.6g}", lang) + "<extra></extra>",
            showlegend=False,
        ))
        fig.add_annotation(
            x=k, y=y[-1], showarrow=True, arrowhead=2, ax=-90, ay=-45, font={"size": 16, "color": "#111"},
            text=t("target reached at step {k}", lang, k=format(k, ",")), bgcolor="rgba(255,255,255,0.85)",
        )
    title = tn("E over {n:,} step: final {e}", "E over {n:,} steps: final {e}", k, lang, e=format(losses[-1], ".4g"))
    _layout(fig, title, t("step", lang), t("loss E (log scale)", lang) if log_scale else t("loss E", lang))
    if log_scale:
        fig.update_yaxes(type="log", exponentformat="power")
    pad = 0.03 * max(k, 1)  # room for the end marker
    fig.update_xaxes(range=[-pad, max(k, 1) + pad])
    return fig


# ---------------------------------------------------------------- parameters


def parameter_traces_figure(result: TrainResult, names: Sequence[str] | None = None, lang: str = "en") -> go.Figure:
    """Each chosen parameter (plain names as in ``result.param_names``, e.g. "w5", "b_o1"; all by default)
    against the step number."""
    all_names = result.param_names
    chosen = list(all_names) if names is None else list(names)
    unknown = [n for n in chosen if n not in all_names]
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; this network has {', '.join(all_names)}")
    idx = _thin(len(result.steps))
    fig = go.Figure()
    for i, name in enumerate(chosen):
        col = all_names.index(name)
        fig.add_trace(go.Scatter(
            x=result.steps[idx], y=result.params[idx, col], mode="lines", name=name, meta={"key": f"param:{name}"},
            line={"color": LINE_PALETTE[i % len(LINE_PALETTE)], "dash": DASHES[(i // len(LINE_PALETTE)) % 4],
                  "width": 3},
            hovertemplate=f"{name}<br>" + t("step %{x}<br>value %{y:.6g}", lang) + "<extra></extra>",
        ))
    _layout(fig, t("Parameters over training", lang), t("step", lang), t("value", lang))
    return fig


# ---------------------------------------------------------------- outputs


def outputs_figure(result: TrainResult, lang: str = "en") -> go.Figure:
    """Each output of each sample (the first few samples) against the step, its target as a dotted line."""
    n_samples, n_out = result.outputs.shape[1], result.outputs.shape[2]
    shown = min(n_samples, MAX_SAMPLES_SHOWN)
    names = names_for(result.final.layers)
    idx = _thin(len(result.steps))
    x = result.steps[idx]
    fig = go.Figure()
    i = 0
    for s in range(shown):
        for k in range(n_out):
            colour = LINE_PALETTE[i % len(LINE_PALETTE)]
            dash = DASHES[(i // len(LINE_PALETTE)) % 4]
            node = names.node(len(result.final.layers) - 1, k)
            inputs = ", ".join(f"{v:.3g}" for v in result.final.inputs[s])
            label = node if n_samples == 1 else t("{node} for input ({inputs})", lang, node=node, inputs=inputs)
            fig.add_trace(go.Scatter(
                x=x, y=result.outputs[idx, s, k], mode="lines", name=label, legendgroup=f"{s}:{k}",
                line={"color": colour, "width": 3, "dash": dash}, meta={"key": f"output:{s}:{k}"},
                hovertemplate=label + "<br>" + t("step %{x}<br>output %{y:.6g}", lang) + "<extra></extra>",
            ))
            target = float(result.final.targets[s, k])
            fig.add_trace(go.Scatter(
                x=[x[0], x[-1]], y=[target, target], mode="lines", name=t("target {label}", lang, label=label),
                legendgroup=f"{s}:{k}", showlegend=False, meta={"key": f"target:{s}:{k}"},
                line={"color": colour, "width": 2, "dash": "dot"},
                hovertemplate=t("target {label} = {v}", lang, label=label, v=format(target, "g")) + "<extra></extra>",
            ))
            i += 1
    title = t("Outputs over training (dotted: targets)", lang)
    if shown < n_samples:
        title = t("Outputs of the first {shown} of {n} samples (dotted: targets)", lang, shown=shown, n=n_samples)
    _layout(fig, title, t("step", lang), t("output", lang))
    return fig


# ---------------------------------------------------------------- decision boundary


def _classes(T: np.ndarray) -> np.ndarray:
    """Class of each target row: target ≥ 0.5 for one output, the largest entry (one-hot) otherwise."""
    T = np.asarray(T, dtype=float).reshape(len(T), -1)
    return (T[:, 0] >= 0.5).astype(int) if T.shape[1] == 1 else T.argmax(axis=1)


def _tint(hex_colour: str, amount: float) -> str:
    """The colour mixed with white (amount 0 = white, 1 = the colour)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(255 - amount * (255 - c)) for c in (r, g, b)]
    return f"rgb({mix[0]},{mix[1]},{mix[2]})"


def decision_boundary_figure(
    scenario: Scenario,
    X: np.ndarray | None = None,
    T: np.ndarray | None = None,
    resolution: int = 100,
    lang: str = "en",
) -> go.Figure:
    """The network's output over the plane of its 2 inputs, with the data points coloured and shaped by class.

    One output: a heatmap of the output (orange near 0, white at 0.5, blue near 1) and the 0.5 contour as the
    decision boundary. Several outputs: the plane tinted by the predicted class (the largest output).
    ``X``, ``T`` default to the scenario's inputs and targets.
    """
    X = scenario.inputs if X is None else np.asarray(X, dtype=float)
    T = scenario.targets if T is None else np.asarray(T, dtype=float)
    bounds = default_bounds(X)
    xs, ys, Z = decision_grid(scenario, resolution, bounds)
    n_out = Z.shape[2]
    fig = go.Figure()
    if n_out == 1:
        z = Z[:, :, 0]
        bounded = scenario.activations[-1] == "sigmoid"
        lo, hi = (0.0, 1.0) if bounded else (min(float(z.min()), 0.0), max(float(z.max()), 1.0))
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=z, name="surface", meta={"key": "surface"}, zmin=lo, zmax=hi, zsmooth="best",
            colorscale=[[0.0, _tint(PALETTE[0], SURFACE_TINT)], [(0.5 - lo) / (hi - lo), "rgb(255,255,255)"],
                        [1.0, _tint(PALETTE[1], SURFACE_TINT)]],
            colorbar={"title": {"text": t("network output", lang), "side": "top"}, "orientation": "h", "x": 0.5,
                      "xanchor": "center", "y": -0.13, "yanchor": "top", "len": 0.45, "thickness": 16,
                      "tickvals": [lo, 0.5, hi] if bounded else None},
            hovertemplate=t("x₁ = %{x:.3g}, x₂ = %{y:.3g}<br>output %{z:.3f}", lang) + "<extra></extra>",
        ))
        fig.add_trace(go.Contour(
            x=xs, y=ys, z=z, name=t("decision boundary (output 0.5)", lang), meta={"key": "boundary"},
            showscale=False, hoverinfo="skip", showlegend=True,
            contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
            line={"color": "#333333", "width": 2.5, "dash": "dash"},
        ))
    else:
        predicted = Z.argmax(axis=2)
        scale = []
        for c in range(n_out):  # a stepped colour scale: class c owns [c, c+1) / n_out
            colour = _tint(PALETTE[c % len(PALETTE)], SURFACE_TINT)
            scale += [[c / n_out, colour], [(c + 1) / n_out, colour]]
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=predicted, name="surface", meta={"key": "surface"}, zmin=-0.5, zmax=n_out - 0.5,
            colorscale=scale, showscale=False, customdata=Z.max(axis=2),
            hovertemplate=t("x₁ = %{x:.3g}, x₂ = %{y:.3g}<br>predicted class %{z} (output %{customdata:.3f})", lang)
            + "<extra></extra>",
        ))
    classes = _classes(T)
    n_classes = max(n_out, 2)
    for c in range(n_classes):
        members = classes == c
        if not members.any():
            continue
        fig.add_trace(go.Scatter(
            x=X[members, 0], y=X[members, 1], mode="markers", name=t("class {c}", lang, c=c),
            meta={"key": f"class:{c}"},
            marker={"color": PALETTE[c % len(PALETTE)], "symbol": CLASS_SYMBOLS[c % len(CLASS_SYMBOLS)],
                    "size": 13 if len(X) <= 50 else 9, "line": {"color": "#111111", "width": 1.5}},
            hovertemplate=t("class {c}", lang, c=c) + "<br>x₁ = %{x:.3g}, x₂ = %{y:.3g}<extra></extra>",
        ))
    x0, x1, y0, y1 = bounds
    _layout(fig, t("What the network predicts over the input plane", lang), t("input x₁", lang),
            t("input x₂", lang))
    # equal units on both axes (a circle stays a circle), the plot centred; legend on one line above it and the
    # colour bar lying under it, so both stay next to the plot whatever the screen's shape, and hide nothing
    fig.update_xaxes(range=[x0, x1], showgrid=False, constrain="domain")
    fig.update_yaxes(range=[y0, y1], showgrid=False, scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": 1.0, "yanchor": "bottom"},
                      margin={"b": 120})
    return fig
