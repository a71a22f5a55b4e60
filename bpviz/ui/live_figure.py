"""A Plotly figure that is updated in place when the app draws a new one (the live sliders' partner).

Why not ``st.plotly_chart``: in Streamlit 1.67 a chart's element id is computed from its figure, even with a key, so
every new figure mounts a new chart; the old one is removed first, and the chart is missing for a frame or more on
every slider move (measured: 60-100 ms, several times a second during a drag). Streamlit's fix, a key-based identity
with in-place updates (streamlit/streamlit pull request 16052), is not released.

The browser half (``live_figure.js``) is fixed code. It draws with Streamlit's own copy of Plotly.js (the chart code
Streamlit serves, loaded once per page) by ``Plotly.react``, which updates the drawn figure instead of drawing anew.
The figure goes to the browser as Plotly's JSON, as ``st.plotly_chart`` sends it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import plotly.io as pio
import streamlit as st

HERE = Path(__file__).resolve().parent
JS = (HERE / "live_figure.js").read_text(encoding="utf-8")
CSS = ".bpviz-figure { width: 100%; }"
COMPONENT = "bpviz_live_figure"


@functools.cache
def plotly_chunk() -> str:
    """The file name of Streamlit's chart code (``PlotlyChart.<hash>.js``), which carries Plotly.js."""
    js_dir = Path(st.__file__).resolve().parent / "static" / "static" / "js"
    found = sorted(p.name for p in js_dir.glob("PlotlyChart.*.js"))
    if len(found) != 1:
        raise RuntimeError(f"expected one PlotlyChart chunk in {js_dir}, found {found}")
    return found[0]


_figure = st.components.v2.component(COMPONENT, js=JS, css=CSS, isolate_styles=False)


def live_figure(spec: dict[str, Any], key: str, config: dict[str, Any]) -> None:
    """Draw the figure ``spec`` (Plotly's JSON form: data, layout) under ``key``, updating the one drawn last run."""
    _figure(key=key, data={"figure": pio.to_json(spec, validate=False, engine="auto"), "config": config,
                           "chunk": plotly_chunk()})
