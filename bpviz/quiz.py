"""Predict, then reveal: reading a student's number, grading it, what stays hidden, and the score (no Streamlit).

A walkthrough step is a question while the quiz is on: its value stays hidden until the student checks a prediction
or skips. This module holds the rules, the UI (``bpviz/ui/quiz.py``) draws them:

- :func:`parse_answer` reads what a student typed (never ``eval``): ``0.5``, ``-1.2e-3``, ``0,5``, full-width
  digits, ``−`` (U+2212), ``4.39×10^-5``; anything else raises :class:`AnswerError` with a translatable message;
- :func:`is_right` grades it within :func:`tolerance` = max(1 % of |value|, 5·10⁻⁴);
- :func:`hidden_quantities` is what the pages must not show while a step is hidden: the value of that step and of
  every later step of the walk (a later value often gives the asked one away: out from net, E from its shares),
  and the backward quantities (δ, ∂E/∂out) not reached yet; earlier steps stay visible;
- :func:`hint` names a usual slip in a wrong answer (a factor of the chain left out, the bias forgotten, + instead
  of − in the update, the sign, the decimal point);
- :class:`QuizLog` keeps the answers of a session and the score per phase.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from . import engine, numbers
from .config import Scenario
from .functions import ACTIVATIONS
from .i18n import N_, Message
from .ids import Bias, Delta, Net, Neuron, Out, OutGrad, Phase, StepId
from .walkthrough import Step, Walkthrough, step_order

RELATIVE_TOLERANCE = 1e-2
SHOWN_DECIMALS = 4  # the absolute floor is half a unit in the last place the number rule shows at 4 decimals
MAX_ANSWER_CHARS = 40
MAX_LOG = 10_000  # answers kept per session (a student's whole term fits; a runaway script does not grow forever)
POWERS_OF_TEN = (1, 2, 3)  # a slip of the decimal point: the answer is the value times 10^±k

# what a student may type: a decimal number (point or comma), optionally times a power of ten (e, ×10^)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ANSWER = re.compile(rf"(?P<m>{_NUMBER.pattern})(?:[eE](?P<e>[+-]?\d{{1,4}})|[×xX*·⋅]10\^?(?P<p>[+-]?\d{{1,4}}))?")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\u3002": "."})


class AnswerError(ValueError):
    """What a student typed is not a number; ``args[0]`` is a :class:`~bpviz.i18n.Message` saying what to type."""


def parse_answer(text: str) -> float:
    """The number a student typed: "0.5", "-1.2e-3", "0,5" (a decimal comma), "０．５" (full-width), "−0.5",
    "4.39×10^-5" or "4.39×10⁻⁵"; spaces anywhere are ignored. Never evaluated: anything else is an AnswerError."""
    if len(text) > MAX_ANSWER_CHARS:
        raise AnswerError(Message(N_("That is too long for a number: type at most {n} characters."),
                                  n=MAX_ANSWER_CHARS))
    plain = "".join(unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS).split())
    if not plain:
        raise AnswerError(Message(N_("Type your prediction first (or Skip to see the answer).")))
    if "," in plain:
        if "." in plain or plain.count(",") > 1:
            raise AnswerError(Message(N_("Use either a decimal point or a decimal comma, once: 0.5 or 0,5.")))
        plain = plain.replace(",", ".")
    match = _ANSWER.fullmatch(plain)
    if match is None:
        raise AnswerError(Message(N_("That is not a number. Type one number, such as 0.5, -1.2e-3 or 0,5.")))
    exponent = match.group("e") or match.group("p") or "0"
    try:
        value = float(f"{match.group('m')}e{int(exponent)}")
    except OverflowError:  # pragma: no cover - float() gives inf rather than raising; kept for safety
        value = math.inf
    if not math.isfinite(value):
        raise AnswerError(Message(N_("That number is too large for a prediction.")))
    return value


def tolerance(right: float) -> float:
    """How far an answer may be from ``right`` and still count: 1 % of |right|, at least half a unit in the last
    place the page shows it with (0.7414: 0.00005; 0.000439: 0.0000005), so typing what is shown always counts.

    Not a fixed 0.0005 (the issue's example): that made 0, and the wrong sign, right for every gradient under
    0.0005, the seed's ∂E/∂w1 = 0.000439 and every first-layer gradient of the vanishing example among them."""
    return max(RELATIVE_TOLERANCE * abs(right), 0.5 * 10.0 ** -numbers.places(right, SHOWN_DECIMALS))


def is_right(answer: float, right: float) -> bool:
    """Whether ``answer`` is within :func:`tolerance` of ``right``."""
    return math.isfinite(answer) and math.isfinite(right) and abs(answer - right) <= tolerance(right)


# ---------------------------------------------------------------- which steps ask, and what stays hidden


def asks(step: Step, scenario: Scenario) -> bool:
    """Whether the quiz asks for this step's value: a finite value the page does not show anyway (a bias that is
    not trained keeps its value, which its slider shows: nothing to predict)."""
    if not math.isfinite(step.value):
        return False
    return not (step.phase is Phase.UPDATE and isinstance(step.param, Bias) and not scenario.train_biases)


@lru_cache(maxsize=64)
def hidden_quantities(architecture: tuple, first_hidden: int) -> frozenset:
    """What must stay hidden when the steps from index ``first_hidden`` on are (the current step, unless it was
    answered, and every later one): their :class:`StepId`, and the :class:`Delta` and :class:`OutGrad` of every
    neuron whose bias gradient is among them (∂E/∂b = δ, so δ shows once that step is answered); the inputs'
    ∂E/∂x once the last backward step is."""
    order = step_order(architecture)
    hidden: set = set(order[max(first_hidden, 0):])
    layers = architecture[0]
    for l in range(1, len(layers)):
        for j in range(layers[l]):
            if StepId(Phase.BACKWARD, Bias(l - 1, j)) in hidden:
                hidden |= {Delta(Neuron(l, j)), OutGrad(Neuron(l, j))}
    last_backward = max(i for i, sid in enumerate(order) if sid.phase is Phase.BACKWARD)
    if first_hidden <= last_backward:
        hidden |= {OutGrad(Neuron(0, k)) for k in range(layers[0])}
    return frozenset(hidden)


# ---------------------------------------------------------------- hints for a wrong answer


@dataclass(frozen=True)
class Slip:
    """A usual mistake: the value it gives, and what to say when an answer matches it."""

    value: float
    message: Message


def _product_slips(step: Step) -> list[Slip]:
    """A chain-rule product with one factor left out."""
    product = step.chain.product if step.chain is not None else ()
    slips = []
    for k, (symbol, value) in enumerate(product):
        rest = math.prod(v for i, (_, v) in enumerate(product) if i != k)
        if len(product) > 1 and value not in (0.0, 1.0, -1.0):
            slips.append(Slip(rest, Message(N_("That is the product without the factor ${factor}$: the chain rule "
                                               "multiplies every factor of the chain."), factor=symbol)))
    return slips


def _forward_slips(wt: Walkthrough, step: Step) -> list[Slip]:
    """net without its bias; out without its activation."""
    scenario = wt.scenario
    match step.id.subject:
        case Net(neuron):
            bias = Bias(neuron.layer - 1, neuron.index).read(scenario.weights, scenario.biases)
            return [Slip(step.value - bias, Message(N_("That is the weighted sum without the bias: net adds the "
                                                       "bias too.")))]
        case Out(neuron) if ACTIVATIONS[scenario.activations[neuron.layer - 1]].elementwise:
            net = float(wt.trace.z[neuron.layer][wt.sample, neuron.index])
            return [Slip(net, Message(N_("That is net itself: out applies the activation {f} to it."),
                                      f=scenario.activations[neuron.layer - 1]))]
    return []


def _update_slips(step: Step, update: engine.Update) -> list[Slip]:
    """w + η·g instead of w − η·g; w − g without η."""
    ref = step.param
    if ref is None:
        return []
    old, g, lr = engine.value_of(update.before, ref), update.gradient(ref), update.learning_rate
    return [Slip(old + lr * g, Message(N_("That is w + η·∂E/∂w: gradient descent subtracts, it moves against the "
                                          "gradient."))),
            Slip(old - g, Message(N_("That is w − ∂E/∂w: the step is the gradient times the learning rate η.")))]


def _general_slips(right: float) -> list[Slip]:
    """The sign; the decimal point."""
    slips = [Slip(-right, Message(N_("The size is right but the sign is not.")))]
    for k in POWERS_OF_TEN:
        slips.append(Slip(right * 10.0 ** k, Message(N_("The digits are right but the decimal point is not: your "
                                                        "answer is {n:g} times too large."), n=10.0 ** k)))
        slips.append(Slip(right * 10.0 ** -k, Message(N_("The digits are right but the decimal point is not: your "
                                                         "answer is {n:g} times too small."), n=10.0 ** k)))
    return slips


def slips(wt: Walkthrough, step: Step) -> list[Slip]:
    """The usual mistakes of this step of ``wt``, most specific first."""
    found = _product_slips(step) + _forward_slips(wt, step)
    if step.phase is Phase.UPDATE:
        found += _update_slips(step, wt.update)
    return found + _general_slips(step.value)


def hint(wt: Walkthrough, step: Step, answer: float) -> Message | None:
    """What a wrong ``answer`` to ``step`` (of ``wt``) looks like: the first usual slip it matches (and the right
    value does not)."""
    if is_right(answer, step.value):
        return None
    for slip in slips(wt, step):
        if is_right(answer, slip.value) and not is_right(slip.value, step.value):
            return slip.message
    return None


def running_products(step: Step) -> list[tuple[float, float]]:
    """For a chain-rule product f₁·f₂·…: (fₖ, f₁·…·fₖ) for k ≥ 2, so a student can redo it step by step."""
    product = step.chain.product if step.chain is not None else ()
    out, acc = [], None
    for _, value in product:
        acc = value if acc is None else acc * value
        out.append((value, acc))
    return out[1:]


# ---------------------------------------------------------------- answers and the score


@dataclass(frozen=True)
class Attempt:
    """One question answered: the step, its value when asked, and the student's number (None: skipped or revealed
    without an answer) with the text it was typed as."""

    step: StepId
    right: float
    answer: float | None = None
    text: str = ""

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def correct(self) -> bool:
        return self.answer is not None and is_right(self.answer, self.right)


@dataclass(frozen=True)
class Score:
    """Right answers of all answered (skipped steps are not counted)."""

    right: int = 0
    answered: int = 0
    skipped: int = 0


SCORED_PHASES = tuple(Phase)


@dataclass
class QuizLog:
    """The answers of one session. A step counts as answered while its value is the one it had when answered: move
    a slider that changes it and it is a new question (hidden again)."""

    attempts: list[Attempt] = field(default_factory=list)
    unreadable: tuple[StepId, Message] | None = None  # the last answer that was not a number: its step, and why
    _latest: dict[StepId, Attempt] = field(default_factory=dict, repr=False)

    def record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        del self.attempts[:-MAX_LOG]
        self._latest[attempt.step] = attempt
        self.unreadable = None

    def refuse(self, step: StepId, why: Message) -> None:
        """An answer to ``step`` that is not a number: nothing is counted, ``why`` is shown under its box."""
        self.unreadable = (step, why)

    def why_unreadable(self, step: StepId) -> Message | None:
        """Why the last answer to ``step`` could not be read, if it was the last answer typed."""
        return self.unreadable[1] if self.unreadable is not None and self.unreadable[0] == step else None

    def attempt_for(self, step: Step) -> Attempt | None:
        """The answer to this step as it is now (same value), or None: then the step is still a question."""
        last = self._latest.get(step.id)
        return last if last is not None and last.right == step.value else None

    def asked_all(self, ids) -> bool:
        """Whether each of these steps was answered or revealed (at some value): what a summary of all their values
        (the gradient size per layer) waits for."""
        return all(i in self._latest for i in ids)

    def score(self) -> dict[Phase, Score]:
        counts = {phase: [0, 0, 0] for phase in SCORED_PHASES}
        for a in self.attempts:
            c = counts[a.step.phase]
            c[0] += a.correct
            c[1] += a.answered
            c[2] += not a.answered
        return {phase: Score(*c) for phase, c in counts.items()}

    def reset(self) -> None:
        """Forget every answer: the score starts again and every step is a question again."""
        self.attempts.clear()
        self._latest.clear()
        self.unreadable = None
