"""The NumPy engine: forward pass, backward pass, update step and a finite-difference gradient check.

Float64 throughout, no UI imports. Conventions (layer index l = 0 is the input layer, L = number of weight layers):

    z[l] = a[l-1] @ W[l-1].T + b[l-1]        (pre-activation, "net" in the seed's words)
    a[l] = f_l(z[l])                          (activation, "out")
    E    = mean over samples of  sum_k E_k    (E_k = each output's share of the loss)

Every derivative is named by what it is taken with respect to: ``dE_da`` = dE/da, ``dE_dz`` = dE/dz (the
"delta"), ``dE_dW`` = dE/dW, ``dE_db`` = dE/db. The activation and loss records (function next to derivative) live
in :mod:`bpviz.functions`. :func:`propagate` and :func:`backpropagate` are the one forward and the one backward
loop: :func:`forward`, :func:`backward`, :func:`step` and the training loop all run them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .config import Scenario
from .functions import ACTIVATIONS, LOSSES, Activation, Loss
from .ids import ParamRef
from .ids import parameter_refs as _refs_of_layers

# ---------------------------------------------------------------- the model: records looked up once


@dataclass(frozen=True, eq=False)
class Model:
    """The non-numeric part of a scenario: one activation record per layer, the loss, and whether the output
    delta uses the loss's fused closed form."""

    acts: tuple[Activation, ...]
    loss: Loss
    fused: bool

    @staticmethod
    def of(scenario: Scenario) -> Model:
        return _model(scenario.activations, scenario.loss)


@lru_cache(maxsize=64)
def _model(activations: tuple[str, ...], loss: str) -> Model:
    acts = tuple(ACTIVATIONS[a] for a in activations)
    return Model(acts, LOSSES[loss], LOSSES[loss].fused_with(activations[-1]))


