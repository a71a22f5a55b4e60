"""AppTest: the quiz on the walkthrough pages (predict, then reveal).

While a step is a question, the value it asks for is nowhere on the page: not in a text, a formula, a metric, a
table, a tooltip, nor in the network figure's JSON (labels, hover texts, custom data). Checked on the seed and every
example, for a step of each phase, at the page's decimals and at full precision; then Skip shows it (the collector
finds what it looks for). A right and a wrong answer, the score, Reset, the link, a slider moved after an answer.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict

from bpviz import engine, numbers, quiz
from bpviz.config import preset, preset_names, validate
from bpviz.ids import Phase, StepId
from bpviz.ui import link
from bpviz.ui import quiz as quiz_ui
from bpviz.ui.state import AppState
from bpviz.walkthrough import build_walkthrough

from .apptest_util import assert_clean, corpus_doc, figures, latex, live, opened, sizes_chart, texts
from .conftest import CORPUS

PAGE_OF = {Phase.FORWARD: "forward", Phase.LOSS: "forward", Phase.BACKWARD: "backward", Phase.UPDATE: "update"}
VIEW = {"forward": "views/forward_pass.py", "backward": "views/backward_pass.py", "update": "views/update.py"}
DECIMALS = 4  # the page's default


# ---------------------------------------------------------------- everything the page shows


def _strings(value):
    """Every string and number under a proto or figure JSON; JSON inside a string is opened."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        if value[:1] in "{[":
            try:
                yield from _strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield repr(value)


def everything(at) -> str:
    """Every text of every element (markdown, LaTeX, captions, metrics and their help, widget labels and values,
    tooltips, dataframes) and every string or number in the figures' JSON, hover texts and custom data included."""
    out = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        data = MessageToDict(proto)
        for drop in ("jsContent", "cssContent"):  # the live widgets' fixed code
            data.pop(drop, None)
        out += list(_strings(data))
    for table in [*at.dataframe, *at.table]:  # their cells arrive as Arrow bytes: read them as a DataFrame
        out += [str(c) for c in table.value.columns] + [str(v) for v in table.value.to_numpy().ravel()]
    return "\n".join(out)


def forms(value: float) -> set[str]:
    """How the page could write ``value``: rounded as every page does (both minus signs, LaTeX), and in full."""
    return {numbers.text(value, DECIMALS), numbers.text(value, DECIMALS, minus=numbers.MINUS),
            numbers.latex(value, DECIMALS), numbers.exact(value)}


def found(value: float, text: str) -> list[str]:
    """The forms of ``value`` that ``text`` contains as a whole number (not as a piece of a longer one)."""
    return [f for f in forms(value) if re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", text)]


# ---------------------------------------------------------------- which step to ask on each example


def _walk(scenario):
    tr = engine.forward(scenario)
    return build_walkthrough(scenario, tr, engine.backward(scenario, tr))


def _numbers_by_name(wt, step) -> dict[tuple, float]:
    """Every number of the scenario by a name of its own (from the engine, never from the page): the parameters,
    inputs, targets and η, every net, out, loss share, δ, ∂E/∂out and gradient (the shown sample's and the mean),
    the values after the update and E after it, and the factors of the step's own formula."""
    sc, tr, g, s = wt.scenario, wt.trace, wt.grads, wt.sample
    upd = engine.step(sc)
    named: dict[tuple, float] = {("eta",): sc.learning_rate, ("loss",): tr.loss,
                                 ("loss after",): engine.loss_value(upd.after)}

    def add(tag, arrays) -> None:
        for l, arr in enumerate(arrays):
            for idx, v in np.ndenumerate(np.asarray(arr, dtype=float)):
                named[(tag, l, *idx)] = float(v)

    add("w", sc.weights), add("b", sc.biases), add("x", [sc.inputs[s]]), add("t", [sc.targets[s]])
    add("share", [tr.loss_share[s]]), add("mean share", [tr.loss_per_output])
    add("z", [z[s] for z in tr.z]), add("a", [a[s] for a in tr.a])
    add("dz", [d[s] for d in g.dE_dz]), add("da", [d[s] for d in g.dE_da])
    add("dW", g.dE_dW), add("db", g.dE_db), add("after w", upd.after.weights), add("after b", upd.after.biases)
    add("dW sample", [np.outer(g.dE_dz[l + 1][s], tr.a[l][s]) for l in range(sc.n_layers)])
    if step.chain is not None:
        add("factor", [[v for _, v in step.chain.product] + [f.value for term in step.factors for f in term]])
    return named


def _own_names(step, n_samples: int) -> set[tuple]:
    """The names under which :func:`_numbers_by_name` holds the step's own value."""
    subject = step.id.subject
    match step.phase, subject:
        case Phase.FORWARD, _:
            n = subject.neuron
            return {("z" if subject.TAG == "net" else "a", n.layer, n.index)}
        case Phase.LOSS, _:
            if subject.TAG != "share":  # with one output the mean share over the samples is E_total itself
                return {("loss",)} | ({("mean share", 0, 0)} if step.nodes and len(step.nodes) == 1 else set())
            return {("share", 0, subject.output)} | ({("mean share", 0, subject.output)} if n_samples == 1 else set())
        case Phase.BACKWARD, _:
            if subject.TAG == "w":
                own = {("dW sample", subject.layer, subject.row, subject.col)}
                return own | ({("dW", subject.layer, subject.row, subject.col)} if n_samples == 1 else set())
            return {("dz", subject.layer + 1, subject.row)} | ({("db", subject.layer, subject.row)}
                                                                if n_samples == 1 else set())
    tag = "after w" if subject.TAG == "w" else "after b"
    return {(tag, subject.layer, subject.row, *((subject.col,) if subject.TAG == "w" else ()))}


def _other_numbers(wt, step) -> list[float]:
    """Every number of the scenario but the step's own value."""
    own = _own_names(step, wt.scenario.n_samples)
    return [v for name, v in _numbers_by_name(wt, step).items() if name not in own]


def asked_step(name: str, phase: Phase):
    """The first step of ``phase`` on example ``name`` that asks for a value no other number of the scenario shares
    (a net equal to its bias when the inputs are 0 is a fair question, but then the bias shows the same digits)."""
    scenario = preset(name)
    wt = _walk(scenario)
    for i in wt.indices((phase,)):
        step = wt[i]
        if not quiz.asks(step, scenario):
            continue
        mine = forms(step.value)
        if not any(forms(v) & mine for v in _other_numbers(wt, step)):
            return step
    raise AssertionError(f"{name}: no step of {phase} with a value of its own")


def distinct_steps(name: str) -> list:
    """Every step of example ``name`` whose value no other number of the scenario shares."""
    scenario = preset(name)
    wt = _walk(scenario)
    return [step for step in wt if quiz.asks(step, scenario)
            and not any(forms(v) & forms(step.value) for v in _other_numbers(wt, step))]


def quiz_link(name: str, **extra) -> dict[str, str]:
    return link.to_query(AppState(scenario=preset(name), quiz=True, **extra))


def open_at(name: str, sid: StepId, **extra):
    page = PAGE_OF[sid.phase]
    at = opened(quiz_link(name, **extra), VIEW[page])
    at.selectbox(key=f"nav_{page}_step").set_value(sid).run()
    assert_clean(at)
    return at


CASES = [(name, phase) for name in preset_names() for phase in Phase]


@pytest.mark.parametrize(("name", "phase"), CASES, ids=[f"{n}-{p.value}" for n, p in CASES])
def test_the_value_asked_for_is_nowhere_on_the_page_until_skipped(name, phase):
    step = asked_step(name, phase)
    at = open_at(name, step.id)
    shown = everything(at)
    assert not found(step.value, shown), (step.key, found(step.value, shown))
    assert any(r"\boxed" in f and f.rstrip().endswith(r"\,?\,}") for f in latex(at)), "the formula ends in ?"
    assert at.text_input(key=quiz_ui.answer_key(step.id)).value == ""
    at.button(key="quiz_skip").click().run()
    assert_clean(at)
    assert found(step.value, everything(at)), "revealed: the collector finds the value"


@pytest.mark.parametrize("name", ["xor_2_2_1", "xor_2_4_1", "deep_sigmoid_vanishing"])
def test_the_total_loss_of_several_samples_is_asked_from_the_samples_losses(name):
    """Several samples, one output: the mean share over the samples is E_total itself, so the question lists each
    sample's loss (computed here from the engine) and the page shows no number equal to E_total until skipped."""
    scenario = preset(name)
    trace = engine.forward(scenario)
    wt = _walk(scenario)
    step = wt[[i for i in wt.indices((Phase.LOSS,)) if wt[i].id.subject.TAG != "share"][0]]
    at = open_at(name, step.id)
    assert not found(step.value, everything(at))
    question = next(f for f in latex(at) if r"\boxed" in f)
    for loss in trace.loss_share.sum(axis=1):
        assert numbers.latex(float(loss)) in question


SEED_STEPS = distinct_steps("seed")


@pytest.mark.parametrize("key", [step.key for step in SEED_STEPS])
def test_every_step_of_the_seed_hides_its_value(key):
    """The outputs and E total are also header metrics, a new value also a table row: every step of the seed."""
    step = next(s for s in SEED_STEPS if s.key == key)
    at = open_at("seed", step.id)
    assert not found(step.value, everything(at)), found(step.value, everything(at))


def test_later_values_stay_hidden_and_earlier_ones_show():
    """On ∂E/∂w6 (after w5 answered) the graph shows ∂E/∂w5 and hides ∂E/∂w6 and w7's; on the forward pass the
    outputs and E total stay ? in the header until their own steps."""
    at = open_at("seed", StepId.parse("backward:w:1:0:0"))
    at.text_input(key=quiz_ui.answer_key(StepId.parse("backward:w:1:0:0"))).input("0.0822")
    at.button(key="quiz_check").click().run()
    at.button(key="nav_backward_next").click().run()
    labels = {a["name"]: a["text"] for a in figures(at)[0]["layout"]["annotations"]}
    assert labels["label:w:1:0:0"] == "∂E/∂w5 = 0.0822"
    assert labels["label:w:1:0:1"] == "∂E/∂w6 = ?" and labels["label:w:1:1:0"] == "∂E/∂w7 = ?"
    fwd = open_at("seed", StepId.parse("forward:out:1:0"))
    values = {m.label: m.value for m in fwd.metric}
    assert values == {"out o1": "?", "out o2": "?", "E total": "?"}
    node_values = next(tr for tr in figures(fwd)[0]["data"] if tr["name"] == "node-values")["text"]
    assert node_values[2] == "net 0.3775<br>out ?"  # h1: net was the step before; out is asked


def test_the_update_table_hides_the_new_values_from_the_step_on():
    at = open_at("seed", StepId.parse("update:w:1:0:0"))
    table = at.dataframe[0].value
    after = dict(zip(table["parameter"], table["after"]))
    assert set(after.values()) == {"?"}  # w5 is the first update step: every new value is still to come
    at.button(key="quiz_skip").click().run()
    after = dict(zip(at.dataframe[0].value["parameter"], at.dataframe[0].value["after"]))
    assert after["w5"] == "0.3589" and after["w6"] == "?"


# ---------------------------------------------------------------- answering


def asking(at, sid: StepId) -> bool:
    """Whether the page asks for the step's value (its answer box is drawn)."""
    return quiz_ui.answer_key(sid) in [el.key for el in at.text_input]


def answer(at, sid: StepId, text: str):
    at.text_input(key=quiz_ui.answer_key(sid)).input(text)
    at.button(key="quiz_check").click().run()
    assert_clean(at)
    return at


@pytest.mark.parametrize("key", ["forward:net:1:0", "loss:total", "backward:w:1:0:0", "update:w:1:0:0"])
def test_a_right_answer(key):
    sid = StepId.parse(key)
    step = _walk(preset("seed")).step(sid)
    at = open_at("seed", sid)
    typed = f"{step.value:.4f}".replace(".", ",")  # rounded as shown, with a decimal comma
    answer(at, sid, typed)
    assert not asking(at, sid)
    assert [s.value for s in at.success] and "Right" in at.success[0].value
    assert f"{step.value:.4f}" in at.success[0].value and repr(step.value) in at.success[0].value
    assert f"Your answer: {typed} (read as {step.value:.4f})" in [el.value for el in at.get("text")]
    assert f"{quiz_ui.PHASE_NAMES[sid.phase]} 1/1" in texts(at)  # the score, in the box and in the sidebar
    score = at.session_state["bpviz_app"].quiz_log.score()[sid.phase]
    assert (score.right, score.answered) == (1, 1)
    assert found(step.value, everything(at))  # revealed


def test_a_wrong_answer_shows_the_right_value_and_the_slip():
    sid = StepId.parse("backward:w:1:0:0")
    wt = _walk(preset("seed"))
    step = wt.step(sid)
    tr = engine.forward(preset("seed"))
    out_o1, t1 = tr.a[2][0, 0], preset("seed").targets[0, 0]
    without_last = (out_o1 - t1) * out_o1 * (1 - out_o1)  # ∂E/∂out_o1 · ∂out_o1/∂net_o1, by hand
    at = open_at("seed", sid)
    answer(at, sid, f"{without_last:.4f}")
    assert "Not right" in at.warning[0].value and f"{step.value:.4f}" in at.warning[0].value
    shown = texts(at)
    assert "without the factor" in shown and r"\partial net_{o1}}{\partial w_{5}}" in shown
    assert "Multiply step by step" in shown
    score = at.session_state["bpviz_app"].quiz_log.score()[Phase.BACKWARD]
    assert (score.right, score.answered) == (0, 1)
    assert texts(at).count("Backward pass 0/1") == 2  # the box and the sidebar


def test_what_the_student_typed_is_plain_text():
    sid = StepId.parse("forward:net:1:0")
    at = open_at("seed", sid)
    payload = "**0.5** <b>x</b>"
    at.text_input(key=quiz_ui.answer_key(sid)).input(payload)
    at.button(key="quiz_check").click().run()
    assert_clean(at)
    assert "not a number" in " ".join(el.value for el in at.get("text"))  # why, as plain text, under the box
    assert at.session_state["bpviz_app"].quiz_log.attempts == []  # nothing counted
    assert asking(at, sid)  # still a question
    at.button(key="nav_forward_next").click().run()  # the reason stays with its step
    assert "not a number" not in " ".join(el.value for el in at.get("text"))
    at.button(key="nav_forward_prev").click().run()
    typed = "０，３７７５"  # full-width, with a decimal comma: as typed, and what it was read as
    answer(at, sid, typed)
    assert "Right" in at.success[0].value
    assert f"Your answer: {typed} (read as 0.3775)" in [el.value for el in at.get("text")]
    assert not any(typed in str(el.value) for kind in ("markdown", "success", "warning", "caption")
                   for el in at.get(kind))  # only ever shown with st.text


def test_skip_reveals_without_counting_and_reset_asks_again():
    sid = StepId.parse("loss:share:0")
    at = open_at("seed", sid)
    at.button(key="quiz_skip").click().run()
    assert "Revealed" in texts(at)
    log = at.session_state["bpviz_app"].quiz_log
    assert log.score()[Phase.LOSS] == quiz.Score(right=0, answered=0, skipped=1)
    at.button(key="quiz_reset").click().run()
    assert at.session_state["bpviz_app"].quiz_log.attempts == []
    assert asking(at, sid)  # a question again


def test_presentation_mode_reveals_on_a_key():
    sid = StepId.parse("backward:w:1:0:0")
    at = open_at("seed", sid, present=True)
    reveal = at.button(key="quiz_reveal")
    assert reveal.proto.shortcut.lower() == quiz_ui.REVEAL_SHORTCUT.lower()
    reveal.click().run()
    assert_clean(at)
    assert "Revealed" in texts(at) and "0.0822" in texts(at)
    assert at.session_state["bpviz_app"].quiz_log.score()[Phase.BACKWARD].answered == 0


def test_the_link_carries_the_switch_never_the_answers():
    sid = StepId.parse("backward:w:1:0:0")
    at = open_at("seed", sid)
    answer(at, sid, "0.0822")
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}
    assert query.get("quiz") == "1"
    student = opened(query, VIEW["backward"])  # a new session opens the instructor's link
    assert_clean(student)
    assert student.session_state["bpviz_app"].quiz
    assert asking(student, sid)  # asked, not revealed
    assert not found(_walk(preset("seed")).step(sid).value, everything(student))
    off = link.to_query(AppState(scenario=preset("seed")))
    assert "quiz" not in off  # off: the link stays as it was


def test_the_switch_in_the_sidebar():
    at = opened({}, VIEW["backward"])
    assert not [k for k in (el.key for el in at.text_input) if k and k.startswith(quiz_ui.ANSWER_PREFIX)]
    at.toggle(key="sb_quiz").set_value(True).run()
    assert_clean(at)
    assert at.session_state["bpviz_app"].quiz
    assert not found(0.08216704056423078, everything(at))


def test_a_slider_moved_after_the_answer_asks_again():
    """The answer was for w5 = 0.40; with w5 = 0.45 ∂E/∂w5 is a new number: a new question (and the old one is
    still in the score)."""
    sid = StepId.parse("backward:w:1:0:0")
    at = open_at("seed", sid)
    answer(at, sid, "0.0822")
    live(at, "sb_w_1_0_0").set_value(0.45).run()
    assert_clean(at)
    assert asking(at, sid)
    moved = preset("seed").with_parameters([w.copy() for w in preset("seed").weights], preset("seed").biases)
    moved.weights[1][0, 0] = 0.45
    value = _walk(moved).step(sid).value
    assert not found(value, everything(at))
    assert at.session_state["bpviz_app"].quiz_log.score()[Phase.BACKWARD].right == 1


def test_the_gradient_check_waits_for_the_answer():
    sid = StepId.parse("backward:w:1:0:0")
    at = open_at("seed", sid)
    at.toggle(key="backward_gradcheck").set_value(True).run()
    assert "0.0821670406" not in texts(at) and "Finite differences" not in texts(at)
    answer(at, sid, "0.08")
    assert "0.0821670406" in texts(at)


def test_hides_is_the_one_predicate():
    app = AppState(scenario=preset("seed"))
    step = _walk(app.scenario).step(StepId.parse("backward:w:1:0:0"))
    assert not quiz_ui.hides(app, step)
    app.quiz = True
    assert quiz_ui.hides(app, step)
    app.quiz_log.record(quiz.Attempt(step.id, step.value))
    assert not quiz_ui.hides(app, step)
    mazur = AppState(scenario=preset("mazur"), quiz=True)
    fixed = _walk(mazur.scenario).step(StepId.parse("update:b:0:0"))
    assert not quiz_ui.hides(mazur, fixed)  # a bias that is not trained: nothing to predict


@pytest.mark.parametrize("doc", sorted(p.stem for p in CORPUS.glob("*.json")))
def test_the_quiz_on_networks_that_once_broke_something(doc):
    """Overflow, saturation, a step beyond float64: each walkthrough page asks, checks a wrong answer and skips
    without an error, and a step whose value is beyond float64 says there is nothing to predict."""
    query = link.to_query(AppState(scenario=validate(corpus_doc(doc)), quiz=True))
    for page in ("forward", "backward", "update"):
        at = opened(query, VIEW[page])
        assert_clean(at)
        sid = at.session_state["bpviz_app"].steps[page]
        if not asking(at, sid):
            assert "Nothing to predict" in texts(at)
            continue
        answer(at, sid, "0")
        at.button(key="quiz_reset").click().run()
        at.button(key="quiz_skip").click().run()
        assert_clean(at)


def _keyed(at, key: str) -> list[dict]:
    return [f for f in figures(at) if any((tr.get("meta") or {}).get("key") == key for tr in f["data"])]


def test_the_slope_chart_waits_for_the_question_and_keeps_the_update_hidden():
    """On a hidden backward step there is no slope chart (its tangent is the answer); once the step is answered the
    chart shows the curve and the tangent, but not where the update lands (the Update page's question, still open)
    until that question is answered too, whichever order the student takes them in."""
    scenario = preset("seed")
    wt = _walk(scenario)
    step = wt[wt.first_of(Phase.BACKWARD)]
    new_value = engine.value_of(wt.update.after, step.param)
    at = open_at("seed", step.id)
    assert not _keyed(at, "curve") and not _keyed(at, "tangent")
    at.button(key="quiz_skip").click().run()
    assert_clean(at)
    (chart,) = _keyed(at, "tangent")
    assert not any((tr.get("meta") or {}).get("key") in ("landing", "step") for tr in chart["data"])
    assert not found(new_value, everything(at)), "the update step's answer"
    at.switch_page(VIEW["update"]).run()
    at.selectbox(key="nav_update_step").set_value(StepId(Phase.UPDATE, step.param)).run()
    at.button(key="quiz_skip").click().run()
    at.switch_page(VIEW["backward"]).run()
    at.selectbox(key="nav_backward_step").set_value(step.id).run()
    assert_clean(at)
    (landing,) = _keyed(at, "landing")
    assert found(new_value, everything(at)), "answered on the Update page: now drawn"


def test_the_gradient_sizes_wait_until_every_gradient_was_asked():
    """A deep network's gradient sizes per layer (norms over a layer's gradients) would give hidden gradients away:
    with the quiz on the section says when it will show them instead, and shows them once every backward step was
    answered or revealed (and still after going back to an earlier step)."""
    at = opened(quiz_link("deep_sigmoid_vanishing"), VIEW["backward"])
    assert_clean(at)
    assert sizes_chart(at) is None
    assert any("every gradient" in c.value for c in at.caption)
    app = at.session_state["bpviz_app"]
    ids = [sid for sid in _walk(preset("deep_sigmoid_vanishing")).ids() if sid.phase is Phase.BACKWARD]
    for sid in ids[:-1]:
        app.quiz_log.record(quiz.Attempt(sid, 0.0))
    at.run()
    assert sizes_chart(at) is None, "one gradient still to ask"
    app.quiz_log.record(quiz.Attempt(ids[-1], 0.0))
    at.selectbox(key="nav_backward_step").set_value(ids[0]).run()
    assert_clean(at)
    assert sizes_chart(at) is not None


def test_the_overflow_warning_does_not_name_a_new_value_the_quiz_asks_for():
    """A step whose new weights make the forward pass overflow: the Update page says so in words; with the quiz on
    it leaves out the finite new value it would quote (that value is one of the page's questions)."""
    scenario = validate(corpus_doc("step_beyond_float64"))
    update = engine.step(scenario)
    big = max(engine.parameter_refs(scenario), key=lambda r: abs(engine.value_of(update.after, r)))
    new_value = engine.value_of(update.after, big)
    assert np.isfinite(new_value) and not np.isfinite(engine.loss_value(update.after))
    at = opened(link.to_query(AppState(scenario=scenario, quiz=True)), VIEW["update"])
    assert_clean(at)
    assert any("beyond float64" in w.value for w in at.warning)
    assert not found(new_value, everything(at))
    without = opened(link.to_query(AppState(scenario=scenario, quiz=False)), VIEW["update"])
    assert found(new_value, everything(without)), "without the quiz the warning names it"
