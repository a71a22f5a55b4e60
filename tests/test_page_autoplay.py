"""AppTest: autoplay on the walkthrough pages: Play / Pause, a beat of its clock moving one step (across pages, with
one full run of the app), stop or loop at the end, nothing rerunning while paused, presentation mode's Space.

AppTest runs the whole app only; Streamlit's clock (``st.fragment(run_every=...)``) is the browser's. So these tests
watch Streamlit's own script runner: every run it starts (the whole app, or a fragment alone) and every clock it
asks the browser to start (an ``auto_rerun`` message: fragment and interval). A beat is what the browser sends when
that clock strikes: a run of that fragment alone. (This reaches into AppTest's runner, as ``apptest_util`` does;
``tests/e2e/test_e2e_autoplay.py`` checks the same with a real browser's clock.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from streamlit.runtime.scriptrunner import RerunData, ScriptRunnerEvent
from streamlit.testing.v1 import app_test as app_test_module
from streamlit.testing.v1 import local_script_runner
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

from bpviz.config import preset_names
from bpviz.ui import autoplay, link
from bpviz.ui.state import AUTOPLAY_LOOP_OPTION, AUTOPLAY_SPEED_OPTION, PRESET_OPTION

from .apptest_util import assert_clean, open_page, opened, widget_states
from .test_autoplay import expected_walk

FORWARD, BACKWARD, UPDATE = "views/forward_pass.py", "views/backward_pass.py", "views/update.py"
WALK = expected_walk("seed")


@dataclass
class Run:
    """One run of the script: the whole app (``fragments`` empty) or fragments alone; the clocks it started."""

    fragments: list[str]
    clocks: list[tuple[str, float]] = field(default_factory=list)  # (fragment id, seconds)

    @property
    def full(self) -> bool:
        return not self.fragments


@dataclass
class Runner:
    """What Streamlit's script runner did, for every AppTest run since the last :meth:`take`."""

    runs: list[Run] = field(default_factory=list)
    beat_of: str | None = None  # the next AppTest run is this fragment's alone (a beat), not the whole app
    pages: dict | None = None  # ... and knows the pages the last run listed (st.navigation), as a server's does

    def take(self) -> list[Run]:
        runs, self.runs = self.runs, []
        return runs


@pytest.fixture
def runner(monkeypatch) -> Runner:
    seen = Runner()

    class Watched(LocalScriptRunner):
        def __init__(self, script_path, session_state, pages_manager, *args, **kwargs):
            super().__init__(script_path, session_state, pages_manager, *args, **kwargs)
            self.on_event.connect(self._watch, weak=False)
            if seen.beat_of is not None:  # a server's session keeps its page list between runs; AppTest's does not
                pages_manager._set_pages(seen.pages)

        def _watch(self, sender, event, **data):
            if event == ScriptRunnerEvent.SCRIPT_STARTED:
                seen.runs.append(Run(list(data.get("fragment_ids_this_run") or [])))
            elif event == ScriptRunnerEvent.ENQUEUE_FORWARD_MSG and data["forward_msg"].HasField("auto_rerun"):
                clock = data["forward_msg"].auto_rerun
                seen.runs[-1].clocks.append((clock.fragment_id, clock.interval))

    def rerun_data(**kwargs) -> RerunData:
        """The requests AppTest's runner starts with: as the browser's timer asks for a beat (that fragment alone,
        an automatic rerun), or the whole app."""
        if seen.beat_of is not None:
            kwargs.update(fragment_id_queue=[seen.beat_of], is_auto_rerun=True)
        return RerunData(**kwargs)

    monkeypatch.setattr(app_test_module, "LocalScriptRunner", Watched)
    monkeypatch.setattr(local_script_runner, "RerunData", rerun_data)
    return seen


def clock(runs: list[Run]) -> tuple[str, float] | None:
    """The clock the last run left ticking in the browser (a full run stops every clock first, then starts those
    its fragments ask for; a fragment's own run keeps them)."""
    full = [r for r in runs if r.full]
    if not full:
        return None
    assert len(full[-1].clocks) <= 1, full[-1].clocks
    return full[-1].clocks[0] if full[-1].clocks else None


def beat(at, runner: Runner, fragment_id: str) -> list[Run]:
    """The clock strikes: the browser asks for a run of that fragment alone, with every widget's value."""
    runner.take()
    runner.beat_of, runner.pages = fragment_id, at._registered_pages
    try:
        at._run(widget_states(at))
    finally:
        runner.beat_of = runner.pages = None
    return runner.take()


def step(at) -> tuple[str, object]:
    """(page, step) shown: the page's URL path and its step chooser's value."""
    app = at.session_state["bpviz_app"]
    return app.page, at.selectbox(key=f"nav_{app.page}_step").value


def play(at, runner: Runner) -> tuple[str, float]:
    runner.take()
    at.button(key=autoplay.PLAY_KEY).click().run()
    assert_clean(at)
    ticking = clock(runner.take())
    assert at.session_state["bpviz_app"].playing and ticking is not None
    return ticking


