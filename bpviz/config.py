"""The scenario format: one JSON document describing a network, its data and its training settings.

Every entry point (CLI, upload) goes through :func:`validate` (or :func:`load_json`, which parses text and
then validates). Bad input raises :class:`ScenarioError` and nothing else; its message starts with the path of the
offending field, e.g. ``weights[1][0][2]: expected a finite number, got "abc"``.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .functions import ACTIVATION_NAMES, ACTIVATIONS, LOSS_NAMES, LOSSES
from .i18n import N_, Message, Nn_

UPDATE_ORDERS = ("simultaneous", "output_first")
# each update order in words (English, marked with N_; shown as t(ORDER_LABELS[order], lang)): the same words in the
# conventions control, its tables, the training page and the handout (a student should not have to map output_first
# to "Mazur")
ORDER_LABELS = {"simultaneous": N_("simultaneous (PyTorch's optimizer.step())"),
                "output_first": N_("output layer first (Mazur)")}

MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 8
MAX_ABS_NUMBER = 1e6
MAX_SAMPLES = 1000
MAX_LEARNING_RATE = 100.0
MAX_DOCUMENT_BYTES = 1_000_000
MAX_NESTING = 32

REQUIRED_KEYS = ("layers", "activations", "loss", "weights", "biases", "inputs", "targets", "learning_rate")
OPTIONAL_KEYS = {"train_biases": True, "update_order": "simultaneous"}


MAX_ECHO = 80  # characters of the user's own text (a key, a path) an error message repeats


def clip(text: str, limit: int | None = MAX_ECHO) -> str:
    """User text fit for a one-line message: control and separator characters escaped (a newline reads \\n, an
    information separator \\x1e), and at most ``limit`` characters (None: any length)."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))
    return out if limit is None or len(out) <= limit else out[: limit - 1] + "…"


