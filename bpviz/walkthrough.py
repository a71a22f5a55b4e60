"""The walkthrough script: an ordered list of explanation steps for any network, pure data the UI renders.

Phases in order: forward (each neuron's net, then out, layer by layer), loss (each output's share, then the
total), backward (each parameter, output layer first as the seed does: w5 w6 w7 w8, output biases, then w1..w4
and hidden biases), update (each parameter's new value, same order). :func:`build_walkthrough` returns a lazy
:class:`Walkthrough`: the list of keys and titles is cheap (cached per architecture), a step is built when asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from . import engine, numbers
from .config import Scenario
from .engine import Gradients, Trace
from .functions import ACTIVATIONS, LOSSES
from .i18n import t
from .ids import Bias, LossShare, Net, Neuron, Out, ParamRef, Phase, StepId, TotalLoss, Weight, backward_order
from .naming import names_for
from .symbolic import QUESTION, ChainRule, Factor, Numbers, chain_rule_from, forms
from .symbolic import substituted as _sub

__all__ = ["PHASES", "Factor", "Phase", "Step", "StepId", "Walkthrough", "build_walkthrough"]

PHASES = tuple(Phase)
MAX_LISTED_SAMPLES = 8  # the total loss lists each sample's loss up to this many samples, else their sum


@dataclass(frozen=True)
class Step:
    """One explanation step.

    ``nodes`` are the neurons it involves; ``edges`` the weights it uses (the edge of ``Weight(l, j, k)`` runs from
    neuron (l, k) to (l + 1, j)); ``bias_edges`` the biases. ``paths`` lists, for a hidden parameter, each path as
    its own tuple of weights (so the graph can show them all): one per output for a one-hidden-layer net, one per
    neuron of the next layer (the delta recursion) for deeper nets. ``factors`` holds the chain-rule product(s):
    one tuple of factors per summed term.
    """

    index: int
    id: StepId
    title: str
    latex_symbolic: str
    latex_numeric: str
    value: float
    nodes: tuple[Neuron, ...] = ()
    edges: tuple[Weight, ...] = ()
    bias_edges: tuple[Bias, ...] = ()
    param: ParamRef | None = None
    factors: tuple[tuple[Factor, ...], ...] = ()
    paths: tuple[tuple[Weight, ...], ...] = ()
    notes: tuple[str, ...] = field(default=())
    latex_general: str = ""  # backward steps: the chain with every factor's general (sympy-derived) form
    latex_intermediate: str = ""  # backward steps with several paths: their sum (∂E/∂out_h1) on its own line
    latex_short: str = ""  # backward steps: the symbolic chain in one line, where latex_symbolic expands every path
    chain: ChainRule | None = field(default=None, compare=False, repr=False)  # backward steps
    latex_question: str = ""  # latex_numeric up to its last "=", then QUESTION: what a quiz shows before the answer

    @property
    def phase(self) -> Phase:
        return self.id.phase

    @property
    def key(self) -> str:
        """The step's id as text (widget keys and share links)."""
        return self.id.format()


# ---------------------------------------------------------------- the script (per architecture, no numbers)


@lru_cache(maxsize=16)
def _script(architecture: tuple) -> tuple[tuple[StepId, ...], dict[StepId, int]]:
    """(step ids in order, index of each id) of an architecture."""
    layers, activations, _ = architecture
    L = len(layers) - 1
    ids: list[StepId] = []
    forward = Phase.FORWARD
    for m in range(1, L + 1):
        if not ACTIVATIONS[activations[m - 1]].elementwise:  # every out of a softmax layer needs every net
            ids += [StepId(forward, Net(Neuron(m, j))) for j in range(layers[m])]
            ids += [StepId(forward, Out(Neuron(m, j))) for j in range(layers[m])]
        else:
            for j in range(layers[m]):
                ids += [StepId(forward, Net(Neuron(m, j))), StepId(forward, Out(Neuron(m, j)))]
    ids += [StepId(Phase.LOSS, LossShare(k)) for k in range(layers[-1])] + [StepId(Phase.LOSS, TotalLoss())]
    order = backward_order(tuple(layers))
    ids += [StepId(Phase.BACKWARD, ref) for ref in order]
    ids += [StepId(Phase.UPDATE, ref) for ref in order]
    return tuple(ids), {sid: i for i, sid in enumerate(ids)}


