"""The floor and the parts for ``bench_cold.py``: Streamlit with one Plotly chart, plus what ``?parts=`` names.

Without parts this is the floor of a cold load: Streamlit's frontend and Plotly's bundle, a chart of three points.
Each part adds one kind of element that bpviz's pages show, as they show it, so a cold load of ``?parts=sidebar``
against the floor is what that kind costs the browser (the first element of a kind loads its code on demand):

* ``style``: bpviz's style block (``st.html``);
* ``sidebar``: a toggle, a selectbox, two Streamlit sliders and 16 live sliders in the sidebar;
* ``metrics``: three ``st.metric`` with help;
* ``stepper``: the step selectbox and a button;
* ``formula``: a display formula (KaTeX);
* ``network``: the seed's network chart, as a live figure, in place of the three points.
"""

import plotly.graph_objects as go
import streamlit as st

from bpviz import engine
from bpviz.config import preset
from bpviz.figures.network import network_spec
from bpviz.ui import live_figure, live_slider
from bpviz.ui.boundary import STYLE
from bpviz.ui.widgets import PLOT_CONFIG

SLIDERS = 16
METRICS = 3
FORMULA = (r"$$\frac{\partial E}{\partial w_5} = \frac{\partial E}{\partial out_{o1}} \cdot "
           r"\frac{\partial out_{o1}}{\partial net_{o1}} \cdot \frac{\partial net_{o1}}{\partial w_5}$$")

parts = set(st.query_params.get("parts", "").split(","))
st.set_page_config(page_title="cold parts", layout="wide")
if "style" in parts:
    st.html(STYLE)
if "sidebar" in parts:
    with st.sidebar:
        st.toggle("Presentation mode", key="present")
        st.selectbox("Example", ["seed", "xor_2_2_1"], key="preset")
        st.slider("Decimals shown", 1, 8, 4, key="decimals")
        for i in range(SLIDERS):
            live_slider.live_slider(f"w{i + 1}", f"w{i}", 0.4, live_slider.Grid(-1.0, 1.0, 0.01), lambda v: None,
                                    decimals=4)
        st.slider("Learning rate η", 0.01, 2.0, 0.5, 0.01, key="lr", format="%.4f")
if "metrics" in parts:
    for column in st.columns(METRICS):
        column.metric("E total", "0.2984", help="the loss")
if "stepper" in parts:
    st.selectbox("Step", ["1/12 · Backward: gradient of w5"], key="step")
    st.button("Next ▸", key="next")
if "formula" in parts:
    st.markdown(FORMULA)
if "network" in parts:
    seed = preset("seed")
    trace = engine.forward(seed)
    spec = network_spec(seed, trace, engine.backward(seed, trace), None, mode="gradients")
    live_figure.live_figure(spec, key="network", config=PLOT_CONFIG)
else:
    st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2])), key="floor")
if "sidebar" in parts:
    live_slider.run_done()
