"""The walkthrough script: an ordered list of explanation steps for any network, pure data the UI renders.

Phases in order: forward (each neuron's net, then out), loss (each output's share, then the total), backward
(each parameter, output layer first as the seed does), update (each parameter's new value).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import ParamRef

PHASES = ("forward", "loss", "backward", "update")


@dataclass(frozen=True)
class Factor:
    """One local derivative in a chain-rule product, e.g. ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.1868."""

    symbol_latex: str  # \frac{\partial out_{o1}}{\partial net_{o1}}
    general_latex: str  # out_{o1} \left(1 - out_{o1}\right)   (derived by sympy.diff)
    numeric_latex: str  # 0.7514 \cdot \left(1 - 0.7514\right)
    value: float


@dataclass(frozen=True)
class Step:
    """One explanation step.

    ``nodes`` are (layer, neuron); ``edges`` are (l, j, k) = weights[l][j][k], the edge from neuron (l, k) to
    neuron (l + 1, j); ``bias_edges`` are (l, j) = biases[l][j], into neuron (l + 1, j). ``paths`` lists, for a
    hidden parameter, each output path as its own tuple of edges (so the graph can show them all).
    ``factors`` holds the chain-rule product(s): one tuple of factors per summed term.
    """

    index: int
    phase: str
    key: str
    title: str
    latex_symbolic: str
    latex_numeric: str
    value: float
    nodes: tuple[tuple[int, int], ...] = ()
    edges: tuple[tuple[int, int, int], ...] = ()
    bias_edges: tuple[tuple[int, int], ...] = ()
    param: ParamRef | None = None
    factors: tuple[tuple[Factor, ...], ...] = ()
    paths: tuple[tuple[tuple[int, int, int], ...], ...] = ()
    notes: tuple[str, ...] = field(default=())
