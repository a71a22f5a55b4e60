"""The sidebar every page shares: the example, Reset/Undo, decimals, inputs and targets, weights and biases,
the learning rate, the scenario file, the worked-solution handout and the PyTorch script. Every control is bound to
the AppState."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import streamlit as st

from .. import export
from ..config import preset_names
from ..functions import targets_bounded
from ..i18n import LANGUAGE_NAMES, LANGUAGES, t
from ..ids import Bias, LossShare, Neuron, ParamRef, TotalLoss, Weight
from ..naming import Names, names_for
from . import live_slider, notice, quiz, share, state
from .state import PRESET_OPTION, SAMPLE_OPTION, AppState

PREFIX = "sb_"
SHARE_DRAWER, FILE_DRAWER, HANDOUT_DRAWER = f"{PREFIX}share_box", f"{PREFIX}file_box", f"{PREFIX}handout_box"
UPLOAD_LIMIT_MB = 1  # the uploader's limit; .streamlit/config.toml sets server.maxUploadSize to the same
GRID = 0.01  # slider step: the seed's values (0.15, 0.05, ...) sit on this grid
FAR_WINDOW = 1.0  # a value far outside a slider's range gets a window of ± this around it
PARAM_RANGE = (-1.0, 1.0)
LEARNING_RATE_RANGE = (0.01, 2.0)
MIN_SLIDER_DECIMALS, MAX_SLIDER_DECIMALS = 2, 6
MAX_SLIDERS = 24  # more parameter sliders than this: those of one chosen neuron (a rerun scans every widget)
MAX_DATA_SLIDERS = 8  # more inputs + targets than this: one chosen value at a time
NEURON_OPTION = f"{PREFIX}neuron"
VALUE_OPTION = f"{PREFIX}value"
TORCH_DOWNLOAD = f"{PREFIX}torch_script"
HANDOUT_FILES = (("markdown", "md", "text/markdown", "Markdown"), ("latex", "tex", "application/x-tex", "LaTeX"))


# ---------------------------------------------------------------- sliders on the 0.01 grid


def snap(v: float) -> float:
    """Values a slider reports land exactly on the 0.01 grid when they are meant to (0.15, not 0.15000000000000002)."""
    return live_slider.on_grid(v, GRID)


def slider_range(value: float, lo: float, hi: float) -> tuple[float, float]:
    """A slider range on the 0.01 grid that always contains the current value.

    A value just outside [lo, hi] (weights drift in training) widens the range to the next grid point; a value far
    outside (an uploaded 999999) gets a window of ±1 around it, so the slider stays usable in 0.01 steps.
    """
    if lo - FAR_WINDOW <= value <= hi + FAR_WINDOW:
        return (float(round(min(lo, np.floor(value / GRID) * GRID), 10)),
                float(round(max(hi, np.ceil(value / GRID) * GRID), 10)))
    centre = round(value / GRID) * GRID
    return float(round(centre - FAR_WINDOW, 10)), float(round(centre + FAR_WINDOW, 10))


def _snapped(change):
    """``change`` called with the slider's value snapped to the grid."""
    def call(value: float, *args) -> None:
        change(snap(float(value)), *args)
    return call


_set_learning_rate = _snapped(state.set_learning_rate)


def _places(decimals: int) -> int:
    return max(MIN_SLIDER_DECIMALS, min(decimals, MAX_SLIDER_DECIMALS))


def _live(label: str, key: str, value: float, bounds: tuple[float, float], change, args: tuple, decimals: int,
          help_text: str | None = None) -> None:
    """A parameter's, an input's or a target's slider: the page follows its thumb while it is dragged (its values
    reach ``change`` already on the grid)."""
    grid = live_slider.Grid(*slider_range(float(value), *bounds), GRID)
    live_slider.live_slider(label, key, value, grid, change, args, decimals=_places(decimals), help_text=help_text)


