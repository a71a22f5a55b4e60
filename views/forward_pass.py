"""Forward pass: each neuron's net and out, then the loss, step by step."""

from bpviz.i18n import t
from bpviz.ui import boundary, navigation, widgets


def body(app, comp) -> None:
    widgets.page_header(__file__, t(
        "Data flows from the inputs to the outputs: each neuron adds up its weighted inputs and its bias (net), then "
        "applies its activation (out). The loss compares the outputs with the targets.", app.lang), app, comp)
    step = navigation.step_navigator("forward", app, comp)
    widgets.render_step(step, app)
    widgets.network_chart(app, comp, step, key="forward_graph")


boundary.run_page(__file__, body)
