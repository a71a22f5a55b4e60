"""The SymPy layer: the loss of a whole network as one SymPy expression of named symbols, and the chain rule of
every parameter, derived with ``sympy.diff`` from the expressions in :mod:`bpviz.functions` (the same records the
engine's NumPy functions sit in; a test checks they agree numerically). Derivatives are never typed here.
Nothing in this module parses user text: symbols are built from names the code generates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from .functions import ACTIVATIONS, LOSSES
from .ids import (
    Bias,
    Delta,
    Net,
    Neuron,
    One,
    Out,
    OutGrad,
    ParamRef,
    Quantity,
    Slope,
    SoftmaxJacobian,
    Target,
    Weight,
)
from .naming import Names, names_for
from .numbers import latex as latex_number


def activation_expr(name: str, z: sp.Expr, zs: list[sp.Expr] | None = None) -> sp.Expr:
    """f(z) from the activation's record (softmax needs the whole layer ``zs``)."""
    return ACTIVATIONS[name].sympy(z, zs)


def loss_share_expr(loss: str, o: sp.Expr, t: sp.Expr, K: int) -> sp.Expr:
    """One output's share E_k(o_k, t_k) of one sample's loss, on the outputs (the loss's definition)."""
    return LOSSES[loss].expr(o, t, K)


def is_fused(architecture: tuple) -> bool:
    """Whether the loss is computed from the output layer's nets (bce after sigmoid, cross_entropy after softmax)."""
    _, activations, loss = architecture
    return LOSSES[loss].fused_with(activations[-1])


def logits_share_expr(loss: str, z: sp.Expr, zs: list[sp.Expr], t: sp.Expr, K: int) -> sp.Expr:
    """Output k's share computed from its net ``z`` (``zs``: every net of the output layer): the fused form."""
    return LOSSES[loss].fused.expr(z, zs, t, K)


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
        return ref.pick(self.weights, self.biases)