def step_order(architecture: tuple) -> tuple[StepId, ...]:
    """Every step of an architecture, in the order of the walk (a step's index in it is its ``Step.index``)."""
    return _script(architecture)[0]


def step_ids(architecture: tuple) -> frozenset[StepId]:
    """Every step an architecture has (to check a step named in a link)."""
    return frozenset(_script(architecture)[1])


def _title(nm, L: int, sid: StepId, lang: str) -> str:
    match sid.subject:
        case Net(neuron):
            return t("Forward: net input of {node}", lang, node=nm.neuron(neuron))
        case Out(neuron):
            return t("Forward: output of {node}", lang, node=nm.neuron(neuron))
        case LossShare(k):
            return t("Loss: share of {node}", lang, node=nm.node(L, k))
        case TotalLoss():
            return t("Loss: total error", lang)
    if sid.phase is Phase.BACKWARD:
        return t("Backward: gradient of {param}", lang, param=nm.param(sid.subject))
    return t("Update: {param}", lang, param=nm.param(sid.subject))


@lru_cache(maxsize=32)
def _titles(architecture: tuple, lang: str) -> tuple[str, ...]:
    nm = names_for(tuple(architecture[0]))
    L = len(architecture[0]) - 1
    return tuple(_title(nm, L, sid, lang) for sid in _script(architecture)[0])


# ---------------------------------------------------------------- the lazy walkthrough


