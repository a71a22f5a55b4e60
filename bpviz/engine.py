"""The NumPy engine: forward pass, backward pass, update step and a finite-difference gradient check.

Float64 throughout, no UI imports. Conventions (layer index l = 0 is the input layer, L = number of weight layers):

    z[l] = a[l-1] @ W[l-1].T + b[l-1]        (pre-activation, "net" in the seed's words)
    a[l] = f_l(z[l])                          (activation, "out")
    E    = mean over samples of  sum_k E_k    (E_k = each output's share of the loss)

Every derivative is named by what it is taken with respect to: ``dE_da`` = dE/da, ``dE_dz`` = dE/dz (the
"delta"), ``dE_dW`` = dE/dW, ``dE_db`` = dE/db. Each activation and loss is one record holding the function next
to its derivative (micrograd style).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import Scenario

# ---------------------------------------------------------------- activations: function next to derivative

LEAKY_SLOPE = 0.01
LOG_FLOOR = -100.0  # PyTorch's BCELoss clamps log(.) at -100; we do the same for bce and cross_entropy
DIV_EPS = 1e-12  # PyTorch's BCELoss backward divides by max(o(1-o), 1e-12)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # stable: exp of a non-positive number only, so no overflow for any z
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z: np.ndarray) -> np.ndarray:
    # log-sum-exp shift: exp of a non-positive number only
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Activation:
    """a = f(z) and its derivative.

    ``da_dz(z, a)`` is the elementwise derivative f'(z) (written in terms of a where that is the classic form,
    e.g. sigmoid' = a(1-a)). For softmax, which is not elementwise, ``da_dz`` returns the Jacobian
    J[..., j, k] = da_j/dz_k = a_j (δ_jk − a_k).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    da_dz: Callable[[np.ndarray, np.ndarray], np.ndarray]
    elementwise: bool = True

    def vjp(self, z: np.ndarray, a: np.ndarray, dE_da: np.ndarray) -> np.ndarray:
        """dE/dz from dE/da: elementwise product, or Jacobian-transpose product for softmax."""
        if self.elementwise:
            return dE_da * self.da_dz(z, a)
        # sum_j dE/da_j · a_j (δ_jk − a_k) = a_k (dE/da_k − Σ_j dE/da_j a_j)
        return a * (dE_da - np.sum(dE_da * a, axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", _sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": Activation("tanh", np.tanh, lambda z, a: 1.0 - a * a),
    "relu": Activation("relu", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(np.float64)),
    "leaky_relu": Activation(
        "leaky_relu",
        lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE),
    ),
    "identity": Activation("identity", lambda z: np.array(z, dtype=np.float64), lambda z, a: np.ones_like(z)),
    "softmax": Activation(
        "softmax",
        _softmax,
        lambda z, a: a[..., :, None] * (np.eye(a.shape[-1]) - a[..., None, :]),
        elementwise=False,
    ),
}

# ---------------------------------------------------------------- losses: function next to derivative


def _clamped_log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.maximum(x, 0.0)), LOG_FLOOR)


@dataclass(frozen=True)
class Loss:
    """One sample's loss E = Σ_k share(o, t)_k, and dE/do_k for that sample.

    ``dE_dz_fused(o, t)``, when present, is dE/dz of the output layer for the activation the loss requires
    (sigmoid for bce, softmax for cross_entropy), written in the stable closed form PyTorch's fused losses use.
    """

    name: str
    share: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dE_do: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fused_activation: str | None = None
    dE_dz_fused: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


