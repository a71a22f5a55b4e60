"""Full-batch gradient descent for many steps, with the history kept for drawing, and divergence explained.

One training step is exactly :func:`bpviz.engine.step` (same update conventions, same numbers to the last bit; a
test checks it): the loop calls the engine's own :func:`~bpviz.engine.propagate` and
:func:`~bpviz.engine.backpropagate`, vectorised over the samples, writing each update straight into a second
parameter buffer, so the backpropagation formulas live in one place only.

When training breaks (the loss explodes, or an update would push a parameter past ±1e6, the largest number a
scenario may hold, or to NaN/inf) we stop *before* it happens, keep everything up to the last good step, and say
at which step it broke and why, instead of showing NaN.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import MAX_ABS_NUMBER, Scenario
from .engine import Model, backpropagate, forward, loss_shares, parameter_refs, propagate
from .functions import ACTIVATIONS
from .i18n import N_, t
from .ids import ParamRef
from .naming import names_for

# why a run stopped: TrainResult.reason, and in words (English, marked with N_) shown as t(result.reason, lang)
COMPLETED = N_("completed")
TARGET_REACHED = N_("target loss reached")
DIVERGED = N_("diverged")

LOSS_LIMIT = 1e6  # a loss above this counts as exploded
PARAM_LIMIT = MAX_ABS_NUMBER  # an update past this would make the scenario invalid: stop before it
MAX_PROGRESS_CALLS = 100
SATURATION_NET = 10.0  # |net| beyond which sigmoid' < 5e-5 and tanh' < 1e-8: the unit has all but stopped learning
MAX_STEPS = 1_000_000
MAX_RECORDED_VALUES = 20_000_000  # numbers kept in the history (160 MB): more needs a larger record_every


@dataclass(frozen=True, eq=False)
class TrainResult:
    """The history of a training run.

    ``losses[k]`` is E after k steps (k = 0 … stopped_at; step 0 = the starting parameters). Snapshots are kept
    every ``record_every`` steps and at ``stopped_at``: ``steps[r]`` is the step of snapshot r, ``outputs[r]`` the
    network outputs then (shape (n_samples, n_outputs)), ``params[r]`` every parameter, in the order of
    ``refs`` (= :func:`bpviz.engine.parameter_refs`). All these arrays are finite. ``final`` is the scenario after
    ``stopped_at`` steps (always valid). ``reason`` is one of "completed", "target loss reached", "diverged";
    ``explain(lang)`` says in words what happened when training diverged (None otherwise), in the reader's
    language at the time it is shown (``problem`` is what it explains).
    """

    losses: np.ndarray
    steps: np.ndarray
    outputs: np.ndarray
    params: np.ndarray
    refs: tuple[ParamRef, ...]
    final: Scenario
    stopped_at: int
    reason: str
    problem: tuple | None
    requested_steps: int
    seconds: float

    def explain(self, lang: str = "en") -> str | None:
        """Why the run diverged, in ``lang`` (None when it did not)."""
        if self.reason != DIVERGED:
            return None
        return _explain_divergence(self.final, self.losses, self.refs, self.problem, lang)

    @property
    def diverged(self) -> bool:
        return self.reason == DIVERGED

    @property
    def param_names(self) -> list[str]:
        """Plain names of the parameters (w1, b_h1, ...), in the order of the columns of ``params``."""
        names = names_for(self.final.layers)
        return [names.param(ref) for ref in self.refs]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


# ---------------------------------------------------------------- the lean loop


class _Buffers:
    """Two flat parameter buffers (current and next step), with per-layer views, so an update writes straight
    into the other buffer and no array is allocated for the parameters inside the loop."""

    def __init__(self, scenario: Scenario) -> None:
        flat = np.concatenate([w.ravel() for w in scenario.weights] + [b.ravel() for b in scenario.biases])
        self.flat = [flat.copy(), flat.copy()]
        self.W: list[list[np.ndarray]] = [[], []]
        self.B: list[list[np.ndarray]] = [[], []]
        for i in (0, 1):
            off = 0
            for w in scenario.weights:  # parameter_refs order: all weights row-major, then all biases
                self.W[i].append(self.flat[i][off:off + w.size].reshape(w.shape))
                off += w.size
            for b in scenario.biases:
                self.B[i].append(self.flat[i][off:off + b.size])
                off += b.size


def _check_arguments(steps: int, record_every: int, stop_loss: float | None) -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 0 to {MAX_STEPS:,}, got {steps!r}")
    if isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise ValueError(f"record_every must be a whole number ≥ 1, got {record_every!r}")
    if stop_loss is not None and not (isinstance(stop_loss, (int, float)) and math.isfinite(stop_loss)):
        raise ValueError(f"stop_loss must be a finite number or None, got {stop_loss!r}")


class _History:
    """E after every step, and snapshots (step, outputs, parameters) every ``record_every`` steps and at the end."""

    def __init__(self, steps: int, record_every: int, n_params: int, output_shape: tuple[int, int]) -> None:
        n_records = steps // record_every + 2
        per_record = n_params + output_shape[0] * output_shape[1]
        if n_records * per_record > MAX_RECORDED_VALUES:
            least = math.ceil(steps * per_record / (MAX_RECORDED_VALUES - 2 * per_record))  # +2: first and last
            raise ValueError(f"keeping every {record_every} step(s) of {steps:,} would store too many numbers; "
                             f"use record_every ≥ {least}")
        self.record_every = record_every
        self.losses = np.empty(steps + 1)
        self.steps = np.empty(n_records, dtype=np.int64)
        self.outputs = np.empty((n_records, *output_shape))
        self.params = np.empty((n_records, n_params))
        self.count = 0

    def keep(self, k: int, outputs: np.ndarray, params: np.ndarray, *, always: bool = False) -> None:
        """Snapshot step k (every ``record_every``-th step; ``always``: the last one, once)."""
        due = k % self.record_every == 0 if not always else (self.count == 0 or self.steps[self.count - 1] != k)
        if due:
            self.steps[self.count], self.outputs[self.count], self.params[self.count] = k, outputs, params
            self.count += 1


def train(
    scenario: Scenario,
    steps: int,
    stop_loss: float | None = None,
    record_every: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Run up to ``steps`` full-batch gradient-descent steps  p ← p − η · dE/dp  (the scenario's η, bias and
    update-order settings), stopping early when E ≤ ``stop_loss`` or when training diverges.

    ``progress(done, total)``, if given, is called at most about 100 times (for a progress bar).
    """
    _check_arguments(steps, record_every, stop_loss)
    started = time.perf_counter()
    steps = int(steps)
    x, targets, n = scenario.inputs, scenario.targets, scenario.n_samples
    model = Model.of(scenario)
    update = dict(lr=scenario.learning_rate, output_first=scenario.update_order == "output_first",
                  train_biases=scenario.train_biases)
    buf = _Buffers(scenario)
    hist = _History(steps, int(record_every), buf.flat[0].size, (n, scenario.layers[-1]))
    interval = max(1, math.ceil(steps / MAX_PROGRESS_CALLS))
    cur, k, reason, problem, prev_o = 0, 0, COMPLETED, None, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        while True:
            W, B = buf.W[cur], buf.B[cur]
            zs, As = propagate(model, W, B, x)
            out_k = As[-1]
            # E = Σ_k mean_s share[s, k]; add.reduce / n is what ndarray.mean does, minus its Python overhead
            E_now = float((np.add.reduce(loss_shares(model, zs[-1], out_k, targets), axis=0) / n).sum())
            if not E_now <= LOSS_LIMIT:  # also true for NaN
                reason, problem = DIVERGED, ("loss", k, E_now, None)
                if math.isfinite(E_now):  # keep the exploded value: the curve shows the explosion
                    hist.losses[k] = E_now
                elif k > 0:  # keep only finite values: the last good step is k − 1, its buffer is still intact
                    k, cur, out_k = k - 1, 1 - cur, prev_o
                else:  # cannot happen for a validated scenario, whose loss is always finite
                    raise ValueError(f"the starting loss is {E_now}: this scenario's numbers are not finite")
                break
            hist.losses[k] = E_now
            hist.keep(k, out_k, buf.flat[cur])
            if stop_loss is not None and E_now <= stop_loss:
                reason = TARGET_REACHED
                break
            if k == steps:
                break
            # backward and update in one pass: each layer's new parameters go straight into the other buffer
            # (both buffers start equal, so untrained biases need no copying)
            nxt = 1 - cur
            backpropagate(model, W, B, zs, As, targets, record=False, W_out=buf.W[nxt], B_out=buf.B[nxt], **update)
            new = buf.flat[nxt]
            # Σp² ≤ limit² guarantees every |p| ≤ limit in one cheap call (NaN fails it); only if not, look closer
            if not new @ new <= PARAM_LIMIT**2 and not np.abs(new).max() <= PARAM_LIMIT:  # also catches NaN
                reason, problem = DIVERGED, ("param", k + 1, None, new.copy())
                break
            prev_o, cur, k = out_k, nxt, k + 1
            if progress is not None and k % interval == 0 and k < steps:
                progress(k, steps)
        hist.keep(k, out_k, buf.flat[cur], always=True)  # the last step is always kept
    if progress is not None:
        progress(steps, steps)
    return _result(scenario, buf.W[cur], buf.B[cur], hist, k, reason, problem, steps, started)


