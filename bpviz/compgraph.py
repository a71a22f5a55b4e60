"""The loss as a computational graph of elementary operations (micrograd's ``draw_dot``), read off SymPy trees.

The seed's point: the chain rule works because a composite function splits into elementary operations (add,
multiply, exp, ...) whose local derivatives multiply along each path and *add up* where paths meet. This module
builds that graph for one sample and runs the backward pass over it one operation at a time.

Where the graph comes from. Every node is a SymPy sub-expression, never a hand-written op list:

* each neuron contributes two small trees, ``net = Σ_k w_k·out_k + b`` and ``out = f(net)`` (from
  :func:`symbolic.activation_expr`), and each output its loss share (from :func:`symbolic.loss_share_expr`), all
  over the named symbols of :func:`symbolic.net_symbols`; ``E`` is the sum of the shares;
* substituting these trees into each other gives back *exactly* :func:`symbolic.loss_expression` (checked by the tests
  for every activation and loss, see :func:`recomposed_loss`; not at run time, where recomposing a deep relu net
  took SymPy seconds and could exceed Python's recursion limit), so the graph is that expression's
  tree, with the named intermediates (net_h1, out_h1, E_o1) kept as nodes. (Walking loss_expression alone
  would lose them: SymPy distributes the sigmoid's minus sign into the sum, so net_h1 is no sub-tree there.)

Presentation choices:

* SymPy's n-ary ``Add`` / ``Mul`` stay n-ary (a neuron's net is one ``+`` with n + 1 inputs, as a student writes it).
* Numeric constants are folded into the op label instead of being leaves: ``Mul(-1, x)`` is ``neg``, ``Add(1, x)``
  is ``+ 1``, ``Mul(1/2, x)`` is ``× 1/2``, ``Pow(x, -1)`` is ``1/x`` (division = multiply by a reciprocal, as in
  micrograd), ``Pow(x, 2)`` is ``x²``; a ``Piecewise`` that is an activation from the table is labelled by its name.
* Equal sub-expressions are one node (a DAG): out_h1 feeds both output neurons, so its gradient is a *sum* of two
  contributions, which is where backpropagation accumulates.

Each edge carries the local derivative ∂parent/∂child, obtained by ``sympy.diff`` of the parent's op template and
evaluated numerically. The symbolic structure is cached per architecture; a slider move only evaluates floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import sympy as sp

from . import engine, symbolic
from .config import Scenario
from .functions import ACTIVATIONS
from .i18n import N_
from .ids import PARAM_TYPES, Bias, Net, Neuron, One, Out, OutGrad, ParamRef, Quantity, Target, Weight
from .naming import sub, sup

MAX_FULL_NODES = 64  # every 2-2-2 fits (seed: 53, sigmoid+bce: 63); beyond that one screen gets unreadable

LEAF_KINDS = ("input", "target", "weight", "bias", "activation", "net")
# a leaf's kind in words, for the figure's hover (the kinds themselves are identifiers): t(KIND_NAMES[kind], lang)
KIND_NAMES = {"input": N_("input"), "target": N_("target"), "weight": N_("weight"), "bias": N_("bias"),
              "activation": N_("activation"), "net": N_("net")}


# ---------------------------------------------------------------- public data


@dataclass(frozen=True)
class OpNode:
    """One node: a leaf (input, target, weight, bias, or an upstream value in a focus graph) or an operation.

    ``value`` is the forward value ("data"), ``grad`` the final accumulated ∂E/∂node. ``formula`` is the node's
    definition in terms of its children's ids (e.g. ``out_h1 = 1/v6``). ``rank`` = longest path to a root.
    """

    id: str
    name: str  # display name: "w5", "out_h1", "E"; "" for an anonymous intermediate
    op: str  # op label: "+", "×", "neg", "exp", "1/x", "x²", "sigmoid"...; "" for a leaf
    kind: str  # "op" or one of LEAF_KINDS
    value: float
    grad: float
    formula: str
    children: tuple[str, ...]
    consumers: tuple[str, ...]
    rank: int
    param: ParamRef | None = None
    upstream: float | None = None  # root of a focus graph: ∂E/∂root from the engine (the backward seed)
    reference_grad: float | None = None  # focus-graph leaf: the engine's total ∂E/∂leaf over all its consumers

    @property
    def is_leaf(self) -> bool:
        return self.kind != "op"


@dataclass(frozen=True)
class OpEdge:
    """child → parent: ``local`` = ∂parent/∂child (``local_formula`` from sympy.diff), ``contribution`` = grad·local."""

    index: int
    parent: str
    child: str
    local: float
    local_formula: str
    contribution: float


@dataclass(frozen=True)
class BackwardStep:
    """Backward step ``index`` (1-based): node ``node`` pushes its gradient through ``edges`` to its children."""

    index: int
    node: str
    edges: tuple[int, ...]
    completed: tuple[str, ...]  # nodes whose gradient became final in this step


@dataclass(frozen=True)
class Overflow:
    """Where float64 first fails in a graph: ``node``'s forward value (``edge`` None), or the gradient pushed along
    ``edge`` (an edge index: ∂E/∂parent × local derivative is not a finite number)."""

    node: str
    edge: int | None = None


@dataclass(frozen=True, eq=False)
class OpGraph:
    """The computational graph of one sample (``sample``) of a scenario; ``focus`` = one neuron, or None."""

    nodes: tuple[OpNode, ...]
    edges: tuple[OpEdge, ...]
    roots: tuple[str, ...]
    order: tuple[str, ...]  # backward order: op nodes, reverse topological, one per step
    steps: tuple[BackwardStep, ...]
    sample: int
    focus: Neuron | None
    loss: float  # this sample's E (the root's value in a full graph; from the engine in a focus graph)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {n.id: n for n in self.nodes})

    def node(self, node_id: str) -> OpNode:
        return self._by_id[node_id]  # type: ignore[attr-defined]

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    def _clamp(self, k: int | None) -> int:
        return self.n_steps if k is None else max(0, min(int(k), self.n_steps))

    def current(self, k: int | None) -> str | None:
        """The node processed in step k (None before the first step or when k is None = all done)."""
        if k is None:
            return None
        k = self._clamp(k)
        return self.steps[k - 1].node if k >= 1 else None

    def gradients_after(self, k: int | None) -> dict[str, float]:
        """∂E/∂node accumulated after k backward steps (roots hold their seed; untouched nodes are absent)."""
        k = self._clamp(k)
        grads = {r: (self.node(r).upstream if self.node(r).upstream is not None else 1.0) for r in self.roots}
        for step in self.steps[:k]:
            for e in step.edges:
                edge = self.edges[e]
                grads[edge.child] = grads.get(edge.child, 0.0) + edge.contribution
        return grads

    def final_after(self, k: int | None) -> frozenset[str]:
        """Nodes whose gradient is complete after k steps: every consumer has pushed its contribution."""
        k = self._clamp(k)
        done = set(self.roots)
        for step in self.steps[:k]:
            done.update(step.completed)
        return frozenset(done)

    def traversed_after(self, k: int | None) -> frozenset[int]:
        """Edge indices the backward pass has gone through after k steps."""
        k = self._clamp(k)
        return frozenset(e for step in self.steps[:k] for e in step.edges)

    def overflow(self) -> Overflow | None:
        """The first place the elementary operations leave the finite numbers (every later box that depends on it
        shows overflow too): a forward value, in the order the values are computed, else a gradient contribution,
        in backward-step order; None when every value and gradient is finite."""
        bad = next((n.id for n in self.nodes if not math.isfinite(n.value)), None)
        if bad is not None:
            return Overflow(bad)
        for step in self.steps:
            for e in step.edges:
                if not math.isfinite(self.edges[e].contribution):
                    return Overflow(step.node, e)
        return None

    def param_gradients(self) -> dict[ParamRef, float]:
        """∂E/∂p of this sample for every parameter leaf in the graph."""
        return {n.param: n.grad for n in self.nodes if n.param is not None}

    def op_counts(self) -> dict[str, int]:
        """How many nodes of each op label (leaves under their kind)."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            key = n.op or n.kind
            counts[key] = counts.get(key, 0) + 1
        return counts


