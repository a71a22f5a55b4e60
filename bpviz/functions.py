"""One record per activation and per loss: NumPy function beside its derivative, the SymPy expression, the display
symbol, and the constraints. Everything else (validation, engine, symbolic layer, matrix view, builder) reads them.

Adding an activation or a loss is one entry here (plus its tests): the SymPy expression is the one every
symbolic form is derived from (``sympy.diff``, never typed), and the NumPy pair is what the engine runs
(micrograd style: the local derivative sits next to its forward computation).

Conventions: z is the pre-activation ("net"), a = f(z) the activation ("out"); o are the outputs, t the targets,
K the number of outputs. A loss is the sum over outputs of one *share* per output, E = Σ_k share(o_k, t_k).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .i18n import N_, Message

LEAKY_SLOPE = 0.01  # leaky_relu: f(z) = LEAKY_SLOPE · z for z ≤ 0 (PyTorch's default negative_slope)
LOG_FLOOR = -100.0  # PyTorch's BCELoss clamps log(.) at -100 (only the outputs form of bce/cross_entropy uses it)


# ---------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    """a = f(z), its derivative, and what the rest of the app needs to know about it.

    ``da_dz(z, a)`` is the elementwise derivative f'(z) (in terms of a where that is the classic form, e.g.
    sigmoid' = a(1 − a)). For softmax, which is not elementwise, ``da_dz`` returns the Jacobian
    J[..., j, k] = da_j/dz_k = a_j (δ_jk − a_k), and ``expr(z, zs)`` needs every pre-activation of the layer.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    da_dz: Callable[[np.ndarray, np.ndarray], np.ndarray]
    expr: Callable[..., sp.Expr]  # SymPy f(z) (softmax: f(z, zs))
    symbol: str  # LaTeX of f in matrix formulas: \sigma
    elementwise: bool = True
    output_only: bool = False  # allowed on the output layer only (softmax)
    min_units: int = 1  # the layer needs at least this many neurons
    output_range: tuple[float, float] | None = None  # open range of a = f(z), when bounded
    distribution: bool = False  # the layer's outputs always sum to 1 (softmax)
    saturates: bool = False  # flat for large |z| (sigmoid, tanh): |net| > 10 means the unit has all but stopped
    kink: float | None = None  # a z where f is not differentiable (relu, leaky_relu: 0)

    def vjp(self, z: np.ndarray, a: np.ndarray, dE_da: np.ndarray) -> np.ndarray:
        """dE/dz from dE/da: elementwise product, or Jacobian-transpose product for softmax."""
        if self.elementwise:
            return dE_da * self.da_dz(z, a)
        # Σ_j dE/da_j · a_j (δ_jk − a_k) = a_k (dE/da_k − Σ_j dE/da_j a_j)
        return a * (dE_da - np.sum(dE_da * a, axis=-1, keepdims=True))

    def sympy(self, z: sp.Expr, zs: list[sp.Expr] | None = None) -> sp.Expr:
        """f(z) as SymPy (softmax needs the whole layer ``zs``)."""
        return self.expr(z) if self.elementwise else self.expr(z, zs)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # stable: exp of a non-positive number only, so no overflow for any z
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z: np.ndarray) -> np.ndarray:
    # log-sum-exp shift: exp of a non-positive number only
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_expr(z: sp.Expr, zs: list[sp.Expr]) -> sp.Expr:
    return sp.exp(z) / sp.Add(*[sp.exp(v) for v in zs])


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid", _sigmoid, lambda z, a: a * (1.0 - a), lambda z: 1 / (1 + sp.exp(-z)), r"\sigma",
            output_range=(0.0, 1.0), saturates=True,
        ),
        Activation(
            "tanh", np.tanh, lambda z, a: 1.0 - a * a, sp.tanh, r"\tanh", output_range=(-1.0, 1.0), saturates=True,
        ),
        Activation(
            "relu", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(np.float64),
            lambda z: sp.Piecewise((z, z > 0), (0, True)), r"\operatorname{relu}", kink=0.0,
        ),
        Activation(
            "leaky_relu", lambda z: np.where(z > 0, z, LEAKY_SLOPE * z), lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE),
            lambda z: sp.Piecewise((z, z > 0), (sp.Float(LEAKY_SLOPE) * z, True)), r"\operatorname{lrelu}", kink=0.0,
        ),
        Activation(
            "identity", lambda z: np.array(z, dtype=np.float64), lambda z, a: np.ones_like(z), lambda z: z,
            r"\operatorname{id}",
        ),
        Activation(
            "softmax", _softmax, lambda z, a: a[..., :, None] * (np.eye(a.shape[-1]) - a[..., None, :]),
            _softmax_expr, r"\operatorname{softmax}", elementwise=False, output_only=True, min_units=2,
            output_range=(0.0, 1.0), distribution=True,
        ),
    )
}