def _result(scenario: Scenario, W, B, hist: _History, stopped_at: int, reason: str, problem: tuple | None,
            steps: int, started: float) -> TrainResult:
    final = scenario.with_parameters([w.copy() for w in W], [b.copy() for b in B])
    refs = tuple(parameter_refs(scenario))
    losses = hist.losses[: stopped_at + 1].copy()
    r = hist.count
    return TrainResult(losses=losses, steps=hist.steps[:r].copy(), outputs=hist.outputs[:r].copy(),
                       params=hist.params[:r].copy(), refs=refs, final=final, stopped_at=stopped_at, reason=reason,
                       problem=problem if reason == DIVERGED else None, requested_steps=steps,
                       seconds=time.perf_counter() - started)


# ---------------------------------------------------------------- explaining divergence


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("+inf" if x > 0 else "−inf")
    return f"{x:.3g}"


def saturated_fraction(scenario: Scenario) -> float:
    """Share of sigmoid/tanh neuron activations (over all samples) with |net| > 10: slope almost 0."""
    trace = forward(scenario)
    counted = saturated = 0
    for l, name in enumerate(scenario.activations, start=1):
        if ACTIVATIONS[name].saturates:
            z = trace.z[l]
            counted += z.size
            saturated += int(np.count_nonzero(np.abs(z) > SATURATION_NET))
    return saturated / counted if counted else 0.0


