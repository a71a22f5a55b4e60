"""Typed identifiers: neurons, parameters, walkthrough steps, and the quantities a formula reads.

Every identifier is a small frozen dataclass. Where a string is unavoidable (widget keys, URLs, a figure's
``customdata``) each has one ``format()`` and one ``parse()``, so no string is ever split apart anywhere else:

    Neuron(1, 0)            "n:1:0"             neuron 0 of layer 1 (layer 0 = the inputs)
    Weight(1, 0, 0)         "w:1:0:0"           weights[1][0][0], from Neuron(1, 0) to Neuron(2, 0): the seed's w5
    Bias(0, 1)              "b:0:1"             biases[0][1], into Neuron(1, 1)
    StepId(FORWARD, Net(Neuron(1, 0)))          "forward:net:1:0"
    StepId(BACKWARD, Weight(1, 0, 0))           "backward:w:1:0:0"

The quantity types (:class:`Net`, :class:`Out`, :class:`Target`, :class:`Delta`, :class:`OutGrad`, :class:`Slope`,
:class:`SoftmaxJacobian`, :class:`One`, and the parameters themselves) name where a number in a formula comes from;
the engine's records hold the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from .i18n import N_, Message


def _ints(text: str, tag: str, n: int) -> tuple[int, ...]:
    """The ``n`` whole numbers after ``tag:`` in ``text`` ("w:1:0:0" -> (1, 0, 0)); ValueError otherwise.

    Every ValueError of this module carries a :class:`~bpviz.i18n.Message` (``exc.args[0]``), so a page can say
    what was wrong in the reader's language; ``str(exc)`` is English."""
    parts = text.split(":")
    if len(parts) != n + 1 or parts[0] != tag:
        raise ValueError(Message(N_("expected {form}, got {value}"), form=f"{tag}:{':'.join(['<n>'] * n)}",
                                 value=repr(text)))
    try:
        values = tuple(int(p) for p in parts[1:])
    except ValueError:
        raise ValueError(Message(N_("expected whole numbers in {value}"), value=repr(text))) from None
    if any(v < 0 for v in values) or any(p != str(v) for p, v in zip(parts[1:], values)):
        raise ValueError(Message(N_("expected plain non-negative whole numbers in {value}"), value=repr(text)))
    return values


# ---------------------------------------------------------------- neurons and parameters


@dataclass(frozen=True, order=True, slots=True)
class Neuron:
    """Neuron ``index`` of layer ``layer`` (0 = the inputs, L = the outputs)."""

    layer: int
    index: int

    TAG: ClassVar[str] = "n"

    def format(self) -> str:
        return f"{self.TAG}:{self.layer}:{self.index}"

    @classmethod
    def parse(cls, text: str) -> Neuron:
        return cls(*_ints(text, cls.TAG, 2))


@dataclass(frozen=True, order=True, slots=True)
class Weight:
    """``weights[layer][row, col]``: the edge from neuron (layer, col) to neuron (layer + 1, row)."""

    layer: int
    row: int
    col: int

    TAG: ClassVar[str] = "w"

    @property
    def source(self) -> Neuron:
        return Neuron(self.layer, self.col)

    @property
    def target(self) -> Neuron:
        return Neuron(self.layer + 1, self.row)

    @property
    def neurons(self) -> tuple[Neuron, ...]:
        """The neurons this parameter touches: its edge's two ends."""
        return (self.source, self.target)

    def pick(self, weights, biases):
        """This parameter's entry of per-layer ``weights`` / ``biases`` (arrays of values or gradients, or nested
        tuples of symbols alike)."""
        return weights[self.layer][self.row][self.col]

    def read(self, weights, biases) -> float:
        """:meth:`pick` as a float."""
        return float(self.pick(weights, biases))

    def write(self, weights, biases, value: float) -> None:
        weights[self.layer][self.row, self.col] = value

    def format(self) -> str:
        return f"{self.TAG}:{self.layer}:{self.row}:{self.col}"

    @classmethod
    def parse(cls, text: str) -> Weight:
        return cls(*_ints(text, cls.TAG, 3))


@dataclass(frozen=True, order=True, slots=True)
class Bias:
    """``biases[layer][row]``: the bias of neuron (layer + 1, row)."""

    layer: int
    row: int

    TAG: ClassVar[str] = "b"

    @property
    def source(self) -> None:
        return None

    @property
    def target(self) -> Neuron:
        return Neuron(self.layer + 1, self.row)

    @property
    def neurons(self) -> tuple[Neuron, ...]:
        return (self.target,)

    def pick(self, weights, biases):
        return biases[self.layer][self.row]

    def read(self, weights, biases) -> float:
        return float(self.pick(weights, biases))

    def write(self, weights, biases, value: float) -> None:
        biases[self.layer][self.row] = value

    def format(self) -> str:
        return f"{self.TAG}:{self.layer}:{self.row}"

    @classmethod
    def parse(cls, text: str) -> Bias:
        return cls(*_ints(text, cls.TAG, 2))


ParamRef = Weight | Bias
PARAM_TYPES: tuple[type, ...] = (Weight, Bias)


def parse_param(text: str) -> ParamRef:
    """A parameter from its ``format()`` ("w:1:0:0" or "b:0:1")."""
    for cls in PARAM_TYPES:
        if text.startswith(cls.TAG + ":"):
            return cls.parse(text)
    raise ValueError(Message(N_("expected a parameter such as w:1:0:0 or b:0:1, got {value}"), value=repr(text)))


