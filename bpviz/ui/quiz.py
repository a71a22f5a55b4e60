"""The quiz on the walkthrough pages: predict a step's value, then check it (the rules: :mod:`bpviz.quiz`).

Every part of a page that shows a number asks here whether it may: :func:`hides` for the current step's own value
(the formula, a chart of its gradient, a check), :func:`hidden` for everything else (the network, the metrics, the
tables: that step's value and every later one's). The box under the formula takes the prediction, grades it and
keeps the score per phase; in presentation mode it is large, and the key A reveals the answer without typing.
"""

from __future__ import annotations

import streamlit as st

from .. import numbers, quiz
from ..i18n import N_, t
from ..ids import Phase, StepId
from ..numbers import exact
from ..quiz import AnswerError, Attempt
from ..symbolic import substituted
from ..walkthrough import Step
from . import navigation, notice, state
from .computed import Computed
from .state import AppState

BOX_KEY = "quiz_box"
FORM_KEY = "quiz_form"
ANSWER_PREFIX = "quiz_answer_"  # + the step's id: each step its own empty box
HIDDEN_KEYS = "quiz_hidden_keys"  # the key-only reveal button (presentation mode)
REVEAL_SHORTCUT = "A"  # presentation mode: the instructor shows the answer ("R" is Streamlit's own)
ANSWER_COLUMNS = (4, 1, 1)  # the answer | Check | Skip
SCORE_COLUMNS = (3, 4, 1)  # the tolerance | the score | Reset
PHASE_NAMES = {Phase.FORWARD: N_("Forward pass"), Phase.LOSS: N_("Loss"), Phase.BACKWARD: N_("Backward pass"),
               Phase.UPDATE: N_("Update")}
# static CSS only: the key-only button is never seen; in presentation mode the box reads from the back of the room
STYLE = (f"<style>.st-key-{HIDDEN_KEYS}{{display:none}}"
         f".st-key-{BOX_KEY} [data-testid='stTextInput'] input{{font-variant-numeric:tabular-nums}}</style>")
PRESENT_STYLE = (f"<style>.st-key-{BOX_KEY} [data-testid='stTextInput'] input{{font-size:30px;height:3.2rem}}"
                 f".st-key-{BOX_KEY} [data-testid='stMarkdownContainer'] p{{font-size:28px}}"
                 f".st-key-{BOX_KEY} [data-testid='stText']{{font-size:26px}}</style>")


# ---------------------------------------------------------------- what a page may show


def hides(app: AppState, step: Step | None) -> bool:
    """Whether ``step``'s value must stay hidden now: the quiz is on, the step asks for a value and it has not been
    answered (or skipped) as it is now. Any part of a page that would show the value asks this first."""
    return (app.quiz and step is not None and quiz.asks(step, app.scenario)
            and app.quiz_log.attempt_for(step) is None)


def page_step(app: AppState, comp: Computed) -> Step | None:
    """The step the page shown is at (the step navigator's choice; its first step before the navigator ran), or
    None on a page outside the walkthrough."""
    phases = dict(navigation.WALK).get(app.page)
    if phases is None:
        return None
    ids = comp.phase_ids(phases)
    sid = app.steps.get(app.page)
    return comp.walkthrough.step(sid if sid in ids else ids[0])


def hidden(app: AppState, comp: Computed, step: Step | None = None) -> frozenset:
    """The quantities no part of the page may show now (:func:`bpviz.quiz.hidden_quantities`): empty with the quiz
    off or outside the walkthrough. ``step``: the page's step, if the caller has it."""
    if not app.quiz:
        return frozenset()
    step = step if step is not None else page_step(app, comp)
    if step is None:
        return frozenset()
    return quiz.hidden_quantities(comp.walkthrough.architecture, step.index + (1 - hides(app, step)))


# ---------------------------------------------------------------- the box under the formula


def answer_key(sid: StepId) -> str:
    """The key of a step's answer box."""
    return ANSWER_PREFIX + sid.format()


def box(app: AppState, comp: Computed, step: Step | None) -> None:
    """The quiz box: the prediction while the value is hidden, the verdict after; the score and its Reset."""
    if not app.quiz or step is None:
        return
    st.html(STYLE + (PRESENT_STYLE if app.present else ""))
    with st.container(key=BOX_KEY, border=True):
        asked = quiz.asks(step, app.scenario)
        attempt = app.quiz_log.attempt_for(step) if asked else None
        if not asked:
            st.caption(t("Nothing to predict on this step: its value is given (a bias that is not trained keeps "
                         "its value, or the value is beyond float64).", app.lang))
        elif attempt is None:
            _question(app, step)
        else:
            _feedback(app, comp, step, attempt)
        _score_row(app, step if asked and attempt is None else None)


def _question(app: AppState, step: Step) -> None:
    """The answer box with Check and Skip (Enter checks), and the tolerance."""
    lang, args = app.lang, (step.id, step.value)
    with st.form(FORM_KEY, border=False):
        answer, check, skip = st.columns(ANSWER_COLUMNS, vertical_alignment="bottom")
        answer.text_input(t("Your prediction for the value marked ?", lang), key=answer_key(step.id),
                          placeholder=t("Your prediction for ? (e.g. 0.5), then Enter or Check", lang),
                          max_chars=quiz.MAX_ANSWER_CHARS, label_visibility="collapsed")
        check.form_submit_button(t("Check", lang), key="quiz_check", type="primary", width="stretch",
                                 on_click=check_answer, args=args)
        skip.form_submit_button(t("Skip", lang), key="quiz_skip", width="stretch", on_click=skip_step, args=args,
                                help=t("Show the answer without counting this step. In presentation mode the key "
                                       "{key} does the same.", lang, key=REVEAL_SHORTCUT))
    why = app.quiz_log.why_unreadable(step.id)
    if why is not None:  # the answer could not be read: why, under the box (plain text, as every message)
        notice.plain_box("quiz", why.text(lang))
    if app.present:
        with st.container(key=HIDDEN_KEYS):
            st.button(REVEAL_SHORTCUT, key="quiz_reveal", on_click=skip_step, args=args, shortcut=REVEAL_SHORTCUT)