def _explain_divergence(final: Scenario, losses: np.ndarray, refs: tuple, problem: tuple, lang: str) -> str:
    kind, step, loss_value, new_params = problem
    last = len(losses) - 1
    lr = final.learning_rate
    parts = []
    if kind == "loss" and math.isfinite(loss_value):
        parts.append(t(
            "Training stopped at step {step}: the loss reached {loss} (it was {start} at step 0), beyond {limit}, "
            "so it has exploded.",
            lang, step=step, loss=_fmt(loss_value), start=_fmt(losses[0]), limit=format(LOSS_LIMIT, "g"),
        ))
    elif kind == "loss":
        parts.append(t(
            "At step {step} the loss became {loss} (not a finite number); the results stop at step {last}, the "
            "last finite one.",
            lang, step=step, loss=_fmt(loss_value), last=last,
        ))
    else:
        bad = np.flatnonzero(~(np.abs(new_params) <= PARAM_LIMIT))
        i = int(bad[np.argmax(np.nan_to_num(np.abs(new_params[bad]), nan=np.inf))]) if bad.size else 0
        name = names_for(final.layers).param(refs[i])
        value = float(new_params[i])
        if math.isfinite(value):
            parts.append(t(
                "Training stopped after step {last}: step {step} would have set {name} to {value}, beyond ±{limit} "
                "(the largest number a scenario may hold).",
                lang, last=last, step=step, name=name, value=_fmt(value), limit=format(PARAM_LIMIT, "g"),
            ))
        else:
            parts.append(t(
                "Training stopped after step {last}: step {step} would have made {name} {value} (not a finite "
                "number).",
                lang, last=last, step=step, name=name, value=_fmt(value),
            ))
    best = float(np.min(losses))
    rising = losses[-1] > 1.5 * best and losses[-1] - best > 1e-12
    jump = None
    if kind == "param":
        old = float(np.concatenate([w.ravel() for w in final.weights] + [b for b in final.biases])[i])
        if not math.isfinite(value) or abs(value - old) > 10 * max(abs(old), 1.0):
            jump = value - old
    if rising:
        parts.append(t(
            "Likely cause: the learning rate {lr} is too large. Each step overshoots the minimum and lands higher "
            "up the other side, so the error grows from step to step (it was lowest, {best}, at step {at}). "
            "Try a learning rate about ten times smaller, e.g. {smaller}.",
            lang, lr=format(lr, "g"), best=_fmt(best), at=int(np.argmin(losses)), smaller=format(lr / 10, "g"),
        ))
    elif jump is not None:
        parts.append(t(
            "Likely cause: one update (learning rate {lr} × gradient) would have moved {name} by {jump} at once: "
            "the learning rate is far too large for gradients this big (large inputs make large gradients). "
            "Try a smaller learning rate, or inputs scaled to about ±1.",
            lang, lr=format(lr, "g"), name=name, jump=_fmt(jump),
        ))
    elif kind == "loss":  # already too large at the start: nothing rose, the numbers themselves are too big
        parts.append(t(
            "The loss is this large with the starting numbers already: the weights or inputs are too big for this "
            "network. Scale the inputs to about ±1 or start from smaller weights.",
            lang,
        ))
    else:
        parts.append(t(
            "The loss did not blow up, but the weights kept growing: the loss keeps rewarding larger weights "
            "(pushing outputs towards exactly 0 or 1, which a sigmoid or softmax only reaches with infinite "
            "weights), and the learning rate {lr} makes each of those steps big.",
            lang, lr=format(lr, "g"),
        ))
    share = saturated_fraction(final)
    if share >= 0.25:
        parts.append(t(
            "{pct} of the sigmoid/tanh activations are saturated (|net| > {net}, where the slope is almost 0), so "
            "their gradients have all but vanished: restart from smaller weights rather than continue from here.",
            lang, pct=format(share, ".0%"), net=format(SATURATION_NET, "g"),
        ))
    return " ".join(parts)