@lru_cache(maxsize=32)
def net_symbols(layers: tuple[int, ...]) -> NetSymbols:
    """Symbols for every input, target, parameter, net and out of a network with these layer sizes."""
    nm = names_for(tuple(layers))
    L = len(layers) - 1
    inputs = tuple(sp.Symbol(nm.input(k), real=True) for k in range(layers[0]))
    targets = tuple(sp.Symbol(nm.target(k), real=True) for k in range(layers[-1]))
    weights = tuple(
        tuple(
            tuple(sp.Symbol(nm.param_latex(Weight(l, j, k)), real=True) for k in range(layers[l]))
            for j in range(layers[l + 1])
        )
        for l in range(L)
    )
    biases = tuple(
        tuple(sp.Symbol(nm.param_latex(Bias(l, j)), real=True) for j in range(layers[l + 1]))
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
    if is_fused(architecture):  # the loss the engine computes: from the output layer's nets
        return sp.Add(*[logits_share_expr(loss, zs[k], zs, sy.targets[k], K) for k in range(K)])
    return sp.Add(*[loss_share_expr(loss, a[k], sy.targets[k], K) for k in range(K)])


# ================================================================ the chain rule, derived
#
# Every local derivative below comes from ``sympy.diff`` of the table definitions above, rewritten in terms of the
# out symbols where that is the classic form (sigmoid' = out (1 - out)). All of it is built once per architecture
# (``_forms``, an lru_cache): each general form is printed once to LaTeX, and a numeric *template* is made from the
# same print with every symbol replaced by a slot. A call then only formats numbers into slots; the values of the
# factors are read from the engine's Trace / Gradients (recorded, not recomputed).


@dataclass(frozen=True)
class Factor:
    """One local derivative in a chain-rule product, e.g. ∂out_o1/∂net_o1 = out_o1(1 − out_o1) = 0.1868."""

    symbol_latex: str  # \frac{\partial out_{o1}}{\partial net_{o1}}
    general_latex: str  # out_{o1} \left(1 - out_{o1}\right)   (derived by sympy.diff)
    numeric_latex: str  # 0.7514 \cdot \left(1 - 0.7514\right)
    value: float
    general_expr: sp.Expr | None = field(default=None, compare=False, repr=False)  # the sympy form behind it

    def cells(self, decimals: int, lang: str = "en") -> tuple[str, ...]:
        """The factor's row: symbol = general form = with numbers = value, without a cell that only repeats the
        one before it (∂net/∂w5 = out_h1 = 0.5933, not "= 0.5933 = 0.5933"; ∂net/∂b = 1, not "1 = 1 = 1.0000").
        ``lang``: the language of the words for a value float64 cannot hold."""
        cells = [self.symbol_latex, self.general_latex]
        if self.numeric_latex != self.general_latex:
            cells.append(self.numeric_latex)
        if not _is_number(cells[-1]):
            cells.append(format_number(self.value, decimals, lang))
        return tuple(cells)


def _is_number(latex: str) -> bool:
    """Whether a LaTeX cell is a plain number, e.g. 0.5933 or \\left(-0.3688\\right)."""
    plain = latex.replace(r"\left(", "").replace(r"\right)", "").replace("{", "").replace("}", "")
    try:
        float(plain)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class ChainRule:
    """∂E/∂p for one parameter as a factorised chain of named local derivatives.

    ``terms`` is a sum of products: ∂E/∂p = Σ_terms Π_factors (one term per path, e.g. per output for a hidden
    weight of a one-hidden-layer net, per neuron of the next layer in the delta recursion of deeper nets).
    ``symbolic_latex``, ``general_latex`` and ``numeric_latex`` are whole equations starting with ``lhs_latex``.
    ``value`` is sample ``sample``'s gradient (the chain shown); ``batch_value`` is the engine's dE_dW, the mean
    over ``n_samples`` samples (equal to ``value`` when there is one sample).
    """

    ref: ParamRef
    lhs_latex: str
    symbolic_latex: str
    terms: tuple[tuple[Factor, ...], ...]
    numeric_latex: str
    value: float
    general_latex: str = ""
    batch_value: float = float("nan")
    n_samples: int = 1
    sample: int = 0
    intermediate_latex: str = ""  # several terms: their sum on a line of its own (∂E/∂out_h1 = path 1 + path 2)
    short_latex: str = ""  # the symbolic chain in one line (without the expansion over every path)
    question_latex: str = ""  # ``numeric_latex`` with QUESTION where its value is (the quiz asks for it)
    product: tuple[tuple[str, float], ...] = ()  # (symbol, value) of each factor of the numeric line's product


QUESTION = r"\boxed{\,?\,}"  # where a formula's value would be while a student predicts it


# ---------------------------------------------------------------- numbers


def format_number(x: float, decimals: int = 4, lang: str = "en") -> str:
    """A number in a formula (:func:`bpviz.numbers.latex`: 0.1500, 1, 4.386 \\times 10^{-5}; ``lang``: the
    language of the words for a value float64 cannot hold)."""
    return latex_number(x, decimals, lang)


def substituted(x: float, decimals: int = 4, lang: str = "en") -> str:
    """A number as it goes into a formula: negative and scientific numbers parenthesised."""
    text = format_number(x, decimals, lang)
    return rf"\left({text}\right)" if text.startswith("-") or "times" in text else text


def partial_latex(num: str, den: str) -> str:
    """Leibniz notation ∂num/∂den (notation only: the derivatives themselves come from sympy.diff)."""
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


def _wrap(latex: str, expr: sp.Expr | None) -> str:
    """Parenthesise a printed sum when it becomes one factor of a product."""
    if isinstance(expr, (sp.Add, sp.Piecewise)) or (expr is not None and expr.could_extract_minus_sign()):
        return rf"\left({latex}\right)"
    return latex


# ---------------------------------------------------------------- LaTeX templates with numeric slots

# where a symbol's number comes from: a typed quantity of bpviz.ids (Out, Net, Target, Weight, Bias, ...)
Source = Quantity


class Template:
    """A LaTeX string with slots for numbers, printed once from a SymPy expression.

    A top-level Piecewise (relu, leaky_relu and their derivatives) keeps one template per branch and shows the
    branch that applies, with its condition in numbers.
    """

    __slots__ = ("parts", "slots", "branches", "bare")

    def __init__(self, parts: tuple[str, ...], slots: tuple[Source, ...], branches: tuple = ()) -> None:
        self.parts = parts
        self.slots = slots
        self.branches = branches  # ((condition function, args sources, condition template, branch template), ...)
        # a slot the printer already wrapped in \left( \right) (e.g. a superscripted symbol squared) gets no
        # second pair of parentheses
        self.bare = tuple(
            parts[i].endswith(r"\left(") and parts[i + 1].startswith(r"\right)") for i in range(len(slots))
        )

    def fill(self, num: Callable[[Source], float], sub: Callable[[Source, bool], str]) -> str:
        """The template with numbers: ``num(source)`` gives a float, ``sub(source, bare)`` its text in the formula
        (``bare``: already parenthesised by the printer)."""
        if self.branches:
            for cond_fn, args, cond_tpl, tpl in self.branches:
                if cond_fn(*[num(s) for s in args]):
                    return rf"{tpl.fill(num, sub)} \quad \left({cond_tpl.fill(num, sub)}\right)"
            return ""
        out = [self.parts[0]]
        for slot, bare, part in zip(self.slots, self.bare, self.parts[1:]):
            out.append(sub(slot, bare))
            out.append(part)
        return "".join(out)


def _slot_template(latex: str, sources: dict[sp.Symbol, Source], free: set) -> Template:
    """Cut ``latex`` at every occurrence of a symbol's printed name (longest names first, not inside a word)."""


    names = {sp.latex(s): sources[s] for s in free if s in sources}
    if not names:
        return Template((latex,), ())
    pattern = re.compile(
        r"(?<![A-Za-z\\])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")"
    )
    pieces = pattern.split(latex)  # text, name, text, name, ..., text
    return Template(tuple(pieces[0::2]), tuple(names[n] for n in pieces[1::2]))


