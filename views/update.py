"""Update: every parameter moves against its gradient, w⁺ = w − η·∂E/∂w."""

import streamlit as st

from bpviz.i18n import t
from bpviz.ui import boundary, navigation, state, widgets


def body(app, comp) -> None:
    lang = app.lang
    widgets.page_header(__file__, t(
        "Gradient descent moves every parameter a small step against its gradient; the learning rate η sets the "
        "step size. Apply the step to continue from the new weights.", lang), app)
    step = navigation.step_navigator("update", app, comp)
    formula, numbers = st.columns([3, 2])
    with formula:
        widgets.render_step(step, app)
    with numbers:
        widgets.loss_before_after(app, comp)
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.button(t("Apply step", lang), on_click=state.apply_update, key="update_apply", type="primary",
                  width="stretch", help=t("Continue from the updated weights", lang))
        c2.button(t("Undo", lang), on_click=state.undo, key="update_undo", disabled=not app.history, width="stretch")
        c3.button(t("Reset", lang), on_click=state.reset, key="update_reset", width="stretch",
                  help=t("Back to the worked example", lang))
    widgets.network_chart(app, comp, step, key="update_graph")
    widgets.parameter_table(app, comp)


boundary.run_page(__file__, body)
