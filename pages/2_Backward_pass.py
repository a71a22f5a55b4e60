"""Backward pass: the chain rule for every parameter, output layer first."""

import streamlit as st

from bpviz import ui
from bpviz.i18n import t


def body(app: ui.AppState, comp: ui.Computed) -> None:
    ui.page_header(t("Backward pass", lang=app.lang), t(
        "The error flows back from the loss to every parameter by the chain rule: each gradient is a product of "
        "local derivatives, and a hidden weight collects one term per output path.", lang=app.lang), app, comp)
    step = ui.step_navigator("backward", app, comp, ("backward",))
    ui.render_formula(step)
    # the graph right under the formula (so both fit on a projected screen); the factor table follows
    ui.network_chart(app, comp, step, key="backward_graph", mode="gradients")
    st.caption(t("Edges show ∂E/∂w, neurons show δ = ∂E/∂net. Hover for full precision.", lang=app.lang))
    ui.render_factors(step, app)
    if st.toggle(t("Check with finite differences", lang=app.lang), **ui.bind_option(app, "backward_gradcheck", False)):
        ui.render_gradient_check(app, comp, step.param)


ui.run_page(t("Backward pass"), body)
