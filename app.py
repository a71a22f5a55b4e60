"""bpviz home (the entry point, `streamlit run app.py`): what backpropagation is, and where to start."""

import streamlit as st

from bpviz import ui
from bpviz.i18n import t

PAGES = [  # (file, title, what it shows) for the "where to start" links
    ("pages/1_Forward_pass.py", "Forward pass", "from inputs to outputs, neuron by neuron, then the loss"),
    ("pages/2_Backward_pass.py", "Backward pass", "the chain rule for every weight, output layer first"),
    ("pages/3_Update.py", "Update", "one gradient-descent step: w⁺ = w − η·∂E/∂w"),
    ("pages/4_Network_builder.py", "Network builder", "other sizes, activations, losses; XOR, softmax, dead ReLUs"),
    ("pages/5_Computational_graph.py", "Computational graph", "the loss as elementary operations, micrograd style"),
    ("pages/6_Matrix_view.py", "Matrix view", "the same backward pass with vectors and matrices"),
    ("pages/7_Training.py", "Training", "thousands of steps, the loss curve, the decision boundary"),
    ("pages/8_Conventions_and_checks.py", "Conventions and checks", "why published numbers differ; finite differences"),
]


def body(app: ui.AppState, comp: ui.Computed) -> None:
    lang = app.lang
    st.markdown(f"## {t('Backpropagation, step by step', lang=lang)}")
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
            "and every formula follows.", lang=lang))
    with start:
        st.markdown(t("**Where to start**", lang=lang))
        for path, label, what in PAGES:
            st.page_link(path, label=t(label, lang=lang), icon=":material/arrow_forward:", help=t(what, lang=lang))
    ui.network_chart(app, comp, None, key="home_graph")
    ui.output_metrics(app, comp)


ui.run_page(t("Home"), body)
