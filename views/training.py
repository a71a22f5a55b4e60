"""Training: many gradient-descent steps, the loss curve, parameters over time and the decision boundary."""

import numpy as np
import streamlit as st

from bpviz import training
from bpviz.config import ORDER_LABELS, ScenarioError
from bpviz.datasets import DATASET_LABELS, DATASET_NAMES, with_dataset
from bpviz.figures.training import (
    decision_boundary_figure,
    loss_curve_figure,
    outputs_figure,
    parameter_traces_figure,
)
from bpviz.i18n import t, tn
from bpviz.ui import boundary, notice, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.landscape_panel import landscape_panel
from bpviz.ui.state import CURRENT_SAMPLES, AppState

DATA_OPTION = "train_data"
MAX_RECORDS = 1000  # a run keeps about this many snapshots (record_every = steps // MAX_RECORDS)


def _shown_dataset(app: AppState) -> str:
    """The data set the scenario holds now: a remembered choice only while its samples are still the scenario's
    (after a preset, an upload or the builder the selector would otherwise name data that is gone)."""
    name = app.options.get(DATA_OPTION, CURRENT_SAMPLES)
    if name in DATASET_NAMES:
        try:
            if np.array_equal(with_dataset(app.scenario, name).inputs, app.scenario.inputs):
                return name
        except ScenarioError:
            pass
    return CURRENT_SAMPLES


def _data_label(name: str, lang: str) -> str:
    """A data choice as the selector shows it: a data set by its label, the scenario's own samples in words."""
    if name == CURRENT_SAMPLES:
        return t(CURRENT_SAMPLES, lang)  # marked with N_ in bpviz.ui.state
    return t(DATASET_LABELS[name], lang)  # marked with N_ in bpviz.datasets


