"""Plotly figure builders: pure functions returning ``go.Figure``; no Streamlit here."""