class Walkthrough:
    """The steps of one scenario, built on demand and cached. Use ``len``, ``wt[i]``, :meth:`titles`,
    :meth:`ids`, :meth:`index_of`, :meth:`first_of`, and :attr:`update` (the gradient-descent step itself)."""

    def __init__(self, scenario: Scenario, trace: Trace, grads: Gradients, decimals: int = 4, sample: int = 0,
                 lang: str = "en") -> None:
        self.scenario, self.trace, self.grads = scenario, trace, grads
        self.decimals, self.sample, self.lang = decimals, sample, lang
        self.architecture = scenario.architecture
        self._ids, self._index = _script(self.architecture)
        self.numbers = Numbers(scenario, trace, grads, sample, decimals, lang)
        self.forms = forms(self.architecture)
        self.names = self.forms.nm
        self.loss_record = LOSSES[scenario.loss]
        self._steps: dict[int, Step] = {}
        self._update: engine.Update | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i: int) -> Step:
        n = len(self._ids)
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

    def ids(self) -> tuple[StepId, ...]:
        return self._ids

    def index_of(self, sid: StepId | str) -> int:
        """Index of the step with this id (KeyError if the network has no such step; text is parsed once)."""
        return self._index[StepId.parse(sid) if isinstance(sid, str) else sid]

    def step(self, sid: StepId) -> Step | None:
        """The step with this id, or None (e.g. after the architecture changed)."""
        i = self._index.get(sid)
        return None if i is None else self[i]

    def indices(self, phases: tuple[Phase, ...]) -> list[int]:
        """Indices of the steps of these phases, in order."""
        return [i for i, sid in enumerate(self._ids) if sid.phase in phases]

    def first_of(self, phase: Phase | str) -> int:
        """Index of the first step of ``phase`` (forward, loss, backward, update)."""
        phase = Phase(phase)
        return next(i for i, sid in enumerate(self._ids) if sid.phase is phase)

    def chain(self, ref: ParamRef) -> ChainRule:
        return chain_rule_from(self.numbers, ref)

    @property
    def update(self) -> engine.Update:
        """The gradient-descent step of this scenario (computed once, from this walkthrough's trace)."""
        if self._update is None:
            self._update = engine.step(self.scenario, trace=self.trace)
        return self._update

    # ------------------------------------------------------------ building one step

    def _build(self, i: int) -> Step:
        sid = self._ids[i]
        head = dict(index=i, id=sid, title=_titles(self.architecture, self.lang)[i])
        match sid.subject:
            case Net(neuron):
                return self._net(head, neuron)
            case Out(neuron):
                return self._out(head, neuron)
            case LossShare(k):
                return self._share(head, k)
            case TotalLoss():
                return self._total(head)
        if sid.phase is Phase.BACKWARD:
            return self._backward(head, sid.subject)
        return self._update_step(head, sid.subject)

    def _sample_note(self) -> tuple[str, ...]:
        n = self.scenario.n_samples
        if n == 1:
            return ()
        return (t("Numbers shown for sample {s} of {n}.", self.lang, s=self.sample + 1, n=n),)

    def _net(self, head: dict, neuron: Neuron) -> Step:
        nm, nums = self.names, self.numbers
        m, j = neuron.layer, neuron.index
        rhs, tpl = self.forms.net_formula(m, j)
        value = nums.num(Net(neuron))
        lhs = nm.net(m, j)
        incoming = [Weight(m - 1, j, k) for k in range(self.scenario.layers[m - 1])]
        return Step(
            **head, latex_symbolic=f"{lhs} = {rhs}",
            **_numeric(f"{lhs} = {tpl.fill(nums.num, nums.sub)}", value, nums),
            nodes=tuple(w.source for w in incoming) + (neuron,), edges=tuple(incoming),
            bias_edges=(Bias(m - 1, j),), notes=self._sample_note(),
        )

    def _out(self, head: dict, neuron: Neuron) -> Step:
        nm, nums = self.names, self.numbers
        m, j = neuron.layer, neuron.index
        rhs, tpl = self.forms.out_formula(m, j)
        value = nums.num(Out(neuron))
        lhs = nm.out(m, j)
        whole_layer = not ACTIVATIONS[self.scenario.activations[m - 1]].elementwise
        nodes = tuple(Neuron(m, i) for i in range(self.scenario.layers[m])) if whole_layer else (neuron,)
        notes = self._sample_note()
        if whole_layer:
            notes += (t("Softmax uses the net input of every neuron of the layer: the outputs sum to 1.", self.lang),)
        return Step(
            **head, latex_symbolic=f"{lhs} = {rhs}",
            **_numeric(f"{lhs} = {tpl.fill(nums.num, nums.sub)}", value, nums),
            nodes=nodes, notes=notes,
        )

    def _share(self, head: dict, k: int) -> Step:
        nm, nums = self.names, self.numbers
        rhs, tpl = self.forms.share_formula(k)
        value = float(self.trace.loss_share[self.sample, k])
        lhs = nm.loss_share(k)
        notes = self._sample_note()
        if self.forms.fused:
            L = self.scenario.n_layers
            notes += (t("The same function written with {net} (the logits) is what is computed, like "
                        "PyTorch's {torch}: exact even where {out} rounds to 0 or 1.", self.lang,
                        net=nm.plain_net(L, k), out=nm.out_text(L, k),
                        torch=t(self.loss_record.fused.pytorch, self.lang)),)  # N_ in bpviz.functions
        return Step(
            **head, latex_symbolic=f"{lhs} = {rhs}",
            **_numeric(f"{lhs} = {tpl.fill(nums.num, nums.sub)}", value, nums),
            nodes=(Neuron(self.scenario.n_layers, k),), notes=notes,
        )

    def _total(self, head: dict) -> Step:
        """E_total: the sum of the output shares; with several samples the mean of the samples' losses (each the
        sum of its shares), the losses listed (up to MAX_LISTED_SAMPLES) or their sum, so the numbers before the
        last "=" never already are E_total (one output: the mean share would be)."""
        nm, nums = self.names, self.numbers
        K, L, n = self.scenario.layers[-1], self.scenario.n_layers, self.scenario.n_samples
        shares = " + ".join(nm.loss_share(k) for k in range(K))
        value = float(self.trace.loss)
        notes: tuple[str, ...] = ()
        if n > 1:
            symbolic = rf"E_{{total}} = \frac{{1}}{{{n}}} \sum_{{s=1}}^{{{n}}} \left({shares}\right)"
            per_sample = self.trace.loss_share.sum(axis=1)
            if n <= MAX_LISTED_SAMPLES:
                listed = " + ".join(_sub(float(v), self.decimals, self.lang) for v in per_sample)
                work = rf"E_{{total}} = \frac{{1}}{{{n}}} \left({listed}\right)"
                notes = (t("The total is the mean of the {n} samples' losses; each sample's loss is the sum of its "
                           "outputs' shares.", self.lang, n=n),)
            else:
                total = _sub(float(per_sample.sum()), self.decimals, self.lang)
                work = rf"E_{{total}} = \frac{{1}}{{{n}}} \cdot {total}"
                notes = (t("The total is the mean of the {n} samples' losses: their sum divided by {n}.", self.lang,
                           n=n),)
        else:
            symbolic = rf"E_{{total}} = {shares}"
            work = r"E_{total} = " + " + ".join(_sub(float(v), self.decimals, self.lang)
                                                   for v in self.trace.loss_per_output)
        return Step(
            **head, latex_symbolic=symbolic, **_numeric(work, value, nums),
            nodes=tuple(Neuron(L, k) for k in range(K)), notes=notes,
        )

    def _own(self, ref: ParamRef) -> dict:
        """The parameter's own edge and the neurons at its ends."""
        return dict(nodes=ref.neurons, edges=(ref,) if isinstance(ref, Weight) else (),
                    bias_edges=(ref,) if isinstance(ref, Bias) else ())

    def _highlight(self, ref: ParamRef) -> dict:
        """Nodes, edges and paths a parameter's gradient runs through."""
        layers, L = self.scenario.layers, self.scenario.n_layers
        own = self._own(ref)
        m, j = ref.target.layer, ref.target.index
        nodes = list(own["nodes"])
        paths: tuple = ()
        if m < L:
            paths = tuple(own["edges"] + (Weight(m, i, j),) for i in range(layers[m + 1]))
            nodes += [Neuron(m + 1, i) for i in range(layers[m + 1])]
        elif self.forms.softmax and not self.forms.fused_softmax:
            nodes += [Neuron(L, i) for i in range(layers[L]) if i != j]
        return {**own, "nodes": tuple(nodes), "paths": paths}

    def _bias_notes(self, ref: ParamRef) -> tuple[str, ...]:
        if not isinstance(ref, Bias) or not self.names.seed_style:
            return ()
        layers = self.scenario.layers
        biases = ", ".join(self.names.param(Bias(l, j)) for l in range(len(layers) - 1) for j in range(layers[l + 1]))
        return (t("Each neuron has its own bias ({biases}), as in PyTorch's nn.Linear; the hand-worked "
                  "seed shares b1 between the hidden neurons and b2 between the output neurons.",
                  self.lang, biases=biases),)

    def _backward(self, head: dict, ref: ParamRef) -> Step:
        chain = self.chain(ref)
        notes = self._bias_notes(ref)
        n = self.scenario.n_samples
        if n > 1:
            notes += (t("Shown for sample {s} of {n}; averaged over {n} samples the gradient is {g}.",
                        self.lang, s=self.sample + 1, n=n, g=self.numbers.fmt(chain.batch_value)),)
        if self.scenario.n_layers > 2 and ref.target.layer < self.scenario.n_layers:
            notes += (t("The deltas of the next layer were computed in earlier steps (backpropagation "
                        "reuses them instead of summing over every path).", self.lang),)
        if self.forms.fused and ref.target.layer >= self.scenario.n_layers - 1:
            notes += (t("The loss is computed from the output nets (the logits), like PyTorch's {torch}, so "
                        "∂E/∂net of an output is one closed form: ∂E/∂out · ∂out/∂net with the activation's "
                        "derivative cancelled, exact even where an output rounds to 0 or 1.",
                        self.lang, torch=t(self.loss_record.fused.pytorch, self.lang)),)  # N_ in bpviz.functions
        return Step(
            **head, latex_symbolic=chain.symbolic_latex, latex_numeric=chain.numeric_latex, value=chain.value,
            latex_question=chain.question_latex,
            param=ref, factors=chain.terms, notes=notes, latex_general=chain.general_latex,
            latex_intermediate=chain.intermediate_latex, latex_short=chain.short_latex, chain=chain,
            **self._highlight(ref),
        )

    @property
    def update_problem(self) -> str | None:
        """Why the update step cannot be applied, in words, or None (see :func:`update_problem`)."""
        if not hasattr(self, "_problem"):
            self._problem = update_problem(self.update, self.names, self.decimals, self.lang)
        return self._problem

    def _update_step(self, head: dict, ref: ParamRef) -> Step:
        sc, nm, nums, upd = self.scenario, self.names, self.numbers, self.update
        p = nm.param_latex(ref)
        old, new = engine.value_of(sc, ref), engine.value_of(upd.after, ref)
        notes = self._bias_notes(ref)
        first = head["index"] == self.first_of(Phase.UPDATE)
        if self.update_problem and (first or not (math.isfinite(new) and math.isfinite(upd.gradient(ref)))):
            notes += (self.update_problem,)
        if isinstance(ref, Bias) and not upd.train_biases:
            notes += (t("Biases are fixed here (train_biases is false): {param} keeps its value.",
                        self.lang, param=nm.param(ref)),)
            return Step(**head, latex_symbolic=rf"{{{p}}}^{{+}} = {p}", **_numeric(rf"{{{p}}}^{{+}}", old, nums),
                        param=ref, notes=notes, **self._own(ref))
        if upd.update_order == "output_first" and ref.target.layer < sc.n_layers:
            notes += (t("Update order output_first: this gradient is backpropagated through the "
                        "already-updated weights of the layers above.", self.lang),)
        if sc.n_samples > 1:
            notes += (t("The gradient is the mean over the {n} samples.", self.lang, n=sc.n_samples),)
        lr, grad = (_sub(x, self.decimals, self.lang) for x in (upd.learning_rate, upd.gradient(ref)))
        return Step(
            **head,
            latex_symbolic=rf"{{{p}}}^{{+}} = {p} - \eta \cdot \frac{{\partial E}}{{\partial {p}}}",
            **_numeric(rf"{{{p}}}^{{+}} = {_sub(old, self.decimals, self.lang)} - {lr} \cdot {grad}", new, nums),
            param=ref, notes=notes, **self._own(ref),
        )