# ---------------------------------------------------------------- losses


def _clamped_log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.maximum(x, 0.0)), LOG_FLOOR)


def _quotient(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where num is 0 (a term that is absent), ±inf where only den is 0; no warnings."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(num == 0, 0.0, num / den)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the last axis, by log-sum-exp: finite for every finite z."""
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class Fused:
    """A loss computed from the output layer's pre-activations z (the logits), with its activation folded in, as
    PyTorch's fused losses do: the loss and its gradient are then one function and its derivative everywhere, and
    nothing is infinite for finite z (no clamp), while the outputs shown are still the probabilities f(z).

    ``share(z, t)`` is each output's share (stable NumPy), ``dE_dz(o, t)`` its derivative in closed form (in terms
    of o = f(z)), ``expr(z, zs, t, K)`` the share as SymPy (``zs``: every logit of the layer).
    """

    activation: str
    share: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dE_dz: Callable[[np.ndarray, np.ndarray], np.ndarray]
    expr: Callable[[sp.Expr, list[sp.Expr], sp.Expr, int], sp.Expr]
    pytorch: str  # the PyTorch loss this equals (marked with N_ where it has words: show it with t(pytorch, lang))


@dataclass(frozen=True)
class Loss:
    """One sample's loss E = Σ_k share(o, t)_k, dE/do_k for that sample, the SymPy share, and the loss's rules.

    ``share``/``expr`` are the loss on the outputs o (the textbook definition). ``requires`` names the output
    activation the loss needs (None: any); ``fused``, when set, is the form the engine computes after that
    activation (from the logits; see :class:`Fused`). ``pytorch`` names the PyTorch loss the outputs form equals.
    """

    name: str
    share: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dE_do: Callable[[np.ndarray, np.ndarray], np.ndarray]
    expr: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # SymPy share(o_k, t_k, K)
    pytorch: str  # marked with N_ where it has words: show it with t(pytorch, lang)
    requires: str | None = None
    min_outputs: int = 1
    target_range: tuple[float, float] | None = None  # closed range the targets must lie in
    targets_sum_to_one: bool = False  # each sample's targets are a probability distribution
    fused: Fused | None = None

    def fused_with(self, activation: str) -> bool:
        """Whether the loss is computed from the logits (its fused form) after this output activation."""
        return self.fused is not None and self.fused.activation == activation

    def pairing_problem(self, output_activation: str, n_outputs: int) -> Message | None:
        """Why this loss cannot follow ``output_activation`` with ``n_outputs`` outputs (None when it can;
        ``.text(lang)`` to show it)."""
        if self.requires is not None and output_activation != self.requires:
            rng = ACTIVATIONS[self.requires].output_range
            if rng:
                return Message(N_("{loss} needs {requires} outputs (values in ({low}, {high})), but the output "
                                  "activation is {activation}"), loss=self.name, requires=self.requires,
                               low=f"{rng[0]:g}", high=f"{rng[1]:g}", activation=output_activation)
            return Message(N_("{loss} needs {requires} outputs, but the output activation is {activation}"),
                           loss=self.name, requires=self.requires, activation=output_activation)
        if n_outputs < self.min_outputs:
            return Message(N_("{loss} needs at least {count} outputs"), loss=self.name, count=self.min_outputs)
        return None


def _bce_logits(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """−[t log σ(z) + (1 − t) log(1 − σ(z))] / K = [max(z, 0) − z·t + log(1 + e^(−|z|))] / K."""
    return (np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))) / z.shape[-1]


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        # ½ Σ (o − t)²  →  dE/do = o − t
        Loss("half_sse", lambda o, t: 0.5 * (o - t) ** 2, lambda o, t: o - t,
             lambda o, t, K: sp.Rational(1, 2) * (o - t) ** 2, pytorch="0.5 * MSELoss(reduction='sum')"),
        # (1/K) Σ (o − t)²  →  dE/do = 2(o − t)/K
        Loss("mse", lambda o, t: (o - t) ** 2 / o.shape[-1], lambda o, t: 2.0 * (o - t) / o.shape[-1],
             lambda o, t, K: (o - t) ** 2 / K, pytorch="MSELoss()"),
        # −(1/K) Σ [t log o + (1−t) log(1−o)]  →  dE/do = (o − t) / (o(1−o) K);  from z: dE/dz = (σ(z) − t)/K
        Loss("bce", lambda o, t: -(t * _clamped_log(o) + (1.0 - t) * _clamped_log(1.0 - o)) / o.shape[-1],
             lambda o, t: _quotient(o - t, o * (1.0 - o)) / o.shape[-1],
             lambda o, t, K: -(t * sp.log(o) + (1 - t) * sp.log(1 - o)) / K, pytorch=N_("BCELoss() on the outputs"),
             requires="sigmoid", target_range=(0.0, 1.0),
             fused=Fused("sigmoid", _bce_logits, lambda o, t: (o - t) / o.shape[-1],
                         lambda z, zs, t, K: (sp.log(1 + sp.exp(z)) - z * t) / K,
                         pytorch=N_("BCEWithLogitsLoss() on the output layer's net"))),
        # −Σ t log o  →  dE/do = −t/o;  from z: −Σ t·log_softmax(z), dE/dz = o·Σt − t (= o − t: targets sum to 1)
        Loss("cross_entropy", lambda o, t: -t * _clamped_log(o), lambda o, t: _quotient(-t, o),
             lambda o, t, K: -t * sp.log(o), pytorch=N_("NLLLoss() on log of the outputs"),
             requires="softmax", min_outputs=2, target_range=(0.0, 1.0), targets_sum_to_one=True,
             fused=Fused("softmax", lambda z, t: -t * _log_softmax(z),
                         lambda o, t: o * t.sum(axis=-1, keepdims=True) - t,
                         lambda z, zs, t, K: -t * (z - sp.log(sp.Add(*[sp.exp(v) for v in zs]))),
                         pytorch=N_("CrossEntropyLoss() on the output layer's net (probability targets)"))),
    )
}

ACTIVATION_NAMES: tuple[str, ...] = tuple(ACTIVATIONS)
LOSS_NAMES: tuple[str, ...] = tuple(LOSSES)
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(a.name for a in ACTIVATIONS.values() if not a.output_only)


def output_activations(n_outputs: int) -> tuple[str, ...]:
    """The activations an output layer of ``n_outputs`` neurons may use."""
    return tuple(a.name for a in ACTIVATIONS.values() if n_outputs >= a.min_units)


def targets_bounded(loss: str, output_activation: str) -> bool:
    """Whether targets belong in [0, 1] here: the loss says so, or the outputs can only reach (0, 1)."""
    rng = ACTIVATIONS[output_activation].output_range
    return LOSSES[loss].target_range is not None or (rng is not None and rng[0] >= 0.0)
