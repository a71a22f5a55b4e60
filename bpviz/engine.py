"""The NumPy engine: forward pass, backward pass and the update step (the gradient check is in gradcheck.py).

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

import math
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
        z = a @ W[l].swapaxes(-1, -2) + B[l]  # net_j = Σ_k w_jk · out_k + b_j
        a = act.f(z)
        zs.append(z)
        As.append(a)
    return zs, As


def loss_shares(model: Model, z: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each output's share of each sample's loss, shape of ``outputs``: from the logits ``z`` when the loss has a
    fused form for this output activation (bce after sigmoid, cross_entropy after softmax), else from the outputs."""
    if model.fused:
        return model.loss.fused.share(z, targets)
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
    share = loss_shares(model, zs[-1], As[-1], scenario.targets)
    per_output = share.mean(axis=0)
    return Trace(tuple(zs), tuple(As), scenario.targets, share, per_output, float(per_output.sum()))


def loss_value(scenario: Scenario, weights=None, biases=None) -> float:
    """E for the given parameters (the scenario's by default); inf or nan, without a warning, where parameters after
    a huge step take the forward pass beyond float64 (the caller says so in words)."""
    with np.errstate(over="ignore", invalid="ignore"):
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
    """(dE/da, dE/dz) of the output layer, per sample.

    With a fused loss dE/dz is its closed form (the derivative of the loss computed from z), exact at any z; dE/da
    is then only recorded (it is ±inf where an output rounds to exactly 0 or 1) and nothing divides by it.
    """
    if model.fused:
        with np.errstate(over="ignore", divide="ignore"):  # ±inf is the recorded value there (see above)
            dE_da = model.loss.dE_do(o, t)
        return dE_da, model.loss.fused.dE_dz(o, t)
    dE_da = model.loss.dE_do(o, t)
    dE_dz = model.acts[-1].vjp(z, o, dE_da)
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
        gb = np.add.reduce(dE_dz, axis=0) / n  # = dE_dz.sum(axis=0), without the Python-level wrapper
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

    def overflow(self) -> ParamRef | None:
        """The first parameter (in :func:`parameter_refs` order) whose gradient or new value float64 cannot hold:
        the step cannot be applied (a huge η, or output_first pushing deltas through already-huge weights)."""
        return next((r for r in parameter_refs(self.before)
                     if not (math.isfinite(self.gradient(r)) and math.isfinite(value_of(self.after, r)))), None)


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
    with np.errstate(over="ignore", invalid="ignore"):  # a step beyond float64: Update.overflow says where
        grads = backpropagate(Model.of(scenario), scenario.weights, scenario.biases, trace.z, trace.a,
                              scenario.targets, lr=lr, W_out=W, B_out=B, output_first=update_order == "output_first",
                              train_biases=train_biases)
    return Update(scenario, scenario.with_parameters(W, B), grads, lr, train_biases, update_order)


# ---------------------------------------------------------------- parameters


def parameter_refs(scenario: Scenario) -> list[ParamRef]:
    """All parameters: weights row-major, layer by layer (the seed's w1..w8 order), then biases likewise."""
    return _refs_of_layers(scenario.layers)


def gradient_of(grads: Gradients, ref: ParamRef) -> float:
    return ref.read(grads.dE_dW, grads.dE_db)


def value_of(scenario: Scenario, ref: ParamRef) -> float:
    return ref.read(scenario.weights, scenario.biases)