def _numeric(work: str, value: float, nums: Numbers) -> dict:
    """A step's formula with numbers, ``work = value``, and the same with QUESTION for the value (``work`` ends
    before its last "=")."""
    return dict(latex_numeric=f"{work} = {nums.fmt(value)}", latex_question=f"{work} = {QUESTION}", value=value)


def update_problem(update: engine.Update, names, decimals: int = 4, lang: str = "en",
                   values: bool = True) -> str | None:
    """Why a gradient-descent step cannot be applied, in words: a gradient or a new value beyond float64, or new
    values so large that the forward pass with them is; None when the step is an ordinary one. ``values=False``:
    without the finite new value it names (a quiz may be asking for it)."""
    fmt = numbers.Style(decimals, lang, numbers.MINUS).text
    ref = update.overflow()
    if ref is not None:
        return t("This step goes beyond float64 (about ±1.8 × 10³⁰⁸) at {p}: η · ∂E/∂{p} = {lr} · {g}, new value "
                 "{new}. It cannot be applied: a smaller η keeps it finite.", lang, p=names.param(ref),
                 lr=fmt(update.learning_rate), g=fmt(update.gradient(ref)),
                 new=fmt(engine.value_of(update.after, ref)))
    after = engine.loss_value(update.after)
    if math.isfinite(after):
        return None
    refs = engine.parameter_refs(update.before)
    big = max(refs, key=lambda r: abs(engine.value_of(update.after, r)))
    if not values:
        return t("After this step {p} would be so large that the forward pass goes beyond float64 (about "
                 "±1.8 × 10³⁰⁸), so E after the step is {e}. The step cannot be applied: a smaller η keeps it finite.",
                 lang, p=names.param(big), e=fmt(after))
    return t("After this step {p} would be {v}: the forward pass with such weights goes beyond float64 (about "
             "±1.8 × 10³⁰⁸), so E after the step is {e}. The step cannot be applied: a smaller η keeps it finite.",
             lang, p=names.param(big), v=fmt(engine.value_of(update.after, big)), e=fmt(after))


def build_walkthrough(scenario: Scenario, trace: Trace, grads: Gradients, decimals: int = 4, sample: int = 0,
                      lang: str = "en") -> Walkthrough:
    """The walkthrough of ``scenario`` (``trace``/``grads`` from the engine); steps are built when first read."""
    return Walkthrough(scenario, trace, grads, decimals, sample, lang)
