"""Build scenarios from choices (layer sizes, activations, loss, an initialiser) instead of typing numbers.

Everything goes through :func:`bpviz.config.validate`, so every limit of the scenario format applies. The UI uses
:func:`pairing_options` to explain why a loss is not offered, and :func:`symmetry_note` to explain why a network
started from equal weights never learns more than one distinct hidden unit per layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import MAX_NEURONS, Scenario, ScenarioError, loss_pairing_problem, validate
from .functions import ACTIVATIONS, LOSS_NAMES, LOSSES
from .i18n import N_, Message, t

INITIALISERS = ("seed", "uniform", "xavier", "he", "zeros")
# what a chooser shows for each initialiser (the identifiers above are what is stored and accepted)
INITIALISER_LABELS = {
    "seed": N_("seed's weights"),
    "uniform": N_("uniform"),
    "xavier": N_("Xavier"),
    "he": N_("He"),
    "zeros": N_("zeros"),
}

# The seed's numbers, continued: the seed hands out 0.15, 0.20, 0.25, ... in reading order: w1..w4, then the
# hidden bias b1 = 0.35, then w5..w8, then the output bias b2 = 0.60 (one shared bias per layer). We keep counting
# the same way, modulo 11 (values 0.15..0.65): 11 is a prime larger than any layer width, so no two neurons of a
# layer ever get the same row of weights (which would make them identical forever, see symmetry_note).
_SEED_START, _SEED_STEP, _SEED_PERIOD = 0.15, 0.05, 11


def _seed_like(layers: Sequence[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    def value(counter: np.ndarray | int) -> np.ndarray:
        return np.round(_SEED_START + _SEED_STEP * (np.asarray(counter) % _SEED_PERIOD), 10)

    weights, biases, counter = [], [], 0
    for l in range(len(layers) - 1):
        n_out, n_in = layers[l + 1], layers[l]
        weights.append(value(np.arange(counter, counter + n_out * n_in)).reshape(n_out, n_in))
        counter += n_out * n_in
        biases.append(np.full(n_out, value(counter)))
        counter += 1
    return weights, biases


def initial_parameters(layers: Sequence[int], init: str = "seed", rng_seed: int = 0) -> tuple[list, list]:
    """(weights, biases) for ``layers``; ``weights[l]`` has shape (layers[l+1], layers[l]) = (fan_out, fan_in).

    - ``seed``: the worked example's numbers, continued in the same pattern (no randomness);
    - ``uniform``: every weight and bias from U(−1, 1);
    - ``xavier`` (Glorot uniform): W ~ U(−r, r), r = √(6 / (fan_in + fan_out)), biases 0;
    - ``he`` (Kaiming normal): W ~ N(0, 2 / fan_in), biases 0;
    - ``zeros``: everything 0 (a lesson: see :func:`symmetry_note`).

    Deterministic given ``rng_seed`` (NumPy's ``default_rng``; weights then biases, layer by layer).
    """
    layers = [int(n) for n in layers]
    if init not in INITIALISERS:
        raise ScenarioError("init", Message(N_("unknown initialiser {value}; choose one of {choices}"),
                                            value=repr(init), choices=", ".join(INITIALISERS)))
    if init == "seed":
        return _seed_like(layers)
    rng = np.random.default_rng(rng_seed)
    weights, biases = [], []
    for l in range(len(layers) - 1):
        fan_in, fan_out = layers[l], layers[l + 1]
        shape = (fan_out, fan_in)
        if init == "uniform":
            weights.append(rng.uniform(-1.0, 1.0, size=shape))
            biases.append(rng.uniform(-1.0, 1.0, size=fan_out))
        elif init == "xavier":
            r = np.sqrt(6.0 / (fan_in + fan_out))
            weights.append(rng.uniform(-r, r, size=shape))
            biases.append(np.zeros(fan_out))
        elif init == "he":
            weights.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape))
            biases.append(np.zeros(fan_out))
        else:  # zeros
            weights.append(np.zeros(shape))
            biases.append(np.zeros(fan_out))
    return weights, biases


def default_inputs(n_inputs: int) -> list[float]:
    """One sample in the seed's pattern: 0.05, 0.10, 0.15, ..."""
    return [round(0.05 * (k + 1), 10) for k in range(n_inputs)]


def default_targets(n_outputs: int, loss: str, output_activation: str = "sigmoid") -> list[float]:
    """One target in the seed's pattern (0.01, 0.99, 0.01, ...); for softmax outputs, which always sum to 1, a
    one-hot target on the last class (the only kind of target softmax can reach)."""
    if (LOSSES[loss].targets_sum_to_one or ACTIVATIONS[output_activation].distribution) and n_outputs != 2:
        return [1.0 if k == n_outputs - 1 else 0.0 for k in range(n_outputs)]
    return [0.01 if k % 2 == 0 else 0.99 for k in range(n_outputs)]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def build_scenario(
    layers: Sequence[int],
    activations: Sequence[str],
    loss: str,
    init: str = "seed",
    rng_seed: int = 0,
    inputs: Any = None,
    targets: Any = None,
    learning_rate: float = 0.5,
    train_biases: bool = True,
    update_order: str = "simultaneous",
) -> Scenario:
    """A validated scenario from choices; parameters from :func:`initial_parameters`.

    ``inputs``/``targets``: one sample (list of numbers) or a list of samples (arrays are fine); by default one
    sample in the seed's pattern (so ``build_scenario([2, 2, 2], ["sigmoid"] * 2, "half_sse")`` is the seed).
    Raises :class:`ScenarioError` exactly as :func:`validate` does.
    """
    layers = _checked_layers(layers)
    weights, biases = initial_parameters(layers, init, rng_seed)
    doc = {
        "layers": layers,
        "activations": list(activations),
        "loss": loss,
        "weights": [w.tolist() for w in weights],
        "biases": [b.tolist() for b in biases],
        "inputs": default_inputs(layers[0]) if inputs is None else _plain(inputs),
        "targets": default_targets(layers[-1], loss, activations[-1]) if targets is None else _plain(targets),
        "learning_rate": learning_rate,
        "train_biases": train_biases,
        "update_order": update_order,
    }
    return validate(doc)


def _checked_layers(layers: Any) -> list[int]:
    """The layer sizes as plain ints, checked by the validator before anything is allocated (a huge size must be
    a ScenarioError, not a memory blow-up)."""
    if isinstance(layers, (tuple, np.ndarray)):
        layers = list(layers)
    if isinstance(layers, list):
        layers = [int(n) if isinstance(n, np.integer) else n for n in layers]
    ok = isinstance(layers, list) and len(layers) >= 2
    sizes = [n if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_NEURONS else 1 for n in layers]
    sizes = sizes if ok else []
    probe = {  # an all-zero identity network with these sizes: only the sizes can be wrong
        "layers": layers,
        "activations": ["identity"] * max(len(sizes) - 1, 1),
        "loss": "half_sse",
        "weights": [[[0.0] * sizes[l] for _ in range(sizes[l + 1])] for l in range(len(sizes) - 1)],
        "biases": [[0.0] * sizes[l + 1] for l in range(len(sizes) - 1)],
        "inputs": [0.0] * (sizes[0] if sizes else 1),
        "targets": [0.0] * (sizes[-1] if sizes else 1),
        "learning_rate": 0.5,
    }
    validate(probe)
    return layers


# ---------------------------------------------------------------- which losses fit which output layer


@dataclass(frozen=True)
class PairingOption:
    """One loss and whether it may follow the chosen output layer; ``reason`` says why not (None when fine)."""

    loss: str
    valid: bool
    reason: str | None


def pairing_options(output_activation: str, n_outputs: int, lang: str = "en") -> list[PairingOption]:
    """Every loss, in the order of ``LOSS_NAMES``, with the reason each invalid one cannot be used."""
    options = []
    for loss in LOSS_NAMES:
        problem = loss_pairing_problem(loss, output_activation, n_outputs)
        options.append(PairingOption(loss, problem is None, None if problem is None else problem.text(lang)))
    return options


# ---------------------------------------------------------------- the symmetry lesson


def symmetric_layers(scenario: Scenario) -> list[int]:
    """Hidden layers (index l, 1..L−1, with ≥ 2 neurons) whose neurons can never become different.

    Neurons j, j' of hidden layer l stay identical forever when they have the same incoming weights (equal rows of
    ``weights[l-1]``), the same bias, and every neuron above sees them through the same weight (equal columns of
    ``weights[l]``): then a_j = a_j', δ_j = Σ_i w_ij δ_i = δ_j', and every update changes both by the same amount.
    This is always the case when all weights of both layers are equal, e.g. all zero.
    """
    found = []
    for l in range(1, scenario.n_layers):
        if scenario.layers[l] < 2:
            continue
        w_in, b_in, w_out = scenario.weights[l - 1], scenario.biases[l - 1], scenario.weights[l]
        if np.all(w_in == w_in[:1]) and np.all(b_in == b_in[0]) and np.all(w_out == w_out[:, :1]):
            found.append(l)
    return found


def symmetry_note(scenario: Scenario, lang: str = "en") -> str | None:
    """One or two sentences explaining why equal starting weights never break symmetry (None if not the case)."""
    layers = symmetric_layers(scenario)
    if not layers:
        return None
    which = ", ".join(str(l) for l in layers)
    where = t("hidden layer {which}", lang, which=which) if len(layers) == 1 else t(
        "hidden layers {which} (each)", lang, which=which
    )
    return t(
        "All neurons of {where} start with the same weights and bias, and the layer above sees each "
        "of them through the same weight, so they compute the same value and receive exactly the same gradient. "
        "Every update then changes them identically: the symmetry is never broken and the layer behaves like a "
        "single neuron, so start from random weights (uniform, Xavier or He) instead.",
        lang,
        where=where,
    )