# ---------------------------------------------------------------- Play, a beat, Pause


def test_play_starts_the_clock_at_the_chosen_speed_and_pause_stops_it(runner):
    at = open_page(FORWARD)
    assert at.button(key=autoplay.PLAY_KEY).label == "Play" and clock(runner.take()) is None  # nothing ticks
    assert not at.session_state["bpviz_app"].playing
    _, seconds = play(at, runner)
    assert seconds == autoplay.DEFAULT_SPEED
    pause = at.button(key=autoplay.PLAY_KEY)
    assert pause.label == "Pause" and pause.proto.type == "primary"  # filled while playing
    assert step(at) == WALK[0]  # Play itself does not move: the first beat does, a speed's time later
    at.button(key=autoplay.PLAY_KEY).click().run()
    assert not at.session_state["bpviz_app"].playing and at.button(key=autoplay.PLAY_KEY).label == "Play"
    assert clock(runner.take()) is None  # paused: no clock, so nothing reruns by itself


def test_a_beat_moves_one_step_with_one_run_of_the_app(runner):
    at = open_page(FORWARD)
    fragment, _ = play(at, runner)
    for n in range(1, 4):
        runs = beat(at, runner, fragment)
        assert_clean(at)
        assert [r.full for r in runs] == [False, True], runs  # the beat, then the whole app once
        assert step(at) == WALK[n]
        assert clock(runs) == (fragment, autoplay.DEFAULT_SPEED)  # still playing: the next beat is due


def test_a_beat_from_the_last_forward_step_opens_the_backward_page_in_one_run(runner):
    last_forward = max(n for n, (page, _) in enumerate(WALK) if page == "forward")
    at = opened({"st": WALK[last_forward][1].format()}, FORWARD)
    assert step(at) == WALK[last_forward]
    fragment, _ = play(at, runner)
    runs = beat(at, runner, fragment)
    assert_clean(at)
    assert step(at) == WALK[last_forward + 1] and WALK[last_forward + 1][0] == "backward"
    assert [r.full for r in runs] == [False, True], runs  # st.switch_page from the beat: not a rerun, then a switch
    assert at.session_state["bpviz_app"].goto is None
    # the backward page draws the fragment at another place: its own clock, at the same speed
    assert clock(runs)[1] == autoplay.DEFAULT_SPEED and at.session_state["bpviz_app"].playing


def test_next_while_playing_moves_one_step_and_the_run_it_causes_moves_nothing_more(runner):
    at = open_page(FORWARD)
    play(at, runner)
    at.button(key="nav_forward_next").click().run()
    assert step(at) == WALK[1]  # the app's own run calls the fragment too: that call only takes note
    at.run()
    assert step(at) == WALK[1]


def test_play_and_pause_keep_the_step_when_the_browser_still_sends_the_url_of_the_step_before(runner):
    """A beat (or Next) just wrote the URL of the new step; a click on Pause or Play right then comes with the URL
    the address bar still holds, of the step before. That URL is not a link to open: the step stays and the click
    counts (it once brought the old step back, and a click on Play was lost)."""
    at = open_page(FORWARD)
    before = dict(at.query_params)
    at.button(key="nav_forward_next").click().run()
    assert step(at) == WALK[1] and dict(at.query_params) != before
    at.query_params = dict(before)
    at.button(key=autoplay.PLAY_KEY).click().run()
    assert step(at) == WALK[1] and at.session_state["bpviz_app"].playing
    fragment, _ = clock(runner.take())
    stale = dict(at.query_params)
    beat(at, runner, fragment)
    assert step(at) == WALK[2]
    at.query_params = stale
    at.button(key=autoplay.PLAY_KEY).click().run()
    assert step(at) == WALK[2] and not at.session_state["bpviz_app"].playing


def test_at_the_end_without_loop_autoplay_stops_and_play_comes_back(runner):
    at = opened({"st": WALK[-2][1].format()}, UPDATE)
    fragment, _ = play(at, runner)
    runs = beat(at, runner, fragment)
    assert step(at) == WALK[-1] and at.session_state["bpviz_app"].playing
    fragment, _ = clock(runs)
    runs = beat(at, runner, fragment)
    assert step(at) == WALK[-1]  # stays on the last update step
    assert not at.session_state["bpviz_app"].playing and at.button(key=autoplay.PLAY_KEY).label == "Play"
    assert [r.full for r in runs] == [False, True] and clock(runs) is None
    assert at.button(key=autoplay.PLAY_KEY).disabled  # nowhere to go: Loop would start again
    at.toggle(key=AUTOPLAY_LOOP_OPTION).set_value(True).run()
    assert not at.button(key=autoplay.PLAY_KEY).disabled