def make_template(expr: sp.Expr, sources: dict[sp.Symbol, Source], order: str | None = None) -> Template:
    """The numeric template of ``expr`` (products printed with \\cdot so numbers are never juxtaposed)."""
    kw = {"mul_symbol": "dot"}
    if order:
        kw["order"] = order
    if isinstance(expr, sp.Piecewise):
        branches = []
        previous: list = []
        for value, cond in expr.args:
            shown = cond if cond is not sp.true else sp.And(*[sp.Not(c) for c in previous])
            if shown is sp.true:  # a single unconditional branch
                return make_template(value, sources, order)
            syms = sorted(shown.free_symbols, key=str)
            fn = sp.lambdify(syms, shown, "math")
            branches.append((
                fn,
                tuple(sources[s] for s in syms),
                _slot_template(sp.latex(shown, **kw), sources, shown.free_symbols),
                make_template(value, sources, order),
            ))
            previous.append(cond)
        return Template(("",), (), tuple(branches))
    return _slot_template(sp.latex(expr, **kw), sources, expr.free_symbols)


# ---------------------------------------------------------------- derivations (once per activation / loss)

_Z, _A = sp.Symbol("z", real=True), sp.Symbol("a", real=True)


def in_terms_of_out(d: sp.Expr, z: sp.Symbol, a: sp.Symbol, fz: sp.Expr) -> sp.Expr:
    """Rewrite a derivative of f(z) in terms of a = f(z): substitute f(z) -> a, then eliminate what is left of z
    (e.g. sigmoid: e^{-z} = (1 - a)/a from solving a = 1/(1 + e^{-z}))."""
    d = d.subs(fz, a)
    if d.has(z) and not fz.has(sp.Piecewise):
        for g in sorted((g for g in d.atoms(sp.Function) if g.has(z)), key=str):
            G = sp.Dummy("G")
            inner = fz.subs(g, G)
            if inner.has(z):
                continue
            sols = sp.solve(sp.Eq(a, inner), G)
            if len(sols) == 1:
                d = d.subs(g, sols[0])
    return sp.factor_terms(d) if not d.has(z) else d


@lru_cache(maxsize=64)
def activation_derivative(name: str) -> sp.Expr:
    """d f / d z of an elementwise activation, by sympy.diff, in terms of out ``a`` (and ``z`` where needed)."""
    fz = activation_expr(name, _Z)
    return in_terms_of_out(sp.diff(fz, _Z), _Z, _A, fz)


def _tidy(e: sp.Expr) -> sp.Expr:
    """A rational expression as one fraction of expanded parts ((a − t)/2 rather than −(−a + t)/2)."""
    return sp.together(sp.expand(sp.cancel(e)))


@lru_cache(maxsize=64)
def fused_delta(act: str, loss: str, K: int) -> sp.Expr:
    """∂E_k/∂z_k of an elementwise output activation with the loss folded in, by sympy.diff of the share of f(z),
    in terms of a = f(z) and ``t`` (bce after sigmoid: (a − t)/K; the f'(z) cancels)."""
    t = sp.Symbol("t", real=True)
    fz = activation_expr(act, _Z)
    return _tidy(in_terms_of_out(sp.diff(loss_share_expr(loss, fz, t, K), _Z), _Z, _A, fz))


@lru_cache(maxsize=64)
def loss_derivative(loss: str, K: int) -> sp.Expr:
    """∂E_k/∂o_k of one output's share, by sympy.diff (in the generic symbols ``a`` = o_k and ``t``)."""
    t = sp.Symbol("t", real=True)
    return sp.diff(loss_share_expr(loss, _A, t, K), _A)


