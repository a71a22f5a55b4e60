"""The backward pass in vector/matrix form, with the engine's actual numbers, as LaTeX the UI renders (KaTeX).

Column vectors throughout; ``W^{(l)}`` has shape (layers[l], layers[l-1]) and is the engine's ``weights[l-1]``:

    δ^{(L)}      = ∂E/∂a^{(L)} ⊙ f'(z^{(L)})           (softmax: Jᵀ ∂E/∂a^{(L)}, J = diag(o) − o oᵀ)
    ∂E/∂W^{(l)}  = δ^{(l)} a^{(l-1)ᵀ}                   (outer product; a^{(0)} = x)
    ∂E/∂b^{(l)}  = δ^{(l)}
    δ^{(l)}      = (W^{(l+1)ᵀ} δ^{(l+1)}) ⊙ f'(z^{(l)})

(∂E/∂a^{(L)} is the ∇_a E of the textbooks; written as a fraction to match ∂E/∂W beside it.) Steps come in the
order the backward pass computes them: δ^{(L)}, then for l = L … 1: ∂E/∂W^{(l)}, ∂E/∂b^{(l)}, δ^{(l-1)} (no δ for
the inputs). Every step's ``value`` is the engine's own array (``Gradients``), recorded, not recomputed, and so
are ∂E/∂a and W ᵀδ (the engine's ``dE_da``). What this module does compute (f'(z), the softmax Jacobian and its
product, the per-sample outer product) is listed in ``MatrixStep.computed`` and checked against the engine.

Batches: δ and a are per sample, so δ steps show sample ``sample``. The engine's ``dE_dW`` / ``dE_db`` are the
gradient of the batch loss, the *mean* over samples: a W step shows that sample's outer product δ_s a_sᵀ in
numbers, then the mean (the engine's ``dE_dW``) as the result. This stays readable for any batch size (the batch
form Δ Aᵀ / n would need an n-column matrix).

Numbers follow :mod:`bpviz.numbers`, like the scalar formulas: ``decimals`` places (0.0500, 0.1000), whole numbers
as such (an exact zero as 0), a non-zero entry too small to show as m × 10^e. Equations whose matrices have
more than ``WIDE`` columns put one "=" per line (``aligned``); an 8×8 product still needs about 750–900 px, which
Streamlit's st.latex scrolls horizontally in the centred layout. Highlighting one entry uses ``\\boxed`` and
``\\textcolor`` (both render in Streamlit 1.67's st.latex; ``\\htmlStyle`` does not, it is not trusted).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import sympy as sp

from .config import Scenario
from .engine import Gradients, Model, Trace
from .functions import ACTIVATIONS, LOSSES
from .i18n import t
from .ids import ParamRef, Weight
from .naming import names_for, sup
from .numbers import Style
from .symbolic import activation_derivative, fused_delta, layer_generic, loss_derivative, make_template

HIGHLIGHT_COLOR = "#d62728"  # the red the figures use for "this one"

_Z, _A = sp.Symbol("z", real=True), sp.Symbol("a", real=True)  # the generic symbols of symbolic's derivations
_T, _K = sp.Symbol("t", real=True), sp.Symbol("K", positive=True)


@lru_cache(maxsize=256)
def _f_prime_formula(act: str, l: int) -> str:
    """f'(z) of layer l as SymPy derives it (in terms of a^{(l)} where that is the classic form), products as ⊙."""
    expr = activation_derivative(act).xreplace({_Z: sp.Symbol(f"z^{{({l})}}", real=True),
                                                _A: sp.Symbol(f"a^{{({l})}}", real=True)})
    return sp.latex(expr, mul_symbol=r" \odot ")


# ---------------------------------------------------------------- numbers and matrices in LaTeX


def format_number(x: float, places: int, lang: str = "en") -> str:
    """A matrix entry (:func:`bpviz.numbers.latex`), so matrices read like the scalar formulas; ``lang``: the
    language of the words for a value float64 cannot hold."""
    return Style(places, lang).latex(x)