def _slider(label: str, key: str, value: float, bounds: tuple[float, float], change, args: tuple,
            decimals: int, help_text: str | None = None) -> None:
    lo, hi = slider_range(float(value), *bounds)
    places = _places(decimals)
    state.seed_widget(key, float(value), identity=(label, lo, hi, places, help_text))
    # value= the same as seeded: the key decides the widget's identity and its seeded state wins; without a value,
    # Streamlit builds a copy of the whole session state to guess single or range (one copy per slider and run:
    # together ~10 % of a rerun)
    st.slider(label, min_value=lo, max_value=hi, value=float(value), step=GRID, format=f"%.{places}f",
              help=help_text, **state.on_widget(key, change, *args))


def param_key(ref: ParamRef) -> str:
    """The widget key of a parameter's slider: sb_w_1_0_0 (w5 of the seed), sb_b_0_1."""
    return PREFIX + ref.format().replace(":", "_")


def data_key(field_name: str, sample: int, k: int) -> str:
    """The widget key of an input's or target's slider: sb_x_0_1, sb_t_0_0."""
    return f"{PREFIX}{'x' if field_name == 'inputs' else 't'}_{sample}_{k}"


# ---------------------------------------------------------------- the sidebar


def language_switch(app: AppState, key: str) -> None:
    """English / 中文, each name in its own language; the label in both, so either reader finds it."""
    state.seed_widget(key, app.lang)
    st.radio(t("Language · 语言", app.lang), LANGUAGES, format_func=LANGUAGE_NAMES.__getitem__, horizontal=True,
             **state.on_widget(key, state.set_lang))


def sidebar(app: AppState) -> None:
    """Scenario controls shared by every page."""
    s, lang = app.scenario, app.lang
    nm = names_for(s.layers)
    with st.sidebar:
        language_switch(app, f"{PREFIX}lang")
        state.seed_widget(f"{PREFIX}present", app.present)
        st.toggle(t("Presentation mode", lang), help=t("Large type for a projector, the sidebar folded away; → and "
                                                        "PageDown step forward, also from a presenter clicker.", lang),
                  **state.on_widget(f"{PREFIX}present", state.set_present))
        quiz.sidebar_switch(app)
        names = preset_names()
        state.seed_widget(PRESET_OPTION, state.example_shown(app))
        st.selectbox(t("Example", lang), names, placeholder=t("your own network", lang),
                     help=t("Load a built-in scenario. 'seed' is the worked example.", lang),
                     **state.on_widget(PRESET_OPTION, state.choose_preset))
        c1, c2 = st.columns(2)
        c1.button(t("Reset to seed", lang), **state.on_click(f"{PREFIX}reset", state.reset), width="stretch")
        c2.button(t("Undo", lang), **state.on_click(f"{PREFIX}undo_sb", state.undo), disabled=not app.history,
                  width="stretch")
        state.seed_widget(f"{PREFIX}decimals", app.decimals)
        st.slider(t("Decimals shown", lang), state.MIN_DECIMALS, state.MAX_DECIMALS, app.decimals,
                  **state.on_widget(f"{PREFIX}decimals", state.set_decimals))
        notice.message_here(app, "sidebar")
        with st.expander(t("Inputs and targets", lang), expanded=True):
            _data_sliders(app, nm)
        with st.expander(t("Weights and biases", lang), expanded=True):
            _parameter_sliders(app, nm)
        _slider(t("Learning rate η", lang), f"{PREFIX}lr", s.learning_rate, LEARNING_RATE_RANGE, _set_learning_rate,
                (), app.decimals)
        with _drawer(t("Share this view (link, QR code)", lang), SHARE_DRAWER) as shown:
            if shown:
                share.panel(app)
        with _drawer(t("Scenario file (JSON)", lang), FILE_DRAWER) as shown:
            if shown:
                # data as a callable: the JSON is made when the button is clicked
                st.download_button(t("Download scenario", lang), data=s.to_json, file_name="bpviz-scenario.json",
                                   mime="application/json", key=f"{PREFIX}download", width="stretch",
                                   on_click="ignore")
                st.file_uploader(t("Load a scenario (JSON, at most {mb} MB)", lang, mb=UPLOAD_LIMIT_MB),
                                 type=["json"], key=f"{PREFIX}upload", on_change=_on_upload)
                notice.message_here(app, "upload")  # under the uploader, where the eye is
        with _drawer(t("Worked solution (handout) and PyTorch script", lang), HANDOUT_DRAWER) as shown:
            if shown:
                _torch_download(app)  # first: its place does not move when the handout's buttons appear
                _handout_downloads(app)