class GraphTooLarge(ValueError):
    """The full loss graph of this architecture has too many nodes to draw; pick one neuron (``focus``)."""


# ---------------------------------------------------------------- plain names


def _net_name(nm, l: int, j: int) -> str:
    if nm.seed_style:
        return f"net_{nm.node(l, j)}"
    return f"z{sup(f'({l})')}{sub(j + 1)}"


def _out_name(nm, l: int, j: int) -> str:
    if l == 0:
        return nm.node(0, j)
    if nm.seed_style:
        return f"out_{nm.node(l, j)}"
    return f"a{sup(f'({l})')}{sub(j + 1)}"


def _share_name(nm, k: int) -> str:
    return f"E_{nm.node(nm.L, k)}" if nm.seed_style else f"E_{k + 1}"


# ---------------------------------------------------------------- op templates: label, value and local derivatives

_X = tuple(sp.Symbol(f"x{i}", real=True) for i in range(16))


def _number_text(c: sp.Expr) -> str:
    if c.is_Rational and not c.is_Integer:
        return f"{c.p}/{c.q}"
    if c.is_Integer:
        return str(int(c))
    return f"{float(c):g}"


def _op_label(template: sp.Expr) -> str:
    """Short label of an op template over x0, x1, ... (constants folded in)."""
    n = sum(1 for s in _X if s in template.free_symbols)
    if isinstance(template, sp.Piecewise) and n == 1:
        for name, act in ACTIVATIONS.items():
            if act.elementwise and template == act.expr(_X[0]):
                return name
        return "piecewise"
    if template.is_Add:
        const = sum((a for a in template.args if a.is_Number), sp.Integer(0))
        if const == 0:
            return "+"
        return f"+ {_number_text(const)}" if const > 0 else f"− {_number_text(-const)}"
    if template.is_Mul:
        coeff = sp.Mul(*[a for a in template.args if a.is_Number])
        if coeff == 1:
            return "×"
        if coeff == -1 and n == 1:
            return "neg"
        return f"× {_number_text(coeff)}" if coeff > 0 else f"× ({_number_text(coeff)})"
    if template.is_Pow:
        base, exponent = template.args
        if exponent == -1:
            return "1/x"
        if exponent == 2:
            return "x²"
        if exponent.is_Number:
            return f"x^{_number_text(exponent)}"
        return "pow"
    if isinstance(template, sp.Function):
        return template.func.__name__
    return type(template).__name__.lower()