@lru_cache(maxsize=64)
def layer_generic(act: str, K: int, loss: str) -> tuple:
    """Generic forms of a non-elementwise (softmax) output layer of K outputs: (zs, outs, ts, jac[k][j] =
    ∂a_k/∂z_j, delta[j] = ∂E/∂z_j).

    Derived with sympy.diff in z, then e^{z_i} -> a_i (softmax is unchanged when every e^{z_i} is scaled, and
    Σ a_i = 1); when the loss needs targets that sum to 1 (cross_entropy), that turns δ_j into a_j − t_j.
    """
    zs = sp.symbols(f"z1:{K + 1}", real=True)
    outs = sp.symbols(f"a1:{K + 1}", real=True)
    ts = sp.symbols(f"t1:{K + 1}", real=True)
    fs = [activation_expr(act, z, list(zs)) for z in zs]

    def rewrite(d: sp.Expr) -> sp.Expr:
        d = d.subs({sp.exp(zs[i]): outs[i] for i in range(K)})
        d = sp.expand(sp.cancel(d.subs(sp.Add(*outs), 1)))
        d = sp.expand(sp.cancel(d)).subs(sp.Add(*outs), 1)
        return d

    jac = tuple(tuple(sp.factor_terms(rewrite(sp.diff(fs[k], zs[j]))) for j in range(K)) for k in range(K))
    E = sp.Add(*[loss_share_expr(loss, fs[k], ts[k], K) for k in range(K)])
    deltas = []
    for j in range(K):
        d = rewrite(sp.diff(E, zs[j]))
        if LOSSES[loss].targets_sum_to_one:
            d = sp.collect(sp.expand(d), outs[j]).subs(sp.Add(*ts), 1)
        deltas.append(sp.factor_terms(d))
    return zs, outs, ts, jac, tuple(deltas)


# ---------------------------------------------------------------- per-architecture forms and chain plans


@dataclass(frozen=True, eq=False)
class FactorForm:
    """A local derivative's symbolic side: its name, its sympy-derived general form, its numeric template, and
    where the engine recorded its value (a quantity of :mod:`bpviz.ids`: OutGrad, Slope, SoftmaxJacobian, Delta,
    Out, Weight, One)."""

    symbol_latex: str
    general_latex: str
    expr: sp.Expr | None
    template: Template
    value_src: tuple


@dataclass(frozen=True, eq=False)
class ChainPlan:
    """Everything about one parameter's chain rule that does not depend on the numbers."""

    ref: ParamRef
    lhs_latex: str
    symbolic_latex: str
    general_latex: str
    terms: tuple[tuple[FactorForm, ...], ...]
    prefix: int  # factors [0, prefix) differ between terms; the rest is common to all terms (printed once)
    head_latex: str = ""  # several terms: what their sum is (∂E/∂out_h1), shown on a line of its own
    short_latex: str = ""  # the symbolic chain without its expansion over every path (one line, for a projector)


# the colour of each path (term) of a chain, in the formulas and on the network's edges alike (Okabe-Ito, without
# the sign colours blue and vermillion of the edges)
PATH_COLOURS = ("#CC79A7", "#009E73", "#E69F00", "#56B4E9", "#999933", "#882255", "#44AA99", "#AA4499")


INTERMEDIATE_TERMS_PER_LINE = 4


def path_colour(i: int) -> str:
    return PATH_COLOURS[i % len(PATH_COLOURS)]


def _coloured(i: int, latex: str) -> str:
    return rf"\textcolor{{{path_colour(i)}}}{{{latex}}}"


def _sum(parts: list[str], per_line: int) -> str:
    """Coloured terms joined by +, broken into lines of ``per_line`` terms for an ``aligned`` block if needed."""
    parts = [_coloured(i, p) for i, p in enumerate(parts)]
    if per_line and len(parts) > per_line:
        return r" \\ &\qquad + ".join(" + ".join(parts[i:i + per_line]) for i in range(0, len(parts), per_line))
    return " + ".join(parts)


def _render(terms: tuple[tuple, ...], prefix: int, show: Callable, per_line: int = 0) -> str:
    """Σ_terms Π_factors as LaTeX, the common tail factored out: (a·b + c·d)·e·f, each term in its path's colour.

    With ``per_line`` and more terms than that, the sum is broken into lines of ``per_line`` terms for an
    ``aligned`` environment. The sum's parentheses are ``\\Bigl( … \\Bigr)``, fixed-size delimiters rather than
    a ``\\left( … \\right)`` group: a group can neither span the lines of an ``aligned`` block nor break where the
    formula wraps on a narrow screen.
    """
    if len(terms) == 1:
        return r" \cdot ".join(show(f) for f in terms[0])
    parts = [r" \cdot ".join(show(f) for f in term[:prefix]) for term in terms]
    tail = [show(f) for f in terms[0][prefix:]]
    return r" \cdot ".join([rf"\Bigl({_sum(parts, per_line)}\Bigr)"] + tail)


