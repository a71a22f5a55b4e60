"""The quiz's rules without Streamlit: reading a typed number, grading it, what stays hidden, hints, the score."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from bpviz import config, engine, numbers, quiz
from bpviz.ids import Bias, Delta, Neuron, OutGrad, Phase, StepId, Weight
from bpviz.quiz import AnswerError, Attempt, QuizLog, parse_answer
from bpviz.walkthrough import build_walkthrough, step_order

from .strategies import extreme_scenarios

SEED = config.preset("seed")


def walk(sc: config.Scenario = SEED):
    tr = engine.forward(sc)
    return build_walkthrough(sc, tr, engine.backward(sc, tr))


# ---------------------------------------------------------------- reading a number


@pytest.mark.parametrize(("text", "value"), [
    ("0.5", 0.5), ("-1.2e-3", -1.2e-3), ("0,5", 0.5), ("-0,0822", -0.0822), (" 0.0822 ", 0.0822), (".5", 0.5),
    ("5.", 5.0), ("+0.5", 0.5), ("3", 3.0), ("4.39E-5", 4.39e-5), ("4.39e-05", 4.39e-5),
    ("０．５", 0.5), ("－０．３７７５", -0.3775), ("１，５", 1.5), ("0。5", 0.5),  # full-width, as a Chinese IME types
    ("\u22120.5", -0.5), ("\u2013 0.5", -0.5),  # the typographic minus the page shows, an en dash
    ("4.39×10^-5", 4.39e-5), ("4.39×10⁻⁵", 4.39e-5), ("4.39*10^-5", 4.39e-5), ("4.39·10^-5", 4.39e-5),
    ("1 000", 1000.0),
])
def test_reads_what_a_student_types(text, value):
    assert parse_answer(text) == pytest.approx(value, rel=1e-15, abs=0)


@pytest.mark.parametrize("text", [
    "", "   ", "abc", "nan", "NaN", "inf", "-infinity", "1e999", "0.5.3", "1,000.5", "1,2,3", "0x10", "1_000", "½",
    "2*3", "__import__('os').system('true')", "0.5 0.3e", "e5", "1e", "--1", "0.5%", "1/2", "9" * 41,
])
def test_refuses_anything_else_with_a_message(text):
    with pytest.raises(AnswerError) as err:
        parse_answer(text)
    message = err.value.args[0]
    english, chinese = message.text("en"), message.text("zh")
    assert english and chinese and english != chinese


@settings(max_examples=300, deadline=None)
@given(hs.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_every_number_the_page_could_show_reads_back(x):
    assert parse_answer(repr(x)) == x
    assert parse_answer(repr(x).replace(".", ",")) == x  # a decimal comma
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c in ".-" else c for c in repr(x))
    assert parse_answer(full_width) == x


@settings(max_examples=300, deadline=None)
@given(hs.text(max_size=50))
def test_any_text_is_a_finite_number_or_an_answer_error(text):
    try:
        value = parse_answer(text)
    except AnswerError:
        return
    assert math.isfinite(value)


# ---------------------------------------------------------------- grading


@pytest.mark.parametrize(("right", "tol"), [(0.0822, 0.000822), (1000.0, 10.0), (0.000439, 4.39e-6), (0.0, 5e-5),
                                            (-0.3775, 0.003775), (0.05, 5e-4), (0.002, 2e-5), (0.004, 4e-5),
                                            (1.7e-5, 1.7e-7)])
def test_tolerance_is_one_percent_or_half_a_unit_of_the_last_place_shown(right, tol):
    assert quiz.tolerance(right) == pytest.approx(tol, rel=1e-12)
    inside, outside = tol * 0.999, tol * 1.001
    assert quiz.is_right(right + inside, right) and quiz.is_right(right - inside, right)
    assert not quiz.is_right(right + outside, right) and not quiz.is_right(right - outside, right)


@pytest.mark.parametrize("name", ["seed", "deep_sigmoid_vanishing", "xor_2_4_1", "softmax_3class"])
def test_what_the_page_shows_counts_as_right_and_zero_or_the_wrong_sign_does_not(name):
    for step in walk(config.preset(name)):
        shown = numbers.text(step.value, 4)  # what a careful student types: the number as the page shows it
        assert quiz.is_right(quiz.parse_answer(shown), step.value), (step.key, shown)
        if step.value != 0:
            assert not quiz.is_right(-step.value, step.value), step.key
            assert not quiz.is_right(0.0, step.value), step.key


# ---------------------------------------------------------------- which steps ask, what is hidden


def test_every_step_asks_except_a_bias_that_is_not_trained():
    mazur = config.preset("mazur")  # train_biases: false
    wt = walk(mazur)
    for step in wt:
        fixed = step.phase is Phase.UPDATE and isinstance(step.param, Bias)
        assert quiz.asks(step, mazur) is not fixed, step.key
    assert all(quiz.asks(step, SEED) for step in walk())


def test_the_question_is_the_numeric_formula_without_its_value():
    for name in config.preset_names():
        for step in walk(config.preset(name)):
            head, _, value = step.latex_numeric.rpartition(" = ")
            assert step.latex_question == f"{head} = {quiz_mark()}", step.key
            assert value and value not in step.latex_question.rpartition(" = ")[2]


def quiz_mark() -> str:
    from bpviz.symbolic import QUESTION

    return QUESTION


def test_hidden_from_a_step_on_is_that_step_and_every_later_one():
    wt = walk()
    order = step_order(SEED.architecture)
    assert list(order) == list(wt.ids())
    for first in (0, 5, wt.first_of(Phase.BACKWARD), wt.first_of(Phase.UPDATE), len(wt) - 1, len(wt)):
        hidden = quiz.hidden_quantities(SEED.architecture, first)
        assert {sid for sid in hidden if isinstance(sid, StepId)} == set(order[first:])


def test_a_neurons_delta_shows_with_its_bias_gradient():
    """∂E/∂b = δ: δ of o1 stays hidden while the step of its bias b3 (the seed's b:1:0) is."""
    wt = walk()
    b_o1 = wt.index_of(StepId(Phase.BACKWARD, Bias(1, 0)))
    o1 = Neuron(2, 0)
    assert {Delta(o1), OutGrad(o1)} <= quiz.hidden_quantities(SEED.architecture, b_o1)
    assert Delta(o1) not in quiz.hidden_quantities(SEED.architecture, b_o1 + 1)
    assert OutGrad(Neuron(0, 0)) in quiz.hidden_quantities(SEED.architecture, wt.first_of(Phase.UPDATE) - 1)
    assert OutGrad(Neuron(0, 0)) not in quiz.hidden_quantities(SEED.architecture, wt.first_of(Phase.UPDATE))


# ---------------------------------------------------------------- hints


def _hint(wt, key: str, answer: float) -> str | None:
    message = quiz.hint(wt, wt[wt.index_of(key)], answer)
    return None if message is None else message.text()


def test_hints_name_the_usual_slips():
    wt = walk()
    tr = engine.forward(SEED)
    out_o1, out_h1, t1 = tr.a[2][0, 0], tr.a[1][0, 0], SEED.targets[0, 0]
    # ∂E/∂w5 = (out_o1 − t1) · out_o1 (1 − out_o1) · out_h1, by hand; without the last factor:
    without_out_h1 = (out_o1 - t1) * out_o1 * (1 - out_o1)
    assert "without the factor" in _hint(wt, "backward:w:1:0:0", without_out_h1)
    assert r"\partial net_{o1}}{\partial w_{5}}" in _hint(wt, "backward:w:1:0:0", without_out_h1)
    assert r"\partial E}{\partial out_{o1}}" in _hint(wt, "backward:w:1:0:0", out_o1 * (1 - out_o1) * out_h1)
    w5 = wt[wt.index_of("backward:w:1:0:0")].value
    assert "sign" in _hint(wt, "backward:w:1:0:0", -w5)
    assert "10 times too large" in _hint(wt, "backward:w:1:0:0", w5 * 10)
    assert "100 times too small" in _hint(wt, "backward:w:1:0:0", w5 / 100)
    assert _hint(wt, "backward:w:1:0:0", w5 * 1.5) is None  # no usual slip: no guess
    assert _hint(wt, "backward:w:1:0:0", w5) is None  # right
    # net_h1 = w1·i1 + w2·i2 + b1 = 0.3775; without the bias 0.35:
    assert "without the bias" in _hint(wt, "forward:net:1:0", 0.15 * 0.05 + 0.2 * 0.1)
    assert "activation sigmoid" in _hint(wt, "forward:out:1:0", 0.3775)  # net itself
    # w5⁺ = 0.4 − 0.5 · ∂E/∂w5; + instead of −, and η forgotten:
    assert "subtracts" in _hint(wt, "update:w:1:0:0", 0.4 + 0.5 * w5)
    assert "learning rate" in _hint(wt, "update:w:1:0:0", 0.4 - w5)


def test_running_products_end_at_the_value():
    for name in config.preset_names():
        wt = walk(config.preset(name))
        for i in wt.indices((Phase.BACKWARD,)):
            step = wt[i]
            steps = quiz.running_products(step)
            assert len(steps) == len(step.chain.product) - 1
            if steps:
                assert steps[-1][1] == pytest.approx(step.value, rel=1e-9, abs=1e-15), step.key


# ---------------------------------------------------------------- the log and the score


def test_the_log_counts_per_phase_and_a_changed_value_is_a_new_question():
    wt = walk()
    log = QuizLog()
    w5, net_h1 = wt[wt.index_of("backward:w:1:0:0")], wt[wt.index_of("forward:net:1:0")]
    assert log.attempt_for(w5) is None
    log.record(Attempt(w5.id, w5.value, 0.0822, "0.0822"))
    log.record(Attempt(net_h1.id, net_h1.value, 0.5, "0.5"))
    log.record(Attempt(StepId(Phase.UPDATE, Weight(1, 0, 0)), 0.3589))  # skipped
    assert log.attempt_for(w5).correct and not log.attempt_for(net_h1).correct
    score = log.score()
    assert (score[Phase.BACKWARD].right, score[Phase.BACKWARD].answered) == (1, 1)
    assert (score[Phase.FORWARD].right, score[Phase.FORWARD].answered) == (0, 1)
    assert (score[Phase.UPDATE].answered, score[Phase.UPDATE].skipped) == (0, 1)
    assert score[Phase.LOSS] == quiz.Score()
    changed = walk(SEED.with_parameters([w.copy() for w in SEED.weights], [b + 0.1 for b in SEED.biases]))
    assert log.attempt_for(changed[changed.index_of("backward:w:1:0:0")]) is None  # new numbers: ask again
    log.reset()
    assert log.attempt_for(w5) is None and all(s == quiz.Score() for s in log.score().values())


# ---------------------------------------------------------------- extreme networks


@settings(max_examples=40, deadline=None)
@given(extreme_scenarios(max_hidden=2))
def test_every_step_of_an_extreme_network_has_its_rules(scenario):
    """Overflow, saturation, fixed biases, many samples: every step asks or says why not, every wrong answer gets a
    hint or none (never an error), and what is hidden grows step by step."""
    wt = walk(scenario)
    previous = None
    for step in wt:
        if quiz.asks(step, scenario):
            assert math.isfinite(step.value) and quiz.is_right(step.value, step.value)
            for wrong in (0.0, -step.value, step.value * 10, 1e300):
                message = quiz.hint(wt, step, wrong)
                assert message is None or message.text("zh")
        hidden = quiz.hidden_quantities(scenario.architecture, step.index)
        assert step.id in hidden and (previous is None or hidden < previous)
        previous = hidden