@lru_cache(maxsize=256)
def _template_function(template: sp.Expr, n: int) -> tuple[Callable, Callable, tuple[sp.Expr, ...]]:
    """(fast, safe, derivatives): value and ∂template/∂x_i, i < n, as float functions (math; numpy on domain errors)."""
    xs = _X[:n]
    derivs = tuple(sp.diff(template, x) for x in xs)  # the local derivatives: sympy.diff of the op itself
    fast = sp.lambdify(xs, [template, *derivs], modules="math")
    safe = sp.lambdify(xs, [template, *derivs], modules="numpy")
    return fast, safe, derivs


def _evaluate(template: sp.Expr, n: int, args: list[float]) -> list[float]:
    fast, safe, _ = _template_function(template, n)
    try:
        return [float(v) for v in fast(*args)]
    except (ValueError, OverflowError, ZeroDivisionError):
        # outside the op's domain (log of 0, exp overflow, 0 ** -1): IEEE inf/nan instead of an exception, as NumPy
        # gives for NumPy numbers (plain Python floats would raise again); OpGraph.overflow says where
        with np.errstate(all="ignore"):
            return [float(v) for v in safe(*(np.float64(a) for a in args))]


# ---------------------------------------------------------------- the symbolic structure (cached)


@dataclass(frozen=True)
class _Spec:
    """Everything about the graph that does not depend on the numbers."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    ops: tuple[str, ...]
    kinds: tuple[str, ...]
    sources: tuple[Quantity | None, ...]  # leaves: where the value comes from; ops: None
    templates: tuple[sp.Expr | None, ...]
    children: tuple[tuple[int, ...], ...]
    formulas: tuple[str, ...]
    local_formulas: tuple[tuple[str, ...], ...]  # per node, per child
    roots: tuple[int, ...]
    root_sources: tuple[One | OutGrad, ...]  # the backward seed: ∂E/∂E = 1, or the engine's ∂E/∂out
    ranks: tuple[int, ...]
    order: tuple[int, ...]  # op nodes, backward order


class _Builder:
    """Turns SymPy trees into deduplicated nodes (children before parents)."""

    def __init__(self) -> None:
        self.index: dict[sp.Expr, int] = {}
        self.defined: dict[sp.Symbol, int] = {}  # a named symbol (net_h1, out_h1, E_o1) -> the node of its tree
        self.leaf_info: dict[sp.Symbol, tuple[str, str, Quantity]] = {}  # symbol -> (name, kind, source)
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.sources: list[Quantity | None] = []
        self.templates: list[sp.Expr | None] = []
        self.children: list[tuple[int, ...]] = []

    def _new(self, name: str, kind: str, source: Quantity | None, template, children: tuple[int, ...]) -> int:
        self.names.append(name)
        self.kinds.append(kind)
        self.sources.append(source)
        self.templates.append(template)
        self.children.append(children)
        return len(self.names) - 1

    def add(self, expr: sp.Expr) -> int:
        if expr in self.defined:
            return self.defined[expr]
        if expr in self.index:
            return self.index[expr]
        if expr.is_Symbol:
            if expr not in self.leaf_info:
                raise ValueError(f"symbol {expr} is neither a leaf nor defined by an earlier tree")
            name, kind, source = self.leaf_info[expr]
            idx = self._new(name, kind, source, None, ())
        else:
            if isinstance(expr, sp.Piecewise):
                # an activation with branches: one op over its variable(s), not a tree of comparisons
                child_exprs = sorted(expr.free_symbols, key=str)
                template = expr.xreplace(dict(zip(child_exprs, _X)))
            else:
                child_exprs = [a for a in expr.args if not a.is_Number]
                it = iter(_X)
                template = expr.func(*[a if a.is_Number else next(it) for a in expr.args])
            if len(child_exprs) > len(_X):
                raise ValueError("operation with too many operands")
            kids = tuple(self.add(c) for c in child_exprs)
            idx = self._new("", "op", None, template, kids)
        self.index[expr] = idx
        return idx

    def define(self, symbol: sp.Symbol, expr: sp.Expr, name: str) -> int:
        """``symbol := expr``; the node of ``expr`` is named (an identity activation names the net node twice)."""
        idx = self.add(expr)
        self.defined[symbol] = idx
        self.names[idx] = f"{self.names[idx]} = {name}" if self.names[idx] else name
        return idx


def _register_leaves(b: _Builder, sy, layers: tuple[int, ...]) -> None:
    nm = sy.names
    for k, s in enumerate(sy.inputs):
        b.leaf_info[s] = (nm.node(0, k), "input", Out(Neuron(0, k)))
    for k, s in enumerate(sy.targets):
        b.leaf_info[s] = (f"t{k + 1}", "target", Target(k))
    for l in range(len(layers) - 1):
        for j in range(layers[l + 1]):
            for k in range(layers[l]):
                ref = Weight(l, j, k)
                b.leaf_info[sy.weights[l][j][k]] = (nm.param(ref), "weight", ref)
            ref = Bias(l, j)
            b.leaf_info[sy.biases[l][j]] = (nm.param(ref), "bias", ref)


def _net_tree(sy, layers, l: int, j: int) -> sp.Expr:
    """net_j of layer l over the previous layer's out symbols (the same sum loss_expression builds)."""
    return sp.Add(*[sy.weights[l - 1][j][k] * sy.out[l - 1][k] for k in range(layers[l - 1])]) + sy.biases[l - 1][j]


