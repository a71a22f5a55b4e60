"""The Streamlit layer (the only part of bpviz that imports Streamlit), in rooms that explain themselves:

- ``state``: the one serialisable AppState and every named change to it;
- ``computed``: the trace, gradients and walkthrough computed from it once per run;
- ``navigation``: the one page list and the step navigators;
- ``autoplay``: Play / Pause over the walkthrough, on Streamlit's own clock;
- ``sidebar``: the controls every page shares;
- ``widgets``: panels the pages share (formula, factor table, network chart, metrics, tables);
- ``boundary``: the entry script's set-up and the error boundary every page runs in.
"""
