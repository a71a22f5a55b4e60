"""Finite differences against backpropagation: a stated tolerance, and the reason wherever the two legitimately
differ.

The estimate is the five-point central stencil  (−E(p+2h) + 8E(p+h) − 8E(p−h) + E(p−2h)) / 12h  (truncation error
O(h⁴)), every perturbed loss in one batched forward pass. Backprop and the estimate *agree* when

    |analytic − numeric| ≤ max(REL_TOL · max(|analytic|, |numeric|),  1.5 · ROUNDING_ULPS · ε · S / h)

(the second term is the stencil's own rounding error: its weights sum to 18/12, and each E carries a few ulps of S,
the size of what was summed to get it: max|E|, or, for a loss computed from the logits, the largest |z| of the
output layer when that is larger, since E = log-sum-exp(z) − z_k can be tiny while its terms are not; plus what
the rounding of every net carries into E: a net z = Σ w·a + b is rounded to an ulp of the size of its terms, not
of its value, so  S_nets = mean over samples of Σ |δ| · (Σ |w·a| + |b|)  over every neuron, which is large where
big terms cancel, e.g. z = 10⁶·tanh(−9) + 10⁶ ≈ 0.03; and each activation a = f(z) is rounded to an ulp of |a|,
which adds Σ |∂E/∂a| · |a| (all but the output of a loss computed from the logits, which never reads a): large
where an output sits a hair from its target, e.g. σ(17) = 1 − 4e-8 next to t = 1). Where they do not agree, there
is a reason:

- ``kink``: the stencil crosses (or sits on) the kink of a ReLU or leaky ReLU, where the derivative is not defined
  (backprop takes the right-hand slope at exactly 0 as PyTorch does; finite differences average both sides);
- ``bends``: the stencil moves the net of a saturating unit (sigmoid, tanh, softmax, a loss from the logits) by more
  than ``LINEAR``, across its curve: with a step shrunk until it does not, the estimate agrees with backprop (or no
  step float64 can resolve is small enough);
- ``differs``: none of these: off where the loss is smooth at the stencil's scale, a real disagreement (the tests
  assert this never happens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Scenario
from .engine import Gradients, Model, Trace, backward, forward, gradient_of, loss_shares, parameter_refs, propagate
from .functions import ACTIVATIONS
from .i18n import t
from .ids import Neuron, ParamRef
from .naming import names_for

H = 1e-3
STENCIL = ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))  # five-point central difference: shift, weight (/12h)
REL_TOL = 1e-6
ROUNDING_ULPS = 64
EPS = float(np.finfo(np.float64).eps)
AGREE, KINK, BENDS, DIFFERS = "agree", "kink", "bends", "differs"
LINEAR = 0.01  # a stencil that moves no curved layer's net by more than this sees the loss as smooth ...
MEANINGFUL = 1e-2  # ... and its estimate counts where E's rounding is below this fraction of the gradient
MIN_H, MAX_SHRINKS = 1e-14, 4  # the smallest step tried, and how many times the step is shrunk
MAX_COPIES_X_VALUES = 200_000  # perturbed copies × samples × widest layer per batch (memory)


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """|a − n| / max(|a|, |n|, floor): relative, but absolute for gradients below ``floor``."""
    return np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)


def net_rounding(scenario: Scenario, trace: Trace, grads: Gradients) -> float:
    """S_nets: how much the rounding of every net and activation can move E, in units of ε (module docstring)."""
    acts = trace.a
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for l, (w, b) in enumerate(zip(scenario.weights, scenario.biases)):
            terms = np.abs(acts[l]) @ np.abs(w).T + np.abs(b)  # (samples, width): Σ|w·a| + |b|
            total += float((np.abs(grads.dE_dz[l + 1]) * terms).sum(axis=1).mean())
        for l in range(1, scenario.n_layers + 1 - Model.of(scenario).fused):  # each a = f(z) is rounded too
            total += float((np.abs(grads.dE_da[l]) * np.abs(acts[l])).sum(axis=1).mean())
    return total


def _kinked_layers(scenario: Scenario) -> list[tuple[int, float]]:
    """(layer, kink) of every layer whose activation has a kink."""
    return [(l + 1, ACTIVATIONS[a].kink) for l, a in enumerate(scenario.activations) if ACTIVATIONS[a].kink is not None]


def _curved_layers(scenario: Scenario) -> list[int]:
    """Layers whose nets the loss depends on non-linearly at a scale of about 1: saturating activations (sigmoid,
    tanh), softmax, and the output layer of a loss computed from the logits."""
    model = Model.of(scenario)
    return [l + 1 for l, a in enumerate(model.acts)
            if a.saturates or not a.elementwise or (model.fused and l + 1 == scenario.n_layers)]


def perturbed_losses(scenario: Scenario, refs: list[ParamRef], shifts: np.ndarray
                     ) -> tuple[np.ndarray, list[Neuron | None], np.ndarray]:
    """E for many copies of the parameters (copy c with ``refs[c]`` moved by ``shifts[c]``) in one batched
    forward; for each copy a kinked neuron whose z crossed or touched its kink (None if none did), and how far the
    copy moved the nets of curved layers (max |Δz|; see :func:`_curved_layers`).

    Copies are stacked on a leading axis: z = a @ Wᵀ + b with a of shape (copies, samples, width); chunked so that
    copies × samples stays small in memory.
    """
    model = Model.of(scenario)
    kinked, curved = _kinked_layers(scenario), _curved_layers(scenario)
    base = forward(scenario).z if kinked or curved else ()
    chunk = max(1, MAX_COPIES_X_VALUES // (scenario.n_samples * max(scenario.layers)))
    out, reach = np.empty(len(refs)), np.zeros(len(refs))
    hits: list[Neuron | None] = [None] * len(refs)
    for start in range(0, len(refs), chunk):
        part = range(start, min(start + chunk, len(refs)))
        W = [np.repeat(w[None], len(part), axis=0) for w in scenario.weights]
        B = [np.repeat(b[None, None], len(part), axis=0) for b in scenario.biases]
        for c, i in enumerate(part):
            Wc, Bc = [w[c] for w in W], [b[c, 0] for b in B]  # views of copy c
            refs[i].write(Wc, Bc, refs[i].read(Wc, Bc) + shifts[i])
        x = np.broadcast_to(scenario.inputs, (len(part), *scenario.inputs.shape))
        with np.errstate(over="ignore", invalid="ignore"):
            zs, As = propagate(model, W, B, x)
            share = loss_shares(model, zs[-1], As[-1], scenario.targets)  # (copies, samples, outputs)
        out[start:part.stop] = share.sum(axis=-1).mean(axis=-1)
        for l in curved:
            with np.errstate(invalid="ignore"):
                moved_by = np.abs(zs[l] - base[l]).max(axis=(1, 2))
            reach[start:part.stop] = np.fmax(reach[start:part.stop], np.nan_to_num(moved_by, nan=np.inf))
        for l, kink in kinked:
            moved = np.sign(zs[l] - kink) != np.sign(base[l] - kink)
            touching = (zs[l] == kink) | (base[l] == kink)
            crossed = (moved | touching).any(axis=1)  # (copies, width)
            for c in np.flatnonzero(crossed.any(axis=1)):
                if hits[start + c] is None:
                    hits[start + c] = Neuron(l, int(np.flatnonzero(crossed[c])[0]))
    return out, hits, reach


def _stencil(scenario: Scenario, refs: list[ParamRef], h: float):
    """(estimates, max |E| over each parameter's stencil, a kinked neuron each stencil crosses or None, how far
    each stencil moves a curved layer's nets)."""
    stacked = [r for r in refs for _ in STENCIL]
    shifts = np.array([k * h for _ in refs for k, _ in STENCIL])
    losses, hits, reach = perturbed_losses(scenario, stacked, shifts)
    losses = losses.reshape(len(refs), len(STENCIL))
    weights = np.array([wt for _, wt in STENCIL])
    kinks = [next((n for n in hits[i * len(STENCIL):(i + 1) * len(STENCIL)] if n is not None), None)
             for i in range(len(refs))]
    with np.errstate(over="ignore", invalid="ignore"):
        return (losses @ weights / (12 * h), np.abs(losses).max(axis=1), kinks,
                reach.reshape(len(refs), len(STENCIL)).max(axis=1))


def numeric_gradients(scenario: Scenario, refs: list[ParamRef], h: float = H) -> np.ndarray:
    """dE/dp by the five-point stencil for many parameters at once (4 × len(refs) losses in one batch)."""
    return _stencil(scenario, refs, h)[0]


def numeric_gradient(scenario: Scenario, ref: ParamRef, h: float = H) -> float:
    """dE/dp by the five-point stencil, for one parameter, in double precision."""
    return float(numeric_gradients(scenario, [ref], h)[0])


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """Finite differences vs backprop, one entry per :func:`~bpviz.engine.parameter_refs` entry.

    ``tolerance[i]`` is the stated tolerance of entry i (see the module docstring); ``reasons[i]`` is one of
    "agree", "kink", "bends", "differs"; ``kinks[i]`` the neuron whose kink the stencil crosses (for "kink").
    """

    refs: tuple[ParamRef, ...]
    numeric: np.ndarray
    analytic: np.ndarray
    relative_error: np.ndarray
    tolerance: np.ndarray
    reasons: tuple[str, ...]
    kinks: tuple[Neuron | None, ...]
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    h: float = H
    fine_h: tuple[float | None, ...] = ()  # for "bends": the smaller step at which the two agree (None: none can)

    @property
    def max_relative_error(self) -> float:
        return float(self.relative_error.max()) if self.relative_error.size else 0.0

    @property
    def agrees(self) -> bool:
        """Every entry within its tolerance."""
        return all(r == AGREE for r in self.reasons)

    @property
    def explained(self) -> bool:
        """No entry differs without a reason (a kink, or a loss that bends within the stencil)."""
        return DIFFERS not in self.reasons


def gradient_check(scenario: Scenario, h: float = H, grads: Gradients | None = None,
                   refs: list[ParamRef] | None = None) -> GradientCheck:
    """Finite differences vs backprop for every parameter (or those in ``refs``), each with its verdict."""
    grads = backward(scenario) if grads is None else grads
    refs = parameter_refs(scenario) if refs is None else list(refs)
    numeric, e_max, kinks, reach = _stencil(scenario, refs, h)
    trace = forward(scenario)
    floor = float(np.abs(trace.z[-1]).max()) if Model.of(scenario).fused else 0.0
    nets = net_rounding(scenario, trace, grads)
    analytic = np.array([gradient_of(grads, r) for r in refs])
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        tolerance = np.maximum(REL_TOL * scale, rounding(e_max, floor, nets, h))
        off = ~(np.abs(analytic - numeric) <= tolerance)
    reasons, fine_h = [AGREE] * len(refs), [None] * len(refs)
    for i in np.flatnonzero(off):
        if kinks[i] is not None:
            reasons[i] = KINK
            continue
        nets_i = max(nets, _stencil_nets(scenario, refs[i], h))  # ~8 ms each: only where no kink explains it
        with np.errstate(over="ignore", invalid="ignore"):
            tolerance[i] = max(tolerance[i], rounding(e_max[i], floor, nets_i, h))
        if not abs(analytic[i] - numeric[i]) <= tolerance[i]:
            reasons[i], fine_h[i] = _finer(scenario, refs[i], float(analytic[i]), float(reach[i]), h, floor, nets_i)
    return GradientCheck(tuple(refs), numeric, analytic, relative_error(analytic, numeric), tolerance,
                         tuple(reasons), tuple(kinks), scenario.layers, scenario.activations, h, tuple(fine_h))


def _stencil_nets(scenario: Scenario, ref: ParamRef, h: float) -> float:
    """S_nets at the stencil's points: the largest over p + k·h. At a minimum δ is 0 at p (so is S_nets) but not
    beside it, where the stencil's losses are computed (a zero gradient estimated as 2e-17 with a tolerance of 1e-17,
    found by fuzzing: tests/corpus/gradcheck_zero_gradient_at_the_target.json)."""
    largest = 0.0
    for shift, _ in STENCIL:
        W, B = [w.copy() for w in scenario.weights], [b.copy() for b in scenario.biases]
        ref.write(W, B, ref.read(W, B) + shift * h)
        moved = scenario.with_parameters(W, B)
        with np.errstate(over="ignore", invalid="ignore"):
            trace = forward(moved)
            largest = max(largest, net_rounding(moved, trace, backward(moved, trace)))
    return largest


def rounding(e_max, floor: float, nets: float, h: float):
    """The stencil's own rounding error: 1.5 · ROUNDING_ULPS · ε · S / h, S = max(max|E|, floor) + S_nets."""
    return 1.5 * ROUNDING_ULPS * EPS * (np.maximum(e_max, floor) + nets) / h


def _finer(scenario: Scenario, ref: ParamRef, analytic: float, reach: float, h: float, floor: float = 0.0,
           nets: float = 0.0) -> tuple[str, float | None]:
    """Why the estimate with ``h`` is off backprop's (no kink in the way): (``bends``, the smaller step at which the
    two agree), (``bends``, None) where no step float64 can resolve follows the bend, or (``differs``, None).

    The loss is smooth at the stencil's scale when no curved layer's net moves by more than ``LINEAR`` (their
    curvature scale is about 1); a stencil that moves one further is shrunk until none does. There the estimate is
    trusted only if the rounding of E is below ``MEANINGFUL`` of the gradient."""
    step, est = h, None
    for _ in range(MAX_SHRINKS):
        if not reach > LINEAR or step <= MIN_H:
            break
        step = max(step * LINEAR / reach if np.isfinite(reach) else step * 1e-6, MIN_H)
        (est,), (e_max,), _, (reach,) = _stencil(scenario, [ref], step)
    if est is None:
        return DIFFERS, None  # off where the loss is smooth at this scale: a real disagreement
    noise = float(rounding(e_max, floor, nets, step))
    size = max(abs(analytic), abs(est))
    if reach > LINEAR or not noise <= MEANINGFUL * size:
        return BENDS, None
    if abs(analytic - est) <= max(REL_TOL * size, noise):
        return BENDS, step
    return DIFFERS, None


def verdict(check: GradientCheck, i: int, lang: str = "en") -> str:
    """Entry i's verdict in words: agreement with its tolerance, or why the two legitimately differ."""
    names = names_for(check.layers)
    tol = f"{check.tolerance[i]:.1e}"
    reason = check.reasons[i]
    if reason == AGREE:
        return t("agree (|difference| ≤ {tol})", lang, tol=tol)
    if reason == KINK:
        n = check.kinks[i]
        act = check.activations[n.layer - 1]
        return t("at a kink: within ±2h the net of {node} crosses {kink:g}, where {act} has a corner; the derivative "
                 "is not defined there (backprop takes one side, as PyTorch does), finite differences average both",
                 lang, node=names.neuron(n), act=act, kink=ACTIVATIONS[act].kink)
    if reason == BENDS and check.fine_h and check.fine_h[i] is not None:
        return t("the loss bends sharply within ±2h = ±{span} (a saturated unit's net moves across its curve); with "
                 "the smaller step h = {fine:.1e} the two agree", lang, span=format(2 * check.h, "g"),
                 fine=check.fine_h[i])
    if reason == BENDS:
        return t("the loss bends at a scale finite differences cannot resolve in float64: a step small enough to "
                 "follow the bend is lost in the rounding of E", lang)
    return t("differs by more than {tol}", lang, tol=tol)
