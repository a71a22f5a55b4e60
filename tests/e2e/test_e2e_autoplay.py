"""End-to-end: autoplay in a real browser, on Streamlit's own clock. Play at 1 s per step walks from the forward page
to the backward page; Pause stops the clock; at the end it stops, or loops back to the forward page; Space toggles
it in presentation mode. The screenshot for the README (``assets/autoplay_present_1280.png``).

No fixed waits: every wait is for a condition, with generous timeouts (a loaded 2-core machine). "Nothing reruns
while paused" is checked as a state, not by watching the clock for a while: the page's own list of running
timers. An init script notes every ``setInterval`` whose callback asks the server for a rerun
(``sendUpdateWidgetsMessage``: Streamlit's frontend starts one per ``st.fragment(run_every=...)``) until it is
cleared; paused, there must be none. (If a Streamlit upgrade renames that method, the Play test fails: no clock
seen while playing.)

Expected steps come from bpviz.walkthrough (via the lecture tests' walk_sequence), never from the page itself.
"""

from __future__ import annotations

import pytest

from bpviz.ids import Phase
from bpviz.ui import autoplay, link
from bpviz.ui.state import AUTOPLAY_LOOP_OPTION, AUTOPLAY_SPEED_OPTION
from bpviz.walkthrough import build_walkthrough

from .browser import SEED, SEED_GRADS, SEED_TRACE, assert_healthy, screenshot, settle, wait_for
from .test_e2e_lecture import check_projected_screen, open_url, step_box, walk_sequence

pytestmark = pytest.mark.e2e

WALK = walk_sequence(SEED)  # (page, step title) of all 35 steps, forward → backward → update
STEP_IDS = [sid for phase in (Phase.FORWARD, Phase.LOSS, Phase.BACKWARD, Phase.UPDATE)
            for sid in build_walkthrough(SEED, SEED_TRACE, SEED_GRADS).ids() if sid.phase is phase]  # the same order
LAST_FORWARD = max(n for n, (page, _) in enumerate(WALK) if page == "forward")
TIMEOUT = 60.0  # seconds; a step every second takes about 1.3 s here, far less than this
CLOCKS_JS = """(() => {
  const running = new Map(), start = window.setInterval, stop = window.clearInterval;
  window.setInterval = function (fn, ms, ...rest) {
    const id = start.call(this, fn, ms, ...rest);
    if (typeof fn === 'function' && String(fn).includes('sendUpdateWidgetsMessage')) running.set(id, ms);
    return id;
  };
  window.clearInterval = function (id) { running.delete(id); return stop.call(this, id); };
  window.__bpvizClocks = () => [...running.values()];
})();"""


def step_query(n: int, **options) -> str:
    """The link's query for step ``n`` of the walk, with autoplay options."""
    sid = STEP_IDS[n]
    return f"st={sid.format()}&o={link.pack(options)}"


def clocks(page) -> list[float]:
    """The periods (ms) of the rerun timers running in the page."""
    return page.evaluate("() => window.__bpvizClocks()")


def play_button(page):
    """The Play / Pause button (Streamlit draws a hidden copy beside it, to measure its label: the first is it)."""
    return page.locator(f".st-key-{autoplay.PLAY_KEY} button").first


def play_label(page) -> str:
    """The Play / Pause button's text (without its icon's ligature)."""
    return page.locator(f".st-key-{autoplay.PLAY_KEY} [data-testid='stMarkdownContainer']").first.inner_text().strip()


def shows(page, n: int) -> bool:
    """Whether the page shows step ``n`` of the walk: its page's URL and its title in the step box."""
    path, title = WALK[n]
    return page.url.split("?")[0].endswith("/" + path) and step_box(page).endswith(title)


def opened(page_factory, server_url: str, path: str, query: str, **size):
    page = page_factory(**size)
    page.add_init_script(CLOCKS_JS)
    open_url(page, f"{server_url}/{path}?{query}")
    return page