@lru_cache(maxsize=32)
def _share_trees(architecture: tuple, sy) -> list[sp.Expr]:
    """Each output's loss share: on the outputs, or, for a fused loss, on the output layer's nets (as computed)."""
    layers, _, loss = architecture
    K, L = layers[-1], len(layers) - 1
    if symbolic.is_fused(architecture):
        nets = list(sy.net[L])
        return [symbolic.logits_share_expr(loss, nets[k], nets, sy.targets[k], K) for k in range(K)]
    return [symbolic.loss_share_expr(loss, sy.out[L][k], sy.targets[k], K) for k in range(K)]


@lru_cache(maxsize=32)
def _full_builder(architecture: tuple) -> tuple[_Builder, tuple[int, ...], dict]:
    """The full loss graph: every neuron's net and out tree, every loss share, and E = Σ shares.

    With a fused loss (bce after sigmoid, cross_entropy after softmax) the shares are computed from the output
    layer's nets, as the engine does, so the output layer's out (the probability) is not a node of the loss.
    """
    layers, activations, loss = architecture
    layers = tuple(layers)
    sy = symbolic.net_symbols(layers)
    nm = sy.names
    L = len(layers) - 1
    b = _Builder()
    _register_leaves(b, sy, layers)
    definitions: list[dict] = []  # per level, symbol -> tree (for the recomposition check)
    for l in range(1, L + 1):
        nets = {sy.net[l][j]: _net_tree(sy, layers, l, j) for j in range(layers[l])}
        for j in range(layers[l]):
            b.define(sy.net[l][j], nets[sy.net[l][j]], _net_name(nm, l, j))
        definitions.append(nets)
        if l == L and symbolic.is_fused(architecture):
            break
        outs = {
            sy.out[l][j]: symbolic.activation_expr(activations[l - 1], sy.net[l][j], list(sy.net[l]))
            for j in range(layers[l])
        }
        for j in range(layers[l]):
            b.define(sy.out[l][j], outs[sy.out[l][j]], _out_name(nm, l, j))
        definitions.append(outs)
    K = layers[-1]
    shares = {sp.Symbol(nm.loss_share(k), real=True): tree for k, tree in enumerate(_share_trees(architecture, sy))}
    if K == 1:
        (share,) = shares.values()
        root = b.define(sp.Symbol("E", real=True), share, "E")
    else:
        for k, (sym, tree) in enumerate(shares.items()):
            b.define(sym, tree, _share_name(nm, k))
        definitions.append(shares)
        root = b.define(sp.Symbol("E", real=True), sp.Add(*shares), "E")
    return b, (root,), {"definitions": definitions, "top": sp.Add(*shares) if K > 1 else None}


