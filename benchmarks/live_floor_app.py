"""The floor for the drag benchmark: Streamlit with bpviz's live slider for w5 and one metric, nothing else.

``benchmarks/bench_drag.py`` drags w5 here and on the Backward pass page in the same run: what this app reaches is
what Streamlit and the live slider allow on this machine (a rerun, its messages, drawing one metric); the rest is
what bpviz's page adds. The metric is the seed's E total for the slider's w5, from the engine.
"""

import streamlit as st

from bpviz import engine
from bpviz.config import preset
from bpviz.ui import live_slider, widgets
from bpviz.ui.sidebar import GRID, PARAM_RANGE

KEY = "sb_w_1_0_0"  # as in the real sidebar, so the benchmark finds it the same way


def set_w5(value: float) -> None:
    st.session_state["w5"] = value


st.set_page_config(page_title="floor", layout="wide")
w5 = st.session_state.setdefault("w5", 0.40)
with st.sidebar:
    live_slider.live_slider("w5", KEY, w5, live_slider.Grid(*PARAM_RANGE, GRID), set_w5, decimals=4)
seed = preset("seed")
W = [w.copy() for w in seed.weights]
W[1][0, 0] = w5
st.metric("E total", widgets.fmt(engine.loss_value(seed.with_parameters(W, seed.biases)), 4))
live_slider.run_done()