class ScenarioError(ValueError):
    """A scenario document is invalid; ``path`` names the field, ``message`` says what was wrong.

    Both are one line whatever the document holds: the path (it may be a key from the document) is clipped to
    ``MAX_ECHO`` characters, control characters in either are escaped. ``message`` is a :class:`Message`, so the UI
    shows it in the reader's language (``text(lang)``); ``str()`` is English. Field names stay as in the JSON."""

    def __init__(self, path: str, reason: str | Message) -> None:
        self.path = clip(path)
        self.message = reason if isinstance(reason, Message) else Message(reason)
        super().__init__(self.text())

    def reason(self, lang: str = "en") -> str:
        """What was wrong, in ``lang``, on one line."""
        return clip(self.message.text(lang), None)

    def text(self, lang: str = "en") -> str:
        """"path: reason" in ``lang``."""
        return f"{self.path}: {self.reason(lang)}" if self.path else self.reason(lang)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario. Arrays are float64; ``weights[l]`` has shape (layers[l+1], layers[l]).

    ``inputs`` and ``targets`` always carry a sample axis, shape (n, layers[0]) and (n, layers[-1]);
    ``batched`` remembers whether the document gave one sample or a list of samples.
    """

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    inputs: np.ndarray
    targets: np.ndarray
    learning_rate: float
    train_biases: bool = True
    update_order: str = "simultaneous"
    batched: bool = field(default=False)

    @property
    def n_layers(self) -> int:
        """Number of weight layers L (= number of non-input layers)."""
        return len(self.layers) - 1

    @property
    def n_samples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def architecture(self) -> tuple:
        """Hashable key of everything that shapes the symbolic forms (not the numbers)."""
        return (self.layers, self.activations, self.loss)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document for this scenario (round-trips through :func:`validate`)."""
        inputs = self.inputs.tolist() if self.batched else self.inputs[0].tolist()
        targets = self.targets.tolist() if self.batched else self.targets[0].tolist()
        return {
            "layers": list(self.layers),
            "activations": list(self.activations),
            "loss": self.loss,
            "weights": [w.tolist() for w in self.weights],
            "biases": [b.tolist() for b in self.biases],
            "inputs": inputs,
            "targets": targets,
            "learning_rate": self.learning_rate,
            "train_biases": self.train_biases,
            "update_order": self.update_order,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed, validated again (so the result is always a valid scenario)."""
        doc = self.to_dict()
        for key, value in changes.items():
            if isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, (tuple, list)):
                value = [v.tolist() if isinstance(v, np.ndarray) else v for v in value]
            doc[key] = value
        return validate(doc)

    def with_parameters(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Scenario:
        """A copy with new parameter arrays (no re-validation: used by the engine's update step)."""
        return replace(
            self,
            weights=tuple(np.array(w, dtype=np.float64) for w in weights),
            biases=tuple(np.array(b, dtype=np.float64) for b in biases),
        )


# ---------------------------------------------------------------- validation helpers


SHOW_CHARS = 40  # a bad value, as an error message quotes it


def _show(value: Any) -> str | Message:
    """A short, JSON-like rendering of a bad value for an error message (a huge number in words, a Message)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** (SHOW_CHARS - 2):
        return Message(N_("a whole number of {digits} digits"), digits=f"{len(str(abs(value))):,}")
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, SHOW_CHARS)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(path, Message(N_("expected a finite number, got {value}"), value=_show(value)))
    try:
        x = float(value)
    except OverflowError:
        raise ScenarioError(path, Message(N_("number too large"))) from None
    if not math.isfinite(x):
        raise ScenarioError(path, Message(N_("expected a finite number, got {value}"), value=_show(value)))
    if abs(x) > MAX_ABS_NUMBER:
        raise ScenarioError(path, Message(N_("|value| must be at most {limit}, got {value}"),
                                          limit=f"{MAX_ABS_NUMBER:g}", value=f"{x:g}"))
    return x


def _list(value: Any, path: str, length: int | None = None,
          expected: str | tuple[str, str] = N_("expected a list, got {value}"), **values: Any) -> list:
    """``value`` if it is a list (of ``length`` entries); ``expected`` (marked with N_, or Nn_ with a count ``n``
    in ``values``) says what was expected, its ``{value}`` is the bad value, ``values`` fill its other placeholders."""
    if not isinstance(value, list):
        raise ScenarioError(path, Message(expected, value=_show(value), **values))  # marked by the caller
    if length is not None and len(value) != length:
        raise ScenarioError(path, Message(Nn_("expected {n} entry, got {count}", "expected {n} entries, got {count}"),
                                          n=length, count=len(value)))
    return value


def _vector(value: Any, path: str, length: int) -> np.ndarray:
    items = _list(value, path, length, Nn_("expected a list of {n} number, got {value}",
                                           "expected a list of {n} numbers, got {value}"), n=length)
    return np.array([_number(v, f"{path}[{i}]") for i, v in enumerate(items)], dtype=np.float64)


def _samples(value: Any, path: str, width: int) -> tuple[np.ndarray, bool]:
    """One sample (a list of numbers) or a list of samples; returns (array (n, width), batched)."""
    items = _list(value, path, expected=N_("expected a list of numbers or a list of samples, got {value}"))
    if items and all(isinstance(v, list) for v in items):
        if len(items) > MAX_SAMPLES:
            raise ScenarioError(path, Message(N_("at most {limit} samples, got {count}"), limit=MAX_SAMPLES,
                                              count=len(items)))
        rows = [_vector(v, f"{path}[{i}]", width) for i, v in enumerate(items)]
        return np.array(rows, dtype=np.float64).reshape(len(rows), width), True
    if not items:
        raise ScenarioError(path, Message(N_("expected at least one sample")))
    return _vector(items, path, width).reshape(1, width), False


# ---------------------------------------------------------------- the validator


def validate(doc: Any) -> Scenario:
    """Check a parsed scenario document and return a :class:`Scenario`; raise :class:`ScenarioError` if bad."""
    if not isinstance(doc, dict):
        raise ScenarioError("(document)", Message(N_("expected a JSON object, got {value}"), value=_show(doc)))
    for key in doc:
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            raise ScenarioError(str(key), Message(N_("unknown key")))
    for key in REQUIRED_KEYS:
        if key not in doc:
            raise ScenarioError(key, Message(N_("missing (required)")))

    layers_raw = _list(doc["layers"], "layers")
    if not 2 <= len(layers_raw) <= MAX_HIDDEN_LAYERS + 2:
        raise ScenarioError("layers", Message(
            N_("expected 2 to {most} layers (0 to {hidden} hidden), got {count}"),
            most=MAX_HIDDEN_LAYERS + 2, hidden=MAX_HIDDEN_LAYERS, count=len(layers_raw),
        ))
    layers: list[int] = []
    for i, n in enumerate(layers_raw):
        if isinstance(n, bool) or not isinstance(n, int):
            raise ScenarioError(f"layers[{i}]", Message(N_("expected a whole number, got {value}"), value=_show(n)))
        if not 1 <= n <= MAX_NEURONS:
            raise ScenarioError(f"layers[{i}]", Message(N_("expected 1 to {most} neurons, got {value}"),
                                                        most=MAX_NEURONS, value=_show(n)))
        layers.append(n)
    n_weight_layers = len(layers) - 1

    acts = _list(doc["activations"], "activations", n_weight_layers,
                 N_("expected a list of activation names, got {value}"))
    for i, a in enumerate(acts):
        if a not in ACTIVATION_NAMES:
            raise ScenarioError(f"activations[{i}]", Message(
                N_("unknown activation {value}; choose one of {choices}"), value=_show(a),
                choices=", ".join(ACTIVATION_NAMES),
            ))
        record = ACTIVATIONS[a]
        last = i == n_weight_layers - 1
        if record.output_only and not last:
            raise ScenarioError(f"activations[{i}]", Message(N_("{activation} is only allowed on the output layer"),
                                                             activation=a))
        if layers[i + 1] < record.min_units:
            needs = (N_("{activation} needs at least {count} outputs") if last
                     else N_("{activation} needs at least {count} neurons"))
            raise ScenarioError(f"activations[{i}]", Message(needs, activation=a, count=record.min_units))  # N_ above

    loss = doc["loss"]
    if loss not in LOSS_NAMES:
        raise ScenarioError("loss", Message(N_("unknown loss {value}; choose one of {choices}"), value=_show(loss),
                                            choices=", ".join(LOSS_NAMES)))

    weights_raw = _list(doc["weights"], "weights", n_weight_layers)
    weights = []
    for l, w in enumerate(weights_raw):
        rows = _list(w, f"weights[{l}]", layers[l + 1], Nn_("expected a list of {n} row, got {value}",
                                                             "expected a list of {n} rows, got {value}"),
                     n=layers[l + 1])
        weights.append(np.array([_vector(r, f"weights[{l}][{j}]", layers[l]) for j, r in enumerate(rows)]))
    biases_raw = _list(doc["biases"], "biases", n_weight_layers)
    biases = [_vector(b, f"biases[{l}]", layers[l + 1]) for l, b in enumerate(biases_raw)]

    inputs, batched_in = _samples(doc["inputs"], "inputs", layers[0])
    targets, batched_t = _samples(doc["targets"], "targets", layers[-1])
    if batched_in != batched_t:
        raise ScenarioError("targets", Message(
            N_("inputs and targets must both be one sample or both be lists of samples")))
    if inputs.shape[0] != targets.shape[0]:
        raise ScenarioError("targets", Message(N_("expected one target per sample ({samples}), got {count}"),
                                               samples=inputs.shape[0], count=targets.shape[0]))

    lr = _number(doc["learning_rate"], "learning_rate")
    if not 0 < lr <= MAX_LEARNING_RATE:
        raise ScenarioError("learning_rate", Message(N_("must be in (0, {most}], got {value}"),
                                                     most=f"{MAX_LEARNING_RATE:g}", value=f"{lr:g}"))

    train_biases = doc.get("train_biases", OPTIONAL_KEYS["train_biases"])
    if not isinstance(train_biases, bool):
        raise ScenarioError("train_biases", Message(N_("expected true or false, got {value}"),
                                                    value=_show(train_biases)))
    order = doc.get("update_order", OPTIONAL_KEYS["update_order"])
    if order not in UPDATE_ORDERS:
        raise ScenarioError("update_order", Message(N_("expected one of {choices}, got {value}"),
                                                    choices=", ".join(UPDATE_ORDERS), value=_show(order)))

    _check_loss_pairing(loss, acts[-1], layers[-1], targets)

    return Scenario(
        layers=tuple(layers),
        activations=tuple(acts),
        loss=loss,
        weights=tuple(weights),
        biases=tuple(biases),
        inputs=inputs,
        targets=targets,
        learning_rate=lr,
        train_biases=train_biases,
        update_order=order,
        batched=batched_in,
    )


def loss_pairing_problem(loss: str, output_activation: str, n_outputs: int) -> Message | None:
    """Why ``loss`` cannot follow ``output_activation`` (None when the pairing is fine; ``.text(lang)`` to show
    it). Used by the UI too."""
    return LOSSES[loss].pairing_problem(output_activation, n_outputs)


def _check_loss_pairing(loss: str, out_act: str, n_out: int, targets: np.ndarray) -> None:
    problem = loss_pairing_problem(loss, out_act, n_out)
    if problem:
        raise ScenarioError("loss", problem)
    record = LOSSES[loss]
    if record.target_range is not None:
        lo, hi = record.target_range
        bad = np.argwhere((targets < lo) | (targets > hi))
        if bad.size:
            s, k = (int(i) for i in bad[0])
            raise ScenarioError(f"targets[{s}][{k}]" if targets.shape[0] > 1 else f"targets[{k}]",
                                Message(N_("{loss} needs targets in [{low}, {high}], got {value}"), loss=loss,
                                        low=f"{lo:g}", high=f"{hi:g}", value=f"{targets[s, k]:g}"))
    if record.targets_sum_to_one:
        sums = targets.sum(axis=1)
        bad_rows = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
        if bad_rows.size:
            s = int(bad_rows[0])
            raise ScenarioError(f"targets[{s}]" if targets.shape[0] > 1 else "targets",
                                Message(N_("{loss} needs targets that sum to 1, got {value}"), loss=loss,
                                        value=f"{sums[s]:g}"))


# ---------------------------------------------------------------- parsing text


def _reject_constant(name: str) -> float:
    raise ScenarioError("(document)", Message(N_("{name} is not allowed: every number must be finite"), name=name))


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed document, stopping early past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (JSON parsers disagree on which one wins)."""
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ScenarioError(key, Message(N_("given twice (each key at most once)")))
        doc[key] = value
    return doc


# the json module's messages (JSONDecodeError.msg, CPython's json.decoder and json.scanner), each as it reads
JSON_ERRORS = {msg: msg for msg in (
    N_("Expecting value"), N_("Expecting ',' delimiter"), N_("Expecting ':' delimiter"),
    N_("Expecting property name enclosed in double quotes"), N_("Unterminated string starting at"),
    N_("Invalid control character at"), N_("Invalid \\escape"), N_("Invalid \\uXXXX escape"), N_("Extra data"),
    N_("Illegal trailing comma before end of object"), N_("Illegal trailing comma before end of array"),
)}
_TOO_LARGE = Message(N_("too large: at most {limit} bytes"), limit=f"{MAX_DOCUMENT_BYTES:,}")
_TOO_DEEP = Message(N_("nested too deeply (at most {limit} levels)"), limit=MAX_NESTING)


def parse_json(text: str | bytes) -> Any:
    """Parse scenario text safely (size-capped, no NaN/Infinity, bounded nesting); raise ScenarioError."""
    if isinstance(text, bytes):
        if len(text) > MAX_DOCUMENT_BYTES:
            raise ScenarioError("(document)", _TOO_LARGE)
        try:
            text = text.decode("utf-8-sig")  # a byte-order mark, as Windows editors write, is accepted
        except UnicodeDecodeError:
            raise ScenarioError("(document)", Message(N_("not UTF-8 text"))) from None
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
        raise ScenarioError("(document)", _TOO_LARGE)
    try:
        doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except ScenarioError:
        raise
    except RecursionError:
        raise ScenarioError("(document)", _TOO_DEEP) from None
    except json.JSONDecodeError as exc:  # the parser's own words, in the reader's language where we know them
        error = Message(JSON_ERRORS[exc.msg]) if exc.msg in JSON_ERRORS else exc.msg
        raise ScenarioError("(document)", Message(N_("invalid JSON: {error} at line {line} column {column}"),
                                                  error=error, line=exc.lineno, column=exc.colno)) from None
    except ValueError as exc:  # e.g. an integer literal with thousands of digits
        raise ScenarioError("(document)", Message(N_("invalid JSON: {error}"), error=str(exc))) from None
    if _depth(doc, MAX_NESTING) > MAX_NESTING:
        raise ScenarioError("(document)", _TOO_DEEP)
    return doc


def load_json(text: str | bytes) -> Scenario:
    """Parse and validate a scenario document given as JSON text."""
    return validate(parse_json(text))


# ---------------------------------------------------------------- presets

SEED_DOCUMENT: dict[str, Any] = {
    "layers": [2, 2, 2],
    "activations": ["sigmoid", "sigmoid"],
    "loss": "half_sse",
    "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    "biases": [[0.35, 0.35], [0.60, 0.60]],
    "inputs": [0.05, 0.10],
    "targets": [0.01, 0.99],
    "learning_rate": 0.5,
    "train_biases": True,
    "update_order": "simultaneous",
}

_CORNERS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]  # the four inputs of the logic-gate presets
_XOR = [[0.0], [1.0], [1.0], [0.0]]

# The deep presets (vanishing and exploding gradients): one shape, 2-4-4-4-4-4-4-1, and one set of random draws, He's
# (bpviz.builder, rng seed 22: W ~ N(0, 2 / fan_in), biases 0), times 0.5, 1 and 4 and rounded to 2 places; only the
# hidden activation and the scale of the weights differ, so the gradient-size chart compares like with like. The data
# is XOR on the corners (±1, ±1): with zero biases an all-zero input would keep every net at exactly 0 (a tanh that
# never saturates, a ReLU that never switches on). tests/test_gradient_sizes.py checks each one's lesson.
_DEEP_LAYERS = [2, 4, 4, 4, 4, 4, 4, 1]
_DEEP_SMALL = [  # He's draws times 0.5: every |w| < 1
    [[-0.7, -0.6], [-0.65, -0.31], [0.72, -0.8], [0.47, 0.63]],
    [[-0.13, -0.25, 0.17, 0.43], [0.76, 0.32, 0.56, -0.16], [-0.31, -0.61, -0.41, -0.13], [0.07, -0.46, 0.29, -0.04]],
    [[-0.23, -0.27, 0.71, 0.06], [-0.32, -0.34, 0.65, -0.2], [0.42, 0.5, -0.82, 0.48], [-0.07, -0.38, -0.19, 0.2]],
    [[0.13, 0.15, -0.26, 0.45], [0.53, 0.65, 0.35, 0.67], [0.74, 0.25, 0.31, 0.21], [0.19, 0.31, -0.6, -0.11]],
    [[0.17, -0.75, -0.51, 0.56], [-0.37, -0.16, 0.13, -0.17], [-0.3, -0.18, -0.15, -0.2], [0.06, 0.57, 0.13, 0.57]],
    [[0.26, 0.3, 0.21, -0.11], [0.15, 0.11, -0.39, 0.26], [0.2, 0.13, -0.2, -0.93], [0.52, -0.02, -0.77, 0.23]],
    [[-0.25, 0.24, -0.04, 0.4]],
]
_DEEP_HE = [  # He's draws as they are
    [[-1.4, -1.2], [-1.3, -0.62], [1.45, -1.6], [0.94, 1.26]],
    [[-0.25, -0.5, 0.33, 0.86], [1.52, 0.63, 1.13, -0.32], [-0.62, -1.22, -0.82, -0.26], [0.14, -0.93, 0.58, -0.07]],
    [[-0.45, -0.54, 1.43, 0.12], [-0.63, -0.67, 1.3, -0.41], [0.84, 1.01, -1.64, 0.96], [-0.15, -0.77, -0.38, 0.4]],
    [[0.26, 0.3, -0.51, 0.9], [1.06, 1.3, 0.71, 1.34], [1.48, 0.5, 0.62, 0.41], [0.39, 0.61, -1.21, -0.23]],
    [[0.34, -1.49, -1.02, 1.12], [-0.75, -0.33, 0.27, -0.34], [-0.61, -0.36, -0.3, -0.41], [0.13, 1.14, 0.25, 1.15]],
    [[0.52, 0.59, 0.41, -0.21], [0.3, 0.21, -0.79, 0.53], [0.41, 0.26, -0.39, -1.86], [1.04, -0.05, -1.54, 0.46]],
    [[-0.49, 0.49, -0.07, 0.8]],
]
_DEEP_LARGE = [  # He's draws times 4
    [[-5.59, -4.82], [-5.21, -2.49], [5.79, -6.41], [3.78, 5.05]],
    [[-1.01, -1.98, 1.34, 3.44], [6.1, 2.52, 4.51, -1.27], [-2.47, -4.86, -3.26, -1.03], [0.55, -3.71, 2.31, -0.29]],
    [[-1.82, -2.16, 5.72, 0.48], [-2.54, -2.7, 5.2, -1.64], [3.36, 4.03, -6.57, 3.82], [-0.59, -3.07, -1.54, 1.59]],
    [[1.06, 1.2, -2.05, 3.62], [4.25, 5.19, 2.83, 5.36], [5.92, 1.99, 2.49, 1.65], [1.56, 2.44, -4.83, -0.92]],
    [[1.38, -5.96, -4.08, 4.48], [-3.0, -1.31, 1.06, -1.35], [-2.43, -1.46, -1.21, -1.64], [0.52, 4.55, 1.01, 4.6]],
    [[2.09, 2.36, 1.66, -0.85], [1.19, 0.86, -3.15, 2.12], [1.63, 1.04, -1.58, -7.45], [4.15, -0.2, -6.16, 1.84]],
    [[-1.98, 1.94, -0.29, 3.21]],
]


def _deep(hidden_activation: str, weights: list) -> dict[str, Any]:
    """A deep preset: six hidden layers of ``hidden_activation``, a sigmoid output with binary cross-entropy."""
    return {
        "layers": _DEEP_LAYERS,
        "activations": [hidden_activation] * (len(_DEEP_LAYERS) - 2) + ["sigmoid"],
        "loss": "bce",
        "weights": weights,
        "biases": [[0.0] * n for n in _DEEP_LAYERS[1:]],
        "inputs": [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]],
        "targets": _XOR,
        "learning_rate": 0.5,
        "train_biases": True,
        "update_order": "simultaneous",
    }