@contextmanager
def _drawer(label: str, key: str) -> Iterator[bool]:
    """A sidebar expander whose content is drawn only while it is open (opening it reruns the page).

    Collapsed (as they start), these three cost nothing on a slider move, and a fresh browser does not load their
    code with the page: the share link's code block alone brought a 1.5 MB syntax highlighter (~0.2 s of a cold
    load on a 2-core machine), the scenario file its uploader and download button.
    """
    box = st.expander(label, key=key, on_change="rerun")
    with box:
        yield bool(box.open)


def _on_upload() -> None:
    uploaded = st.session_state.get(f"{PREFIX}upload")
    if uploaded is not None:
        state.load_upload(uploaded.name, uploaded.getvalue())
        app = state.get()
        if app.message and app.message_at == "upload":  # no user text in the toast: it is Markdown
            st.toast(t("The file could not be loaded: the reason is under the uploader.", app.lang), icon="⚠️")


def _handout_downloads(app: AppState) -> None:
    """Render the worked solution only when asked (not on every slider move), then offer it for download."""
    lang = app.lang
    st.button(t("Prepare the worked solution", lang),
              **state.on_click(f"{PREFIX}handout_prepare", state.prepare_handout), width="stretch",
              help=t("Every step of the current network, as a Markdown or LaTeX document", lang))
    handout = state.current_handout(app)
    if handout is None:
        return  # nothing prepared yet, or prepared for another state
    for fmt_name, ext, mime, label in HANDOUT_FILES:
        st.download_button(t("Download as {fmt}", lang, fmt=label), data=handout.documents[fmt_name],
                           file_name=f"bpviz-worked-solution.{ext}", mime=mime, key=f"{PREFIX}handout_{ext}",
                           width="stretch")


def _torch_download(app: AppState) -> None:
    """The current network as a runnable PyTorch script (made when the button is clicked: nothing on a rerun)."""
    s, lang = app.scenario, app.lang
    st.download_button(t("PyTorch script", lang), data=partial(export.torch_script, s, lang),
                       file_name=export.file_name(s), mime="text/x-python", key=TORCH_DOWNLOAD, width="stretch",
                       on_click="ignore", help=t("The same network, numbers, loss and one SGD step in PyTorch: run it "
                                                 "with python to check every number here", lang))


def _data_sliders(app: AppState, nm: Names) -> None:
    """Sliders for the inputs and targets of one sample (one chosen value at a time for wide networks)."""
    s, lang = app.scenario, app.lang
    sample = app.sample
    if s.batched:
        app.options[SAMPLE_OPTION] = sample + 1
        sample = int(st.number_input(t("Sample (every page shows this one)", lang), 1, s.n_samples,
                                     **state.bind_option(app, SAMPLE_OPTION, 1))) - 1
    target_lo = 0.0 if targets_bounded(s.loss, s.activations[-1]) else PARAM_RANGE[0]
    values = [("inputs", k, nm.node(0, k), PARAM_RANGE[0]) for k in range(s.layers[0])]
    values += [("targets", k, f"t{k + 1}", target_lo) for k in range(s.layers[-1])]
    if len(values) > MAX_DATA_SLIDERS:
        labels = [label for _, _, label, _ in values]
        if app.options.get(VALUE_OPTION) not in labels:
            app.options[VALUE_OPTION] = labels[0]
        chosen = st.selectbox(t("Value", lang), labels, **state.bind_option(app, VALUE_OPTION, labels[0]))
        values = [values[labels.index(chosen)]]
    for field_name, k, label, lo in values:
        help_text = None if field_name == "inputs" else t("Target (true value) of output {name}", lang,
                                                          name=nm.node(s.n_layers, k))
        _live(label, data_key(field_name, sample, k), getattr(s, field_name)[sample, k], (lo, 1.0),
              state.set_sample_value, (field_name, sample, k), app.decimals, help_text=help_text)


