"""Forward pass: each neuron's net and out, then the loss, step by step."""

from bpviz.i18n import t
from bpviz.ui import boundary, navigation, quiz, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState


def body(app: AppState, comp: Computed) -> None:
    widgets.page_header(__file__, t(
        "Data flows from the inputs to the outputs: each neuron adds up its weighted inputs and its bias (net), then "
        "applies its activation (out). The loss compares the outputs with the targets.", app.lang), app, comp)
    step = navigation.step_navigator("forward", app, comp)
    widgets.formula_with_sliders(app, step)
    quiz.box(app, comp, step)
    widgets.network_chart(app, comp, step, key="forward_graph")
    widgets.render_factors(step, app)  # the step's notes: under the graph, so formula and graph share a screen


boundary.run_page(body)