def recomposed_loss(architecture: tuple) -> sp.Expr:
    """Substitute the graph's named trees back into each other: equals ``symbolic.loss_expression`` exactly."""
    b, roots, info = _full_builder(architecture)
    expr = info["top"] if info["top"] is not None else None
    levels = info["definitions"]
    if expr is None:  # one output: the root is the share tree itself, over out (or net) symbols
        expr = _share_trees(architecture, symbolic.net_symbols(tuple(architecture[0])))[0]
    for level in reversed(levels):
        expr = expr.xreplace(level)
    return expr


@lru_cache(maxsize=32)
def same_as_loss_expression(architecture: tuple) -> bool:
    """Whether :func:`recomposed_loss` is ``symbolic.loss_expression``: the same tree, or, for nested Piecewise
    activations (relu), the same function (SymPy rewrites a condition ``Piecewise(...) > 0`` into an ITE whose
    float factoring depends on substitution order), checked at a few random points."""
    ours, theirs = recomposed_loss(architecture), symbolic.loss_expression(architecture)
    if ours == theirs:
        return True
    if not ours.has(sp.Piecewise):
        return False
    symbols = sorted(theirs.free_symbols | ours.free_symbols, key=str)
    f, g = (sp.lambdify(symbols, e, modules="math") for e in (ours, theirs))
    rng = np.random.default_rng(0)
    for _ in range(8):
        point = rng.uniform(-2, 2, len(symbols)).tolist()
        a, b = f(*point), g(*point)
        if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12):
            return False
    return True


