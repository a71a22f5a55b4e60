"""The walkthrough script: an ordered list of explanation steps for any network, pure data the UI renders.

Phases in order: forward (each neuron's net, then out, layer by layer), loss (each output's share, then the
total), backward (each parameter, output layer first as the seed does: w5 w6 w7 w8, output biases, then w1..w4
and hidden biases), update (each parameter's new value, same order). :func:`build_walkthrough` returns a lazy
:class:`Walkthrough`: the list of keys and titles is cheap (cached per architecture), a step is built when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from . import engine
from .config import Scenario
from .engine import Gradients, ParamRef, Trace
from .i18n import t
from .naming import names_for
from .symbolic import ChainRule, Factor, Numbers, chain_rule_from, forms
from .symbolic import substituted as _sub

__all__ = ["PHASES", "Factor", "Step", "Walkthrough", "build_walkthrough"]

PHASES = ("forward", "loss", "backward", "update")


@dataclass(frozen=True)
class Step:
    """One explanation step.

    ``nodes`` are (layer, neuron); ``edges`` are (l, j, k) = weights[l][j][k], the edge from neuron (l, k) to
    neuron (l + 1, j); ``bias_edges`` are (l, j) = biases[l][j], into neuron (l + 1, j). ``paths`` lists, for a
    hidden parameter, each path as its own tuple of edges (so the graph can show them all): one per output for a
    one-hidden-layer net, one per neuron of the next layer (the delta recursion) for deeper nets.
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
    latex_general: str = ""  # backward steps: the chain with every factor's general (sympy-derived) form
    chain: ChainRule | None = field(default=None, compare=False, repr=False)  # backward steps


# ---------------------------------------------------------------- the script (per architecture, no numbers)


def _backward_order(layers: tuple[int, ...]) -> list[ParamRef]:
    """Output layer first, then layer by layer backwards; in each layer the weights row-major, then the biases."""
    refs: list[ParamRef] = []
    for l in range(len(layers) - 2, -1, -1):
        refs += [ParamRef("w", l, j, k) for j in range(layers[l + 1]) for k in range(layers[l])]
        refs += [ParamRef("b", l, j) for j in range(layers[l + 1])]
    return refs


@lru_cache(maxsize=16)
def _script(architecture: tuple) -> tuple[tuple[tuple, ...], tuple[str, ...], dict[str, int]]:
    """(specs, keys, index of key) of an architecture; a spec is (phase, kind, args)."""
    layers, activations, _ = architecture
    L = len(layers) - 1
    specs: list[tuple] = []
    for m in range(1, L + 1):
        if activations[m - 1] == "softmax":  # every out of a softmax layer needs every net of the layer
            specs += [("forward", "net", (m, j)) for j in range(layers[m])]
            specs += [("forward", "out", (m, j)) for j in range(layers[m])]
        else:
            for j in range(layers[m]):
                specs += [("forward", "net", (m, j)), ("forward", "out", (m, j))]
    specs += [("loss", "share", (k,)) for k in range(layers[-1])] + [("loss", "total", ())]
    order = _backward_order(tuple(layers))
    specs += [("backward", ref.kind, ref) for ref in order]
    specs += [("update", ref.kind, ref) for ref in order]

    def key(phase: str, kind: str, args) -> str:
        if isinstance(args, ParamRef):
            parts = (args.layer, args.row, args.col) if args.kind == "w" else (args.layer, args.row)
            return ":".join([phase, kind, *map(str, parts)])
        return ":".join([phase, kind, *map(str, args)])

    keys = tuple(key(*s) for s in specs)
    return tuple(specs), keys, {k: i for i, k in enumerate(keys)}


@lru_cache(maxsize=32)
def _titles(architecture: tuple, lang: str) -> tuple[str, ...]:
    nm = names_for(tuple(architecture[0]))
    out = []
    for phase, kind, args in _script(architecture)[0]:
        if kind == "net":
            out.append(t("Forward: net input of {node}", lang, node=nm.node(*args)))
        elif kind == "out":
            out.append(t("Forward: output of {node}", lang, node=nm.node(*args)))
        elif kind == "share":
            out.append(t("Loss: share of {node}", lang, node=nm.node(len(architecture[0]) - 1, args[0])))
        elif kind == "total":
            out.append(t("Loss: total error", lang))
        elif phase == "backward":
            out.append(t("Backward: gradient of {param}", lang, param=nm.param(args)))
        else:
            out.append(t("Update: {param}", lang, param=nm.param(args)))
    return tuple(out)


# ---------------------------------------------------------------- the lazy walkthrough