def bmatrix(
    values: np.ndarray | Sequence,
    decimals: int | Style = 4,
    highlight: tuple[int, int] | None = None,
    color: str = HIGHLIGHT_COLOR,
    lang: str = "en",
) -> str:
    r"""``\begin{bmatrix}…\end{bmatrix}`` of a 2-D array, or of a 1-D array as a column vector.

    ``decimals``: places, or a :class:`bpviz.numbers.Style` (places and the reader's language, which then wins over
    ``lang``: the language of the words for a value float64 cannot hold). ``highlight`` = (row, col), 0-based (col 0
    for a vector), boxes that entry and colours it.
    """
    style = decimals if isinstance(decimals, Style) else Style(decimals, lang)
    m = np.asarray(values, dtype=np.float64)
    if m.ndim == 1:
        m = m.reshape(-1, 1)
    if m.ndim != 2:
        raise ValueError(f"expected a vector or a matrix, got shape {m.shape}")
    rows = []
    for i, row in enumerate(m):
        cells = []
        for j, x in enumerate(row):
            cell = style.latex(float(x))
            if highlight is not None and (i, j) == tuple(highlight):
                cell = rf"\boxed{{\textcolor{{{color}}}{{{cell}}}}}"
            cells.append(cell)
        rows.append(" & ".join(cells))
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def row_vector(values: np.ndarray, decimals: int | Style = 4, lang: str = "en") -> str:
    """A vector written as a row (a transposed column vector)."""
    return bmatrix(np.asarray(values, dtype=np.float64).reshape(1, -1), decimals, lang=lang)


# ---------------------------------------------------------------- steps


@dataclass(frozen=True, eq=False)
class MatrixStep:
    """One matrix-form step of the backward pass.

    ``key`` is 'delta', 'dE_dW' or 'dE_db'; ``layer`` is l in δ^{(l)}, W^{(l)}, b^{(l)} (1 = first weight layer,
    so the engine arrays are ``dE_dz[l]``, ``dE_dW[l-1]``, ``dE_db[l-1]``). ``value`` is the engine's array: δ of
    sample ``sample`` (1-D), or the batch-mean dE_dW (2-D) / dE_db (1-D). ``derivation`` holds supporting LaTeX
    lines shown between the general and the numeric equation (∇_a E, f', the softmax Jacobian, why δ = o − t).
    ``sample_value`` is, for batched W/b steps, the shown sample's own outer product δ_s a_sᵀ (or δ_s).
    ``computed`` names every array this module computes itself rather than reading from the engine (f'(z), the
    softmax Jacobian and its product, the outer product), so a test can hold each against the engine's numbers.
    """

    index: int
    key: str
    layer: int
    title: str
    latex_general: str
    latex_numeric: str
    value: np.ndarray
    derivation: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sample: int = 0
    sample_value: np.ndarray | None = None
    symbol_latex: str = ""
    computed: tuple[tuple[str, np.ndarray], ...] = ()


def _sup(l: int) -> str:
    return sup(f"({l})")


def _delta(l: int, s: str = "") -> str:
    return rf"\delta^{{({l})}}{s}"


def _act_vec(l: int, s: str = "") -> str:
    """a^{(l)} (x for the inputs), optionally with a sample subscript."""
    return rf"x{s}" if l == 0 else rf"a^{{({l})}}{s}"


def _act_T(l: int, s: str = "") -> str:
    """a^{(l)ᵀ} with the transpose inside the superscript (a^{(l)}^{\top} is a double superscript in TeX)."""
    return rf"x^{{\top}}{s}" if l == 0 else rf"a^{{({l})\top}}{s}"


def _dE_da(l: int) -> str:
    return rf"\frac{{\partial E}}{{\partial a^{{({l})}}}}"


def _dW(l: int) -> str:
    return rf"\frac{{\partial E}}{{\partial W^{{({l})}}}}"


def _db(l: int) -> str:
    return rf"\frac{{\partial E}}{{\partial b^{{({l})}}}}"


