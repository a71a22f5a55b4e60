"""The loss as a function of one or two parameters, the others fixed: the slope chart and the loss landscape.

Every point is one engine forward pass; all points run at once, as stacked copies of the parameters (the engine's
:func:`~bpviz.engine.propagate` takes a leading copies axis), so 201 points or a 61×61 grid cost one batched pass.
The layers below the first varied parameter are the same in every copy: they run once, and only the rest is stacked.

    E(p) = E(θ with p replaced),         tangent:  E(p₀) + ∂E/∂p · (p − p₀),     step:  p₁ = p₀ − η·∂E/∂p
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import MAX_ABS_NUMBER, Scenario
from .engine import Model, Update, backward, gradient_of, loss_shares, parameter_refs, propagate, step, value_of
from .ids import Bias, ParamRef

CURVE_POINTS = 201  # points of the slope chart's curve (an odd number: p₀ itself is the middle one)
GRID_POINTS = 61  # points per axis of the loss landscape
MIN_HALF_WIDTH = 1.5  # the slope chart spans at least p₀ ± 1.5 (wide enough to see a sigmoid bend)
STEP_SPAN = 3.0  # ... and at least 3 update steps either side, so the landing point is well inside
MIN_PAD = 0.5  # the landscape reaches at least this far beyond the training path and the current point
PAD_SHARE = 0.25  # ... or this share of the path's extent, whichever is larger


def losses_at(scenario: Scenario, refs: Sequence[ParamRef], values: np.ndarray) -> np.ndarray:
    """E for each row of ``values`` (shape (m, len(refs))): row i sets refs[j] to values[i, j], the rest as they are.

    Non-finite where the forward pass leaves float64 (a huge parameter), without a warning: the caller says so.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1, len(refs))
    model = Model.of(scenario)
    first = min(r.layer for r in refs)  # the first weight layer any ref belongs to: the layers below run once
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lower = Model(model.acts[:first], model.loss, model.fused)
        _, As = propagate(lower, scenario.weights, scenario.biases, scenario.inputs)
        W = [np.repeat(w[None], len(values), axis=0) for w in scenario.weights[first:]]  # (copies, out, in)
        B = [np.repeat(b[None, None], len(values), axis=0) for b in scenario.biases[first:]]  # (copies, 1, out)
        for j, ref in enumerate(refs):
            if isinstance(ref, Bias):
                B[ref.layer - first][:, 0, ref.row] = values[:, j]
            else:
                W[ref.layer - first][:, ref.row, ref.col] = values[:, j]
        upper = Model(model.acts[first:], model.loss, model.fused)
        zs, A = propagate(upper, W, B, As[-1])
        share = loss_shares(model, zs[-1], A[-1], scenario.targets)
        return share.mean(axis=-2).sum(axis=-1)


# ---------------------------------------------------------------- the gradient is a slope


@dataclass(frozen=True, eq=False)
class SlopeCurve:
    """E along one parameter p (the others fixed), and what one update step does there.

    ``p``/``E``: the curve; ``p0``/``E0`` the current point; ``dE_dp`` the slope there (the engine's batch
    gradient, all samples); ``p1``/``E1`` where the scenario's update step takes p (p − η·∂E/∂p under simultaneous
    updates), E there with the other parameters unchanged (E1 is NaN when p1 is beyond the ±MAX_ABS_NUMBER a parameter
    may hold: that step cannot be taken, see :attr:`lands`).
    """

    ref: ParamRef
    p: np.ndarray
    E: np.ndarray
    p0: float
    E0: float
    dE_dp: float
    learning_rate: float
    p1: float
    E1: float
    moves: bool = True  # False: a bias the scenario does not train (p1 = p0)
    update_order: str = "simultaneous"

    def tangent(self, p: np.ndarray | float) -> np.ndarray | float:
        """The tangent line at p₀: E₀ + ∂E/∂p · (p − p₀)."""
        return self.E0 + self.dE_dp * (np.asarray(p) - self.p0)

    @property
    def lands(self) -> bool:
        """Whether the step lands on a value a parameter may hold, with a finite E there (then it is drawn)."""
        return math.isfinite(self.p1) and abs(self.p1) <= MAX_ABS_NUMBER and math.isfinite(self.E1)

    @property
    def finite(self) -> bool:
        """Whether the whole curve, the point and the step are finite numbers."""
        return bool(np.isfinite(self.E).all()) and all(
            math.isfinite(v) for v in (self.E0, self.dE_dp, self.p1, self.E1))