def equation(lhs: str, *rhs: str) -> str:
    """lhs = rhs_1 = rhs_2 …, as one line, or as an ``aligned`` block (one right side per line) when any right
    side is long or already broken into lines."""
    if len(rhs) == 1 and r"\\" not in rhs[0]:
        return f"{lhs} = {rhs[0]}"
    lines = [rf"{lhs} &= {rhs[0]}"] + [rf"&= {r}" for r in rhs[1:]]
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def _common_tail(terms: tuple[tuple, ...]) -> int:
    """Length of the per-term prefix once the factors shared by every term (the same objects) are split off."""
    n = min(len(t) for t in terms)
    shared = 0
    while shared < n and len(terms) > 1 and all(t[-1 - shared] is terms[0][-1 - shared] for t in terms):
        shared += 1
    return len(terms[0]) - shared


class Forms:
    """The symbolic forms of one architecture (layers, activations, loss), built lazily and kept.

    Obtain through :func:`forms` (cached per architecture); the forward/loss templates of the walkthrough live
    here too so that every formula is printed by SymPy exactly once per architecture.
    """

    def __init__(self, architecture: tuple) -> None:
        layers, activations, loss = architecture
        self.layers, self.activations, self.loss = tuple(layers), tuple(activations), loss
        self.L = len(layers) - 1
        self.K = layers[-1]
        self.sy = net_symbols(self.layers)
        self.nm = self.sy.names
        self.out_act = activations[-1]
        self.softmax = not ACTIVATIONS[self.out_act].elementwise  # the output layer mixes its nets
        self.fused = is_fused(architecture)  # the loss is computed from the output layer's nets
        self.fused_softmax = self.softmax and self.fused
        sy = self.sy
        src: dict[sp.Symbol, Source] = {}
        for l in range(self.L + 1):
            for j in range(layers[l]):
                src[sy.out[l][j]] = Out(Neuron(l, j))
                if l:
                    src[sy.net[l][j]] = Net(Neuron(l, j))
        for k, t in enumerate(sy.targets):
            src[t] = Target(k)
        for l in range(self.L):
            for j in range(layers[l + 1]):
                src[sy.biases[l][j]] = Bias(l, j)
                for k in range(layers[l]):
                    src[sy.weights[l][j][k]] = Weight(l, j, k)
        self.sources = src
        self._cache: dict[tuple, object] = {}

    def _cached(self, key: tuple, build: Callable[[], object]):
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = build()
        return hit

    def _factor(self, symbol_latex: str, expr: sp.Expr, value_src: tuple) -> FactorForm:
        return FactorForm(symbol_latex, sp.latex(expr), expr, make_template(expr, self.sources), value_src)

    # ------------------------------------------------------------ expressions of one neuron

    def net_expr(self, m: int, j: int) -> sp.Expr:
        """net of neuron (m, j) = Σ_k w_jk out_k + b_j (evaluated: for sympy.diff)."""
        sy = self.sy
        return self._cached(("net", m, j), lambda: sp.Add(
            *[sy.weights[m - 1][j][k] * sy.out[m - 1][k] for k in range(self.layers[m - 1])], sy.biases[m - 1][j]
        ))

    def out_expr(self, m: int, j: int) -> sp.Expr:
        """out of neuron (m, j) = f(net) from the activation table."""
        return activation_expr(self.activations[m - 1], self.sy.net[m][j], list(self.sy.net[m]))

    # ------------------------------------------------------------ local derivatives (each by sympy.diff)

    def act_factor(self, m: int, j: int) -> FactorForm:
        """∂out/∂net of an elementwise activation, in terms of out (e.g. sigmoid: out (1 − out))."""
        def build() -> FactorForm:
            sy = self.sy
            expr = activation_derivative(self.activations[m - 1]).xreplace({_Z: sy.net[m][j], _A: sy.out[m][j]})
            return self._factor(partial_latex(self.nm.out(m, j), self.nm.net(m, j)), expr, Slope(Neuron(m, j)))
        return self._cached(("act", m, j), build)

    def loss_factor(self, k: int, share: bool) -> FactorForm:
        """∂E/∂out_k (or ∂E_k/∂out_k, the same number: E_k is the only share that depends on out_k)."""
        def build() -> FactorForm:
            sy = self.sy
            expr = loss_derivative(self.loss, self.K).xreplace(
                {_A: sy.out[self.L][k], sp.Symbol("t", real=True): sy.targets[k]}
            )
            num = self.nm.loss_share(k) if share else "E"
            return self._factor(partial_latex(num, self.nm.out(self.L, k)), expr, OutGrad(Neuron(self.L, k)))
        return self._cached(("loss", k, share), build)

    def _softmax_map(self) -> dict:
        zs, outs, ts, _, _ = layer_generic(self.out_act, self.K, self.loss)
        sy = self.sy
        return {**dict(zip(zs, sy.net[self.L])), **dict(zip(outs, sy.out[self.L])), **dict(zip(ts, sy.targets))}

    def jac_factor(self, k: int, j: int) -> FactorForm:
        """∂out_k/∂net_j of the softmax output layer, e.g. −out_1 out_2 (k ≠ j)."""
        def build() -> FactorForm:
            expr = layer_generic(self.out_act, self.K, self.loss)[3][k][j].xreplace(self._softmax_map())
            return self._factor(partial_latex(self.nm.out(self.L, k), self.nm.net(self.L, j)), expr,
                                SoftmaxJacobian(k, j))
        return self._cached(("jac", k, j), build)

    def out_delta_factor(self, j: int) -> FactorForm:
        """∂E/∂net_j of an output neuron in one factor: for a softmax output the sum over all outputs (for
        cross_entropy: out_j − t_j), for a fused elementwise output its closed form (bce: (out_j − t_j)/K)."""
        def build() -> FactorForm:
            if self.softmax:
                expr = layer_generic(self.out_act, self.K, self.loss)[4][j].xreplace(self._softmax_map())
            else:
                sy = self.sy
                expr = fused_delta(self.out_act, self.loss, self.K).xreplace(
                    {_A: sy.out[self.L][j], sp.Symbol("t", real=True): sy.targets[j]})
            return self._factor(partial_latex("E", self.nm.net(self.L, j)), expr, Delta(Neuron(self.L, j)))
        return self._cached(("odelta", j), build)

    def param_factor(self, ref: ParamRef) -> FactorForm:
        """∂net/∂w = the incoming out (∂net/∂b = 1)."""
        def build() -> FactorForm:
            m, j = ref.layer + 1, ref.row
            expr = sp.diff(self.net_expr(m, j), self.sy.param(ref))
            src = Out(ref.source) if ref.source is not None else One()
            return self._factor(partial_latex(self.nm.net(m, j), self.nm.param_latex(ref)), expr, src)
        return self._cached(("param", ref), build)

    def net_out_factor(self, m: int, i: int, j: int) -> FactorForm:
        """∂net^{(m)}_i/∂out^{(m−1)}_j = the weight between them."""
        def build() -> FactorForm:
            expr = sp.diff(self.net_expr(m, i), self.sy.out[m - 1][j])
            return self._factor(partial_latex(self.nm.net(m, i), self.nm.out(m - 1, j)), expr, Weight(m - 1, i, j))
        return self._cached(("netout", m, i, j), build)

    def delta_factor(self, m: int, i: int) -> FactorForm:
        """δ^{(m)}_i = ∂E/∂z^{(m)}_i, known from the step before (the delta recursion)."""
        def build() -> FactorForm:
            return FactorForm(self.nm.delta(m, i), partial_latex("E", self.nm.net(m, i)), None,
                              Template(("", ""), (Delta(Neuron(m, i)),)), Delta(Neuron(m, i)))
        return self._cached(("delta", m, i), build)

    # ------------------------------------------------------------ one parameter's chain

    def plan(self, ref: ParamRef) -> ChainPlan:
        return self._cached(("plan", ref), lambda: self._plan(ref))

    def _plan(self, ref: ParamRef) -> ChainPlan:
        nm, L = self.nm, self.L
        m, j = ref.layer + 1, ref.row
        lhs = partial_latex("E", nm.param_latex(ref))
        pf = self.param_factor(ref)
        extra = ""
        if m == L:
            if self.fused:
                terms = ((self.out_delta_factor(j), pf),)
            elif self.softmax:
                terms = tuple((self.loss_factor(i, False), self.jac_factor(i, j), pf) for i in range(self.K))
            else:
                terms = ((self.loss_factor(j, False), self.act_factor(L, j), pf),)
        elif L == 2:
            # one hidden layer (the seed): one path per output, each with its own factors
            fa = self.act_factor(1, j)
            if self.softmax or self.fused:
                terms = tuple((self.out_delta_factor(i), self.net_out_factor(2, i, j), fa, pf) for i in range(self.K))
                labels = [partial_latex("E", nm.out(1, j))]
            else:
                terms = tuple(
                    (self.loss_factor(i, True), self.act_factor(2, i), self.net_out_factor(2, i, j), fa, pf)
                    for i in range(self.K)
                )
                labels = [partial_latex(nm.loss_share(i), nm.out(1, j)) for i in range(self.K)]
            head = labels[0] if len(labels) == 1 else rf"\Bigl({_sum(labels, 0)}\Bigr)"
            extra = r" \cdot ".join([head, fa.symbol_latex, pf.symbol_latex])
        else:
            # deeper nets: the delta recursion δ_j = f'(z_j) Σ_i w_ij δ_i, not a sum over every path
            fa = self.act_factor(m, j)
            terms = tuple(
                (self.net_out_factor(m + 1, i, j), self.delta_factor(m + 1, i), fa, pf)
                for i in range(self.layers[m + 1])
            )
            delta = nm.delta(m, j)
            parts = [rf"{t[0].general_latex} {t[1].symbol_latex}" for t in terms]
            if len(parts) > 4:  # one line of the aligned block per four terms
                wsum = rf"\Bigl({_sum(parts, 4)}\Bigr)"
            else:
                wsum = rf"\Bigl({_sum(parts, 0)}\Bigr)" if len(parts) > 1 else parts[0]
            extra = rf"{delta} \cdot {pf.symbol_latex}"
            recursion = rf"{delta} &= {wsum} \cdot {fa.symbol_latex}"
        prefix = _common_tail(terms)
        width = max(1, prefix)
        chain = _render(terms, prefix, lambda f: f.symbol_latex, per_line=max(1, 4 // width))
        if L > 2 and m < L:
            symbolic = rf"\begin{{aligned}} {lhs} &= {extra} \\ {recursion} \end{{aligned}}"
        elif extra:
            symbolic = equation(lhs, extra, chain)
        else:
            symbolic = equation(lhs, chain)
        short = equation(lhs, extra) if extra else symbolic
        general = equation(lhs, _render(terms, prefix, lambda f: _wrap(f.general_latex, f.expr), per_line=1))
        # several terms sum to ∂E/∂out of the parameter's neuron (∂E/∂net for a softmax output without a fused loss)
        head_latex = ""
        if len(terms) > 1:
            head_latex = partial_latex("E", nm.out(m, j) if m < L else nm.net(m, j))
        return ChainPlan(ref, lhs, symbolic, general, terms, prefix, head_latex, short)

    # ------------------------------------------------------------ forward and loss formulas (walkthrough)

    def net_formula(self, m: int, j: int) -> tuple[str, Template]:
        """net_{h1} = w_{1} i_{1} + w_{2} i_{2} + b_{h1}: (symbolic LaTeX of the right side, numeric template)."""
        def build():
            sy = self.sy
            shown = sp.Add(
                *[sp.Mul(sy.weights[m - 1][j][k], sy.out[m - 1][k], evaluate=False)
                  for k in range(self.layers[m - 1])],
                sy.biases[m - 1][j], evaluate=False,
            )
            return sp.latex(shown, order="none"), make_template(shown, self.sources, order="none")
        return self._cached(("netf", m, j), build)

    def out_formula(self, m: int, j: int) -> tuple[str, Template]:
        """out_{h1} = 1 / (1 + e^{-net_{h1}}) (or the layer's activation)."""
        def build():
            expr = self.out_expr(m, j)
            return sp.latex(expr), make_template(expr, self.sources)
        return self._cached(("outf", m, j), build)

    def share_formula(self, k: int) -> tuple[str, Template]:
        """E_{o1} = ½ (out_{o1} − t_1)² (or the loss's share of output k); for a fused loss the definition on the
        outputs, then the same function of the nets, which is what the numbers go into."""
        def build():
            sy = self.sy
            expr = loss_share_expr(self.loss, sy.out[self.L][k], sy.targets[k], self.K)
            if not self.fused:
                return sp.latex(expr), make_template(expr, self.sources)
            nets = list(sy.net[self.L])
            logits = logits_share_expr(self.loss, nets[k], nets, sy.targets[k], self.K)
            return f"{sp.latex(expr)} = {sp.latex(logits)}", make_template(logits, self.sources)
        return self._cached(("sharef", k), build)


@lru_cache(maxsize=8)
def forms(architecture: tuple) -> Forms:
    """The (lazily filled) symbolic forms of one architecture, shared by every call with that architecture."""
    return Forms(architecture)


# ---------------------------------------------------------------- numbers of one scenario


class Numbers:
    """The numbers of one scenario and sample, read from the engine's records (nothing is recomputed here
    except the activation derivatives, which come from the activation records' own ``da_dz``). ``lang``: the
    language of the words for a value float64 cannot hold."""

    def __init__(self, scenario, trace, grads, sample: int = 0, decimals: int = 4, lang: str = "en") -> None:
        if not 0 <= sample < scenario.n_samples:
            raise IndexError(f"sample {sample} out of range (the scenario has {scenario.n_samples})")
        self.scenario, self.trace, self.grads = scenario, trace, grads
        self.s, self.decimals, self.lang = sample, decimals, lang
        self._fprime: dict[int, object] = {}
        self._jac = None
        self._text: dict[tuple, str] = {}

    def _slopes(self, l: int):
        """f'(z) of layer l for the sample shown (computed once per layer)."""
        if l not in self._fprime:
            act = ACTIVATIONS[self.scenario.activations[l - 1]]
            self._fprime[l] = act.da_dz(self.trace.z[l][self.s], self.trace.a[l][self.s])
        return self._fprime[l]

    def num(self, src: Quantity) -> float:
        """The number of a quantity for the sample shown (a dispatch on its type: this runs for every slot of every
        formula)."""
        return _READERS[type(src)](self, src)

    def _jacobian(self, k: int, j: int) -> float:
        if self._jac is None:
            act = ACTIVATIONS[self.scenario.activations[-1]]
            self._jac = act.da_dz(self.trace.z[-1][self.s], self.trace.a[-1][self.s])
        return float(self._jac[k, j])

    def sub(self, src: Quantity, bare: bool = False) -> str:
        """The number of ``src`` as it goes into a formula (parenthesised if negative, unless ``bare``)."""
        key = (src, bare)
        text = self._text.get(key)
        if text is None:
            x = self.num(src)
            text = self._text[key] = (format_number(x, self.decimals, self.lang) if bare
                                      else substituted(x, self.decimals, self.lang))
        return text

    def fmt(self, x: float) -> str:
        return format_number(x, self.decimals, self.lang)


_READERS: dict[type, Callable[[Numbers, Quantity], float]] = {
    Out: lambda n, q: float(n.trace.a[q.neuron.layer][n.s, q.neuron.index]),
    Net: lambda n, q: float(n.trace.z[q.neuron.layer][n.s, q.neuron.index]),
    Weight: lambda n, q: q.read(n.scenario.weights, n.scenario.biases),
    Bias: lambda n, q: q.read(n.scenario.weights, n.scenario.biases),
    Target: lambda n, q: float(n.trace.targets[n.s, q.output]),
    Delta: lambda n, q: float(n.grads.dE_dz[q.neuron.layer][n.s, q.neuron.index]),
    OutGrad: lambda n, q: float(n.grads.dE_da[q.neuron.layer][n.s, q.neuron.index]),
    Slope: lambda n, q: float(n._slopes(q.neuron.layer)[q.neuron.index]),
    SoftmaxJacobian: lambda n, q: n._jacobian(q.k, q.j),
    One: lambda n, q: 1.0,
}


def chain_rule_from(numbers: Numbers, ref: ParamRef) -> ChainRule:
    """:func:`chain_rule` with a prepared :class:`Numbers` (the walkthrough shares one across steps)."""
    sc, grads = numbers.scenario, numbers.grads
    plan = forms(sc.architecture).plan(ref)
    num, sub = numbers.num, numbers.sub
    terms = tuple(
        tuple(Factor(f.symbol_latex, f.general_latex, f.template.fill(num, sub), num(f.value_src), f.expr)
              for f in term)
        for term in plan.terms
    )
    # the shown sample's own gradient: δ_j · out_k, or δ_j for a bias (the engine's dE_dW is its mean over samples)
    value = num(Delta(ref.target)) * (num(Out(ref.source)) if ref.source is not None else 1.0)
    d, lang = numbers.decimals, numbers.lang
    intermediate = ""
    if len(terms) > 1:
        # the sum of the paths on its own line, then the chain with that sum as one number: short lines
        heads = [r" \cdot ".join(substituted(f.value, d, lang) for f in term[:plan.prefix]) for term in terms]
        head_value = math.fsum(math.prod(f.value for f in term[:plan.prefix]) for term in terms)
        intermediate = equation(plan.head_latex, rf"{_sum(heads, INTERMEDIATE_TERMS_PER_LINE)} = "
                                                 rf"{numbers.fmt(head_value)}")
        product = ((plan.head_latex, head_value), *((f.symbol_latex, f.value) for f in terms[0][plan.prefix:]))
    else:
        product = tuple((f.symbol_latex, f.value) for f in terms[0])
    rhs = r" \cdot ".join(substituted(v, d, lang) for _, v in product)
    numeric = equation(plan.lhs_latex, rf"{rhs} = {numbers.fmt(value)}")
    question = equation(plan.lhs_latex, rf"{rhs} = {QUESTION}")
    batch = ref.read(grads.dE_dW, grads.dE_db)
    return ChainRule(ref, plan.lhs_latex, plan.symbolic_latex, terms, numeric, value, plan.general_latex,
                     batch, sc.n_samples, numbers.s, intermediate, plan.short_latex, question, product)


def chain_rule(scenario, trace, grads, ref: ParamRef, decimals: int = 4, sample: int = 0,
               lang: str = "en") -> ChainRule:
    """∂E/∂p for parameter ``ref`` as a chain of named local derivatives, with sample ``sample``'s numbers.

    ``trace`` and ``grads`` are the engine's ``forward`` / ``backward`` results for ``scenario``.
    """
    return chain_rule_from(Numbers(scenario, trace, grads, sample, decimals, lang), ref)