def _feedback(app: AppState, comp: Computed, step: Step, attempt: Attempt) -> None:
    """The verdict, the right value, the student's (as they typed it: plain text), and a hint when wrong."""
    lang, value = app.lang, _number(step.value, app)
    if not attempt.answered:
        st.markdown(t("**Revealed**: the value is **{value}** (in full: {exact}).", lang, value=value,
                      exact=exact(step.value, lang)))
        return
    tol = _number(quiz.tolerance(step.value), app)
    if attempt.correct:
        st.success(t("**Right**: the value is **{value}** (in full: {exact}); yours is within ±{tol}.", lang,
                     value=value, exact=exact(step.value, lang), tol=tol))
    else:
        st.warning(t("**Not right**: the value is **{value}** (in full: {exact}); yours is more than ±{tol} from it.",
                     lang, value=value, exact=exact(step.value, lang), tol=tol))
    st.text(t("Your answer: {text} (read as {value})", lang, text=attempt.text.strip(),
              value=_number(attempt.answer, app)))
    if attempt.correct:
        return
    hint = quiz.hint(comp.walkthrough, step, attempt.answer)
    if hint is not None:
        st.markdown(hint.text(lang))
    steps = quiz.running_products(step)
    if len(steps) > 1 or (steps and hint is None):
        shown = [rf"{_latex(step.chain.product[0][1], app)} \cdot {_latex(f, app)} = {_latex(acc, app)}"
                 if i == 0 else rf"\cdot {_latex(f, app)} = {_latex(acc, app)}" for i, (f, acc) in enumerate(steps)]
        st.markdown(t("Multiply step by step: {steps}", lang, steps=", ".join(f"${s}$" for s in shown)))


MIN_DECIMALS = 4  # a tolerance of 0.0005 must not read as 0.001 or 0 with fewer decimals


def _number(x: float, app: AppState) -> str:
    """A number as the page shows it (:func:`bpviz.numbers.text`), with at least MIN_DECIMALS places."""
    return numbers.text(x, max(app.decimals, MIN_DECIMALS), lang=app.lang)


def _latex(x: float, app: AppState) -> str:
    """A number as it goes into a formula."""
    return substituted(x, app.decimals, app.lang)


def _score_row(app: AppState, asked: Step | None) -> None:
    """The tolerance (while ``asked`` is a question), the score and its Reset, in one row."""
    tolerance, text, reset = (st.columns(SCORE_COLUMNS, vertical_alignment="center") if asked is not None
                              else (None, *st.columns(SCORE_COLUMNS[1:], vertical_alignment="center")))
    if asked is not None:
        tolerance.caption(t("Counted right within ±{tol} of the value: a hundredth of it, at least half a unit of its "
                            "last digit shown.", app.lang,
                            tol=_number(quiz.tolerance(asked.value), app)))
    text.markdown(score_text(app))
    reset.button(t("Reset", app.lang), key="quiz_reset", on_click=reset_score, width="stretch", type="tertiary",
                 help=t("Start the score again; every step becomes a question again.", app.lang))


def score_text(app: AppState) -> str:
    """The score per phase: right / answered (skipped steps are not counted)."""
    scores = app.quiz_log.score()
    parts = [f"{t(PHASE_NAMES[p], app.lang)} {scores[p].right}/{scores[p].answered}"  # marked with N_ above
             for p in quiz.SCORED_PHASES]
    return t("**Score** (right/answered): {parts}", app.lang, parts=" · ".join(parts))


def sidebar_switch(app: AppState) -> None:
    """The sidebar's quiz toggle, and the score while the quiz is on."""
    state.seed_widget("sb_quiz", app.quiz)
    st.toggle(t("Quiz: predict, then reveal", app.lang),
              help=t("On the forward, backward and update pages each value stays hidden (?) until you type your "
                     "prediction and press Check, or Skip; in presentation mode the key {key} reveals it. The link "
                     "keeps the quiz on, never your answers.", app.lang, key=REVEAL_SHORTCUT),
              **state.on_widget("sb_quiz", state.set_quiz))
    if app.quiz:
        st.caption(score_text(app))


# ---------------------------------------------------------------- what the buttons do


def check_answer(sid: StepId, right: float) -> None:
    """Check: grade the typed answer (or say, under the box, why it is not a number)."""
    state.acted()
    app = state.get()
    text = str(st.session_state.get(ANSWER_PREFIX + sid.format()) or "")
    try:
        answer = quiz.parse_answer(text)
    except AnswerError as exc:
        app.quiz_log.refuse(sid, exc.args[0])
        return
    app.quiz_log.record(Attempt(sid, right, answer, text))


def skip_step(sid: StepId, right: float) -> None:
    """Skip (or the instructor's key): show the answer, not counted as answered."""
    state.acted()
    state.get().quiz_log.record(Attempt(sid, right))


def reset_score() -> None:
    state.acted()
    state.get().quiz_log.reset()