@lru_cache(maxsize=64)
def _focus_builder(architecture: tuple, focus: Neuron) -> tuple[_Builder, tuple[int, ...], dict]:
    """One neuron: its net tree over the previous layer's outs (leaves) and its activation (the root).

    A softmax neuron's net feeds every output of the layer, so those outputs are all roots (the other nets are
    leaves); each root is seeded with the engine's ∂E/∂out. With a fused loss an output neuron's net feeds the loss
    shares directly (the engine computes the loss from the nets), so the roots are the shares, seeded with
    ∂E/∂E_k = 1.
    """
    layers, activations, loss = architecture
    layers = tuple(layers)
    l, j = focus.layer, focus.index
    sy = symbolic.net_symbols(layers)
    nm = sy.names
    b = _Builder()
    _register_leaves(b, sy, layers)
    if l >= 2:
        for k in range(layers[l - 1]):
            b.leaf_info[sy.out[l - 1][k]] = (_out_name(nm, l - 1, k), "activation", Out(Neuron(l - 1, k)))
    b.define(sy.net[l][j], _net_tree(sy, layers, l, j), _net_name(nm, l, j))
    act = activations[l - 1]
    if l == len(layers) - 1 and symbolic.is_fused(architecture):
        return _fused_output_focus(b, architecture, sy, j)
    if ACTIVATIONS[act].elementwise:
        root = b.define(sy.out[l][j], symbolic.activation_expr(act, sy.net[l][j]), _out_name(nm, l, j))
        return b, (root,), {"root_sources": (OutGrad(focus),)}
    for k in range(layers[l]):
        if k != j:
            b.leaf_info[sy.net[l][k]] = (_net_name(nm, l, k), "net", Net(Neuron(l, k)))
    roots = tuple(
        b.define(sy.out[l][k], symbolic.activation_expr(act, sy.net[l][k], list(sy.net[l])), _out_name(nm, l, k))
        for k in range(layers[l])
    )
    return b, roots, {"root_sources": tuple(OutGrad(Neuron(l, k)) for k in range(layers[l]))}


def _fused_output_focus(b: _Builder, architecture: tuple, sy, j: int) -> tuple[_Builder, tuple[int, ...], dict]:
    """The output neuron j's net feeds the loss shares that use it (the other nets are leaves)."""
    layers = architecture[0]
    L, nm = len(layers) - 1, sy.names
    shares = _share_trees(architecture, sy)
    for k in range(layers[L]):
        if k != j:
            b.leaf_info[sy.net[L][k]] = (_net_name(nm, L, k), "net", Net(Neuron(L, k)))
    used = [k for k, tree in enumerate(shares) if tree.has(sy.net[L][j])]
    roots = tuple(b.define(sp.Symbol(nm.loss_share(k), real=True), shares[k], _share_name(nm, k)) for k in used)
    return b, roots, {"root_sources": tuple(One() for _ in used)}


@lru_cache(maxsize=64)
def _spec(architecture: tuple, focus: Neuron | None) -> _Spec:
    """Ids, labels, templates, formulas and the backward order of one graph (numbers come later)."""
    if focus is None:
        b, roots, info = _full_builder(architecture)
        root_sources = (One(),)
    else:
        b, roots, info = _focus_builder(architecture, focus)
        root_sources = info["root_sources"]
    n = len(b.names)
    # ids: a leaf or named node goes by its name, an anonymous intermediate by v1, v2, ... (creation order)
    ids: list[str] = []
    counter = 0
    for i in range(n):
        if b.names[i]:
            ids.append(b.names[i].split(" = ")[-1] if b.kinds[i] == "op" else b.names[i])
        else:
            counter += 1
            ids.append(f"v{counter}")
    ops = [_op_label(t) if t is not None else "" for t in b.templates]
    formulas: list[str] = []
    local_formulas: list[tuple[str, ...]] = []
    for i in range(n):
        t = b.templates[i]
        if t is None:
            formulas.append(ids[i])
            local_formulas.append(())
            continue
        kids = b.children[i]
        named = {x: sp.Symbol(ids[c]) for x, c in zip(_X, kids)}
        formulas.append(f"{ids[i]} = {sp.sstr(t.xreplace(named))}")
        _, _, derivs = _template_function(t, len(kids))
        local_formulas.append(
            tuple(f"∂{ids[i]}/∂{ids[c]} = {sp.sstr(d.xreplace(named))}" for c, d in zip(kids, derivs))
        )
    # rank = longest path to a root: parents are created after their children, so walk creation order backwards
    ranks = [-1] * n
    for r in roots:
        ranks[r] = 0
    for i in range(n - 1, -1, -1):
        if ranks[i] < 0:
            continue
        for c in b.children[i]:
            ranks[c] = max(ranks[c], ranks[i] + 1)
    # depth-first visiting order from the roots, to break ties top-to-bottom
    seen: dict[int, int] = {}
    stack = list(reversed(roots))
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen[i] = len(seen)
        stack.extend(reversed(b.children[i]))
    # backward order: by rank (every consumer has a smaller rank than its inputs) -> reverse topological
    order = tuple(sorted((i for i in range(n) if b.kinds[i] == "op"), key=lambda i: (ranks[i], seen.get(i, n))))
    return _Spec(
        ids=tuple(ids),
        names=tuple(b.names),
        ops=tuple(ops),
        kinds=tuple(b.kinds),
        sources=tuple(b.sources),
        templates=tuple(b.templates),
        children=tuple(b.children),
        formulas=tuple(formulas),
        local_formulas=tuple(local_formulas),
        roots=tuple(roots),
        root_sources=tuple(root_sources),
        ranks=tuple(ranks),
        order=order,
    )