@lru_cache(maxsize=256)
def _vector_formula(expr: sp.Expr, L: int) -> tuple[str, Callable[[str, str, int], str]]:
    """(LaTeX, filler) of a formula in the generic a, t and K of symbolic's derivations; the filler writes it with
    the given a and t (column vectors; the operations act entry by entry) and the number K."""
    a, k_slot = sp.Symbol(rf"a^{{({L})}}", real=True), sp.Symbol("K_n")
    template = make_template(expr.xreplace({_A: a, _K: k_slot}), {a: "a", _T: "t", k_slot: "K"})

    def fill(av: str, tv: str, K: int) -> str:
        values = {"a": av, "t": tv, "K": str(K)}
        return template.fill(lambda src: 0.0, lambda src, bare: values[src])

    return sp.latex(expr.xreplace({_A: a})), fill


def _grad_a_latex(loss: str, L: int, K: int) -> tuple[str, Callable[[str, str], str]]:
    """(general LaTeX, filler) of ∂E/∂a^{(L)}, from sympy.diff of the loss's share; the filler writes it with the
    given a and t."""
    general, fill = _vector_formula(loss_derivative(loss, _K), L)
    return general, lambda av, tv: fill(av, tv, K)


def _piecewise_note(act: str, lang: str) -> tuple[str, ...]:
    if activation_derivative(act).has(sp.Piecewise):
        return (t("f′ is applied entry by entry: each entry takes the case its own z falls in.", lang),)
    return ()


def _equation(rows: Sequence[tuple[str, Sequence[str]]], wide: bool) -> str:
    """``lhs = rhs₁ = rhs₂ …`` for each row; several rows, or ``wide`` matrices, go into an aligned block with
    (when wide) one ``=`` per line, so an 8×8 product stays within a page column."""
    if len(rows) == 1 and not wide:
        lhs, parts = rows[0]
        return " = ".join([lhs, *parts])
    lines = []
    for lhs, parts in rows:
        if wide:
            lines += [rf"{lhs} &= {parts[0]}", *(rf"&= {p}" for p in parts[1:])]
        else:
            lines.append(rf"{lhs} &= " + " = ".join(parts))
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


WIDE = 4  # matrices with more columns than this get one "=" per line


def _output_delta_step(
    scenario: Scenario, trace: Trace, grads: Gradients, s: int, d: Style, sub: str, lang: str
) -> MatrixStep:
    """δ^{(L)} from ∂E/∂a^{(L)}: elementwise, through the Jacobian (softmax), or the loss's fused closed form."""
    L = scenario.n_layers
    act = ACTIVATIONS[scenario.activations[-1]]
    if Model.of(scenario).fused:
        parts = _fused_delta(scenario, trace, grads, s, d, sub, lang)
    elif act.elementwise:
        parts = _elementwise_delta(scenario, trace, grads, s, d, sub, lang)
    else:
        parts = _jacobian_delta(scenario, trace, grads, s, d, sub, lang)
    general, numeric, derivation, notes, computed = parts
    title = t("Output layer error δ{sup}", lang, sup=_sup(L))
    return MatrixStep(0, "delta", L, title, general, numeric, np.array(grads.dE_dz[L][s]), tuple(derivation),
                      tuple(notes), s, symbol_latex=_delta(L), computed=tuple(computed))


def _grad_a_line(scenario: Scenario, trace: Trace, grads: Gradients, s: int, d: Style) -> str:
    """∂E/∂a^{(L)} = general = with the numbers = value."""
    L, K = scenario.n_layers, scenario.layers[-1]
    general, fill = _grad_a_latex(scenario.loss, L, K)
    o, tgt = trace.a[L][s], trace.targets[s]
    return rf"{_dE_da(L)} = {general} = {fill(bmatrix(o, d), bmatrix(tgt, d))} = {bmatrix(grads.dE_da[L][s], d)}"


def _f_prime_parts(act_name: str, L: int, z: np.ndarray, o: np.ndarray, d: Style) -> tuple[str, str, np.ndarray]:
    """(f'(z) symbol, the line f'(z) = general = value, the value)."""
    act = ACTIVATIONS[act_name]
    f_prime = act.da_dz(z, o)
    fp = rf"{act.symbol}'\!\left(z^{{({L})}}\right)"
    return fp, rf"{fp} = {_f_prime_formula(act_name, L)} = {bmatrix(f_prime, d)}", f_prime


