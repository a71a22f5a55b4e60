"""Matrix view: the same backward pass as vectors and matrices, with the actual numbers."""

import streamlit as st

from bpviz import engine
from bpviz.i18n import t
from bpviz.ids import Phase
from bpviz.matrix import highlighted_latex, matrix_entry_for, matrix_steps
from bpviz.naming import names_for
from bpviz.ui import boundary, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState

KEY = "matrix_param"
SUMMARY = (r"\delta^{(L)} = \frac{\partial E}{\partial a^{(L)}} \odot f'(z^{(L)}) \qquad "
           r"\frac{\partial E}{\partial W^{(l)}} = \delta^{(l)} a^{(l-1)\top} \qquad "
           r"\delta^{(l)} = \left(W^{(l+1)\top} \delta^{(l+1)}\right) \odot f'(z^{(l)})")


def body(app: AppState, comp: Computed) -> None:
    s = app.scenario
    lang = app.lang
    widgets.page_header(__file__, t(
        "The scalar chain rule of the backward page, written for whole layers at once: one vector δ per "
        "layer, one matrix ∂E/∂W. Libraries compute exactly these products.", lang), app)
    st.latex(SUMMARY)
    nm = names_for(s.layers)
    refs = engine.parameter_refs(s)
    # default: the parameter the backward page is on, so the two views stay linked
    # (none chosen yet: the backward page opens on its first step, w5 for the seed, so start there too)
    first = comp.phase_ids((Phase.BACKWARD,))[0]
    bw_step = comp.step_for(app.steps.get("backward")) or comp.walkthrough.step(first)
    state.seed_widget(KEY, bw_step.param)
    # choosing a parameter here moves the backward page to that parameter's step
    ref = st.selectbox(t("Locate a parameter's gradient", lang), refs, format_func=nm.param,
                       help=t("The scalar step of the backward page is one entry of a matrix below.", lang),
                       **state.on_widget(KEY, state.show_gradient_of))
    entry = matrix_entry_for(ref, s.layers, lang)
    st.info(t("{entry} = {value}", lang, entry=entry.text,
              value=widgets.fmt(engine.gradient_of(comp.grads, ref), app.decimals, lang)))
    for ms in matrix_steps(s, comp.trace, comp.grads, decimals=app.decimals, sample=comp.sample, lang=lang):
        st.markdown(f"#### {ms.title}")
        st.latex(ms.latex_general)
        for line in ms.derivation:
            st.latex(line)
        st.latex(ms.latex_numeric)
        if ms.index == entry.step_index:
            st.latex(highlighted_latex(ms, entry.row, entry.col, app.decimals, lang=lang))
        for note in ms.notes:
            st.caption(note)


boundary.run_page(body)
