"""Update: every parameter moves against its gradient, w⁺ = w − η·∂E/∂w."""

import streamlit as st

from bpviz import engine, ui
from bpviz.i18n import t


def body(app: ui.AppState, comp: ui.Computed) -> None:
    s = app.scenario
    ui.page_header(t("Update", lang=app.lang), t(
        "Gradient descent moves every parameter a small step against its gradient; the learning rate η sets the "
        "step size. Apply the step to continue from the new weights.", lang=app.lang), app)
    step = ui.step_navigator("update", app, comp, ("update",))
    after = engine.step(s)
    formula, numbers = st.columns([3, 2])
    with formula:
        ui.render_step(step, app)
    with numbers:
        ui.loss_before_after(app, comp, after)
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.button(t("Apply step", lang=app.lang), on_click=ui.apply_update, key="update_apply", type="primary",
                  width="stretch", help=t("Continue from the updated weights", lang=app.lang))
        c2.button(t("Undo", lang=app.lang), on_click=ui.undo, key="update_undo", disabled=not app.history,
                  width="stretch")
        c3.button(t("Reset", lang=app.lang), on_click=ui.reset, key="update_reset", width="stretch",
                  help=t("Back to the worked example", lang=app.lang))
    ui.network_chart(app, comp, step, key="update_graph")
    ui.parameter_table(app, comp, after)


ui.run_page(t("Update"), body)
