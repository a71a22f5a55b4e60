"""Training: many gradient-descent steps, the loss curve, parameters over time and the decision boundary."""

import numpy as np
import streamlit as st

from bpviz import training, ui
from bpviz.config import ScenarioError
from bpviz.datasets import DATASET_NAMES, with_dataset
from bpviz.figures.training import (
    decision_boundary_figure,
    loss_curve_figure,
    outputs_figure,
    parameter_traces_figure,
)
from bpviz.i18n import t

RESULT_KEY = "train_result"  # session only: a run's history is large and is not part of a share link
RESULT_FROM = "train_result_from"  # the scenario (JSON) the run started from: a result of another one is dropped
CURRENT = "current samples"


def _use_dataset() -> None:
    app = ui.app_state()
    name = st.session_state["train_data"]
    app.options["train_data"] = name
    if name == CURRENT:
        return
    try:
        ui.set_scenario(app, with_dataset(app.scenario, name))
    except ScenarioError as exc:
        app.message = t("Cannot use the {name} data set here: {error}. Load the XOR example in the Network builder "
                        "for a network with 2 inputs.", lang=app.lang, name=name, error=str(exc))
        app.options["train_data"] = CURRENT
    st.session_state.pop(RESULT_KEY, None)


def _keep_trained() -> None:
    app = ui.app_state()
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        ui.set_scenario(app, result.final)
        st.session_state.pop(RESULT_KEY, None)


def _shown_dataset(app: ui.AppState) -> str:
    """The data set the scenario holds now: a remembered choice only while its samples are still the scenario's
    (after a preset, an upload or the builder the selector would otherwise name data that is gone)."""
    name = app.options.get("train_data", CURRENT)
    if name in DATASET_NAMES:
        try:
            if np.array_equal(with_dataset(app.scenario, name).inputs, app.scenario.inputs):
                return name
        except ScenarioError:
            pass
    app.options["train_data"] = CURRENT
    return CURRENT


def _current_result(s) -> training.TrainResult | None:
    """The last run, if it started from the current scenario (a run from other weights or data is dropped, so
    'Continue from the trained weights' can never bring back a network trained on something else)."""
    if st.session_state.get(RESULT_FROM) != s.to_json():
        st.session_state.pop(RESULT_KEY, None)
    return st.session_state.get(RESULT_KEY)


def body(app: ui.AppState, comp: ui.Computed) -> None:
    s = app.scenario
    lang = app.lang
    ui.page_header(t("Training", lang=lang), t(
        "Repeat forward pass, backward pass and update many times (full batch: every step uses all samples) and "
        "watch the loss fall, the weights move and, for two inputs, the decision boundary take shape.", lang=lang),
        app, comp)
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    if s.layers[0] == 2 and s.layers[-1] in (1, 2):
        ui.seed_widget("train_data", _shown_dataset(app))
        c1.selectbox(t("Data", lang=lang), [CURRENT, *DATASET_NAMES], key="train_data", on_change=_use_dataset,
                     help=t("Replace the scenario's samples by a classic data set (fixed random seed)", lang=lang))
    else:
        c1.caption(t("Data sets need a network with 2 inputs and 1 or 2 outputs; training uses the current "
                     "{n} sample(s).", lang=lang, n=s.n_samples))
    steps = int(c2.number_input(t("Steps", lang=lang), 1, 10_000, step=100, **ui.bind_option(app, "train_steps", 1000)))
    stop = float(c3.number_input(t("Stop when E ≤ (0 = never)", lang=lang), 0.0, 1e6, format="%.6f",
                                 **ui.bind_option(app, "train_stop", 0.0)))
    run = c4.button(t("Train", lang=lang), key="train_run", type="primary", width="stretch")
    st.caption(t("{n} sample(s), η = {lr}, biases {biases}, update order {order}. Training starts from the current "
                 "weights; it does not change them until you keep the result.", lang=lang, n=s.n_samples,
                 lr=ui.fmt(s.learning_rate, app.decimals), biases=t("trained" if s.train_biases else "fixed",
                                                                       lang=lang), order=s.update_order))
    if run:
        bar = st.progress(0.0, text=t("Training ...", lang=lang))
        result = training.train(s, steps, stop_loss=stop if stop > 0 else None, record_every=max(1, steps // 1000),
                                progress=lambda done, total: bar.progress(done / total, text=t(
                                    "Training: step {done} of {total}", lang=lang, done=done, total=total)),
                                lang=lang)
        bar.empty()
        st.session_state[RESULT_KEY] = result
        st.session_state[RESULT_FROM] = s.to_json()
    result = _current_result(s)
    if result is None:
        st.info(t("Press Train to run gradient descent from the current weights.", lang=lang))
        if _has_plane(s):
            st.plotly_chart(decision_boundary_figure(s, lang=lang), key="train_boundary_now",
                            config={"displayModeBar": False})
        return
    _summary(app, result)
    log = st.toggle(t("Log scale", lang=lang), **ui.bind_option(app, "train_log", True))
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


def _has_plane(s) -> bool:
    """Whether a decision-boundary plane means something: 2 inputs and a data set (one sample says nothing)."""
    return s.layers[0] == 2 and s.n_samples > 1


def _summary(app: ui.AppState, result: training.TrainResult) -> None:
    lang, d = app.lang, app.decimals
    if result.diverged:  # the explanation names the step and the cause; without one, say at least where
        st.warning(result.explanation or t("Training stopped at step {k}: it diverged.", lang=lang,
                                           k=result.stopped_at))
    elif result.final_loss > float(result.losses[0]):
        # bounded losses (sigmoid/softmax outputs) cannot explode, but a too large step still makes E worse
        above = int(np.argmax(result.losses > result.losses[0]))
        st.warning(t("Training made the loss worse: E rose above its starting value {start} at step {k} and ends "
                     "at {end} (highest {top}). Each step overshoots the minimum: the learning rate η = {lr} is "
                     "probably too large; try a smaller one.", lang=lang, start=ui.fmt(float(result.losses[0]), d),
                     k=above, end=ui.fmt(result.final_loss, d), top=ui.fmt(float(result.losses.max()), d),
                     lr=f"{result.final.learning_rate:g}"))
    a, b, c, keep = st.columns([1, 1, 1, 2], vertical_alignment="center")
    a.metric(t("Steps run", lang=lang), f"{result.stopped_at:,}", help=t(result.reason, lang=lang))
    b.metric(t("E at start", lang=lang), ui.fmt(float(result.losses[0]), d), help=repr(float(result.losses[0])))
    c.metric(t("E at the end", lang=lang), ui.fmt(result.final_loss, d), help=repr(result.final_loss),
             delta=ui.fmt(result.final_loss - float(result.losses[0]), d), delta_color="inverse")
    keep.button(t("Continue from the trained weights", lang=lang), key="train_keep", on_click=_keep_trained,
                help=t("Make the trained network the current scenario (Undo goes back)", lang=lang), width="stretch")
    st.caption(t("{reason} in {seconds:.2f} s.", lang=lang, reason=t(result.reason, lang=lang).capitalize(),
                 seconds=result.seconds))


ui.run_page(t("Training"), body)
