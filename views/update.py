"""Update: every parameter moves against its gradient, w⁺ = w − η·∂E/∂w."""

import streamlit as st

from bpviz.i18n import t
from bpviz.ui import boundary, navigation, notice, quiz, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState

ACTIONS = (2, 1, 1)  # Apply | Undo | Reset
NUMBERS_BUTTONS = (3, 2)  # E now, E after | the buttons: 8 decimals fit a metric beside the sidebar at 1280 px


def _actions(app: AppState, comp: Computed) -> None:
    """E before and after the step, and what to do with it."""
    lang = app.lang
    numbers, buttons = st.columns(NUMBERS_BUTTONS, vertical_alignment="center")
    with numbers:
        widgets.loss_before_after(app, comp)
    with buttons:
        c1, c2, c3 = st.columns(ACTIONS)
        c1.button(t("Apply step", lang), **state.on_click("update_apply", state.apply_update), type="primary",
                  width="stretch", help=t("Continue from the updated weights", lang))
        c2.button(t("Undo", lang), **state.on_click("update_undo", state.undo), disabled=not app.history,
                  width="stretch")
        c3.button(t("Reset", lang), **state.on_click("update_reset", state.reset), width="stretch",
                  help=t("Back to the worked example", lang))
    notice.message_here(app, "update")  # e.g. a step too large to apply, under its button


def body(app: AppState, comp: Computed) -> None:
    widgets.page_header(__file__, t(
        "Gradient descent moves every parameter a small step against its gradient; the learning rate η sets the "
        "step size. Apply the step to continue from the new weights.", app.lang), app)
    step = navigation.step_navigator("update", app, comp)
    widgets.formula_with_sliders(app, step)
    quiz.box(app, comp, step)
    if not app.present:
        _actions(app, comp)
    widgets.network_chart(app, comp, step, key="update_graph")
    if app.present:  # the formula and the graph first, on one projected screen
        _actions(app, comp)
    # the step's notes; why a step cannot be applied is already under the metrics (loss_before_after)
    widgets.render_factors(step, app, shown=(comp.walkthrough.update_problem,))
    widgets.parameter_table(app, comp)


boundary.run_page(body)
