"""Home: what backpropagation is, and where to start."""

import streamlit as st

from bpviz.i18n import t
from bpviz.ui import boundary, widgets
from bpviz.ui.navigation import PAGES


def body(app, comp) -> None:
    lang = app.lang
    if app.present:
        widgets.presenter_bar(app, t("Backpropagation, step by step", lang))
    else:
        st.markdown("## " + t("Backpropagation, step by step", lang))
    intro, start = st.columns([3, 2])
    with intro:
        st.markdown(t(
            "A neural network learns by adjusting its weights so that its predictions get closer to the truth. "
            "**Backpropagation** (\"error back-propagation\") computes, for every weight and bias, how much the "
            "error would change if that parameter moved a little: its gradient. Gradient descent then moves each "
            "parameter a small step against its gradient.\n\n"
            "1. **Forward pass**: data flows from the inputs through the hidden layer to the outputs; a loss "
            "function measures how far the predictions are from the targets.\n"
            "2. **Backward pass**: the error is passed back to every parameter with the **chain rule**: the "
            "network is a composite function, split into simple operations (add, multiply, exp ...), and the "
            "derivative of the whole is the product of their local derivatives.\n"
            "3. **Update**: every parameter moves against its gradient.\n\n"
            "Below is the classic worked example: two inputs, two hidden neurons, two outputs, sigmoid everywhere, "
            "loss ½·Σ(t − out)², learning rate 0.5. Every number is computed live: move any slider in the sidebar "
            "and every formula follows.", lang))
    with start:
        st.markdown(t("**Where to start**", lang))
        for page in PAGES:
            if page.what:
                st.page_link(page.path, label=t(page.title, lang),  # marked with N_ in navigation.PAGES
                             icon=":material/arrow_forward:",
                             help=t(page.what, lang))  # marked with N_ in navigation.PAGES
    widgets.network_chart(app, comp, None, key="home_graph")
    widgets.output_metrics(app, comp)


boundary.run_page(body)