def propagate(model: Model, W, B, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(zs, As): every layer's pre-activation and activation, index 0 = the inputs (z = a = x).

    Works for a sample axis (x of shape (n, width)) and for stacked copies of the parameters alike
    (x (copies, n, width) with W[l] (copies, out, in) and B[l] (copies, 1, out)).
    """
    zs, As = [x], [x]
    a = x
    for l, act in enumerate(model.acts):
        z = a @ np.swapaxes(W[l], -1, -2) + B[l]  # net_j = Σ_k w_jk · out_k + b_j
        a = act.f(z)
        zs.append(z)
        As.append(a)
    return zs, As


def loss_shares(model: Model, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each output's share of each sample's loss, shape of ``outputs``."""
    return model.loss.share(outputs, targets)


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
    model = Model.of(scenario)
    W = scenario.weights if weights is None else weights
    B = scenario.biases if biases is None else biases
    zs, As = propagate(model, W, B, scenario.inputs)
    share = loss_shares(model, As[-1], scenario.targets)
    per_output = share.mean(axis=0)
    return Trace(tuple(zs), tuple(As), scenario.targets, share, per_output, float(per_output.sum()))


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


def output_delta(model: Model, z: np.ndarray, o: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dE/da, dE/dz) of the output layer, per sample (dE/dz from the loss's fused closed form when it applies)."""
    dE_da = model.loss.dE_do(o, t)
    dE_dz = model.loss.dE_dz_fused(o, t) if model.fused else model.acts[-1].vjp(z, o, dE_da)
    return dE_da, dE_dz


def backpropagate(model: Model, W, B, zs, As, targets: np.ndarray, *, record: bool = True,
                  lr: float | None = None, W_out=None, B_out=None, output_first: bool = False,
                  train_biases: bool = True) -> Gradients | None:
    """The backward pass, output layer first; optionally the update p⁺ = p − η·dE/dp on the way.

    Per layer l = L … 1:  dE/dW[l-1] = mean_s δ[l]ᵀ a[l-1],  dE/db[l-1] = mean_s δ[l],
    δ[l-1] = f'(z[l-1]) ⊙ (δ[l] W[l-1]).

    With ``W_out``/``B_out`` (arrays of the parameters' shapes) and ``lr``, each layer's update is written into
    them as soon as its gradient is known; ``output_first`` then propagates the deltas through the *updated*
    weights (Mazur's convention), otherwise through the old ones (simultaneous, PyTorch's ``optimizer.step()``).
    ``B_out`` is left alone when ``train_biases`` is false. ``record`` keeps every array (as :class:`Gradients`);
    without it nothing is kept (the training loop) and None is returned.
    """
    L = len(model.acts)
    n = targets.shape[0]
    updating = W_out is not None
    dE_da, dE_dz = output_delta(model, zs[L], As[L], targets)
    if record:
        da, dz, dW, db = [None] * (L + 1), [None] * (L + 1), [None] * L, [None] * L
        da[L], dz[L] = dE_da, dE_dz
    for l in range(L, 0, -1):
        gW = dE_dz.T @ As[l - 1] / n
        gb = dE_dz.sum(axis=0) / n
        if updating:
            np.subtract(W[l - 1], lr * gW, out=W_out[l - 1])
            if train_biases:
                np.subtract(B[l - 1], lr * gb, out=B_out[l - 1])
        if record:
            dW[l - 1], db[l - 1] = gW, gb
        if l == 1 and not record:
            break
        # dE/da[l-1]_k = Σ_j w_jk δ_j   (through the updated weights under output_first)
        dE_da = dE_dz @ (W_out[l - 1] if updating and output_first else W[l - 1])
        dE_dz = model.acts[l - 2].vjp(zs[l - 1], As[l - 1], dE_da) if l > 1 else dE_da  # inputs: z = a = x
        if record:
            da[l - 1], dz[l - 1] = dE_da, dE_dz
    return Gradients(tuple(da), tuple(dz), tuple(dW), tuple(db)) if record else None


def backward(scenario: Scenario, trace: Trace | None = None) -> Gradients:
    """Backpropagate: every delta, dE/da per neuron, and dE/dW, dE/db per layer."""
    trace = forward(scenario) if trace is None else trace
    return backpropagate(Model.of(scenario), scenario.weights, scenario.biases, trace.z, trace.a, scenario.targets)


# ---------------------------------------------------------------- update


@dataclass(frozen=True, eq=False)
class Update:
    """One gradient-descent step: the scenario ``after`` it, and the gradients it used.

    Under ``simultaneous`` the gradients are :func:`backward`'s; under ``output_first`` those of the lower layers
    were backpropagated through the already-updated weights above them, so they differ.
    """

    before: Scenario
    after: Scenario
    grads: Gradients
    learning_rate: float
    train_biases: bool
    update_order: str

    def gradient(self, ref: ParamRef) -> float:
        """The gradient this step used for one parameter."""
        return gradient_of(self.grads, ref)


UPDATE_ORDERS = ("simultaneous", "output_first")


def step(
    scenario: Scenario,
    *,
    train_biases: bool | None = None,
    update_order: str | None = None,
    learning_rate: float | None = None,
    trace: Trace | None = None,
) -> Update:
    """One gradient-descent step  p⁺ = p − η · dE/dp  under the scenario's (or the given) conventions.

    ``simultaneous``: all gradients from the current parameters (PyTorch's optimizer.step()).
    ``output_first``: layers updated from the output backwards, each hidden delta computed through the
    already-updated weights above it (the convention behind Mazur's published numbers).
    """
    train_biases = scenario.train_biases if train_biases is None else train_biases
    update_order = scenario.update_order if update_order is None else update_order
    lr = scenario.learning_rate if learning_rate is None else learning_rate
    if update_order not in UPDATE_ORDERS:
        raise ValueError(f"unknown update order {update_order!r}")
    trace = forward(scenario) if trace is None else trace
    W = [np.empty_like(w) for w in scenario.weights]
    B = [b.copy() for b in scenario.biases]
    grads = backpropagate(Model.of(scenario), scenario.weights, scenario.biases, trace.z, trace.a, scenario.targets,
                          lr=lr, W_out=W, B_out=B, output_first=update_order == "output_first",
                          train_biases=train_biases)
    return Update(scenario, scenario.with_parameters(W, B), grads, lr, train_biases, update_order)


# ---------------------------------------------------------------- parameters and the gradient check


def parameter_refs(scenario: Scenario) -> list[ParamRef]:
    """All parameters: weights row-major, layer by layer (the seed's w1..w8 order), then biases likewise."""
    return _refs_of_layers(scenario.layers)


def gradient_of(grads: Gradients, ref: ParamRef) -> float:
    return ref.read(grads.dE_dW, grads.dE_db)


def value_of(scenario: Scenario, ref: ParamRef) -> float:
    return ref.read(scenario.weights, scenario.biases)


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
    model = Model.of(scenario)
    chunk = max(1, 200_000 // (n * max(scenario.layers)))
    out = np.empty(len(refs))
    for start in range(0, len(refs), chunk):
        part = range(start, min(start + chunk, len(refs)))
        W = [np.repeat(w[None], len(part), axis=0) for w in scenario.weights]
        B = [np.repeat(b[None, None], len(part), axis=0) for b in scenario.biases]
        for c, i in enumerate(part):
            Wc, Bc = [w[c] for w in W], [b[c, 0] for b in B]  # views of copy c
            refs[i].write(Wc, Bc, refs[i].read(Wc, Bc) + shifts[i])
        x = np.broadcast_to(scenario.inputs, (len(part), *scenario.inputs.shape))
        _, As = propagate(model, W, B, x)
        share = loss_shares(model, As[-1], scenario.targets)  # (copies, samples, outputs)
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
