"""Autoplay for lectures: Play walks the walkthrough by itself, one step every few seconds, from the first forward step
across the backward pass to the last update step; there it stops (Play comes back) or, with Loop on, starts again at
the first forward step.

The clock is Streamlit's own: a fragment with ``run_every`` (:func:`ticker`), drawn only while playing. Streamlit's
frontend starts its timers afresh on every full run of the app, so a beat comes ``speed`` seconds after the page was
last drawn (a click on Next in between starts the wait again). A beat moves the step with the Next button's own
function and reruns the app once: ``st.rerun`` on the same page, ``st.switch_page`` to the next one. Paused, the
fragment is not drawn, so there is no timer and nothing reruns.

The speed and Loop are display options (in the share link); whether it is playing is not: a student who opens a
lecture's link sees the step, not a slide show running away from them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import streamlit as st

from .. import quiz
from ..i18n import t
from ..ids import StepId
from ..quiz import Attempt
from . import state
from .computed import compute
from .state import AUTOPLAY_LOOP_OPTION, AUTOPLAY_SPEED_OPTION, AUTOPLAY_SPEEDS, OPTION_RULES, AppState

DEFAULT_SPEED = 3  # seconds per step: time to read a formula aloud
PLAY_KEY = "ap_play"
SPACE_KEY = "ap_space"  # presentation mode's key-only button (in navigation.HIDDEN_KEYS)
CONTROL_COLUMNS = (1, 1.4, 1.4, 4.2)  # Play | speed | Loop | the keys' hint (Play as wide as Prev above it)
_SEEN = "bpviz_autoplay_seen"  # session key: the full run whose own call of the fragment was seen last
_runs = itertools.count(1)

Walk = list[tuple[str, StepId]]  # navigation.walk(): every walkthrough step in order, with its page
Move = Callable[[Walk, int, int], None]  # navigation's move (the Next button's): (walk, here, delta)


# ---------------------------------------------------------------- what autoplay does (no Streamlit)


def speed(app: AppState) -> int:
    """Seconds per step (the speed chosen, else :data:`DEFAULT_SPEED`)."""
    chosen = app.options.get(AUTOPLAY_SPEED_OPTION, DEFAULT_SPEED)
    return chosen if OPTION_RULES[AUTOPLAY_SPEED_OPTION](chosen) else DEFAULT_SPEED


def looping(app: AppState) -> bool:
    """Whether autoplay starts again at the first step after the last one."""
    return app.options.get(AUTOPLAY_LOOP_OPTION, False) is True


def following(here: int, length: int, loop: bool) -> int | None:
    """The position autoplay goes to from position ``here`` of a walk of ``length`` steps: the next one; after the
    last, the first (``loop``) or None (it stops there)."""
    if here < length - 1:
        return here + 1
    return 0 if loop else None


def can_play(app: AppState, here: int, length: int) -> bool:
    """Whether Play has anywhere to go from position ``here`` (not on the last step, unless Loop is on)."""
    return following(here, length, looping(app)) is not None


def may_leave(app: AppState, page: str, sid: StepId) -> bool:
    """Whether autoplay may move on from step ``sid`` of ``page`` now: not while the quiz still hides its value.

    Autoplay never skips past a question: a beat on a hidden step reveals the answer instead (as presentation mode's
    reveal key does: shown, not counted as answered) and reruns the app, so the class sees the question for one beat
    and the answer for the next. Called in a beat (a fragment's run); when it says no, the beat moves nothing.
    """
    if not app.quiz:
        return True
    step = compute(app).walkthrough.step(sid)
    if step is None or not quiz.asks(step, app.scenario) or app.quiz_log.attempt_for(step) is not None:
        return True
    state.acted()  # this run answers autoplay, not a link
    app.quiz_log.record(Attempt(sid, step.value))
    st.rerun(scope="app")
    return False  # not reached: st.rerun raises


# ---------------------------------------------------------------- the controls


def play_button(app: AppState, column, *, here: int, length: int, presenting: bool = False) -> None:
    """Play / Pause in ``column``; ``presenting``: presentation mode's row, where Space toggles it too."""
    lang = app.lang
    if app.playing:
        label, icon, why = t("Pause", lang), ":material/pause:", t("Stop at this step", lang)
    elif can_play(app, here, length):
        label, icon = t("Play", lang), ":material/play_arrow:"
        why = t("Go on by itself: the next step every {n} s, across the pages", lang, n=speed(app))
    else:
        label, icon = t("Play", lang), ":material/play_arrow:"
        why = t("This is the last step: turn on Loop to start again from the first one", lang)
    if presenting:
        why = t("{action} (or the Space key)", lang, action=why)
    # filled when it matters: on a projected screen, and while playing (beside Apply step it would compete)
    column.button(label, **state.on_click(PLAY_KEY, _toggle), icon=icon,
                  type="primary" if presenting or app.playing else "secondary", width="stretch", help=why,
                  disabled=not app.playing and not can_play(app, here, length))


def space_key(app: AppState, *, here: int, length: int) -> None:
    """Presentation mode's key-only Play / Pause (drawn among navigation's hidden buttons): the Space key."""
    st.button("Space", **state.on_click(SPACE_KEY, _toggle), shortcut="Space",
              disabled=not app.playing and not can_play(app, here, length))


def _toggle() -> None:
    """Play / Pause (a click, or Space). Marked as an action: the browser may still hold the URL of the step before
    the last beat, and a run that took it for a link would bring that step back and stop playing."""
    state.acted()
    state.toggle_playing()


def controls(app: AppState, *, here: int, length: int):
    """The row under the step navigator: Play / Pause, the speed, Loop; returns the row's last column (free)."""
    lang = app.lang
    c_play, c_speed, c_loop, rest = st.columns(CONTROL_COLUMNS, vertical_alignment="center")
    play_button(app, c_play, here=here, length=length)
    c_speed.selectbox(t("Autoplay speed", lang), AUTOPLAY_SPEEDS, label_visibility="collapsed",
                      format_func=lambda n: t("{n} s per step", lang, n=n),
                      help=t("How long autoplay stays on each step", lang),
                      **state.bind_option(app, AUTOPLAY_SPEED_OPTION, DEFAULT_SPEED))
    c_loop.toggle(t("Loop", lang), help=t("After the last update step, start again at the first forward step", lang),
                  **state.bind_option(app, AUTOPLAY_LOOP_OPTION, False))
    return rest


# ---------------------------------------------------------------- the clock


def ticker(app: AppState, walk: Walk, here: int, move: Move) -> None:
    """While playing: the fragment whose beat, every :func:`speed` seconds, moves the walk on (see the module)."""
    if app.playing:
        st.fragment(_beat, run_every=speed(app))(next(_runs), walk, here, move)


def _beat(drawn: int, walk: Walk, here: int, move: Move) -> None:
    """One beat: the next step (through ``move``, the Next button's function) and one rerun of the app, on this page
    or the next; at the end of the walk without Loop, stop.

    The full run that draws the page calls the fragment too (``drawn`` is new then): that call only takes note.
    """
    if st.session_state.get(_SEEN) != drawn:
        st.session_state[_SEEN] = drawn
        return
    app = state.get()
    page, sid = walk[here]
    if not app.playing or not may_leave(app, page, sid):
        return
    state.acted()  # this run answers autoplay, not a link: the URL of the step before must not bring it back
    there = following(here, len(walk), looping(app))
    if there is None:
        state.set_playing(False)  # Play comes back
    else:
        move(walk, here, there - here)
        target = state.take_goto()
        if target is not None:
            st.switch_page(target)  # one run, on the next page (not a rerun here that then switches)
    st.rerun(scope="app")
