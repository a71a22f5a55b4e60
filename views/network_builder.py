"""Network builder: presets, or any architecture with any activations, loss and initial weights."""

import itertools

import streamlit as st

from bpviz import builder
from bpviz.config import MAX_HIDDEN_LAYERS, MAX_NEURONS
from bpviz.functions import HIDDEN_ACTIVATIONS, output_activations
from bpviz.i18n import N_, t
from bpviz.ui import boundary, notice, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState

PRESET_INFO = {
    "seed": N_("The worked example: 2-2-2, sigmoid, ½·Σ(t − out)², η = 0.5 (PyTorch's conventions: biases trained)."),
    "mazur": N_("The same network with Matt Mazur's conventions: biases fixed, output layer updated first."),
    "xor_2_2_1": N_("XOR with 2 hidden neurons: the classic problem a single layer cannot solve."),
    "xor_2_4_1": N_("XOR with 4 hidden neurons: more room, trains more reliably."),
    "softmax_3class": N_("Three classes: softmax outputs and cross-entropy loss (δ = out − t at the output)."),
    "relu_dead_units": N_("A ReLU network with dead units: negative net for every sample, so their gradient is 0."),
    "deep_sigmoid_vanishing": N_("Six sigmoid layers with small weights: the gradient vanishes on its way back to "
                                 "the first layer."),
    "deep_relu_he": N_("The same six layers with ReLU and He initialisation: the gradient keeps its size."),
    "deep_tanh_saturated": N_("Six tanh layers with large weights: the neurons saturate and the gradient dies out."),
}
INIT_INFO = {
    "seed": N_("the seed's pattern (0.15, 0.20, 0.25, ... as in the worked example)"),
    "uniform": N_("uniform on (−1, 1)"),
    "xavier": N_("Xavier/Glorot uniform: ±√(6 / (fan_in + fan_out))"),
    "he": N_("He normal: N(0, 2 / fan_in), made for ReLU"),
    "zeros": N_("all zeros (see what happens to symmetry)"),
}
# the form's fields (options and widget keys alike) and their defaults; hidden layer l adds bld_n_l and bld_act_l
DEFAULTS = {"bld_inputs": 2, "bld_hidden": 1, "bld_outputs": 2, "bld_out_act": "sigmoid", "bld_loss": "half_sse",
            "bld_init": "xavier", "bld_seed": 0, "bld_lr": 0.5}
HIDDEN_DEFAULTS = {"bld_n": 2, "bld_act": "sigmoid"}


MIN_RUN = 3  # this many equal activations in a row are written as one with a count


def _activations(acts: tuple[str, ...]) -> str:
    """The activations layer by layer, a run of three or more written once with its count: "tanh × 6, sigmoid" (a
    deep net's list of names would otherwise fill the line); "sigmoid, sigmoid" stays as it is."""
    runs = [(a, len(list(group))) for a, group in itertools.groupby(acts)]
    return ", ".join(f"{a} × {n}" if n >= MIN_RUN else ", ".join([a] * n) for a, n in runs)


def _value(options: dict, key: str):
    """A form field's value: the user's, or its default."""
    default = DEFAULTS.get(key, HIDDEN_DEFAULTS.get(key.rsplit("_", 1)[0]))
    return options.get(key, default)


def _field(app: AppState, key: str) -> dict:
    """Widget kwargs binding a form field to the state."""
    return state.bind_option(app, key, _value(app.options, key))


def _current_form() -> dict:
    """The builder form holding the network shown now (its weights come from the chosen initialiser)."""
    s = state.get().scenario
    hidden = s.layers[1:-1]
    form = {"bld_inputs": s.layers[0], "bld_hidden": len(hidden), "bld_outputs": s.layers[-1],
            "bld_out_act": s.activations[-1], "bld_loss": s.loss, "bld_lr": float(s.learning_rate)}
    for l, n in enumerate(hidden):
        form[f"bld_n_{l}"] = n
        form[f"bld_act_{l}"] = s.activations[l]
    return form


def _from_current() -> None:
    state.fill_builder_form(_current_form())


def _build() -> None:
    o = state.get().options
    n_hidden = int(_value(o, "bld_hidden"))
    layers = [int(_value(o, "bld_inputs")), *(int(_value(o, f"bld_n_{l}")) for l in range(n_hidden)),
              int(_value(o, "bld_outputs"))]
    acts = [*(_value(o, f"bld_act_{l}") for l in range(n_hidden)), _value(o, "bld_out_act")]
    state.build_network(lambda: builder.build_scenario(
        layers, acts, _value(o, "bld_loss"), init=_value(o, "bld_init"), rng_seed=int(_value(o, "bld_seed")),
        learning_rate=float(_value(o, "bld_lr"))))