# ---------------------------------------------------------------- the network's output over the input plane


def default_bounds(X: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) around the points X (n, 2), with a margin (at least 0.25)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 0.25)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def decision_grid(
    scenario: Scenario, resolution: int = 60, bounds: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, Z): the network's outputs on a resolution × resolution grid over its 2 inputs.

    ``xs``, ``ys`` have shape (resolution,); ``Z[i, j, k]`` is output k at input (xs[j], ys[i]) (rows = y, as a
    heatmap expects). ``bounds`` = (x_min, x_max, y_min, y_max), by default the data's range plus a margin.
    """
    if scenario.layers[0] != 2:
        raise ValueError(f"decision_grid needs a network with 2 inputs, this one has {scenario.layers[0]}")
    resolution = int(resolution)
    if not 2 <= resolution <= 400:
        raise ValueError(f"resolution must be from 2 to 400, got {resolution}")
    x0, x1, y0, y1 = default_bounds(scenario.inputs) if bounds is None else (float(b) for b in bounds)
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    # the same network on other inputs (targets only feed the loss, which we do not look at here)
    probe = dataclasses.replace(scenario, inputs=grid, targets=np.zeros((grid.shape[0], scenario.layers[-1])))
    with np.errstate(over="ignore", invalid="ignore"):
        out = forward(probe).outputs
    return xs, ys, out.reshape(resolution, resolution, scenario.layers[-1])