def _elementwise_delta(scenario, trace, grads, s, d, sub, lang):
    """δ = ∂E/∂a ⊙ f'(z)."""
    L, act_name = scenario.n_layers, scenario.activations[-1]
    dE_da = grads.dE_da[L][s]
    fp, fp_line, f_prime = _f_prime_parts(act_name, L, trace.z[L][s], trace.a[L][s], d)
    general = rf"{_delta(L)} = {_dE_da(L)} \odot {fp}"
    numeric = _equation([(_delta(L, sub), [rf"{bmatrix(dE_da, d)} \odot {bmatrix(f_prime, d)}",
                                           bmatrix(grads.dE_dz[L][s], d)])], False)
    derivation = [_grad_a_line(scenario, trace, grads, s, d), fp_line]
    return general, numeric, derivation, list(_piecewise_note(act_name, lang)), [("f_prime", f_prime)]


def _jacobian_delta(scenario, trace, grads, s, d, sub, lang):
    """Softmax without a fused loss: J[j, k] = ∂o_j/∂z_k = (diag(o) − o oᵀ)[j, k]; δ = Jᵀ ∂E/∂a."""
    L, K = scenario.n_layers, scenario.layers[-1]
    act = ACTIVATIONS[scenario.activations[-1]]
    z, o, dE_da = trace.z[L][s], trace.a[L][s], grads.dE_da[L][s]
    J = act.da_dz(z, o)
    jacobian_value = J.T @ dE_da
    general = (rf"{_delta(L)} = J^{{\top}} {_dE_da(L)},\quad "
               rf"J = \frac{{\partial {_act_vec(L)}}}{{\partial z^{{({L})}}}}")
    derivation = [_grad_a_line(scenario, trace, grads, s, d),
                  rf"J = \operatorname{{diag}}(o) - o\,o^{{\top}} = {bmatrix(J, d)}"]
    numeric = _equation([(_delta(L, sub), [rf"J^{{\top}} {_dE_da(L)}", rf"{bmatrix(J.T, d)} {bmatrix(dE_da, d)}",
                                           bmatrix(grads.dE_dz[L][s], d)])], K > WIDE)
    notes = [_not_elementwise_note(L, lang)]
    return general, numeric, derivation, notes, [("jacobian", J), ("jacobian_product", jacobian_value)]


def _not_elementwise_note(L: int, lang: str) -> str:
    return t("Softmax is not elementwise: every output o = a{sup} depends on every z, so f′ is the Jacobian matrix J "
             "(symmetric: Jᵀ = J) and the elementwise product ⊙ becomes the matrix product Jᵀ · ∂E/∂a.", lang,
             sup=_sup(L))


def _fused_delta(scenario, trace, grads, s, d, sub, lang):
    """A loss computed from the logits (bce after sigmoid, cross_entropy after softmax): δ in one closed form,
    derived by SymPy from ∂E/∂a and f'; the numeric chain ∂E/∂a · f' only where ∂E/∂a is a finite number."""
    L, K, act_name = scenario.n_layers, scenario.layers[-1], scenario.activations[-1]
    act = ACTIVATIONS[act_name]
    o, tgt, dE_da = trace.a[L][s], trace.targets[s], grads.dE_da[L][s]
    closed = _fused_closed_form(act_name, scenario.loss)
    closed_general, closed_fill = _vector_formula(closed, L)
    chain = rf"{_dE_da(L)} \odot {act.symbol}'\!\left(z^{{({L})}}\right)" if act.elementwise else \
        rf"J^{{\top}} {_dE_da(L)}"
    general = rf"{_delta(L)} = {chain} = {closed_general}"
    derivation = [rf"{chain} = {_chain_general(act_name, scenario.loss, L)} = {closed_general}"]
    computed: list[tuple[str, np.ndarray]] = []
    notes = [t("The loss is computed from z (the logits), like PyTorch's {torch}: δ takes this closed form, the same "
               "derivative, exact even where an output rounds to 0 or 1.", lang,
               torch=t(LOSSES[scenario.loss].fused.pytorch, lang))]  # marked with N_ in bpviz.functions
    if np.all(np.isfinite(dE_da)):
        derivation.insert(0, _grad_a_line(scenario, trace, grads, s, d))
        if act.elementwise:
            _, fp_line, f_prime = _f_prime_parts(act_name, L, trace.z[L][s], o, d)
            product = dE_da * f_prime
            derivation += [fp_line, rf"{bmatrix(dE_da, d)} \odot {bmatrix(f_prime, d)} = {bmatrix(product, d)}"]
            computed += [("f_prime", f_prime), ("elementwise_product", product)]
        else:
            J = act.da_dz(trace.z[L][s], o)
            derivation += [rf"J = \operatorname{{diag}}(o) - o\,o^{{\top}} = {bmatrix(J, d)}",
                           rf"J^{{\top}} {_dE_da(L)} = {bmatrix(J.T, d)} {bmatrix(dE_da, d)} = "
                           rf"{bmatrix(J.T @ dE_da, d)}"]
            computed += [("jacobian", J), ("jacobian_product", J.T @ dE_da)]
    else:
        notes.append(t("Here an output rounds to exactly 0 or 1, so ∂E/∂a is not a finite number (it divides by "
                       "o(1 − o) or o): δ comes straight from the closed form.", lang))
    if not act.elementwise:
        notes.append(_not_elementwise_note(L, lang))
    numeric = _equation([(_delta(L, sub), [closed_fill(bmatrix(o, d), bmatrix(tgt, d), K),
                                           bmatrix(grads.dE_dz[L][s], d)])], False)
    return general, numeric, derivation, notes, computed