def test_with_loop_the_last_update_step_leads_to_the_first_forward_step(runner):
    at = opened({"st": WALK[-1][1].format(), "o": link.pack({AUTOPLAY_LOOP_OPTION: True})}, UPDATE)
    assert at.toggle(key=AUTOPLAY_LOOP_OPTION).value is True
    fragment, _ = play(at, runner)
    runs = beat(at, runner, fragment)
    assert_clean(at)
    assert step(at) == WALK[0] and [r.full for r in runs] == [False, True]
    assert at.session_state["bpviz_app"].playing


def test_a_late_beat_after_pause_runs_nothing(runner):
    """A beat the browser sent just before the pause reached it: the fragment is gone, the app does not rerun."""
    at = open_page(FORWARD)
    fragment, _ = play(at, runner)
    at.button(key=autoplay.PLAY_KEY).click().run()
    runner.take()
    runs = beat(at, runner, fragment)
    assert not any(r.full for r in runs)
    at.run()
    assert step(at) == WALK[0]


def test_the_speed_chosen_is_the_clocks_interval_and_goes_into_the_link(runner):
    at = open_page(BACKWARD)
    at.selectbox(key=AUTOPLAY_SPEED_OPTION).set_value(1).run()
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    back, warnings = link.from_query(query)
    assert warnings == [] and autoplay.speed(back) == 1
    _, seconds = play(at, runner)
    assert seconds == 1
    student = opened(query, BACKWARD)  # the link: the speed is there, playing is not
    assert student.selectbox(key=AUTOPLAY_SPEED_OPTION).value == 1
    assert not student.session_state["bpviz_app"].playing and student.button(key=autoplay.PLAY_KEY).label == "Play"


def test_a_step_that_may_not_be_left_holds_autoplay(runner, monkeypatch):
    """The quiz's hook: while it says no, a beat neither moves nor reruns the app."""
    at = open_page(FORWARD)
    fragment, _ = play(at, runner)
    monkeypatch.setattr(autoplay, "may_leave", lambda app, page, sid: False)
    runs = beat(at, runner, fragment)
    assert not any(r.full for r in runs)
    at.run()
    assert step(at) == WALK[0] and at.session_state["bpviz_app"].playing


def test_with_the_quiz_a_beat_reveals_the_question_and_the_next_beat_moves_on(runner):
    """A lecture with the quiz on: the class sees each question for one beat and its answer for the next. The
    reveal is the instructor's (shown, not counted as answered) and costs one run of the app; nothing is skipped."""
    at = opened({"quiz": "1"}, FORWARD)
    fragment, _ = play(at, runner)
    app = at.session_state["bpviz_app"]
    for n in range(1, 3):
        runs = beat(at, runner, fragment)  # reveal
        assert_clean(at)
        assert [r.full for r in runs] == [False, True], runs
        assert step(at) == WALK[n - 1]
        attempt = app.quiz_log.attempts[-1]
        assert attempt.step == WALK[n - 1][1] and not attempt.answered
        runs = beat(at, runner, fragment)  # move on
        assert [r.full for r in runs] == [False, True], runs
        assert step(at) == WALK[n]
    assert all(score.answered == 0 for score in app.quiz_log.score().values())


@pytest.mark.parametrize("name", [n for n in preset_names() if n != "seed"])
def test_autoplay_crosses_the_pages_on_every_example(runner, name):
    """Each of the builder's examples (from the sidebar's Example box): from its last forward step to the backward
    page, from its last backward step to the update, from its last update step (Loop on) back to the forward page."""
    walk = expected_walk(name)
    at = open_page(FORWARD)
    at.selectbox(key=PRESET_OPTION).set_value(name).run()
    at.toggle(key=AUTOPLAY_LOOP_OPTION).set_value(True).run()
    fragment, _ = play(at, runner)
    for page, script in (("forward", FORWARD), ("backward", BACKWARD), ("update", UPDATE)):
        last = max(n for n, (p, _) in enumerate(walk) if p == page)
        at.session_state["bpviz_app"].steps[page] = walk[last][1]
        at.switch_page(script).run()
        assert step(at) == walk[last]
        fragment, _ = clock(runner.take())
        runs = beat(at, runner, fragment)
        assert_clean(at)
        assert step(at) == walk[(last + 1) % len(walk)] and [r.full for r in runs] == [False, True], (page, runs)


# ---------------------------------------------------------------- presentation mode


def test_presentation_mode_has_play_in_its_row_and_space_toggles_it(runner):
    at = opened({"present": "1"}, BACKWARD)
    assert_clean(at)
    play_button, space = at.button(key=autoplay.PLAY_KEY), at.button(key=autoplay.SPACE_KEY)
    assert space.proto.shortcut == "space" and "Space" in play_button.help
    assert play_button.proto.type == "primary"
    space.click().run()
    assert at.session_state["bpviz_app"].playing and clock(runner.take()) is not None
    at.button(key=autoplay.SPACE_KEY).click().run()
    assert not at.session_state["bpviz_app"].playing and clock(runner.take()) is None
    at.button(key="present_off").click().run()
    assert autoplay.SPACE_KEY not in {b.key for b in at.button}  # Space is presentation mode's alone
    assert at.button(key=autoplay.PLAY_KEY)  # Play under the step row