def node_count(architecture: tuple, focus: Neuron | None = None) -> int:
    """Number of nodes of the full graph (or a focus graph) of this architecture."""
    builder = _full_builder(architecture)[0] if focus is None else _focus_builder(architecture, focus)[0]
    return len(builder.names)


def full_graph_allowed(scenario: Scenario) -> bool:
    """Whether the whole loss graph is small enough to draw (else draw one neuron with ``focus``)."""
    return _full_node_count(scenario.architecture) <= MAX_FULL_NODES


def _full_node_count(architecture: tuple) -> int:
    """Node count of the full graph (the trees only: ~55 ms cold for the largest allowed network, then cached)."""
    return node_count(architecture)


# ---------------------------------------------------------------- numbers


def _check_focus(scenario: Scenario, focus: Neuron | None) -> Neuron | None:
    if focus is None:
        return None
    if not isinstance(focus, Neuron):
        raise TypeError(f"focus must be a Neuron or None, got {focus!r}")
    if not 1 <= focus.layer <= scenario.n_layers:
        raise ValueError(f"focus layer must be 1..{scenario.n_layers} (0 is the input layer), got {focus.layer}")
    if not 0 <= focus.index < scenario.layers[focus.layer]:
        raise ValueError(f"focus neuron must be 0..{scenario.layers[focus.layer] - 1}, got {focus.index}")
    return focus


def _single_sample(scenario: Scenario, sample: int) -> Scenario:
    """The scenario restricted to one sample (the engine's per-sample gradients = this scenario's gradients)."""
    if scenario.n_samples == 1:
        return scenario
    return replace(
        scenario,
        inputs=scenario.inputs[sample : sample + 1],
        targets=scenario.targets[sample : sample + 1],
        batched=False,
    )


def build_graph(scenario: Scenario, focus: Neuron | None = None, sample: int = 0) -> OpGraph:
    """The computational graph of sample ``sample``'s loss (or of one neuron), with values and gradients.

    Full graph: leaves are inputs, targets, weights and biases; the root E is seeded with ∂E/∂E = 1, so the
    parameter leaves end with the gradient of this sample's loss (for a one-sample scenario: ``engine.backward``).
    Focus graph (``focus=Neuron(layer, index)``, layer ≥ 1): leaves are the incoming activations (forward values from
    the engine); the root out is seeded with the engine's ∂E/∂out. Raises :class:`GraphTooLarge` for a full graph
    over ``MAX_FULL_NODES`` nodes.
    """
    if not 0 <= sample < scenario.n_samples:
        raise ValueError(f"sample must be 0..{scenario.n_samples - 1}, got {sample}")
    focus = _check_focus(scenario, focus)
    if focus is None and not full_graph_allowed(scenario):
        raise GraphTooLarge(
            f"the full graph has more than {MAX_FULL_NODES} nodes; choose one neuron (focus=Neuron(layer, index))"
        )
    spec = _spec(scenario.architecture, focus)
    one = _single_sample(scenario, sample)
    trace = grads = None
    if focus is not None:
        trace = engine.forward(one)
        grads = engine.backward(one, trace)
    values, locals_ = _forward(spec, one, trace)
    seeds = {r: 1.0 if isinstance(src, One) else float(grads.dE_da[src.neuron.layer][0, src.neuron.index])
             for r, src in zip(spec.roots, spec.root_sources)}
    grad, edge_rows, step_rows = _backward(spec, locals_, seeds)
    consumers: list[list[int]] = [[] for _ in spec.ids]
    for i, kids in enumerate(spec.children):
        for c in kids:
            consumers[c].append(i)
    steps = _steps(spec, edge_rows, step_rows, consumers)
    nodes = tuple(_node(spec, i, values[i], grad[i], consumers[i], seeds, focus, grads) for i in range(len(spec.ids)))
    edges = tuple(OpEdge(e, spec.ids[p], spec.ids[c], local, formula, contribution)
                  for e, (p, c, local, formula, contribution) in enumerate(edge_rows))
    loss = values[spec.roots[0]] if focus is None else float(trace.loss)
    return OpGraph(nodes=nodes, edges=edges, roots=tuple(spec.ids[r] for r in spec.roots),
                   order=tuple(spec.ids[i] for i in spec.order), steps=steps, sample=sample, focus=focus, loss=loss)


