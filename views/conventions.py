"""Conventions and checks: why published numbers differ, and finite differences against every gradient."""

import streamlit as st

from bpviz import engine, gradcheck, numbers
from bpviz.config import ORDER_LABELS
from bpviz.conventions import reference_checks
from bpviz.functions import LOSSES
from bpviz.i18n import t
from bpviz.naming import names_for
from bpviz.ui import boundary, state, widgets
from bpviz.ui.computed import Computed
from bpviz.ui.state import AppState
from bpviz.walkthrough import update_problem

ORDERS = engine.UPDATE_ORDERS
REFERENCE_DECIMALS = 9  # the published figures' precision (Mazur prints 0.291027924)


def _set_train_biases(value: bool) -> None:
    state.set_conventions(train_biases=bool(value))


def _set_update_order(value: str) -> None:
    state.set_conventions(update_order=value)


def _convention(train_biases: bool, update_order: str, lang: str) -> str:
    """A convention in words: "biases trained, output layer first (Mazur)"."""
    order = t(ORDER_LABELS[update_order], lang=lang)  # marked with N_ in bpviz.config
    return t("biases trained, {o}", lang=lang, o=order) if train_biases else t("biases fixed, {o}", lang=lang, o=order)


def body(app: AppState, comp: Computed) -> None:
    s = app.scenario
    lang = app.lang
    widgets.page_header(__file__, t(
        "The same network can give different numbers after one step, depending on two conventions: whether the "
        "biases are trained, and whether the output layer is updated before the hidden deltas are computed.",
        lang=lang), app, comp)
    c1, c2 = st.columns(2)
    state.seed_widget("conv_train_biases", s.train_biases)
    c1.toggle(t("Train the biases", lang=lang), **state.on_widget("conv_train_biases", _set_train_biases),
              help=t("PyTorch: yes (one bias per neuron, trained); the hand-worked versions (Mazur): no, b1 and b2 "
                     "stay fixed.", lang=lang))
    c1.caption(t("PyTorch trains them; the hand-worked versions keep them fixed.", lang=lang))
    state.seed_widget("conv_update_order", s.update_order)
    c2.radio(t("Update order", lang=lang), ORDERS, horizontal=True,
             format_func=lambda o: t(ORDER_LABELS[o], lang=lang),  # marked with N_ in bpviz.config
             **state.on_widget("conv_update_order", _set_update_order))
    rows, problems = [], []
    for tb in (True, False):
        for order in ORDERS:
            update = engine.step(s, train_biases=tb, update_order=order, trace=comp.trace)
            e1 = engine.loss_value(update.after)
            current = tb == s.train_biases and order == s.update_order
            problem = update_problem(update, names_for(s.layers), REFERENCE_DECIMALS, lang)
            if problem:
                problems.append(t("{convention}: {problem}", lang=lang, convention=_convention(tb, order, lang),
                                  problem=problem))
            order_label = t(ORDER_LABELS[order], lang=lang)  # marked with N_ in bpviz.config
            rows.append({t("biases", lang=lang): t("trained", lang=lang) if tb else t("fixed", lang=lang),
                         t("update order", lang=lang): order_label,
                         t("E after one step", lang=lang): numbers.text(e1, REFERENCE_DECIMALS, minus="−", lang=lang),
                         t("current", lang=lang): "◀" if current else ""})
    st.markdown(t("**This scenario** (E now = {e}): one step under each convention", lang=lang,
                  e=numbers.text(comp.trace.loss, REFERENCE_DECIMALS, minus="−", lang=lang)))
    st.dataframe(rows, hide_index=True, width="stretch")
    for problem in problems:  # generated text (parameter names, numbers): no user input in it
        st.warning(problem)

    st.markdown(t("**Reference card** (the worked example's network): published figures beside this app's",
                  lang=lang))
    ref_rows = []
    for c in reference_checks():
        ref_rows.append({
            t("agree", lang=lang): "✓" if c.agrees else "✗",
            t("published figure", lang=lang): t("{what} ({source})", lang=lang,
                                                 what=t(c.what, lang=lang),  # marked with N_ in bpviz.conventions
                                                 source=t(c.source, lang=lang)),  # marked with N_ in bpviz.conventions
            t("convention", lang=lang): _convention(c.train_biases, c.update_order, lang),
            t("published", lang=lang): " / ".join(f"{v:.{c.published_digits}f}" for v in c.published),
            t("this app", lang=lang): " / ".join(f"{v:.{c.published_digits}f}" for v in c.app),
        })
    # a static table wraps its text, so the agreement is visible without scrolling sideways
    st.table(ref_rows, hide_index=True)

    _losses_in_pytorch(app, comp)
    _gradient_check(app, comp)


def _losses_in_pytorch(app: AppState, comp: Computed) -> None:
    """Which PyTorch loss each bpviz loss is; for a loss computed from the logits, the clamped BCELoss beside it."""
    s, lang = app.scenario, app.lang
    st.markdown(t("**The losses in PyTorch's terms**", lang))
    torch = {name: loss.fused.pytorch if loss.fused else loss.pytorch for name, loss in LOSSES.items()}
    st.table([{t("loss", lang): name, t("PyTorch", lang): t(torch[name], lang)}  # marked with N_ in bpviz.functions
              for name in LOSSES], hide_index=True)
    record = LOSSES[s.loss]
    if record.fused_with(s.activations[-1]):
        outputs_form = float(record.share(comp.trace.outputs, s.targets).sum(axis=1).mean())
        st.caption(t("bpviz computes {loss} from the output layer's net (the logits), so the loss and its gradient are "
                     "one function and its derivative everywhere. {torch} on the outputs is the same function until "
                     "an output rounds to exactly 0 or 1; there it clamps log at −100 and its slope becomes 0. Here: "
                     "E = {e} from the logits, {e_out} from the outputs.", lang, loss=s.loss,
                     torch=record.pytorch.split(" ")[0], e=format(comp.trace.loss, ".9g"),
                     e_out=format(outputs_form, ".9g")))


def _gradient_check(app: AppState, comp: Computed) -> None:
    s, lang = app.scenario, app.lang
    st.markdown(t("**Gradient check**: backpropagation against finite differences for every parameter of this "
                  "scenario", lang))
    check = gradcheck.gradient_check(s, grads=comp.grads)
    nm = names_for(s.layers)
    st.caption(t("Five-point central differences with h = {h}; they agree when |backprop − estimate| ≤ max(10⁻⁶ × the "
                 "larger of the two, the estimate's own rounding error 1.5 · {ulps} ε · S / h, S the size of the "
                 "numbers summed to get E); largest relative error {err:.1e}", lang, h=format(check.h, "g"),
                 ulps=gradcheck.ROUNDING_ULPS, err=check.max_relative_error))
    st.dataframe([{t("parameter", lang): nm.param(r), t("backprop", lang): f"{a:.10f}",
                   t("finite differences", lang): f"{n:.10f}", t("relative error", lang): f"{e:.1e}",
                   t("verdict", lang): gradcheck.verdict(check, i, lang)}
                  for i, (r, a, n, e) in enumerate(zip(check.refs, check.analytic, check.numeric,
                                                       check.relative_error))],
                 hide_index=True, width="stretch", height=widgets.table_height(len(check.refs)))


boundary.run_page(body)
