"""Autoplay's logic without a running app: where it goes from every step of the walk (the seed and every example),
stop or loop at the end, its speeds, and what of it a share link carries (the speed and Loop; not playing)."""

from __future__ import annotations

import pytest

from bpviz import engine
from bpviz.config import preset, preset_names
from bpviz.ids import Phase
from bpviz.ui import autoplay, link, navigation
from bpviz.ui.computed import compute
from bpviz.ui.state import AUTOPLAY_LOOP_OPTION, AUTOPLAY_SPEED_OPTION, AUTOPLAY_SPEEDS, AppState, check_options
from bpviz.walkthrough import build_walkthrough

# the walk as the issue describes it: forward (with the loss), then backward, then the update
PAGE_OF = {Phase.FORWARD: "forward", Phase.LOSS: "forward", Phase.BACKWARD: "backward", Phase.UPDATE: "update"}
PHASE_ORDER = (Phase.FORWARD, Phase.LOSS, Phase.BACKWARD, Phase.UPDATE)


def expected_walk(name: str) -> list[tuple[str, object]]:
    """Every step of the example in the order the lecture goes, with its page: from the walkthrough's own list of
    steps, grouped by phase (not from navigation, whose walk is what is tested)."""
    scenario = preset(name)
    trace = engine.forward(scenario)
    ids = build_walkthrough(scenario, trace, engine.backward(scenario, trace)).ids()
    return [(PAGE_OF[phase], sid) for phase in PHASE_ORDER for sid in ids if sid.phase is phase]


def played(walk: list, start: int, loop: bool, beats: int) -> list[int]:
    """The positions autoplay shows from ``start`` over ``beats`` beats (it stays put once it has stopped)."""
    shown = [start]
    for _ in range(beats):
        there = autoplay.following(shown[-1], len(walk), loop)
        if there is None:
            break
        shown.append(there)
    return shown


@pytest.mark.parametrize("name", preset_names())
def test_autoplay_walks_every_step_once_across_the_pages_and_stops_at_the_last_update(name):
    walk = navigation.walk(compute(AppState(scenario=preset(name))))
    reference = expected_walk(name)
    assert walk == reference
    shown = played(walk, 0, loop=False, beats=len(walk) + 5)
    assert shown == list(range(len(walk)))  # every step once, in order; then it stops
    pages = [walk[i][0] for i in shown]
    assert [p for n, p in enumerate(pages) if n == 0 or p != pages[n - 1]] == ["forward", "backward", "update"]
    assert autoplay.following(len(walk) - 1, len(walk), loop=False) is None


@pytest.mark.parametrize("name", preset_names())
def test_with_loop_the_last_update_step_leads_to_the_first_forward_step(name):
    walk = navigation.walk(compute(AppState(scenario=preset(name))))
    last = len(walk) - 1
    assert walk[last][0] == "update" and walk[0] == expected_walk(name)[0] and walk[0][0] == "forward"
    assert autoplay.following(last, len(walk), loop=True) == 0
    shown = played(walk, last - 1, loop=True, beats=3)
    assert shown == [last - 1, last, 0, 1]


def test_the_next_step_of_a_short_walk():
    assert [autoplay.following(i, 3, loop=False) for i in range(3)] == [1, 2, None]
    assert [autoplay.following(i, 3, loop=True) for i in range(3)] == [1, 2, 0]
    assert autoplay.following(0, 1, loop=True) == 0 and autoplay.following(0, 1, loop=False) is None


def test_play_has_nowhere_to_go_from_the_last_step_only_without_loop():
    app = AppState(scenario=preset("seed"))
    assert autoplay.can_play(app, 0, 35) and not autoplay.can_play(app, 34, 35)
    app.options[AUTOPLAY_LOOP_OPTION] = True
    assert autoplay.can_play(app, 34, 35)


def test_speeds_are_seconds_per_step_with_a_default():
    app = AppState(scenario=preset("seed"))
    assert autoplay.speed(app) == autoplay.DEFAULT_SPEED in AUTOPLAY_SPEEDS
    assert tuple(sorted(set(AUTOPLAY_SPEEDS))) == AUTOPLAY_SPEEDS and AUTOPLAY_SPEEDS[0] == 1  # 1 s: the e2e speed
    for n in AUTOPLAY_SPEEDS:
        app.options[AUTOPLAY_SPEED_OPTION] = n
        assert autoplay.speed(app) == n
    assert not autoplay.looping(app)


@pytest.mark.parametrize("bad", [0, 4, 9, -1, 2.5, True, "3", None, [3]])
def test_a_speed_that_is_not_offered_is_refused_as_an_option(bad):
    clean, problems = check_options({AUTOPLAY_SPEED_OPTION: bad, AUTOPLAY_LOOP_OPTION: True})
    assert clean == {AUTOPLAY_LOOP_OPTION: True} and len(problems) == 1 and AUTOPLAY_SPEED_OPTION in problems[0]
    assert autoplay.speed(AppState(scenario=preset("seed"), options={AUTOPLAY_SPEED_OPTION: bad})) == \
        autoplay.DEFAULT_SPEED


def test_speed_and_loop_travel_in_the_link_and_playing_does_not():
    app = AppState(scenario=preset("seed"), options={AUTOPLAY_SPEED_OPTION: 1, AUTOPLAY_LOOP_OPTION: True},
                   present=True, playing=True)
    query = link.to_query(app)
    back, warnings = link.from_query(query)
    assert warnings == []
    assert (autoplay.speed(back), autoplay.looping(back), back.present) == (1, True, True)
    assert back.playing is False  # a student opening the lecture's link is not carried along
    assert "playing" not in app.to_dict() and back.to_dict() == app.to_dict()
    assert link.to_query(AppState(scenario=preset("seed"), playing=True)) == {}  # nothing else to say: the bare link


def test_a_link_with_a_speed_not_offered_says_so_and_keeps_loop():
    query = {"o": link.pack({AUTOPLAY_SPEED_OPTION: 4, AUTOPLAY_LOOP_OPTION: True})}
    back, warnings = link.from_query(query)
    assert len(warnings) == 1 and AUTOPLAY_SPEED_OPTION in warnings[0]
    assert autoplay.speed(back) == autoplay.DEFAULT_SPEED and autoplay.looping(back)


def test_without_the_quiz_every_step_may_be_left():
    """With the quiz off nothing is hidden: autoplay may leave every step of the walk."""
    app = AppState(scenario=preset("seed"))
    for page, sid in navigation.walk(compute(app)):
        assert autoplay.may_leave(app, page, sid) is True