def _forward(spec: _Spec, one: Scenario, trace) -> tuple[list[float], list[list[float]]]:
    """(value of every node, local derivatives ∂node/∂child of every op), in creation order (children first)."""
    n = len(spec.ids)
    values = [0.0] * n
    locals_: list[list[float]] = [[] for _ in range(n)]
    for i in range(n):
        if spec.templates[i] is None:
            values[i] = _leaf_value(one, trace, spec.sources[i])
        else:
            kids = spec.children[i]
            out = _evaluate(spec.templates[i], len(kids), [values[c] for c in kids])
            values[i], locals_[i] = out[0], out[1:]
    return values, locals_


def _backward(spec: _Spec, locals_: list[list[float]], seeds: dict[int, float]):
    """The backward pass: each op node (reverse topological) pushes grad · local to its children.

    Returns (∂E/∂node of every node, edge rows (parent, child, local, formula, contribution), step rows (node,
    its edge rows))."""
    grad = [0.0] * len(spec.ids)
    for r, g in seeds.items():
        grad[r] = g
    edge_rows: list[tuple[int, int, float, str, float]] = []
    step_rows: list[tuple[int, tuple[int, ...]]] = []
    for i in spec.order:
        ids = []
        for pos, c in enumerate(spec.children[i]):
            contribution = grad[i] * locals_[i][pos]  # chain rule: ∂E/∂child += ∂E/∂parent · ∂parent/∂child
            grad[c] += contribution
            ids.append(len(edge_rows))
            edge_rows.append((i, c, locals_[i][pos], spec.local_formulas[i][pos], contribution))
        step_rows.append((i, tuple(ids)))
    return grad, edge_rows, step_rows


def _steps(spec: _Spec, edge_rows: list, step_rows: list, consumers: list[list[int]]) -> tuple[BackwardStep, ...]:
    """One step per op node; a child's gradient is complete once every consumer has pushed its contribution."""
    pending = [len(c) for c in consumers]
    steps: list[BackwardStep] = []
    for k, (i, eids) in enumerate(step_rows, start=1):
        completed = []
        for e in eids:
            c = edge_rows[e][1]
            pending[c] -= 1
            if pending[c] == 0:
                completed.append(spec.ids[c])
        steps.append(BackwardStep(k, spec.ids[i], eids, tuple(completed)))
    return tuple(steps)


def _node(spec: _Spec, i: int, value: float, grad: float, consumers: list[int], seeds: dict[int, float],
          focus: Neuron | None, grads) -> OpNode:
    src = spec.sources[i]
    reference = None
    if focus is not None and isinstance(src, Out):
        reference = float(grads.dE_da[src.neuron.layer][0, src.neuron.index])
    return OpNode(id=spec.ids[i], name=spec.names[i], op=spec.ops[i], kind=spec.kinds[i], value=value, grad=grad,
                  formula=spec.formulas[i], children=tuple(spec.ids[c] for c in spec.children[i]),
                  consumers=tuple(spec.ids[p] for p in consumers), rank=spec.ranks[i],
                  param=src if isinstance(src, PARAM_TYPES) else None,
                  upstream=seeds.get(i) if focus is not None else None, reference_grad=reference)


def _leaf_value(scenario: Scenario, trace, source: Quantity) -> float:
    match source:
        case Out(Neuron(0, k)):
            return float(scenario.inputs[0, k])
        case Out(Neuron(l, k)):
            return float(trace.a[l][0, k])
        case Net(Neuron(l, k)):
            return float(trace.z[l][0, k])
        case Target(k):
            return float(scenario.targets[0, k])
        case Weight() | Bias():
            return engine.value_of(scenario, source)
    raise ValueError(f"unknown leaf source {source!r}")