LOSSES: dict[str, Loss] = {
    # ½ Σ (o − t)²  →  dE/do = o − t
    "half_sse": Loss("half_sse", lambda o, t: 0.5 * (o - t) ** 2, lambda o, t: o - t),
    # (1/K) Σ (o − t)²  →  dE/do = 2(o − t)/K
    "mse": Loss("mse", lambda o, t: (o - t) ** 2 / o.shape[-1], lambda o, t: 2.0 * (o - t) / o.shape[-1]),
    # −(1/K) Σ [t log o + (1−t) log(1−o)]  →  dE/do = (o − t) / (o(1−o) K);  with sigmoid: dE/dz = (o − t)/K
    "bce": Loss(
        "bce",
        lambda o, t: -(t * _clamped_log(o) + (1.0 - t) * _clamped_log(1.0 - o)) / o.shape[-1],
        lambda o, t: (o - t) / np.maximum(o * (1.0 - o), DIV_EPS) / o.shape[-1],
        fused_activation="sigmoid",
        dE_dz_fused=lambda o, t: (o - t) / o.shape[-1],
    ),
    # −Σ t log o  →  dE/do = −t/o;  with softmax: dE/dz = o·Σt − t  (= o − t for probability targets)
    "cross_entropy": Loss(
        "cross_entropy",
        lambda o, t: -t * _clamped_log(o),
        lambda o, t: -t / np.maximum(o, DIV_EPS),
        fused_activation="softmax",
        dE_dz_fused=lambda o, t: o * t.sum(axis=-1, keepdims=True) - t,
    ),
}