def half_width(p0: float, step_size: float) -> float:
    """How far either side of p₀ the slope chart reaches: at least MIN_HALF_WIDTH, and 3 update steps (when finite)."""
    reach = STEP_SPAN * abs(step_size) if math.isfinite(step_size) else 0.0
    return min(max(MIN_HALF_WIDTH, reach), MAX_ABS_NUMBER)


def slope_curve(scenario: Scenario, ref: ParamRef, points: int = CURVE_POINTS, grads=None,
                update: Update | None = None) -> SlopeCurve:
    """E as a function of ``ref`` around its value, with the tangent's slope and the landing point of the scenario's
    own update step (``update``, :func:`~bpviz.engine.step` by default: a fixed bias stays, and under output_first a
    lower layer's step follows the deltas through the updated weights)."""
    grads = backward(scenario) if grads is None else grads
    update = step(scenario) if update is None else update
    p0, g = value_of(scenario, ref), gradient_of(grads, ref)
    p1 = value_of(update.after, ref)
    h = half_width(p0, p1 - p0 if math.isfinite(p1) else math.inf)
    p = np.linspace(p0 - h, p0 + h, points)
    p[points // 2] = p0  # exactly the current point (linspace may round it)
    valid = math.isfinite(p1) and abs(p1) <= MAX_ABS_NUMBER  # a value a scenario may hold
    E_all = losses_at(scenario, [ref], np.concatenate([p, [p0, p1 if valid else p0]]))
    E1 = float(E_all[-1]) if valid else math.nan
    moves = scenario.train_biases or not isinstance(ref, Bias)
    return SlopeCurve(ref, p, E_all[:points], p0, float(E_all[-2]), g, scenario.learning_rate, p1, E1, moves,
                      update.update_order)


# ---------------------------------------------------------------- the loss landscape


@dataclass(frozen=True, eq=False)
class Landscape:
    """E over a grid of two parameters (the others fixed): ``E[i, j]`` at (x[j], y[i]); ``point`` the current
    values of the two, ``gradient`` (∂E/∂x, ∂E/∂y) there; ``path`` the training path projected onto them
    (shape (k, 2); empty without a run)."""

    refs: tuple[ParamRef, ParamRef]
    x: np.ndarray
    y: np.ndarray
    E: np.ndarray
    point: tuple[float, float]
    gradient: tuple[float, float]
    learning_rate: float
    path: np.ndarray

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.E).all())


def _span(values: np.ndarray) -> tuple[float, float]:
    """An axis range that holds ``values`` with a margin (at least MIN_PAD, or PAD_SHARE of their extent)."""
    low, high = float(values.min()), float(values.max())
    pad = max(MIN_PAD, PAD_SHARE * (high - low))
    return max(low - pad, -MAX_ABS_NUMBER), min(high + pad, MAX_ABS_NUMBER)


def landscape(scenario: Scenario, refs: tuple[ParamRef, ParamRef], path: np.ndarray | None = None,
              points: int = GRID_POINTS, grads=None) -> Landscape:
    """E over ``refs[0]`` × ``refs[1]``, spanning the current point and ``path`` (k × 2 values of the two)."""
    grads = backward(scenario) if grads is None else grads
    point = (value_of(scenario, refs[0]), value_of(scenario, refs[1]))
    path = np.empty((0, 2)) if path is None else np.asarray(path, dtype=np.float64).reshape(-1, 2)
    held = np.vstack([path, [point]])
    x = np.linspace(*_span(held[:, 0]), points)
    y = np.linspace(*_span(held[:, 1]), points)
    X, Y = np.meshgrid(x, y)
    E = losses_at(scenario, refs, np.column_stack([X.ravel(), Y.ravel()])).reshape(points, points)
    gradient = (gradient_of(grads, refs[0]), gradient_of(grads, refs[1]))
    return Landscape(refs, x, y, E, point, gradient, scenario.learning_rate, path)


def default_pair(scenario: Scenario, moved: np.ndarray | None = None) -> tuple[ParamRef, ParamRef]:
    """Two parameters worth looking at: those that moved most in training (``moved``, one number per parameter in
    :func:`~bpviz.engine.parameter_refs` order), else those with the largest gradient."""
    refs = parameter_refs(scenario)
    if moved is None or not np.isfinite(moved).all() or not np.any(moved):
        grads = backward(scenario)
        moved = np.array([abs(gradient_of(grads, r)) for r in refs])
        moved = np.where(np.isfinite(moved), moved, np.inf)
    order = np.argsort(-np.asarray(moved), kind="stable")
    first, second = sorted(int(i) for i in order[:2])
    return refs[first], refs[second]
