"""Matrix view: the same backward pass as vectors and matrices, with the actual numbers."""

import streamlit as st

from bpviz import engine, ui
from bpviz.i18n import t
from bpviz.matrix import highlighted_latex, matrix_entry_for, matrix_steps
from bpviz.naming import names_for


def _link_backward(key: str, labels: list[str], refs: list[engine.ParamRef]) -> None:
    """Choosing a parameter here moves the backward page to that parameter's step (the two views stay linked)."""
    ref = refs[labels.index(st.session_state[key])]
    where = f"{ref.layer}:{ref.row}:{ref.col}" if ref.kind == "w" else f"{ref.layer}:{ref.row}"
    ui.app_state().steps["backward"] = f"backward:{ref.kind}:{where}"


def body(app: ui.AppState, comp: ui.Computed) -> None:
    s = app.scenario
    lang = app.lang
    ui.page_header(t("Matrix view", lang=lang), t(
        "The scalar chain rule of the backward page, written for whole layers at once: one vector δ per "
        "layer, one matrix ∂E/∂W. Libraries compute exactly these products.", lang=lang))
    st.latex(r"\delta^{(L)} = \frac{\partial E}{\partial a^{(L)}} \odot f'(z^{(L)}) \qquad "
             r"\frac{\partial E}{\partial W^{(l)}} = \delta^{(l)} a^{(l-1)\top} \qquad "
             r"\delta^{(l)} = \left(W^{(l+1)\top} \delta^{(l+1)}\right) \odot f'(z^{(l)})")
    nm = names_for(s.layers)
    refs = engine.parameter_refs(s)
    # default: the parameter the backward page is on, so the two views stay linked
    # (none chosen yet: the backward page opens on its first step, w5 for the seed, so start there too)
    bw_step = comp.step_for(app.steps.get("backward"))
    if bw_step is None:
        first = comp.phase_indices(("backward",))
        bw_step = comp.walkthrough[first[0]] if first else None
    current = bw_step.param if bw_step is not None else None
    key = "matrix_param"
    labels = [nm.param(r) for r in refs]
    ui.seed_widget(key, nm.param(current) if current is not None else labels[0])
    chosen = st.selectbox(t("Locate a parameter's gradient", lang=lang), labels, key=key, on_change=_link_backward,
                          args=(key, labels, refs),
                          help=t("The scalar step of the backward page is one entry of a matrix below.", lang=lang))
    ref = refs[labels.index(chosen)]
    entry = matrix_entry_for(ref, s.layers, lang)
    st.info(t("{entry} = {value}", lang=lang, entry=entry.text,
              value=ui.fmt(engine.gradient_of(comp.grads, ref), app.decimals)))
    for ms in matrix_steps(s, comp.trace, comp.grads, decimals=app.decimals, sample=comp.sample, lang=lang):
        st.markdown(f"#### {ms.title}")
        st.latex(ms.latex_general)
        for line in ms.derivation:
            st.latex(line)
        st.latex(ms.latex_numeric)
        if ms.index == entry.step_index:
            st.latex(highlighted_latex(ms, entry.row, entry.col, app.decimals))
        for note in ms.notes:
            st.caption(note)


ui.run_page(t("Matrix view"), body)