def _fused_closed_form(act_name: str, loss: str) -> sp.Expr:
    """δ_j of a fused output layer in the generic a, t, K, by SymPy (elementwise: ∂/∂z of the share of f(z);
    softmax: the sum over outputs, with Σ t = 1)."""
    if ACTIVATIONS[act_name].elementwise:
        return fused_delta(act_name, loss, _K)
    zs, outs, ts, _, deltas = layer_generic(act_name, 2, loss)  # δ_1 of the generic layer: a_1 − t_1
    return deltas[0].xreplace({outs[0]: _A, ts[0]: _T})


def _chain_general(act_name: str, loss: str, L: int) -> str:
    """The chain before it simplifies: ∂E/∂a ⊙ f'(z) with both general forms (elementwise), or Σ_k ∂E/∂a_k ·
    ∂a_k/∂z_j (softmax)."""
    if ACTIVATIONS[act_name].elementwise:
        ga = _vector_formula(loss_derivative(loss, _K), L)[0]
        return rf"\left({ga}\right) \odot \left({_f_prime_formula(act_name, L)}\right)"
    return r"\sum_k \frac{\partial E}{\partial a_k}\frac{\partial a_k}{\partial z_j}"


def _hidden_delta_step(
    scenario: Scenario, trace: Trace, grads: Gradients, l: int, s: int, d: Style, sub: str, lang: str
) -> MatrixStep:
    """δ^{(l)} = (W^{(l+1)ᵀ} δ^{(l+1)}) ⊙ f'(z^{(l)})."""
    act_name = scenario.activations[l - 1]
    act = ACTIVATIONS[act_name]  # softmax only on the output layer (validated), so elementwise here
    W = scenario.weights[l]  # W^{(l+1)}
    f_prime = act.da_dz(trace.z[l][s], trace.a[l][s])
    dE_da, delta = grads.dE_da[l][s], grads.dE_dz[l][s]
    fp = rf"{act.symbol}'\!\left(z^{{({l})}}\right)"
    general = rf"{_delta(l)} = \left(W^{{({l + 1})\top}} {_delta(l + 1)}\right) \odot {fp}"
    derivation = (rf"{fp} = {_f_prime_formula(act_name, l)} = {bmatrix(f_prime, d)}",)
    numeric = _equation([(_delta(l, sub), [
        rf"\left({bmatrix(W.T, d)} {bmatrix(grads.dE_dz[l + 1][s], d)}\right) \odot {bmatrix(f_prime, d)}",
        rf"{bmatrix(dE_da, d)} \odot {bmatrix(f_prime, d)}",  # W ᵀδ is the engine's dE/da of layer l
        bmatrix(delta, d),
    ])], W.shape[0] > WIDE)
    notes = (t("W{sup}ᵀ δ{sup} sends each error back along the weights it came through: entry k sums "
               "wⱼₖ · δⱼ over the neurons j of layer {l1}.", lang, sup=_sup(l + 1), l1=l + 1),
             *_piecewise_note(act_name, lang))
    title = t("Error of layer {l}: δ{sup}", lang, l=l, sup=_sup(l))
    return MatrixStep(0, "delta", l, title, general, numeric, np.array(delta), derivation, notes, s,
                      symbol_latex=_delta(l), computed=(("f_prime", f_prime),))


