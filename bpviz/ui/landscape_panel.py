"""The Training page's loss landscape: two parameter choosers, where the others are held, and the contour chart."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import engine, landscape, numbers
from ..config import Scenario
from ..figures.landscape import landscape_spec
from ..figures.large import large_type
from ..i18n import N_, t
from ..ids import ParamRef, parse_param
from ..naming import names_for
from ..training import TrainResult
from . import live_figure, state
from .state import AppState
from .widgets import PLOT_CONFIG

X_OPTION, Y_OPTION, AT_OPTION = "train_land_x", "train_land_y", "train_land_at"
HELD_AT = {"start": N_("the current weights (where training starts)"), "end": N_("the end of the training run")}
CHOOSER_COLUMNS = (1, 1, 2)  # x axis | y axis | room (a parameter's name is short)


def _chosen(app: AppState, refs: list[ParamRef], defaults: tuple[ParamRef, ParamRef]) -> tuple[ParamRef, ParamRef]:
    """The two parameters the options name, where both exist in this network and differ; else the defaults."""
    try:
        x, y = (parse_param(app.options[k]) for k in (X_OPTION, Y_OPTION))
    except (KeyError, ValueError):
        return defaults
    return (x, y) if x in refs and y in refs and x != y else defaults


def _choose(app: AppState, refs: list[ParamRef], pair: tuple[ParamRef, ParamRef]) -> None:
    """Two selectors, one per axis (each offers every parameter but the other axis's)."""
    names = names_for(app.scenario.layers)
    texts = {r.format(): names.param(r) for r in refs}
    left, right, _ = st.columns(CHOOSER_COLUMNS)
    for column, key, label, own, other in ((left, X_OPTION, t("x axis", app.lang), pair[0], pair[1]),
                                           (right, Y_OPTION, t("y axis", app.lang), pair[1], pair[0])):
        state.seed_widget(key, own.format())
        column.selectbox(label, [r.format() for r in refs if r != other], format_func=texts.__getitem__,
                         **state.on_widget(key, state.set_option, key))


def landscape_panel(app: AppState, result: TrainResult | None) -> None:
    """E over two chosen parameters around the current weights or the end of a training run, with the path the run
    took through them."""
    s, lang = app.scenario, app.lang
    st.markdown("#### " + t("Loss landscape", lang))
    refs = engine.parameter_refs(s)
    ran = result is not None and result.refs == tuple(refs)
    moved = np.abs(result.params[-1] - result.params[0]) if ran else None
    pair = _chosen(app, refs, landscape.default_pair(s, moved))
    _choose(app, refs, pair)
    at = "start"
    if ran:
        at = st.radio(t("Other parameters fixed at", lang), list(HELD_AT), horizontal=True,
                      format_func=lambda k: t(HELD_AT[k], lang),  # marked with N_ above
                      **state.bind_option(app, AT_OPTION, "end"))
    held: Scenario = result.final if ran and at == "end" else s
    path = result.params[:, [refs.index(r) for r in pair]] if ran else None
    land = landscape.landscape(held, pair, path)
    spec = landscape_spec(land, names_for(s.layers), numbers.Style(app.decimals, lang),
                          t(HELD_AT[at], lang))  # marked with N_ above
    live_figure.live_figure(large_type(spec) if app.present else spec, key="train_landscape", config=PLOT_CONFIG)
    st.caption(t("Each contour line joins points of equal loss. The arrow points along −∇E, downhill, the direction "
                 "one gradient-descent step takes in these two parameters; it crosses the contours at right angles "
                 "when both axes have the same scale.", lang))