def _parameter_sliders(app: AppState, nm: Names) -> None:
    """Sliders for every weight and bias; for big networks, those of one chosen neuron (its inputs and bias)."""
    s, lang = app.scenario, app.lang
    neurons = [Neuron(l + 1, j) for l in range(s.n_layers) for j in range(s.layers[l + 1])]
    n_params = sum(w.size + b.size for w, b in zip(s.weights, s.biases))
    if n_params > MAX_SLIDERS:
        if app.options.get(NEURON_OPTION) not in [n.format() for n in neurons]:
            app.options[NEURON_OPTION] = neurons[-1].format()
        chosen = Neuron.parse(app.options[NEURON_OPTION])
        state.seed_widget(NEURON_OPTION, chosen)
        st.selectbox(t("Neuron", lang), neurons, **state.on_widget(NEURON_OPTION, _choose_neuron),
                     format_func=lambda n: t("{name}: its incoming weights and bias", lang, name=nm.neuron(n)))
        neurons = [chosen]
    for n in neurons:
        l, j = n.layer - 1, n.index
        for k in range(s.layers[l]):
            ref = Weight(l, j, k)
            _live(f"{nm.param(ref)} ({nm.neuron(ref.source)} → {nm.neuron(ref.target)})", param_key(ref),
                  s.weights[l][j, k], PARAM_RANGE, state.set_parameter, (ref,), app.decimals)
        ref = Bias(l, j)
        _live(f"{nm.param(ref)} ({nm.neuron(ref.target)})", param_key(ref), s.biases[l][j], PARAM_RANGE,
              state.set_parameter, (ref,), app.decimals)


def _choose_neuron(neuron: Neuron) -> None:
    state.set_option(neuron.format(), NEURON_OPTION)


MAX_FOCUS_SLIDERS = 3


def focus_sliders(app: AppState, step) -> None:
    """The sliders of what the current step is about, beside its formula (the same values as the sidebar's): its
    parameter on a backward or update step, the output's target on a loss step, the inputs on a forward step."""
    s, nm, d, sample = app.scenario, names_for(app.scenario.layers), app.decimals, app.sample
    subject = step.id.subject
    if isinstance(subject, (Weight, Bias)):
        _live(nm.param(subject), f"focus_{param_key(subject)}", subject.read(s.weights, s.biases), PARAM_RANGE,
              state.set_parameter, (subject,), d)
        return
    if isinstance(subject, (LossShare, TotalLoss)):
        field_name, ks = "targets", [subject.output] if isinstance(subject, LossShare) else range(s.layers[-1])
        lo = 0.0 if targets_bounded(s.loss, s.activations[-1]) else PARAM_RANGE[0]
        labels = [f"t{k + 1}" for k in range(s.layers[-1])]
    else:
        field_name, ks, lo = "inputs", range(s.layers[0]), PARAM_RANGE[0]
        labels = [nm.node(0, k) for k in range(s.layers[0])]
    for k in list(ks)[:MAX_FOCUS_SLIDERS]:
        _live(labels[k], f"focus_{data_key(field_name, sample, k)}", getattr(s, field_name)[sample, k], (lo, 1.0),
              state.set_sample_value, (field_name, sample, k), d)
