"""Backward pass: the chain rule for every parameter, output layer first."""

import streamlit as st

from bpviz.i18n import t
from bpviz.ui import boundary, navigation, quiz, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState


def body(app: AppState, comp: Computed) -> None:
    widgets.page_header(__file__, t(
        "The error flows back from the loss to every parameter by the chain rule: each gradient is a product of "
        "local derivatives, and a hidden weight collects one term per output path.", app.lang), app, comp)
    step = navigation.step_navigator("backward", app, comp)
    widgets.formula_with_sliders(app, step)
    quiz.box(app, comp, step)
    # the graph right under the formula (so both fit on a projected screen); the factor table follows
    widgets.network_chart(app, comp, step, key="backward_graph", mode="gradients")
    st.caption(t("Edges show ∂E/∂w, neurons show δ = ∂E/∂net; on a hidden weight's step, each path is drawn in its "
                 "colour in the formula, with the weights it multiplies by. Hover for full precision.", app.lang))
    widgets.render_factors(step, app)
    widgets.slope_chart(app, comp, step, key="backward_slope")
    if st.toggle(t("Check with finite differences", app.lang), **state.bind_option(app, "backward_gradcheck", False)):
        if quiz.hides(app, step):  # the check shows the gradient itself
            st.caption(t("The check appears once you have checked your prediction (or skipped).", app.lang))
        else:
            widgets.render_gradient_check(app, comp, step.param)
    if app.scenario.n_layers >= widgets.DEEP:  # where vanishing and exploding gradients can be seen
        widgets.gradient_sizes_panel(app, comp, "backward_grad_sizes")


boundary.run_page(body)