PRESET_DOCUMENTS: dict[str, dict[str, Any]] = {
    # The other presets' weights were drawn once (bpviz.builder, then rounded to 2 places) and are written out here
    # so that a preset never changes when an initialiser does; tests/test_training.py checks each one's lesson.
    "seed": SEED_DOCUMENT,
    # Matt Mazur's "A Step by Step Backpropagation Example": same numbers, biases fixed, the output layer updated
    # first and the hidden deltas computed through the updated output weights.
    "mazur": {**copy.deepcopy(SEED_DOCUMENT), "train_biases": False, "update_order": "output_first"},
    # XOR with 2 hidden sigmoids (uniform init, rng seed 1): learns it; many other seeds get stuck at E ≈ 0.06.
    "xor_2_2_1": {
        "layers": [2, 2, 1],
        "activations": ["sigmoid", "sigmoid"],
        "loss": "half_sse",
        "weights": [[[0.02, 0.9], [-0.71, 0.9]], [[0.66, -0.18]]],
        "biases": [[-0.38, -0.15], [0.1]],
        "inputs": _CORNERS,
        "targets": _XOR,
        "learning_rate": 2.0,
        "train_biases": True,
        "update_order": "simultaneous",
    },
    # XOR with 4 hidden sigmoids and binary cross-entropy (uniform init, rng seed 0): learns it in a few hundred steps.
    "xor_2_4_1": {
        "layers": [2, 4, 1],
        "activations": ["sigmoid", "sigmoid"],
        "loss": "bce",
        "weights": [[[0.27, -0.46], [-0.92, -0.97], [0.63, 0.83], [0.21, 0.46]], [[0.71, -0.93, 0.46, -0.65]]],
        "biases": [[0.09, 0.87, 0.63, -0.99], [0.73]],
        "inputs": _CORNERS,
        "targets": _XOR,
        "learning_rate": 1.0,
        "train_biases": True,
        "update_order": "simultaneous",
    },
    # Three classes, softmax + cross-entropy, one-hot targets (Xavier init, rng seed 0).
    "softmax_3class": {
        "layers": [2, 4, 3],
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "weights": [
            [[0.27, -0.46], [-0.92, -0.97], [0.63, 0.83], [0.21, 0.46]],
            [[0.08, 0.81, 0.58, -0.92], [0.66, -0.86, 0.43, -0.6], [0.67, 0.08, -0.37, -0.14]],
        ],
        "biases": [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        "inputs": [[0.1, 0.9], [0.2, 0.7], [0.9, 0.1], [0.8, 0.3], [0.9, 0.9], [0.7, 0.8]],
        "targets": [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]],
        "learning_rate": 0.5,
        "train_biases": True,
        "update_order": "simultaneous",
    },
    # Dead ReLUs: h2 and h4 have negative weights and bias, so net < 0 for every input in [0, 1]²: their output
    # is 0 and relu'(net) = 0, so every gradient of their weights and biases is exactly 0, and they never recover.
    "relu_dead_units": {
        "layers": [2, 4, 1],
        "activations": ["relu", "sigmoid"],
        "loss": "bce",
        "weights": [[[0.6, 0.4], [-0.5, -0.8], [0.3, 0.7], [-0.9, -0.3]], [[0.5, -0.4, 0.7, 0.3]]],
        "biases": [[0.1, -0.2, -0.1, -0.1], [-0.3]],
        "inputs": _CORNERS,
        "targets": [[0.0], [1.0], [1.0], [1.0]],
        "learning_rate": 0.5,
        "train_biases": True,
        "update_order": "simultaneous",
    },
    # Vanishing gradients: sigmoid (σ′ ≤ 0.25) and small weights; each layer back shrinks δ, layer 1 gets ~1e-4 of
    # the output layer's gradient.
    "deep_sigmoid_vanishing": _deep("sigmoid", _DEEP_SMALL),
    # The same shape with ReLU and He initialisation: every layer's gradient within an order of magnitude.
    "deep_relu_he": _deep("relu", _DEEP_HE),
    # tanh with large weights: most hidden nets far beyond |net| = 3, where tanh′ < 0.01: saturated, δ dies out.
    "deep_tanh_saturated": _deep("tanh", _DEEP_LARGE),
}


def preset_names() -> list[str]:
    return list(PRESET_DOCUMENTS)


def preset(name: str) -> Scenario:
    """A built-in scenario by name (``seed`` is the worked example)."""
    if name not in PRESET_DOCUMENTS:
        raise ScenarioError("preset", Message(N_("unknown preset {value}; choose one of {choices}"),
                                              value=_show(name), choices=", ".join(PRESET_DOCUMENTS)))
    return validate(copy.deepcopy(PRESET_DOCUMENTS[name]))