def body(app: AppState, comp: Computed) -> None:
    s = app.scenario
    lang = app.lang
    widgets.page_header(__file__, t(
        "Repeat forward pass, backward pass and update many times (full batch: every step uses all samples) and "
        "watch the loss fall, the weights move and, for two inputs, the decision boundary take shape.", lang=lang),
        app, comp)
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    if s.layers[0] == 2 and s.layers[-1] in (1, 2):
        state.seed_widget(DATA_OPTION, _shown_dataset(app))
        c1.selectbox(t("Data", lang), [CURRENT_SAMPLES, *DATASET_NAMES],
                     format_func=lambda name: _data_label(name, lang),
                     help=t("Replace the scenario's samples by a classic data set (fixed random seed)", lang),
                     **state.on_widget(DATA_OPTION, state.use_dataset, DATA_OPTION))
    else:
        c1.caption(tn("Data sets need a network with 2 inputs and 1 or 2 outputs; training uses the current "
                      "{n} sample.", "Data sets need a network with 2 inputs and 1 or 2 outputs; training uses the "
                      "current {n} samples.", s.n_samples, lang))
    steps = int(c2.number_input(t("Steps", lang=lang), 1, 10_000, step=100,
                                **state.bind_option(app, "train_steps", 1000)))
    stop = float(c3.number_input(t("Stop when E ≤ (0 = never)", lang=lang), 0.0, 1e6, format="%.6f",
                                 **state.bind_option(app, "train_stop", 0.0)))
    run = c4.button(t("Train", lang=lang), key="train_run", type="primary", width="stretch")
    notice.message_here(app, "training")  # e.g. a data set this network cannot take
    st.caption(tn("{n} sample, η = {lr}, biases {biases}, update order {order}. Training starts from the current "
                  "weights; it does not change them until you keep the result.",
                  "{n} samples, η = {lr}, biases {biases}, update order {order}. Training starts from the current "
                  "weights; it does not change them until you keep the result.", s.n_samples, lang,
                  lr=widgets.fmt(s.learning_rate, app.decimals, lang),
                  biases=t("trained", lang=lang) if s.train_biases else t("fixed", lang=lang),
                  order=t(ORDER_LABELS[s.update_order], lang)))  # marked with N_ in bpviz.config
    if run:
        bar = st.progress(0.0, text=t("Training ...", lang=lang))
        result = training.train(s, steps, stop_loss=stop if stop > 0 else None,
                                record_every=max(1, steps // MAX_RECORDS),
                                progress=lambda done, total: bar.progress(done / total, text=t(
                                    "Training: step {done} of {total}", lang=lang, done=done, total=total)))
        bar.empty()
        state.store_training(result)
    result = state.current_training(app)
    if result is None:
        st.info(t("Press Train to run gradient descent from the current weights.", lang=lang))
        if _has_plane(s):
            st.plotly_chart(decision_boundary_figure(s, lang=lang), key="train_boundary_now",
                            config={"displayModeBar": False})
        landscape_panel(app, None)
        return
    _summary(app, result)
    log = st.toggle(t("Log scale", lang=lang), **state.bind_option(app, "train_log", True))
    # the two line charts side by side; the decision boundary and the parameter traces need the full width (at
    # half width on a 1280 px screen the boundary's legend ran over its title, and 12+ parameter names crowd)
    left, right = st.columns(2)
    left.plotly_chart(loss_curve_figure(result, log_scale=log, lang=lang), key="train_loss",
                      config={"displayModeBar": False})
    right.plotly_chart(outputs_figure(result, lang=lang), key="train_outputs", config={"displayModeBar": False})
    if _has_plane(result.final):
        st.plotly_chart(decision_boundary_figure(result.final, lang=lang), key="train_boundary",
                        config={"displayModeBar": False})
    st.plotly_chart(parameter_traces_figure(result, lang=lang), key="train_params", config={"displayModeBar": False})
    landscape_panel(app, result)


def _has_plane(s) -> bool:
    """Whether a decision-boundary plane means something: 2 inputs and a data set (one sample says nothing)."""
    return s.layers[0] == 2 and s.n_samples > 1


def _summary(app: AppState, result: training.TrainResult) -> None:
    lang, d = app.lang, app.decimals
    if result.diverged:  # the explanation names the step and the cause; without one, say at least where
        st.warning(result.explain(lang) or t("Training stopped at step {k}: it diverged.", lang=lang,
                                           k=result.stopped_at))
    elif result.final_loss > float(result.losses[0]):
        # bounded losses (sigmoid/softmax outputs) cannot explode, but a too large step still makes E worse
        above = int(np.argmax(result.losses > result.losses[0]))
        st.warning(t("Training made the loss worse: E rose above its starting value {start} at step {k} and ends "
                     "at {end} (highest {top}). Each step overshoots the minimum: the learning rate η = {lr} is "
                     "probably too large; try a smaller one.", lang=lang,
                     start=widgets.fmt(float(result.losses[0]), d, lang), k=above,
                     end=widgets.fmt(result.final_loss, d, lang), top=widgets.fmt(float(result.losses.max()), d, lang),
                     lr=format(result.final.learning_rate, "g")))
    a, b, c, keep = st.columns([1, 1, 1, 2], vertical_alignment="center")
    reason = t(result.reason, lang=lang)  # marked with N_ in bpviz.training
    a.metric(t("Steps run", lang=lang), f"{result.stopped_at:,}", help=reason)
    b.metric(t("E at start", lang=lang), widgets.fmt(float(result.losses[0]), d, lang),
             help=repr(float(result.losses[0])))
    c.metric(t("E at the end", lang=lang), widgets.fmt(result.final_loss, d, lang), help=repr(result.final_loss),
             delta=widgets.fmt(result.final_loss - float(result.losses[0]), d, lang), delta_color="inverse")
    keep.button(t("Continue from the trained weights", lang=lang), **state.on_click("train_keep", state.keep_trained),
                help=t("Make the trained network the current scenario (Undo goes back)", lang=lang), width="stretch")
    st.caption(t("{reason} in {seconds:.2f} s.", lang=lang, reason=reason.capitalize(), seconds=result.seconds))


boundary.run_page(body)