def _weight_step(
    scenario: Scenario, trace: Trace, grads: Gradients, l: int, s: int, d: Style, sub: str, lang: str
) -> MatrixStep:
    """∂E/∂W^{(l)} = δ^{(l)} a^{(l-1)ᵀ} (the batch mean of these outer products)."""
    n = scenario.n_samples
    wide = scenario.layers[l - 1] > WIDE
    delta, a_prev = grads.dE_dz[l][s], trace.a[l - 1][s]
    value = grads.dE_dW[l - 1]
    outer = np.outer(delta, a_prev)  # (δ aᵀ)_jk = δ_j · a_k: row j = receiving neuron, column k = sending neuron
    numbers = rf"{bmatrix(delta, d)} {row_vector(a_prev, d)}"
    title = t("Weight gradient ∂E/∂W{sup}", lang, sup=_sup(l))
    notes = [t("Entry (j, k) is δⱼ · aₖ: the error of neuron j times the activation that feeds weight wⱼₖ.", lang)]
    mean = rf"\frac{{1}}{{{n}}} \sum_{{s=1}}^{{{n}}} {_delta(l, '_{s}')}\, {_act_T(l - 1, '_{s}')}"
    if n == 1:
        general = rf"{_dW(l)} = {_delta(l)}\, {_act_T(l - 1)}"
        numeric = _equation([(_dW(l), [numbers, bmatrix(value, d)])], wide)
        sample_value = None
    else:
        general = rf"{_dW(l)} = \frac{{1}}{{n}} \sum_{{s=1}}^{{n}} {_delta(l, '_{s}')}\, {_act_T(l - 1, '_{s}')}"
        numeric = _equation([(rf"{_delta(l, sub)}\, {_act_T(l - 1, sub)}", [numbers, bmatrix(outer, d)]),
                             (rf"{_dW(l)} = {mean}", [bmatrix(value, d)])], wide)
        sample_value = outer
        notes.append(t("E is the mean loss over the {n} samples, so ∂E/∂W is the mean of the per-sample outer "
                       "products δ aᵀ. Shown: sample {s}'s product, then the mean over all samples.",
                       lang, n=n, s=s + 1))
    return MatrixStep(0, "dE_dW", l, title, general, numeric, np.array(value), (), tuple(notes), s, sample_value,
                      symbol_latex=_dW(l), computed=(("outer", outer),))


def _bias_step(scenario: Scenario, grads: Gradients, l: int, s: int, d: Style, sub: str, lang: str) -> MatrixStep:
    """∂E/∂b^{(l)} = δ^{(l)} (the batch mean of the deltas)."""
    n = scenario.n_samples
    delta = grads.dE_dz[l][s]
    value = grads.dE_db[l - 1]
    title = t("Bias gradient ∂E/∂b{sup}", lang, sup=_sup(l))
    notes = [t("∂zⱼ/∂bⱼ = 1, so each bias gradient is its neuron's δ.", lang)]
    if n == 1:
        general = rf"{_db(l)} = {_delta(l)}"
        numeric = _equation([(_db(l), [_delta(l), bmatrix(value, d)])], False)
        sample_value = None
    else:
        general = rf"{_db(l)} = \frac{{1}}{{n}} \sum_{{s=1}}^{{n}} {_delta(l, '_{s}')}"
        numeric = _equation([(_delta(l, sub), [bmatrix(delta, d)]),
                             (rf"{_db(l)} = \frac{{1}}{{{n}}} \sum_{{s=1}}^{{{n}}} {_delta(l, '_{s}')}",
                              [bmatrix(value, d)])], False)
        sample_value = np.array(delta)
        notes.append(t("Mean of the {n} samples' δ; shown: sample {s}'s δ, then the mean.", lang, n=n, s=s + 1))
    return MatrixStep(0, "dE_db", l, title, general, numeric, np.array(value), (), tuple(notes), s, sample_value,
                      symbol_latex=_db(l))