# ---------------------------------------------------------------- forward


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything the forward pass computed. ``z[l]``, ``a[l]`` have shape (n_samples, layers[l]).

    For the input layer z[0] = a[0] = inputs. ``loss_share[s, k]`` is output k's share of sample s's loss;
    ``loss_per_output[k]`` its mean over samples (E_o1, E_o2 in the seed); ``loss`` = Σ_k loss_per_output[k].
    """

    z: tuple[np.ndarray, ...]
    a: tuple[np.ndarray, ...]
    targets: np.ndarray
    loss_share: np.ndarray
    loss_per_output: np.ndarray
    loss: float

    @property
    def outputs(self) -> np.ndarray:
        return self.a[-1]


def forward(scenario: Scenario, weights=None, biases=None) -> Trace:
    """Run the forward pass (optionally with other parameter arrays than the scenario's)."""
    W = scenario.weights if weights is None else weights
    B = scenario.biases if biases is None else biases
    x = scenario.inputs
    zs, acts = [x], [x]
    for l, name in enumerate(scenario.activations):
        z = acts[-1] @ W[l].T + B[l]  # net_j = Σ_k w_jk · out_k + b_j
        zs.append(z)
        acts.append(ACTIVATIONS[name].f(z))
    loss = LOSSES[scenario.loss]
    share = loss.share(acts[-1], scenario.targets)
    per_output = share.mean(axis=0)
    return Trace(tuple(zs), tuple(acts), scenario.targets, share, per_output, float(per_output.sum()))


def loss_value(scenario: Scenario, weights=None, biases=None) -> float:
    """E for the given parameters (the scenario's by default)."""
    return forward(scenario, weights, biases).loss


# ---------------------------------------------------------------- backward


@dataclass(frozen=True, eq=False)
class Gradients:
    """Everything the backward pass computed.

    ``dE_da[l]`` and ``dE_dz[l]`` (shape (n_samples, layers[l])) are per sample: the derivative of that sample's
    loss. ``dE_dz[l]`` is the delta δ of layer l. ``dE_dW[l]`` (shape of ``weights[l]``) and ``dE_db[l]`` are the
    gradients of the batch loss E (the mean over samples). Index 0 of dE_da / dE_dz is the input layer.
    """

    dE_da: tuple[np.ndarray, ...]
    dE_dz: tuple[np.ndarray, ...]
    dE_dW: tuple[np.ndarray, ...]
    dE_db: tuple[np.ndarray, ...]


def _output_delta(scenario: Scenario, trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """(dE/da, dE/dz) of the output layer, per sample."""
    loss = LOSSES[scenario.loss]
    o, t = trace.a[-1], trace.targets
    dE_da = loss.dE_do(o, t)
    act = ACTIVATIONS[scenario.activations[-1]]
    if loss.fused_activation == act.name:
        dE_dz = loss.dE_dz_fused(o, t)
    else:
        dE_dz = act.vjp(trace.z[-1], o, dE_da)
    return dE_da, dE_dz


def _backward(scenario: Scenario, trace: Trace, learning_rate: float | None = None, train_biases: bool = True):
    """Backward pass; with ``learning_rate`` set, update each layer as soon as its gradient is known and
    propagate through the *updated* weights (the "output_first" convention). Returns (grads, W_new, b_new)."""
    L = scenario.n_layers
    n = scenario.n_samples
    W = [w.copy() for w in scenario.weights]
    B = [b.copy() for b in scenario.biases]
    dE_da: list = [None] * (L + 1)
    dE_dz: list = [None] * (L + 1)
    dE_dW: list = [None] * L
    dE_db: list = [None] * L
    dE_da[L], dE_dz[L] = _output_delta(scenario, trace)
    for l in range(L, 0, -1):
        # dE/dW[l-1]_jk = mean_s δ_j · a_k  ;  dE/db[l-1]_j = mean_s δ_j
        dE_dW[l - 1] = dE_dz[l].T @ trace.a[l - 1] / n
        dE_db[l - 1] = dE_dz[l].sum(axis=0) / n
        if learning_rate is not None:
            W[l - 1] = W[l - 1] - learning_rate * dE_dW[l - 1]
            if train_biases:
                B[l - 1] = B[l - 1] - learning_rate * dE_db[l - 1]
        # dE/da[l-1]_k = Σ_j w_jk δ_j   (through the updated weights when updating as we go)
        dE_da[l - 1] = dE_dz[l] @ W[l - 1]
        if l - 1 > 0:
            dE_dz[l - 1] = ACTIVATIONS[scenario.activations[l - 2]].vjp(
                trace.z[l - 1], trace.a[l - 1], dE_da[l - 1]
            )
        else:
            dE_dz[0] = dE_da[0]  # inputs: z = a = x
    grads = Gradients(tuple(dE_da), tuple(dE_dz), tuple(dE_dW), tuple(dE_db))
    return grads, W, B


def backward(scenario: Scenario, trace: Trace | None = None) -> Gradients:
    """Backpropagate: every delta, dE/da per neuron, and dE/dW, dE/db per layer."""
    trace = forward(scenario) if trace is None else trace
    return _backward(scenario, trace)[0]


# ---------------------------------------------------------------- update


def step(
    scenario: Scenario,
    *,
    train_biases: bool | None = None,
    update_order: str | None = None,
    learning_rate: float | None = None,
) -> Scenario:
    """One gradient-descent step  p⁺ = p − η · dE/dp  under the scenario's (or the given) conventions.

    ``simultaneous``: all gradients from the current parameters (PyTorch's optimizer.step()).
    ``output_first``: layers updated from the output backwards, each hidden delta computed through the
    already-updated weights above it (the convention behind Mazur's published numbers).
    """
    train_biases = scenario.train_biases if train_biases is None else train_biases
    update_order = scenario.update_order if update_order is None else update_order
    lr = scenario.learning_rate if learning_rate is None else learning_rate
    trace = forward(scenario)
    if update_order == "output_first":
        _, W, B = _backward(scenario, trace, learning_rate=lr, train_biases=train_biases)
    elif update_order == "simultaneous":
        g = backward(scenario, trace)
        W = [w - lr * dw for w, dw in zip(scenario.weights, g.dE_dW)]
        B = [b - lr * db for b, db in zip(scenario.biases, g.dE_db)] if train_biases else list(scenario.biases)
    else:
        raise ValueError(f"unknown update order {update_order!r}")
    return scenario.with_parameters(W, B)


# ---------------------------------------------------------------- parameters and the gradient check


@dataclass(frozen=True)
class ParamRef:
    """One scalar parameter: ``kind`` 'w' (weights[layer][row, col]) or 'b' (biases[layer][row], col = -1)."""

    kind: str
    layer: int
    row: int
    col: int = -1


def parameter_refs(scenario: Scenario) -> list[ParamRef]:
    """All parameters: weights row-major, layer by layer (the seed's w1..w8 order), then biases likewise."""
    refs = [
        ParamRef("w", l, j, k)
        for l, w in enumerate(scenario.weights)
        for j in range(w.shape[0])
        for k in range(w.shape[1])
    ]
    refs += [ParamRef("b", l, j) for l, b in enumerate(scenario.biases) for j in range(b.shape[0])]
    return refs


def gradient_of(grads: Gradients, ref: ParamRef) -> float:
    return float(grads.dE_dW[ref.layer][ref.row, ref.col] if ref.kind == "w" else grads.dE_db[ref.layer][ref.row])


def value_of(scenario: Scenario, ref: ParamRef) -> float:
    if ref.kind == "w":
        return float(scenario.weights[ref.layer][ref.row, ref.col])
    return float(scenario.biases[ref.layer][ref.row])


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """Central finite differences vs backprop, one entry per :func:`parameter_refs` entry."""

    refs: tuple[ParamRef, ...]
    numeric: np.ndarray
    analytic: np.ndarray
    relative_error: np.ndarray

    @property
    def max_relative_error(self) -> float:
        return float(self.relative_error.max()) if self.relative_error.size else 0.0


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """|a − n| / max(|a|, |n|, floor): relative, but absolute for gradients below ``floor``."""
    return np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)


STENCIL = ((2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0))  # five-point central difference: shift, weight (/12h)


def _perturbed_losses(scenario: Scenario, refs: list[ParamRef], shifts: np.ndarray) -> np.ndarray:
    """E for many copies of the parameters, copy c with ``refs[c]`` moved by ``shifts[c]``, in one batched forward.

    Copies are stacked on a leading axis: z = a @ Wᵀ + b with a of shape (copies, samples, width). Chunked so
    that copies × samples stays small in memory.
    """
    n = scenario.n_samples
    chunk = max(1, 200_000 // (n * max(scenario.layers)))
    out = np.empty(len(refs))
    for start in range(0, len(refs), chunk):
        part = range(start, min(start + chunk, len(refs)))
        W = [np.repeat(w[None], len(part), axis=0) for w in scenario.weights]
        B = [np.repeat(b[None], len(part), axis=0) for b in scenario.biases]
        for c, i in enumerate(part):
            ref = refs[i]
            if ref.kind == "w":
                W[ref.layer][c, ref.row, ref.col] += shifts[i]
            else:
                B[ref.layer][c, ref.row] += shifts[i]
        a = np.broadcast_to(scenario.inputs, (len(part), *scenario.inputs.shape))
        for l, name in enumerate(scenario.activations):
            a = ACTIVATIONS[name].f(a @ W[l].transpose(0, 2, 1) + B[l][:, None, :])
        share = LOSSES[scenario.loss].share(a, scenario.targets)  # (copies, samples, outputs)
        out[start:part.stop] = share.sum(axis=-1).mean(axis=-1)
    return out


def numeric_gradient(scenario: Scenario, ref: ParamRef, h: float = 1e-3) -> float:
    """dE/dp by finite differences, for one parameter, in double precision.

    Five-point central stencil  (−E(p+2h) + 8E(p+h) − 8E(p−h) + E(p−2h)) / 12h : truncation error O(h⁴), so a
    larger h keeps the rounding error (≈ ε·E/h) small too.
    """
    return float(numeric_gradients(scenario, [ref], h)[0])


def numeric_gradients(scenario: Scenario, refs: list[ParamRef], h: float = 1e-3) -> np.ndarray:
    """:func:`numeric_gradient` for many parameters at once (all 4 × len(refs) perturbed losses in one batch)."""
    stacked = [r for r in refs for _ in STENCIL]
    shifts = np.array([k * h for _ in refs for k, _ in STENCIL])
    losses = _perturbed_losses(scenario, stacked, shifts).reshape(len(refs), len(STENCIL))
    weights = np.array([wt for _, wt in STENCIL])
    return losses @ weights / (12 * h)


def gradient_check(scenario: Scenario, h: float = 1e-3, grads: Gradients | None = None) -> GradientCheck:
    """Finite differences (:func:`numeric_gradients`) vs backprop for every parameter."""
    grads = backward(scenario) if grads is None else grads
    refs = parameter_refs(scenario)
    numeric = numeric_gradients(scenario, refs, h)
    analytic = np.array([gradient_of(grads, r) for r in refs])
    return GradientCheck(tuple(refs), numeric, analytic, relative_error(analytic, numeric))
