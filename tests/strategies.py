"""Hypothesis strategies: valid scenarios at the edges of what the validator accepts (for the fuzz tests).

Every activation × loss pairing the validator allows, 1–6 hidden layers of 1–8 neurons, 1–3 samples, weights and
biases up to ±1e3 (and now and then the limit ±1e6), inputs up to ±1e6, η up to the limit, both update orders, biases
trained or fixed. Bounded: each draw is a small document, so hundreds of examples run in seconds.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bpviz.config import MAX_ABS_NUMBER, MAX_HIDDEN_LAYERS, MAX_LEARNING_RATE, MAX_NEURONS, Scenario, validate
from bpviz.functions import ACTIVATIONS, HIDDEN_ACTIVATIONS, LOSSES, output_activations

EDGE_VALUES = (0.0, 1.0, -1.0, 1e3, -1e3, MAX_ABS_NUMBER, -MAX_ABS_NUMBER, 1e-300, 0.5)


def _numbers(limit: float) -> st.SearchStrategy[float]:
    """Finite floats up to ``limit``, with the edges (0, ±1, ±limit, tiny) drawn often."""
    return st.one_of(st.sampled_from([v for v in EDGE_VALUES if abs(v) <= limit]),
                     st.floats(-limit, limit, allow_nan=False, allow_infinity=False))


def _targets(draw, loss: str, activation: str, n: int, n_samples: int) -> list[list[float]]:
    record = LOSSES[loss]
    rng = ACTIVATIONS[activation].output_range
    if record.targets_sum_to_one:
        rows = []
        for _ in range(n_samples):
            raw = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
            total = sum(raw)
            rows.append([1.0 / n] * n if total == 0 else [v / total for v in raw])
        return rows
    if record.target_range is not None or (rng is not None and rng[0] >= 0.0):
        return [draw(st.lists(st.sampled_from([0.0, 1.0, 0.5]) | st.floats(0, 1), min_size=n, max_size=n))
                for _ in range(n_samples)]
    return [draw(st.lists(_numbers(1e3), min_size=n, max_size=n)) for _ in range(n_samples)]


def _pairings() -> list[tuple[str, str, str]]:
    """Every (hidden activation, output activation, loss) the validator accepts (with 2 outputs)."""
    return [(h, o, loss) for h in HIDDEN_ACTIVATIONS for o in output_activations(2) for loss in sorted(LOSSES)
            if LOSSES[loss].pairing_problem(o, 2) is None]


def fixed_architectures() -> list[tuple[list[int], list[str], str]]:
    """A fixed list of architectures covering every pairing (2-3-2), plus deep and wide ones: the fuzz tests draw
    extreme numbers on these, so SymPy builds each architecture's forms once (bounded time)."""
    shapes = [[2, 3, 2], [1, 2, 2, 2], [3, 1, 1, 1, 1, 2], [2, 8, 2]]
    out = []
    for n, (h, o, loss) in enumerate(_pairings()):
        layers = shapes[n % len(shapes)]
        out.append((layers, [h] * (len(layers) - 2) + [o], loss))
    return out


@st.composite
def extreme_documents(draw, max_hidden: int = MAX_HIDDEN_LAYERS, weight_limit: float = 1e3,
                      architectures: list | None = None) -> dict[str, Any]:
    """A valid scenario document (JSON data) at the edges; with ``architectures`` (layers, activations, loss)
    drawn from that list, else any shape."""
    if architectures is not None:
        layers, acts, loss = draw(st.sampled_from(architectures))
        n_in, n_out, hidden = layers[0], layers[-1], layers[1:-1]
        out = acts[-1]
    else:
        hidden = draw(st.lists(st.integers(1, MAX_NEURONS), min_size=1, max_size=max_hidden))
        n_in = draw(st.integers(1, MAX_NEURONS))
        loss = draw(st.sampled_from(sorted(LOSSES)))
        record = LOSSES[loss]
        n_out = draw(st.integers(max(record.min_outputs, 1), MAX_NEURONS))
        outs = [a for a in output_activations(n_out) if record.pairing_problem(a, n_out) is None]
        out = draw(st.sampled_from(outs))
        layers = [n_in, *hidden, n_out]
        acts = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in hidden] + [out]
    big = draw(st.sampled_from([weight_limit, weight_limit, MAX_ABS_NUMBER]))
    weights = [[draw(st.lists(_numbers(big), min_size=a, max_size=a)) for _ in range(b)]
               for a, b in zip(layers, layers[1:])]
    biases = [draw(st.lists(_numbers(big), min_size=b, max_size=b)) for b in layers[1:]]
    n_samples = draw(st.integers(1, 3))
    inputs = [draw(st.lists(_numbers(MAX_ABS_NUMBER), min_size=n_in, max_size=n_in)) for _ in range(n_samples)]
    targets = _targets(draw, loss, out, n_out, n_samples)
    return {"layers": layers, "activations": acts, "loss": loss, "weights": weights, "biases": biases,
            "inputs": inputs if n_samples > 1 else inputs[0], "targets": targets if n_samples > 1 else targets[0],
            "learning_rate": draw(st.sampled_from([0.5, 100.0, MAX_LEARNING_RATE, 1e-6]) | st.floats(1e-6, 100)),
            "train_biases": draw(st.booleans()),
            "update_order": draw(st.sampled_from(["simultaneous", "output_first"]))}


def extreme_scenarios(**kw) -> st.SearchStrategy[Scenario]:
    return extreme_documents(**kw).map(validate)
