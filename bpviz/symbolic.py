"""The SymPy layer: the same activations and losses as the engine, as symbolic expressions, and the loss of a
whole network as one SymPy expression of named symbols.

``SYM_ACTIVATIONS`` and ``SYM_LOSSES`` mirror ``engine.ACTIVATIONS`` and ``engine.LOSSES`` under the same names
(a test checks they agree numerically). Derivatives are never typed here: they come from ``sympy.diff``.
Nothing in this module parses user text: symbols are built from names the code generates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .engine import LEAKY_SLOPE, ParamRef
from .naming import Names, names_for

# ---------------------------------------------------------------- the tables (mirror of the engine's)


@dataclass(frozen=True)
class SymActivation:
    """a = f(z) for one neuron. For softmax, ``f(z, zs)`` needs all pre-activations of the layer."""

    name: str
    f: Callable[..., sp.Expr]
    elementwise: bool = True


def _softmax(z: sp.Expr, zs: list[sp.Expr]) -> sp.Expr:
    return sp.exp(z) / sp.Add(*[sp.exp(v) for v in zs])


SYM_ACTIVATIONS: dict[str, SymActivation] = {
    "sigmoid": SymActivation("sigmoid", lambda z: 1 / (1 + sp.exp(-z))),
    "tanh": SymActivation("tanh", sp.tanh),
    "relu": SymActivation("relu", lambda z: sp.Piecewise((z, z > 0), (0, True))),
    "leaky_relu": SymActivation(
        "leaky_relu", lambda z: sp.Piecewise((z, z > 0), (sp.Float(LEAKY_SLOPE) * z, True))
    ),
    "identity": SymActivation("identity", lambda z: z),
    "softmax": SymActivation("softmax", _softmax, elementwise=False),
}


@dataclass(frozen=True)
class SymLoss:
    """One output's share E_k(o_k, t_k) of one sample's loss; ``K`` is the number of outputs."""

    name: str
    share: Callable[[sp.Expr, sp.Expr, int], sp.Expr]


SYM_LOSSES: dict[str, SymLoss] = {
    "half_sse": SymLoss("half_sse", lambda o, t, K: sp.Rational(1, 2) * (o - t) ** 2),
    "mse": SymLoss("mse", lambda o, t, K: (o - t) ** 2 / K),
    "bce": SymLoss("bce", lambda o, t, K: -(t * sp.log(o) + (1 - t) * sp.log(1 - o)) / K),
    "cross_entropy": SymLoss("cross_entropy", lambda o, t, K: -t * sp.log(o)),
}


def activation_expr(name: str, z: sp.Expr, zs: list[sp.Expr] | None = None) -> sp.Expr:
    """f(z) from the table (softmax needs the whole layer ``zs``)."""
    act = SYM_ACTIVATIONS[name]
    return act.f(z) if act.elementwise else act.f(z, zs)


# ---------------------------------------------------------------- the symbols of a network


@dataclass(frozen=True)
class NetSymbols:
    """Named SymPy symbols for one architecture (``sp.Symbol`` names are the LaTeX the printer shows)."""

    names: Names
    inputs: tuple[sp.Symbol, ...]
    targets: tuple[sp.Symbol, ...]
    weights: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]  # weights[l][j][k]
    biases: tuple[tuple[sp.Symbol, ...], ...]  # biases[l][j]
    net: tuple[tuple[sp.Symbol, ...], ...]  # net[l][j], l >= 1 (index 0 = inputs)
    out: tuple[tuple[sp.Symbol, ...], ...]  # out[l][j] (index 0 = inputs)

    def param(self, ref: ParamRef) -> sp.Symbol:
        return self.weights[ref.layer][ref.row][ref.col] if ref.kind == "w" else self.biases[ref.layer][ref.row]


@lru_cache(maxsize=32)
def net_symbols(layers: tuple[int, ...]) -> NetSymbols:
    """Symbols for every input, target, parameter, net and out of a network with these layer sizes."""
    nm = names_for(tuple(layers))
    L = len(layers) - 1
    inputs = tuple(sp.Symbol(nm.input(k), real=True) for k in range(layers[0]))
    targets = tuple(sp.Symbol(nm.target(k), real=True) for k in range(layers[-1]))
    weights = tuple(
        tuple(
            tuple(sp.Symbol(nm.param_latex(ParamRef("w", l, j, k)), real=True) for k in range(layers[l]))
            for j in range(layers[l + 1])
        )
        for l in range(L)
    )
    biases = tuple(
        tuple(sp.Symbol(nm.param_latex(ParamRef("b", l, j)), real=True) for j in range(layers[l + 1]))
        for l in range(L)
    )
    net = (inputs,) + tuple(
        tuple(sp.Symbol(nm.net(l, j), real=True) for j in range(layers[l])) for l in range(1, L + 1)
    )
    out = (inputs,) + tuple(
        tuple(sp.Symbol(nm.out(l, j), real=True) for j in range(layers[l])) for l in range(1, L + 1)
    )
    return NetSymbols(nm, inputs, targets, weights, biases, net, out)


@lru_cache(maxsize=16)
def loss_expression(architecture: tuple) -> sp.Expr:
    """E of one sample as a single SymPy expression of inputs, targets, weights and biases only.

    ``architecture`` is ``Scenario.architecture`` = (layers, activations, loss). Built once per architecture.
    """
    layers, activations, loss = architecture
    sy = net_symbols(tuple(layers))
    a: list[sp.Expr] = list(sy.inputs)
    for l, act in enumerate(activations):
        zs = [
            sp.Add(*[sy.weights[l][j][k] * a[k] for k in range(layers[l])]) + sy.biases[l][j]
            for j in range(layers[l + 1])
        ]
        a = [activation_expr(act, z, zs) for z in zs]
    K = layers[-1]
    return sp.Add(*[SYM_LOSSES[loss].share(a[k], sy.targets[k], K) for k in range(K)])