def test_play_walks_on_across_pages_and_pause_stops_the_clock(page_factory, server_url):
    page = opened(page_factory, server_url, "forward", step_query(LAST_FORWARD - 1, **{AUTOPLAY_SPEED_OPTION: 1}))
    assert shows(page, LAST_FORWARD - 1) and play_label(page) == "Play"
    assert clocks(page) == []  # paused: no timer at all
    play_button(page).click()
    wait_for(page, lambda: play_label(page) == "Pause" and clocks(page) == [1000], "Play to start a 1 s clock")
    wait_for(page, lambda: shows(page, LAST_FORWARD), "the first beat: the last forward step", timeout=TIMEOUT)
    wait_for(page, lambda: shows(page, LAST_FORWARD + 1), "the second beat: the backward page", timeout=TIMEOUT)
    play_button(page).click()
    wait_for(page, lambda: play_label(page) == "Play" and clocks(page) == [], "Pause to stop the clock")
    settle(page)
    here = step_box(page)
    assert clocks(page) == [] and play_label(page) == "Play" and step_box(page) == here  # stays: nothing to beat
    assert_healthy(page, server_url)


def test_at_the_end_it_stops_and_with_loop_it_goes_back_to_the_forward_page(page_factory, server_url):
    last = len(WALK) - 1
    page = opened(page_factory, server_url, "update", step_query(last - 1, **{AUTOPLAY_SPEED_OPTION: 1}))
    play_button(page).click()
    wait_for(page, lambda: shows(page, last), "the last update step", timeout=TIMEOUT)
    wait_for(page, lambda: play_label(page) == "Play" and clocks(page) == [], "autoplay to stop at the end",
             timeout=TIMEOUT)
    assert shows(page, last) and play_button(page).is_disabled()
    page.locator(f".st-key-{AUTOPLAY_LOOP_OPTION} label").click()  # Loop on
    wait_for(page, lambda: play_button(page).is_enabled(), "Play again")
    play_button(page).click()
    wait_for(page, lambda: shows(page, 0), "the first forward step after the last update", timeout=TIMEOUT)
    assert play_label(page) == "Pause"
    assert_healthy(page, server_url)


def test_space_toggles_autoplay_in_presentation_mode(page_factory, server_url):
    page = opened(page_factory, server_url, "backward",
                  "present=1&" + step_query(LAST_FORWARD + 1, **{AUTOPLAY_SPEED_OPTION: 1}), width=1280, height=800)
    assert play_label(page) == "Play" and clocks(page) == []
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Space")
    wait_for(page, lambda: play_label(page) == "Pause" and clocks(page) == [1000], "Space to start autoplay")
    wait_for(page, lambda: shows(page, LAST_FORWARD + 2), "a beat in presentation mode", timeout=TIMEOUT)
    page.keyboard.press("Space")
    wait_for(page, lambda: play_label(page) == "Play" and clocks(page) == [], "Space to pause it")
    # a click on Play leaves the focus on it; then Space toggles once (the shortcut), not twice (also the button)
    play_button(page).click()
    wait_for(page, lambda: play_label(page) == "Pause" and clocks(page) == [1000], "Play, clicked")
    page.keyboard.press("Space")
    wait_for(page, lambda: play_label(page) == "Play" and clocks(page) == [], "Space after a click to pause")
    settle(page)
    assert play_label(page) == "Play" and clocks(page) == []
    assert_healthy(page, server_url)


def test_presentation_mode_screenshot_with_play(page_factory, server_url):
    """The hidden-weight step on a 1280×800 projector, playing at 8 s per step (formula and graph still on one
    screen, the row one button longer): ``assets/autoplay_present_1280.png``."""
    w1 = next(n for n, (_, title) in enumerate(WALK) if title.endswith("gradient of w1"))
    page = opened(page_factory, server_url, "backward", "present=1&" + step_query(w1, **{AUTOPLAY_SPEED_OPTION: 8}),
                  width=1280, height=800)
    play_button(page).click()
    wait_for(page, lambda: play_label(page) == "Pause" and clocks(page) == [8000], "Play at 8 s per step")
    check_projected_screen(page, 1280, "autoplay")
    if shows(page, w1):  # a beat may have come while the page settled on a loaded machine: then no picture
        screenshot(page, "autoplay_present_1280.png")
    assert_healthy(page, server_url)
