"""Network builder: presets, or any architecture with any activations, loss and initial weights."""

import streamlit as st

from bpviz import builder, ui
from bpviz.config import ACTIVATION_NAMES, MAX_HIDDEN_LAYERS, MAX_NEURONS, ScenarioError
from bpviz.i18n import t

PRESET_INFO = {
    "seed": "The worked example: 2-2-2, sigmoid, ½·Σ(t − out)², η = 0.5 (PyTorch's conventions: biases trained).",
    "mazur": "The same network with Matt Mazur's conventions: biases fixed, output layer updated first.",
    "xor_2_2_1": "XOR with 2 hidden neurons: the classic problem a single layer cannot solve.",
    "xor_2_4_1": "XOR with 4 hidden neurons: more room, trains more reliably.",
    "softmax_3class": "Three classes: softmax outputs and cross-entropy loss (δ = out − t at the output).",
    "relu_dead_units": "A ReLU network with dead units: negative net for every sample, so their gradient is 0.",
}
INIT_INFO = {
    "seed": "the seed's pattern (0.15, 0.20, 0.25, ... as in the worked example)",
    "uniform": "uniform on (−1, 1)",
    "xavier": "Xavier/Glorot uniform: ±√(6 / (fan_in + fan_out))",
    "he": "He normal: N(0, 2 / fan_in), made for ReLU",
    "zeros": "all zeros (see what happens to symmetry)",
}
HIDDEN_ACTIVATIONS = [a for a in ACTIVATION_NAMES if a != "softmax"]


def _opt(app: ui.AppState, key: str, default):
    """A builder widget's value lives in app.options (so it survives page switches)."""
    return ui.bind_option(app, key, default)


def _from_current() -> None:
    """Copy the current network's architecture into the form (its weights come from the chosen initialiser)."""
    app = ui.app_state()
    s = app.scenario
    hidden = s.layers[1:-1]
    app.options.update({"bld_inputs": s.layers[0], "bld_hidden": len(hidden), "bld_outputs": s.layers[-1],
                        "bld_out_act": s.activations[-1], "bld_loss": s.loss, "bld_lr": float(s.learning_rate)})
    for l, n in enumerate(hidden):
        app.options[f"bld_n_{l}"] = n
        app.options[f"bld_act_{l}"] = s.activations[l]


def _build() -> None:
    app = ui.app_state()
    o = {k: st.session_state[k] for k in st.session_state if isinstance(k, str) and k.startswith("bld_")}
    n_hidden = int(o["bld_hidden"])
    layers = [int(o["bld_inputs"])] + [int(o[f"bld_n_{l}"]) for l in range(n_hidden)] + [int(o["bld_outputs"])]
    acts = [o[f"bld_act_{l}"] for l in range(n_hidden)] + [o["bld_out_act"]]
    try:
        scenario = builder.build_scenario(layers, acts, o["bld_loss"], init=o["bld_init"], rng_seed=int(o["bld_seed"]),
                                          learning_rate=float(o["bld_lr"]))
    except ScenarioError as exc:
        app.message = t("Could not build this network: {error}", lang=app.lang, error=str(exc))
        return
    ui.set_scenario(app, scenario, preset_name="")
    app.steps.clear()


def body(app: ui.AppState, comp: ui.Computed) -> None:
    lang = app.lang
    ui.page_header(t("Network builder", lang=lang), t(
        "Start from a classic example or build your own network. Every other page (forward, backward, "
        "update, graph, matrix, training) then works on it.", lang=lang))
    s = app.scenario
    st.subheader(t("Current network: {layers}", lang=lang, layers="-".join(map(str, s.layers))))
    st.caption(t("activations: {acts}; loss: {loss}; η = {lr}", lang=lang, acts=", ".join(s.activations),
                 loss=s.loss, lr=ui.fmt(s.learning_rate, app.decimals)))
    note = builder.symmetry_note(s, lang=lang)
    if note:
        st.warning(note)
    # full width: the network figure is laid out for an 800 px plot and clips in a narrower column
    ui.network_chart(app, comp, None, key="builder_graph")
    ui.output_metrics(app, comp)
    left, right = st.columns([2, 3])
    with left:
        st.subheader(t("Examples", lang=lang))
        for name, info in PRESET_INFO.items():
            # the button over its lesson, not beside it: beside, a 1280 px screen cut names to "xor…", "relu…"
            st.button(name, key=f"bld_preset_{name}", on_click=ui.load_preset, args=(name,), width="stretch")
            st.caption(t(info, lang=lang))
    with right:
        st.subheader(t("Build your own", lang=lang))
        st.button(t("Start from the current network", lang=lang), key="bld_from_current", on_click=_from_current,
                  help=t("Fill the form with the network shown above, to change one thing about it", lang=lang))
        a, b, c = st.columns(3)
        a.number_input(t("Inputs", lang=lang), 1, MAX_NEURONS, **_opt(app, "bld_inputs", 2))
        b.number_input(t("Hidden layers", lang=lang), 0, MAX_HIDDEN_LAYERS, **_opt(app, "bld_hidden", 1))
        c.number_input(t("Outputs", lang=lang), 1, MAX_NEURONS, **_opt(app, "bld_outputs", 2))
        n_hidden = int(st.session_state["bld_hidden"])
        for l in range(n_hidden):
            h1, h2 = st.columns(2)
            h1.number_input(t("Neurons in hidden layer {l}", lang=lang, l=l + 1), 1, MAX_NEURONS,
                            **_opt(app, f"bld_n_{l}", 2))
            h2.selectbox(t("Activation of hidden layer {l}", lang=lang, l=l + 1), HIDDEN_ACTIVATIONS,
                         **_opt(app, f"bld_act_{l}", "sigmoid"))
        n_out = int(st.session_state["bld_outputs"])
        out_acts = [a for a in ACTIVATION_NAMES if a != "softmax" or n_out >= 2]
        if app.options.get("bld_out_act", "sigmoid") not in out_acts:
            app.options["bld_out_act"] = "sigmoid"
        st.selectbox(t("Output activation", lang=lang), out_acts, **_opt(app, "bld_out_act", "sigmoid"),
                     help=t("softmax needs at least 2 outputs", lang=lang))
        options = builder.pairing_options(st.session_state["bld_out_act"], n_out, lang=lang)
        valid = [o.loss for o in options if o.valid]
        if app.options.get("bld_loss", valid[0]) not in valid:
            app.options["bld_loss"] = valid[0]
        st.selectbox(t("Loss", lang=lang), valid, **_opt(app, "bld_loss", valid[0]))
        for o in options:
            if not o.valid:
                st.caption(t("Not offered: {loss}, because {reason}.", lang=lang, loss=o.loss, reason=o.reason))
        i1, i2, i3 = st.columns(3)
        i1.selectbox(t("Initial weights", lang=lang), list(INIT_INFO), format_func=lambda k: k,
                     **_opt(app, "bld_init", "xavier"))
        i2.number_input(t("Random seed", lang=lang), 0, 10_000, **_opt(app, "bld_seed", 0))
        i3.number_input(t("Learning rate η", lang=lang), 0.001, 100.0, step=0.1, format="%.3f",
                        **_opt(app, "bld_lr", 0.5))
        st.caption(t("Initial weights: {info}", lang=lang, info=t(INIT_INFO[st.session_state["bld_init"]], lang=lang)))
        st.button(t("Build network", lang=lang), key="bld_build", on_click=_build, type="primary", width="stretch")


ui.run_page(t("Network builder"), body)
