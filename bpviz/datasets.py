"""Small two-input classification data sets (fixed seeds), and putting one into a scenario.

Every data set returns ``(X, T)``: X of shape (n, 2), T of shape (n, 1) with targets 0 or 1 (class 1 = target 1).
"""

from __future__ import annotations

import numpy as np

from .config import MAX_SAMPLES, Scenario, ScenarioError
from .i18n import N_, Message

DATASET_NAMES = ("xor", "and", "or", "two_moons", "circles")
# what a chooser shows for each data set (the names above are what is stored and accepted)
DATASET_LABELS = {"xor": N_("XOR"), "and": N_("AND"), "or": N_("OR"), "two_moons": N_("two moons"),
                  "circles": N_("circles")}
DEFAULT_SIZES = {"xor": 4, "and": 4, "or": 4, "two_moons": 100, "circles": 100}

_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_GATES = {
    "xor": np.array([0.0, 1.0, 1.0, 0.0]),
    "and": np.array([0.0, 0.0, 0.0, 1.0]),
    "or": np.array([0.0, 1.0, 1.0, 1.0]),
}
GATE_JITTER = 0.1  # standard deviation of the noise added to the corners when more than 4 samples are asked for
MOONS_NOISE = 0.1
CIRCLES_NOISE = 0.05
CIRCLES_INNER = 0.5  # radius of the inner circle (the outer one has radius 1)


def _gate(name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a logic gate; for n > 4 the corners repeat with a little Gaussian jitter."""
    idx = np.arange(n) % 4
    X = _CORNERS[idx].copy()
    if n > 4:
        X += rng.normal(0.0, GATE_JITTER, size=X.shape)
    return X, _GATES[name][idx].reshape(n, 1)


def _two_moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 the upper one, class 1 the lower one shifted right)."""
    n0 = (n + 1) // 2
    n1 = n - n0
    a0 = np.linspace(0.0, np.pi, n0)
    a1 = np.linspace(0.0, np.pi, n1)
    X = np.concatenate([
        np.column_stack([np.cos(a0), np.sin(a0)]),
        np.column_stack([1.0 - np.cos(a1), 0.5 - np.sin(a1)]),
    ])
    X += rng.normal(0.0, MOONS_NOISE, size=X.shape)
    T = np.concatenate([np.zeros(n0), np.ones(n1)]).reshape(n, 1)
    return X, T


def _circles(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A circle of class 1 inside a ring of class 0."""
    n0 = (n + 1) // 2
    n1 = n - n0
    a0 = np.linspace(0.0, 2.0 * np.pi, n0, endpoint=False)
    a1 = np.linspace(0.0, 2.0 * np.pi, n1, endpoint=False)
    X = np.concatenate([
        np.column_stack([np.cos(a0), np.sin(a0)]),
        CIRCLES_INNER * np.column_stack([np.cos(a1), np.sin(a1)]),
    ])
    X += rng.normal(0.0, CIRCLES_NOISE, size=X.shape)
    T = np.concatenate([np.zeros(n0), np.ones(n1)]).reshape(n, 1)
    return X, T


def dataset(name: str, n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, T) of data set ``name``: X (n, 2), T (n, 1) in {0, 1}; the same numbers for the same ``seed``.

    Logic gates (xor, and, or) default to their 4-row truth table; two_moons and circles to 100 points.
    """
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    n = DEFAULT_SIZES[name] if n is None else n
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_SAMPLES:
        raise ValueError(f"n must be a whole number from 2 to {MAX_SAMPLES}, got {n!r}")
    n = int(n)
    rng = np.random.default_rng(seed)
    if name in _GATES:
        return _gate(name, n, rng)
    if name == "two_moons":
        return _two_moons(n, rng)
    return _circles(n, rng)


def with_dataset(scenario: Scenario, name: str, n: int | None = None, seed: int = 0) -> Scenario:
    """The scenario with its inputs and targets replaced by data set ``name`` (validated again).

    The network needs 2 inputs. With 1 output the target is the class (0 or 1); with 2 outputs it is one-hot
    ([1, 0] for class 0, [0, 1] for class 1), which suits softmax + cross_entropy.
    """
    if scenario.layers[0] != 2:
        raise ScenarioError("layers[0]", Message(N_("the data sets have 2 inputs, but this network has {count}"),
                                                 count=scenario.layers[0]))
    if scenario.layers[-1] not in (1, 2):
        raise ScenarioError(f"layers[{len(scenario.layers) - 1}]", Message(
            N_("the data sets have 2 classes: use 1 output (the class) or 2 (one-hot), not {count}"),
            count=scenario.layers[-1],
        ))
    X, T = dataset(name, n, seed)
    if scenario.layers[-1] == 2:
        T = np.column_stack([1.0 - T[:, 0], T[:, 0]])
    return scenario.replace(inputs=X, targets=T)