def parameter_refs(layers: tuple[int, ...]) -> list[ParamRef]:
    """All parameters of a network: weights row-major, layer by layer (the seed's w1..w8 order), then biases."""
    L = len(layers) - 1
    refs: list[ParamRef] = [Weight(l, j, k) for l in range(L) for j in range(layers[l + 1]) for k in range(layers[l])]
    refs += [Bias(l, j) for l in range(L) for j in range(layers[l + 1])]
    return refs


def backward_order(layers: tuple[int, ...]) -> list[ParamRef]:
    """Output layer first, then layer by layer backwards; in each layer the weights row-major, then the biases."""
    refs: list[ParamRef] = []
    for l in range(len(layers) - 2, -1, -1):
        refs += [Weight(l, j, k) for j in range(layers[l + 1]) for k in range(layers[l])]
        refs += [Bias(l, j) for j in range(layers[l + 1])]
    return refs


def neurons(layers: tuple[int, ...], first_layer: int = 0) -> list[Neuron]:
    """Every neuron from layer ``first_layer`` on, layer by layer."""
    return [Neuron(l, j) for l in range(first_layer, len(layers)) for j in range(layers[l])]


# ---------------------------------------------------------------- quantities (where a formula's number comes from)


@dataclass(frozen=True, slots=True)
class _OfNeuron:
    """A quantity of one neuron; ``format``/``parse`` as "<tag>:<layer>:<index>"."""

    neuron: Neuron
    TAG: ClassVar[str] = ""

    def format(self) -> str:
        return f"{self.TAG}:{self.neuron.layer}:{self.neuron.index}"

    @classmethod
    def parse(cls, text: str):
        return cls(Neuron(*_ints(text, cls.TAG, 2)))


@dataclass(frozen=True, slots=True)
class Net(_OfNeuron):
    """The pre-activation z ("net") of a neuron (for the inputs: the input itself)."""

    TAG: ClassVar[str] = "net"


@dataclass(frozen=True, slots=True)
class Out(_OfNeuron):
    """The activation a ("out") of a neuron (for the inputs: the input itself)."""

    TAG: ClassVar[str] = "out"


@dataclass(frozen=True, slots=True)
class Target:
    """Target value t of output ``output``."""

    output: int


@dataclass(frozen=True, slots=True)
class LossShare:
    """Output ``output``'s share E_k of the loss."""

    output: int
    TAG: ClassVar[str] = "share"

    def format(self) -> str:
        return f"{self.TAG}:{self.output}"

    @classmethod
    def parse(cls, text: str) -> LossShare:
        return cls(*_ints(text, cls.TAG, 1))


@dataclass(frozen=True, slots=True)
class TotalLoss:
    """The total error E."""

    TAG: ClassVar[str] = "total"

    def format(self) -> str:
        return self.TAG

    @classmethod
    def parse(cls, text: str) -> TotalLoss:
        if text != cls.TAG:
            raise ValueError(Message(N_("expected {form}, got {value}"), form=repr(cls.TAG), value=repr(text)))
        return cls()


@dataclass(frozen=True, slots=True)
class Delta(_OfNeuron):
    """δ = ∂E/∂z of a neuron (the engine's ``dE_dz``)."""

    TAG: ClassVar[str] = "delta"


@dataclass(frozen=True, slots=True)
class OutGrad(_OfNeuron):
    """∂E/∂a of a neuron (the engine's ``dE_da``)."""

    TAG: ClassVar[str] = "outgrad"


@dataclass(frozen=True, slots=True)
class Slope(_OfNeuron):
    """f'(z) of an elementwise activation at a neuron."""

    TAG: ClassVar[str] = "slope"


@dataclass(frozen=True, slots=True)
class SoftmaxJacobian:
    """∂out_k/∂net_j of the softmax output layer."""

    k: int
    j: int


@dataclass(frozen=True, slots=True)
class One:
    """The constant 1 (∂net/∂b)."""


Quantity = Net | Out | Target | Delta | OutGrad | Slope | SoftmaxJacobian | One | Weight | Bias


# ---------------------------------------------------------------- walkthrough steps


class Phase(StrEnum):
    """The four parts of the walkthrough, in order."""

    FORWARD = "forward"
    LOSS = "loss"
    BACKWARD = "backward"
    UPDATE = "update"


Subject = Net | Out | LossShare | TotalLoss | Weight | Bias
_SUBJECTS: tuple[type, ...] = (Net, Out, LossShare, TotalLoss, Weight, Bias)


@dataclass(frozen=True, slots=True)
class StepId:
    """One walkthrough step: its phase and what it computes ("forward:net:1:0", "backward:w:1:0:0")."""

    phase: Phase
    subject: Subject

    def format(self) -> str:
        return f"{self.phase.value}:{self.subject.format()}"

    @classmethod
    def parse(cls, text: str) -> StepId:
        phase_text, _, rest = str(text).partition(":")
        try:
            phase = Phase(phase_text)
        except ValueError:
            raise ValueError(Message(N_("unknown phase in step {value}"), value=repr(text))) from None
        tag = rest.partition(":")[0]
        for kind in _SUBJECTS:
            if tag == kind.TAG:
                return cls(phase, kind.parse(rest))
        raise ValueError(Message(N_("unknown step {value}"), value=repr(text)))

    def __str__(self) -> str:
        return self.format()