class Walkthrough:
    """The steps of one scenario, built on demand and cached. Use ``len``, ``wt[i]``, :meth:`titles`,
    :meth:`keys`, :meth:`index_of`, :meth:`first_of`."""

    def __init__(self, scenario: Scenario, trace: Trace, grads: Gradients, decimals: int = 4, sample: int = 0,
                 lang: str = "en") -> None:
        self.scenario, self.trace, self.grads = scenario, trace, grads
        self.decimals, self.sample, self.lang = decimals, sample, lang
        self.architecture = scenario.architecture
        self._specs, self._keys, self._index = _script(self.architecture)
        self.numbers = Numbers(scenario, trace, grads, sample, decimals)
        self.forms = forms(self.architecture)
        self.names = self.forms.nm
        self._steps: dict[int, Step] = {}
        self._updated: Scenario | None = None

    def __len__(self) -> int:
        return len(self._specs)

    def __getitem__(self, i: int) -> Step:
        n = len(self._specs)
        if not -n <= i < n:
            raise IndexError(f"step {i} out of range ({n} steps)")
        i %= n
        step = self._steps.get(i)
        if step is None:
            step = self._steps[i] = self._build(i)
        return step

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def titles(self) -> list[str]:
        return list(_titles(self.architecture, self.lang))

    def keys(self) -> list[str]:
        return list(self._keys)

    def index_of(self, key: str) -> int:
        """Index of the step with this key (KeyError if the network has no such step)."""
        return self._index[key]

    def first_of(self, phase: str) -> int:
        """Index of the first step of ``phase`` (forward, loss, backward, update)."""
        if phase not in PHASES:
            raise KeyError(phase)
        return next(i for i, s in enumerate(self._specs) if s[0] == phase)

    def chain(self, ref: ParamRef) -> ChainRule:
        return chain_rule_from(self.numbers, ref)

    # ------------------------------------------------------------ building one step

    def _t(self, text: str, **values: object) -> str:
        return t(text, self.lang, **values)

    def _build(self, i: int) -> Step:
        phase, kind, args = self._specs[i]
        head = dict(index=i, phase=phase, key=self._keys[i], title=_titles(self.architecture, self.lang)[i])
        if kind == "net":
            return self._net(head, *args)
        if kind == "out":
            return self._out(head, *args)
        if kind == "share":
            return self._share(head, *args)
        if kind == "total":
            return self._total(head)
        if phase == "backward":
            return self._backward(head, args)
        return self._update(head, args)

    def _sample_note(self) -> tuple[str, ...]:
        n = self.scenario.n_samples
        if n == 1:
            return ()
        return (self._t("Numbers shown for sample {s} of {n}.", s=self.sample + 1, n=n),)

    def _net(self, head: dict, m: int, j: int) -> Step:
        nm, nums = self.names, self.numbers
        rhs, tpl = self.forms.net_formula(m, j)
        value = nums.num(("z", m, j))
        lhs = nm.net(m, j)
        k_range = range(self.scenario.layers[m - 1])
        return Step(
            **head, latex_symbolic=f"{lhs} = {rhs}",
            latex_numeric=f"{lhs} = {tpl.fill(nums.num, nums.sub)} = {nums.fmt(value)}", value=value,
            nodes=tuple((m - 1, k) for k in k_range) + ((m, j),), edges=tuple((m - 1, j, k) for k in k_range),
            bias_edges=((m - 1, j),), notes=self._sample_note(),
        )

    def _out(self, head: dict, m: int, j: int) -> Step:
        nm, nums = self.names, self.numbers
        rhs, tpl = self.forms.out_formula(m, j)
        value = nums.num(("a", m, j))
        lhs = nm.out(m, j)
        softmax = self.scenario.activations[m - 1] == "softmax"
        nodes = tuple((m, i) for i in range(self.scenario.layers[m])) if softmax else ((m, j),)
        notes = self._sample_note()
        if softmax:
            notes += (self._t("Softmax uses the net input of every neuron of the layer: the outputs sum to 1."),)
        return Step(
            **head, latex_symbolic=f"{lhs} = {rhs}",
            latex_numeric=f"{lhs} = {tpl.fill(nums.num, nums.sub)} = {nums.fmt(value)}", value=value,
            nodes=nodes, notes=notes,
        )

    def _share(self, head: dict, k: int) -> Step:
        nm, nums = self.names, self.numbers
        rhs, tpl = self.forms.share_formula(k)
        value = float(self.trace.loss_share[self.sample, k])
        lhs = nm.loss_share(k)
        L = self.scenario.n_layers
        return Step(
            **head, latex_symbolic=f"{lhs} = {rhs}",
            latex_numeric=f"{lhs} = {tpl.fill(nums.num, nums.sub)} = {nums.fmt(value)}", value=value,
            nodes=((L, k),), notes=self._sample_note(),
        )

    def _total(self, head: dict) -> Step:
        nm, nums = self.names, self.numbers
        K, L, n = self.scenario.layers[-1], self.scenario.n_layers, self.scenario.n_samples
        shares = " + ".join(nm.loss_share(k) for k in range(K))
        parts = " + ".join(_sub(float(v), self.decimals) for v in self.trace.loss_per_output)
        value = float(self.trace.loss)
        notes: tuple[str, ...] = ()
        if n > 1:
            symbolic = rf"E_{{total}} = \frac{{1}}{{{n}}} \sum_{{s=1}}^{{{n}}} \left({shares}\right)"
            notes = (self._t("The total is the mean over the {n} samples; each share here is its mean over the "
                             "samples.", n=n),)
        else:
            symbolic = rf"E_{{total}} = {shares}"
        return Step(
            **head, latex_symbolic=symbolic,
            latex_numeric=rf"E_{{total}} = {parts} = {nums.fmt(value)}", value=value,
            nodes=tuple((L, k) for k in range(K)), notes=notes,
        )

    def _highlight(self, ref: ParamRef) -> dict:
        """Nodes, edges and paths a parameter's gradient runs through."""
        layers, L = self.scenario.layers, self.scenario.n_layers
        m, j = ref.layer + 1, ref.row
        own = ((ref.layer, j, ref.col),) if ref.kind == "w" else ()
        nodes = ([(ref.layer, ref.col)] if ref.kind == "w" else []) + [(m, j)]
        paths: tuple = ()
        if m < L:
            paths = tuple(own + ((m, i, j),) for i in range(layers[m + 1]))
            nodes += [(m + 1, i) for i in range(layers[m + 1])]
        elif self.forms.softmax and not self.forms.fused_softmax:
            nodes += [(L, i) for i in range(layers[L]) if i != j]
        return dict(nodes=tuple(nodes), edges=own, bias_edges=((ref.layer, j),) if ref.kind == "b" else (),
                    paths=paths)

    def _bias_notes(self, ref: ParamRef) -> tuple[str, ...]:
        if ref.kind != "b" or not self.names.seed_style:
            return ()
        layers = self.scenario.layers
        biases = ", ".join(self.names.param(ParamRef("b", l, j)) for l in range(len(layers) - 1)
                           for j in range(layers[l + 1]))
        return (self._t("Each neuron has its own bias ({biases}), as in PyTorch's nn.Linear; the hand-worked "
                        "seed shares b1 between the hidden neurons and b2 between the output neurons.",
                        biases=biases),)

    def _backward(self, head: dict, ref: ParamRef) -> Step:
        chain = self.chain(ref)
        notes = self._bias_notes(ref)
        n = self.scenario.n_samples
        if n > 1:
            notes += (self._t("Shown for sample {s} of {n}; averaged over {n} samples the gradient is {g}.",
                              s=self.sample + 1, n=n, g=self.numbers.fmt(chain.batch_value)),)
        if self.scenario.n_layers > 2 and ref.layer + 1 < self.scenario.n_layers:
            notes += (self._t("The deltas of the next layer were computed in earlier steps (backpropagation "
                              "reuses them instead of summing over every path)."),)
        return Step(
            **head, latex_symbolic=chain.symbolic_latex, latex_numeric=chain.numeric_latex, value=chain.value,
            param=ref, factors=chain.terms, notes=notes, latex_general=chain.general_latex, chain=chain,
            **self._highlight(ref),
        )

    def _new_scenario(self) -> Scenario:
        if self._updated is None:
            self._updated = engine.step(self.scenario)
        return self._updated

    def _update(self, head: dict, ref: ParamRef) -> Step:
        sc, nm, nums = self.scenario, self.names, self.numbers
        p = nm.param_latex(ref)
        old = engine.value_of(sc, ref)
        lr = sc.learning_rate
        grad = engine.gradient_of(self.grads, ref)
        notes = self._bias_notes(ref)
        hl = dict(nodes=((ref.layer, ref.col), (ref.layer + 1, ref.row)) if ref.kind == "w" else
                  ((ref.layer + 1, ref.row),), edges=((ref.layer, ref.row, ref.col),) if ref.kind == "w" else (),
                  bias_edges=((ref.layer, ref.row),) if ref.kind == "b" else ())
        if ref.kind == "b" and not sc.train_biases:
            notes += (self._t("Biases are fixed here (train_biases is false): {param} keeps its value.",
                              param=nm.param(ref)),)
            return Step(**head, latex_symbolic=rf"{{{p}}}^{{+}} = {p}",
                        latex_numeric=rf"{{{p}}}^{{+}} = {nums.fmt(old)}", value=old, param=ref, notes=notes, **hl)
        if sc.update_order == "simultaneous":
            new = old - lr * grad
        else:
            new = engine.value_of(self._new_scenario(), ref)
            if ref.layer + 1 < sc.n_layers:
                grad = (old - new) / lr
                notes += (self._t("Update order output_first: this gradient is backpropagated through the "
                                  "already-updated weights of the layers above."),)
        if sc.n_samples > 1:
            notes += (self._t("The gradient is the mean over the {n} samples.", n=sc.n_samples),)
        return Step(
            **head,
            latex_symbolic=rf"{{{p}}}^{{+}} = {p} - \eta \cdot \frac{{\partial E}}{{\partial {p}}}",
            latex_numeric=rf"{{{p}}}^{{+}} = {_sub(old, self.decimals)} - {_sub(lr, self.decimals)} \cdot "
                          rf"{_sub(grad, self.decimals)} = {nums.fmt(new)}",
            value=new, param=ref, notes=notes, **hl,
        )


def build_walkthrough(scenario: Scenario, trace: Trace, grads: Gradients, decimals: int = 4, sample: int = 0,
                      lang: str = "en") -> Walkthrough:
    """The walkthrough of ``scenario`` (``trace``/``grads`` from the engine); steps are built when first read."""
    return Walkthrough(scenario, trace, grads, decimals, sample, lang)