def matrix_steps(
    scenario: Scenario, trace: Trace, grads: Gradients, decimals: int = 4, sample: int = 0, lang: str = "en"
) -> list[MatrixStep]:
    """The backward pass in matrix form: δ^{(L)}, then per layer l = L … 1: ∂E/∂W^{(l)}, ∂E/∂b^{(l)}, δ^{(l-1)}."""
    n = scenario.n_samples
    if not 0 <= sample < n:
        raise ValueError(f"sample must be in 0..{n - 1}, got {sample}")
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    sub = "" if n == 1 else rf"_{{s={sample + 1}}}"
    L, d = scenario.n_layers, Style(decimals, lang)  # every matrix entry in the reader's language
    steps = [_output_delta_step(scenario, trace, grads, sample, d, sub, lang)]
    for l in range(L, 0, -1):
        steps.append(_weight_step(scenario, trace, grads, l, sample, d, sub, lang))
        steps.append(_bias_step(scenario, grads, l, sample, d, sub, lang))
        if l > 1:
            steps.append(_hidden_delta_step(scenario, trace, grads, l - 1, sample, d, sub, lang))
    if n > 1:
        note = t("Sample {s} of {n}: δ and a are per sample.", lang, s=sample + 1, n=n)
        steps = [_with(st, notes=(note, *st.notes)) if st.key == "delta" else st for st in steps]
    return [_with(st, index=i) for i, st in enumerate(steps)]


def _with(step: MatrixStep, **changes) -> MatrixStep:
    return replace(step, **changes)


# ---------------------------------------------------------------- link to the scalar steps


class MatrixEntry(NamedTuple):
    """Where a scalar parameter's gradient sits: step index, 0-based (row, col) (col 0 for a bias), and a sentence
    (with 1-based entries, as in maths)."""

    step_index: int
    row: int
    col: int
    text: str


def step_index(layers: Sequence[int], key: str, layer: int) -> int:
    """Index in :func:`matrix_steps` of the step (``key``, ``layer``) for a network with these layer sizes."""
    L = len(layers) - 1
    if not 1 <= layer <= L:
        raise ValueError(f"layer must be in 1..{L}, got {layer}")
    # per layer, from the output down: δ^{(l)}, ∂E/∂W^{(l)}, ∂E/∂b^{(l)}
    return 3 * (L - layer) + {"delta": 0, "dE_dW": 1, "dE_db": 2}[key]


def matrix_entry_for(ref: ParamRef, layers: Sequence[int], lang: str = "en") -> MatrixEntry:
    """Which entry of which gradient matrix a scalar parameter's gradient is, e.g. ∂E/∂w5 = entry (1,1) of ∂E/∂W⁽²⁾."""
    names = names_for(tuple(layers))
    l = ref.layer + 1
    if isinstance(ref, Weight):
        idx = step_index(layers, "dE_dW", l)
        text = t("∂E/∂{param} is entry ({row},{col}) of ∂E/∂W{sup}", lang, param=names.param(ref),
                 row=ref.row + 1, col=ref.col + 1, sup=_sup(l))
        return MatrixEntry(idx, ref.row, ref.col, text)
    idx = step_index(layers, "dE_db", l)
    text = t("∂E/∂{param} is entry {row} of ∂E/∂b{sup}", lang, param=names.param(ref), row=ref.row + 1, sup=_sup(l))
    return MatrixEntry(idx, ref.row, 0, text)


def highlighted_latex(step: MatrixStep, row: int, col: int, decimals: int = 4, color: str = HIGHLIGHT_COLOR,
                      lang: str = "en") -> str:
    r"""``symbol = [matrix]`` for a step's value with entry (row, col) (0-based) boxed and coloured (``lang``: the
    language of the words for a value float64 cannot hold)."""
    return rf"{step.symbol_latex} = {bmatrix(step.value, decimals, highlight=(row, col), color=color, lang=lang)}"
