"""Forward pass: each neuron's net and out, then the loss, step by step."""

from bpviz import ui
from bpviz.i18n import t


def body(app: ui.AppState, comp: ui.Computed) -> None:
    ui.page_header(t("Forward pass", lang=app.lang), t(
        "Data flows from the inputs to the outputs: each neuron adds up its weighted inputs and its bias (net), then "
        "applies its activation (out). The loss compares the outputs with the targets.", lang=app.lang), app, comp)
    step = ui.step_navigator("forward", app, comp, ("forward", "loss"))
    ui.render_step(step, app)
    ui.network_chart(app, comp, step, key="forward_graph")


ui.run_page(t("Forward pass"), body)
