"""The floor for the load test: a Streamlit app with bpviz's sidebar widget keys and one text element, nothing else.

``benchmarks/load.py --scenario ratio`` runs the same slider moves against this app and against app.py; the ratio of
their reply times is what bpviz itself adds to Streamlit's own cost of a rerun (protocol, widget handling, deltas).
The widgets have the keys, kinds and ranges of the real sidebar for the seed network (``bpviz/ui/sidebar.py``):
Streamlit widgets without callbacks, and the live sliders (bpviz/ui/live_slider.py), whose reported value the script
reads (also in a reconnected tab's first run, where Streamlit runs no callbacks); the text shows w5, which the load
test checks.
"""

import streamlit as st

from bpviz.ui import live_slider

SEED = {  # the seed network's values, as the real sidebar shows them
    "sb_x_0_0": 0.05, "sb_x_0_1": 0.10, "sb_t_0_0": 0.01, "sb_t_0_1": 0.99,
    "sb_w_0_0_0": 0.15, "sb_w_0_0_1": 0.20, "sb_b_0_0": 0.35, "sb_w_0_1_0": 0.25, "sb_w_0_1_1": 0.30, "sb_b_0_1": 0.35,
    "sb_w_1_0_0": 0.40, "sb_w_1_0_1": 0.45, "sb_b_1_0": 0.60, "sb_w_1_1_0": 0.50, "sb_w_1_1_1": 0.55, "sb_b_1_1": 0.60,
}



def ignore(value: float) -> None:
    """The slider's callback: nothing to do, the script reads the reported value."""


values: dict[str, float] = {}
st.set_page_config(page_title="bare", layout="wide")
with st.sidebar:
    st.toggle("Presentation mode", key="sb_present")
    st.selectbox("Example", ["seed", "xor_2_2_1"], key="sb_preset")
    c1, c2 = st.columns(2)
    c1.button("Reset to seed", key="sb_reset")
    c2.button("Undo", key="sb_undo_sb")
    st.slider("Decimals shown", 1, 8, 4, key="sb_decimals")
    for key, value in SEED.items():
        grid = live_slider.Grid(0.0 if key.startswith("sb_t_") else -1.0, 1.0, 0.01)
        live_slider.live_slider(key, key, st.session_state.get(f"shown_{key}", value), grid, ignore, decimals=4)
        reported = live_slider.reported(key, grid)  # after drawing: a new session knows the widget only then
        values[key] = st.session_state[f"shown_{key}"] = value if reported is None else reported
    st.slider("Learning rate", min_value=0.01, max_value=2.0, value=0.5, step=0.01, key="sb_lr", format="%.4f")
    # the three drawers, drawn closed as the real sidebar draws them (their content only while open)
    with st.expander("Share this view", key="sb_share_box", on_change="rerun") as box:
        if box.open:
            st.code("link")
    with st.expander("Scenario file", key="sb_file_box", on_change="rerun") as box:
        if box.open:
            st.download_button("Download scenario", data="{}", file_name="s.json", key="sb_download")
            st.file_uploader("Load a scenario", type=["json"], key="sb_upload")
    with st.expander("Worked solution", key="sb_handout_box", on_change="rerun") as box:
        if box.open:
            st.button("Prepare the worked solution", key="sb_handout_prepare")
st.button("QR code", key="share_qr")
st.text(f"w5 = {values['sb_w_1_0_0']:.4f}")
live_slider.run_done()