def _form(app: AppState) -> None:
    lang = app.lang
    st.button(t("Start from the current network", lang), **state.on_click("bld_from_current", _from_current),
              help=t("Fill the form with the network shown above, to change one thing about it", lang))
    a, b, c = st.columns(3)
    a.number_input(t("Inputs", lang), 1, MAX_NEURONS, **_field(app, "bld_inputs"))
    b.number_input(t("Hidden layers", lang), 0, MAX_HIDDEN_LAYERS, **_field(app, "bld_hidden"))
    c.number_input(t("Outputs", lang), 1, MAX_NEURONS, **_field(app, "bld_outputs"))
    for l in range(int(_value(app.options, "bld_hidden"))):
        h1, h2 = st.columns(2)
        h1.number_input(t("Neurons in hidden layer {l}", lang, l=l + 1), 1, MAX_NEURONS, **_field(app, f"bld_n_{l}"))
        h2.selectbox(t("Activation of hidden layer {l}", lang, l=l + 1), HIDDEN_ACTIVATIONS,
                     **_field(app, f"bld_act_{l}"))
    n_out = int(_value(app.options, "bld_outputs"))
    out_acts = output_activations(n_out)
    if _value(app.options, "bld_out_act") not in out_acts:
        state.set_option(DEFAULTS["bld_out_act"], "bld_out_act")
    st.selectbox(t("Output activation", lang), out_acts, **_field(app, "bld_out_act"),
                 help=t("softmax needs at least 2 outputs", lang))
    options = builder.pairing_options(_value(app.options, "bld_out_act"), n_out, lang=lang)
    valid = [o.loss for o in options if o.valid]
    if _value(app.options, "bld_loss") not in valid:
        state.set_option(valid[0], "bld_loss")
    st.selectbox(t("Loss", lang), valid, **_field(app, "bld_loss"))
    for o in options:
        if not o.valid:
            st.caption(t("Not offered: {loss}, because {reason}.", lang, loss=o.loss, reason=o.reason))
    i1, i2, i3 = st.columns(3)
    i1.selectbox(t("Initial weights", lang), list(INIT_INFO), **_field(app, "bld_init"),
                 format_func=lambda init: t(builder.INITIALISER_LABELS[init], lang))  # marked with N_ there
    i2.number_input(t("Random seed", lang), 0, 10_000, **_field(app, "bld_seed"))
    i3.number_input(t("Learning rate η", lang), 0.001, 100.0, step=0.1, format="%.3f", **_field(app, "bld_lr"))
    info = t(INIT_INFO[_value(app.options, "bld_init")], lang)  # marked with N_ in INIT_INFO
    st.caption(t("Initial weights: {info}", lang, info=info))
    st.button(t("Build network", lang), **state.on_click("bld_build", _build), type="primary", width="stretch")
    notice.message_here(app, "builder")


def body(app: AppState, comp: Computed) -> None:
    lang = app.lang
    widgets.page_header(__file__, t(
        "Start from a classic example or build your own network. Every other page (forward, backward, "
        "update, graph, matrix, training) then works on it.", lang), app)
    s = app.scenario
    st.subheader(t("Current network: {layers}", lang, layers="-".join(map(str, s.layers))))
    st.caption(t("activations: {acts}; loss: {loss}; η = {lr}", lang, acts=_activations(s.activations),
                 loss=s.loss, lr=widgets.fmt(s.learning_rate, app.decimals, lang)))
    note = builder.symmetry_note(s, lang=lang)
    if note:
        st.warning(note)
    # full width: the network figure is laid out for an 800 px plot and clips in a narrower column
    widgets.network_chart(app, comp, None, key="builder_graph")
    widgets.output_metrics(app, comp)
    widgets.gradient_sizes_panel(app, comp, "bld_grad_sizes")
    left, right = st.columns([2, 3])
    with left:
        st.subheader(t("Examples", lang))
        for name, info in PRESET_INFO.items():
            # the button over its lesson, not beside it: beside, a 1280 px screen cut names to "xor…", "relu…"
            st.button(name, **state.on_click(f"bld_preset_{name}", state.load_preset, name), width="stretch")
            st.caption(t(info, lang))  # marked with N_ in PRESET_INFO
    with right:
        st.subheader(t("Build your own", lang))
        _form(app)


boundary.run_page(body)
