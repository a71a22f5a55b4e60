"""AppTest: a tab whose server went away (a replica killed behind the proxy, a restart) keeps the student's action.

Streamlit's frontend does not rerun when its socket reconnects to a new session: the student's next action is the
new session's first run. That run carries the tab's URL (the state of the run before) and the values of every
widget on the tab, one of them just changed; Streamlit runs no callbacks for widgets the session never drew. The
app must apply that action, not undo it from the URL (a slider snapped back, a PageDown lost).

A reconnect is played here as it happens: the old session's tab (its widget tree, changed by the action) and its URL
go to a new AppTest, whose first run is the action.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from bpviz.ids import StepId

from .apptest_util import assert_clean, live, reports, widget_states
from .test_page_link import BACKWARD

W5 = "sb_w_1_0_0"
STEP = "nav_backward_step"


def tab_on_backward() -> AppTest:
    """A student's tab on the Backward pass page, w5 moved to 0.45 and one step on (the URL holds all of it)."""
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    at.switch_page(BACKWARD).run()
    live(at, W5).set_value(0.45).run()
    at.button(key="nav_backward_next").click().run()
    assert_clean(at)
    return at


def reconnected(tab: AppTest, page_hash: str | None = None) -> AppTest:
    """The tab's next run in a new session: its URL, its page (or ``page_hash``: the student clicked another page),
    and the widget values it shows (with any action already applied, as ``.set_value(...)`` does without running;
    the live sliders' reports as the tab's browser keeps them)."""
    fresh = AppTest.from_file("../app.py", default_timeout=120)
    fresh.query_params.update({k: v[-1] if isinstance(v, list) else v for k, v in tab.query_params.items()})
    fresh._page_hash = page_hash or tab._page_hash  # st.navigation's hash of the page: an element id includes it
    fresh._run(widget_states(tab, reports(tab)))  # the frontend sends the tab's widget states with the action
    assert_clean(fresh)
    return fresh


def test_a_slider_moved_after_a_reconnect_keeps_its_value():
    tab = tab_on_backward()
    step = tab.selectbox(key=STEP).value
    live(tab, W5).set_value(0.5)
    after = reconnected(tab)
    assert live(after, W5).value == 0.5  # not 0.45 from the URL
    assert after.selectbox(key=STEP).value == step  # and the rest from the URL
    assert after.metric[-1].value == "0.3065"  # E total with w5 = 0.5 (the load test checks the same number)


def test_a_step_button_pressed_after_a_reconnect_moves_one_step():
    tab = tab_on_backward()
    step = tab.selectbox(key=STEP).value
    tab.button(key="nav_backward_pagedown").click()
    after = reconnected(tab)
    ids = list(tab.selectbox(key=STEP).options)
    assert len(ids) == 12
    assert after.selectbox(key=STEP).value != step
    assert live(after, W5).value == 0.45


def test_a_step_chosen_in_the_box_after_a_reconnect_is_kept():
    tab = tab_on_backward()
    target = StepId.parse("backward:w:0:0:0")
    tab.selectbox(key=STEP).set_value(target)
    after = reconnected(tab)
    assert after.selectbox(key=STEP).value == target
    assert live(after, W5).value == 0.45


def test_a_reconnect_without_an_action_changes_nothing():
    tab = tab_on_backward()
    after = reconnected(tab)
    assert live(after, W5).value == 0.45
    assert after.selectbox(key=STEP).value == tab.selectbox(key=STEP).value
    assert after.metric[-1].value == tab.metric[-1].value


def test_a_page_switch_as_the_first_action_after_a_reconnect_keeps_every_number():
    """The tab's widgets have the Backward page's element ids; on another page the same keys get other ids, and the
    sliders show their defaults, which are not the student's values: nothing may be taken from them (found in review,
    when the defaults were the minimum: every weight became -1, η 0.01, decimals 1; the sliders now get the state's
    value as default, and adoption still keeps to the ids the browser sent)."""
    tab = tab_on_backward()
    forward = AppTest.from_file("../app.py", default_timeout=120)
    forward.run()
    forward.switch_page("views/forward_pass.py").run()
    after = reconnected(tab, page_hash=forward._page_hash)
    app = after.session_state["bpviz_app"]
    assert app.page == "forward"
    assert app.scenario.weights[1][0, 0] == 0.45 and app.decimals == 4
    assert live(after, W5).value == 0.45  # drawn again from the state, not left at its default


def test_a_bad_report_after_a_reconnect_changes_nothing():
    """A live slider's report is checked in the reconnected run as in its callback: not a number, no change."""
    tab = tab_on_backward()
    live(tab, W5).set_value("0.5")
    after = reconnected(tab)
    assert live(after, W5).value == 0.45
    assert after.metric[-1].value == tab.metric[-1].value


def test_apply_step_pressed_after_a_reconnect_applies_it():
    """Any button bound with state.on_click counts as the first action of a reconnected tab (here: Apply step)."""
    tab = AppTest.from_file("../app.py", default_timeout=120)
    tab.run()
    tab.switch_page("views/update.py").run()
    before = tab.session_state["bpviz_app"].scenario.weights[1][0, 0]
    tab.button(key="update_apply").click()
    after = reconnected(tab)
    assert after.session_state["bpviz_app"].scenario.weights[1][0, 0] != before  # w5 moved by −η·∂E/∂w5
    assert after.session_state["bpviz_app"].history  # and Undo can take it back
