"""Panels the pages share: the step's formula and its factor table, the network chart, the header with the
outputs and the loss, the finite-difference check, the before/after metrics and the parameter table."""

from __future__ import annotations

import math

import streamlit as st

from .. import engine, gradcheck, landscape, numbers
from ..figures.gradients import gradient_sizes_spec
from ..figures.landscape import slope_spec
from ..figures.large import large_type
from ..figures.network import HIDDEN, network_spec
from ..gradient_sizes import DEEP_PRESETS, deep_preset_of, gradient_sizes, preset_lesson, ratio_sentence
from ..i18n import t
from ..ids import Neuron, Out, ParamRef, Phase, StepId, TotalLoss
from ..naming import names_for
from ..walkthrough import Step, update_problem
from . import live_figure, quiz, state
from .computed import Computed
from .navigation import presenter_controls, spec_of
from .sidebar import focus_sliders
from .state import AppState

FACTOR_COLUMNS = 4  # symbol = general = numbers = value
FACTOR_ROW_GAP = "14pt"
TABLE_ROW_PX, TABLE_MAX_ROWS, TABLE_BORDER_PX = 35, 25, 3
PLOT_CONFIG = {"displayModeBar": False}


def fmt(x: float, decimals: int, lang: str = "en") -> str:
    """A number as every page shows it (:func:`bpviz.numbers.text`; a value float64 cannot hold in words of
    ``lang``)."""
    return numbers.text(x, decimals, lang=lang)


# ---------------------------------------------------------------- the step's formula


def factor_table_latex(term, decimals: int, lang: str = "en") -> str:
    r"""One chain-rule term as aligned rows: symbol = general form (sympy.diff) = with numbers = value, each row
    without the cells that would only repeat (:meth:`bpviz.symbolic.Factor.cells`)."""
    rows = []
    for f in term:
        cells = [rf"\displaystyle {c}" for c in f.cells(decimals, lang)]
        rows.append(" &=& ".join(cells) + " & &" * (FACTOR_COLUMNS - len(cells)))  # pad to the array's columns
    columns = "r" + "cl" * (FACTOR_COLUMNS - 1)
    return rf"\begin{{array}}{{{columns}}}" + rf" \\[{FACTOR_ROW_GAP}] ".join(rows) + r"\end{array}"


FORMULA_KEY = "formula"  # its container: the CSS sizes the formula for the room (boundary.STYLE, PRESENT_STYLE)
FORMULA_SPLIT = (4, 1)  # the formula | the sliders of what it is about


def inline_math(latex: str) -> str:
    """Inline maths in display style: KaTeX can break it after =, + and · where the line is too narrow, so the value
    at the end moves to the next line instead of off the screen."""
    return f"$\\displaystyle {latex}$"


def render_formula(step: Step, compact: bool = False, question: bool = False) -> None:
    """The step's title, its formula and the formula with numbers (ending in the value); with several paths their
    sum on a line of its own first. ``compact`` (presentation mode): no title (the step box names the step) and the
    chain in one line (the factor table below expands it); ``question`` (the quiz): "?" in place of the value."""
    if not compact:
        st.markdown(f"#### {step.title}")
    symbolic = step.latex_short if compact and step.latex_short else step.latex_symbolic
    numeric = step.latex_question if question else step.latex_numeric
    with st.container(key=FORMULA_KEY):
        for latex in (symbolic, step.latex_intermediate, numeric):
            if latex:
                st.markdown(inline_math(latex))


def formula_with_sliders(app: AppState, step: Step) -> None:
    """The formula, and beside it the sliders of the value it is about (no trip down the sidebar in a lecture)."""
    formula, sliders = st.columns(FORMULA_SPLIT, vertical_alignment="center")
    with formula:
        render_formula(step, compact=app.present, question=quiz.hides(app, step))
    with sliders:
        focus_sliders(app, step)


def render_factors(step: Step, app: AppState, shown: tuple[str | None, ...] = ()) -> None:
    """For a backward step, each local derivative of the chain: general form, with numbers, value; then notes (but
    not those the page already shows elsewhere, ``shown``)."""
    if step.factors:
        st.markdown(t("**Each local derivative**: its general form (derived by SymPy), then with numbers:", app.lang))
        for term_no, term in enumerate(step.factors, start=1):
            if len(step.factors) > 1:
                st.caption(t("Path {n} of {total}", app.lang, n=term_no, total=len(step.factors)))
            st.latex(factor_table_latex(term, app.decimals, app.lang))
    for note in step.notes:
        if note not in shown:
            st.info(note)


# ---------------------------------------------------------------- header and charts


PRESENT_GRAPH_HEIGHT = 400  # px: the graph under the formula on a 1280×800 projector, in presentation mode


def network_chart(app: AppState, comp: Computed, step: Step | None, key: str, mode: str = "values") -> None:
    """The network figure of the current scenario and sample, with the step's neurons and edges highlighted (large
    type in presentation mode)."""
    spec = network_spec(app.scenario, comp.trace, comp.grads, step, mode=mode, decimals=app.decimals,
                        sample=comp.sample, lang=app.lang, large=app.present,
                        height=PRESENT_GRAPH_HEIGHT if app.present else None, hidden=quiz.hidden(app, comp, step))
    live_figure.live_figure(spec, key=key, config=PLOT_CONFIG)


def slope_chart(app: AppState, comp: Computed, step: Step, key: str) -> None:
    """The gradient as a slope: E along the step's parameter (the others fixed, all samples), the tangent with slope
    ∂E/∂p, and where the update step lands. With the quiz on, not while the step's gradient is a question, and
    without the landing point while that parameter's update step is one (its new value is that step's answer)."""
    lang = app.lang
    st.markdown("#### " + t("The gradient is a slope", lang))
    if quiz.hides(app, step):
        st.caption(t("The chart appears once you have checked your prediction (or skipped).", lang))
        return
    curve = landscape.slope_curve(app.scenario, step.param, grads=comp.grads, update=comp.update)
    lands = not app.quiz or not quiz.hides(app, comp.walkthrough.step(StepId(Phase.UPDATE, step.param)))
    spec = slope_spec(curve, names_for(app.scenario.layers), numbers.Style(app.decimals, lang),
                      app.scenario.n_samples, show_step=lands)
    # redrawn in place while a slider is dragged; large type in presentation mode
    live_figure.live_figure(large_type(spec) if app.present else spec, key=key, config=PLOT_CONFIG)
    st.caption(t("The slope of the dashed tangent is the gradient. Gradient descent steps against it: by η·∂E/∂p "
                 "along the tangent, then lands on the curve. Where the curve bends, the tangent's prediction and "
                 "the real E after the step differ; a larger η means a longer step.", lang) + " " + (
        t("Here only this parameter moves; the real update moves every parameter at once, so E after it is "
          "another number (the Update page).", lang) if app.scenario.update_order == "simultaneous" else
        t("Under the output-layer-first order a lower layer's step uses the deltas through the already updated "
          "weights, so it is not exactly η·∂E/∂p; the point shows where this parameter really goes, the others "
          "unchanged.", lang)))
    if not lands:
        st.caption(t("Where the update step lands is drawn once you have answered the Update page's question for "
                     "this parameter.", lang))


def page_header(script: str, caption: str, app: AppState, comp: Computed | None = None) -> None:
    """The page's title (from the page list; ``script`` is the view's ``__file__``) and one-line explanation, with
    the outputs and the loss beside them when ``comp`` is given (one row saves screen height)."""
    title = t(spec_of(script).title, app.lang)  # marked with N_ in navigation.PAGES
    if app.present:  # a projector needs the room: the caption is for a student reading alone
        if not spec_of(script).walk:  # the walkthrough pages' step box names the step, their controls share its row
            presenter_bar(app, title)
        return
    if comp is None:
        st.markdown(f"## {title}")
        st.caption(caption)
        return
    rows = _metric_rows(app, comp)
    if _as_metrics(app, rows):  # one row of columns, the title as wide as the metrics together (not nested rows:
        # every column is a message on every slider move)
        title_column, *columns = st.columns([len(rows), *[1] * len(rows)], vertical_alignment="center")
    else:
        title_column, right = st.columns([1, 1], vertical_alignment="center")
        columns = [right]
    with title_column:
        st.markdown(f"## {title}")
        st.caption(caption)
    _show_metrics(rows, columns, app.lang)


PRESENTER_BAR = (6, 1, 1, 1)  # title | language | leave presentation mode | QR code


def presenter_bar(app: AppState, title: str) -> None:
    """Presentation mode's top row on pages without a step navigator: the title, the way out, the QR code."""
    name, *controls = st.columns(PRESENTER_BAR, vertical_alignment="center")
    name.markdown(f"### {title}")
    presenter_controls(app, *controls)


MAX_OUTPUT_METRICS = 2  # more outputs than this: one line of text instead of metrics that would be cut off
MAX_METRIC_CHARS = 10  # 0.75136507 (8 decimals) is the longest value a metric shows


def output_metrics(app: AppState, comp: Computed) -> None:
    """One line of big numbers: every output (of the sample shown) and the total loss."""
    rows = _metric_rows(app, comp)
    _show_metrics(rows, st.columns(len(rows)) if _as_metrics(app, rows) else [st.container()], app.lang)


def _metric_rows(app: AppState, comp: Computed) -> list[tuple[str, float | None, str]]:
    """(name, value, text) of every output of the sample shown, and of the total loss; (name, None, "?") for what
    the quiz hides."""
    s, hidden = app.scenario, quiz.hidden(app, comp)
    nm = names_for(s.layers)
    outs = [(nm.out_text(s.n_layers, k), comp.trace.outputs[comp.sample, k],
             StepId(Phase.FORWARD, Out(Neuron(s.n_layers, k)))) for k in range(s.layers[-1])]
    label = (t("E total", app.lang) if s.n_samples == 1
             else t("E total (mean of {n} samples)", app.lang, n=s.n_samples))
    return [(name, None, HIDDEN) if quantity in hidden else (name, value, fmt(value, app.decimals, app.lang))
            for name, value, quantity in [*outs, (label, comp.trace.loss, StepId(Phase.LOSS, TotalLoss()))]]


def _as_metrics(app: AppState, rows: list[tuple[str, float | None, str]]) -> bool:
    """Big metrics, one per column; else (many outputs, or a number too long for a metric) one line of text."""
    return app.scenario.layers[-1] <= MAX_OUTPUT_METRICS and all(_fits_a_metric(text) for _, _, text in rows)


def _show_metrics(rows: list[tuple[str, float | None, str]], columns: list, lang: str = "en") -> None:
    """One metric per column when there is a column for each, else the line of text in the one column."""
    if len(columns) == len(rows):
        for col, (name, value, text) in zip(columns, rows):
            col.metric(name, text, help=None if value is None else numbers.exact(value, lang=lang))
    else:  # generated names and numbers only (no user text)
        columns[0].markdown(" · ".join(f"{name} **{text}**" for name, _, text in rows))


def _fits_a_metric(text: str) -> bool:
    """Plain decimals of at most MAX_METRIC_CHARS: a metric's column at 1280 px holds that much; a wider value
    scrolls there, which cuts 1.280e+100 to "1.280e+" on screen, so powers of ten and words go in a line of text."""
    return text == HIDDEN or len(text) <= MAX_METRIC_CHARS and text.lstrip("-−").replace(".", "", 1).isdigit()


# ---------------------------------------------------------------- gradient size per layer


DEEP = 3  # weight layers from which a network counts as deep (two hidden layers or more)


def gradient_sizes_panel(app: AppState, comp: Computed, option: str) -> None:
    """The expander "Gradient size per layer" (open at first on a deep network; its state is the display option
    ``option``, so a link keeps it): the deep preset's lesson, the chart, the first-to-last ratio, and buttons that
    load the three deep presets to compare. Its content is built only while it is open."""
    lang = app.lang
    box = st.expander(t("Gradient size per layer", lang),
                      **state.bind_option(app, option, app.scenario.n_layers >= DEEP))
    with box:
        if not box.open:
            return
        if app.quiz and not app.quiz_log.asked_all(comp.phase_ids((Phase.BACKWARD,))):
            st.caption(t("The gradient sizes appear once the quiz has asked for every gradient.", lang))
            return
        sizes = gradient_sizes(comp.grads)
        style = numbers.Style(app.decimals, lang)
        lesson = preset_lesson(app.scenario, comp.trace, sizes, style)
        if lesson:
            st.info(lesson)
        spec = gradient_sizes_spec(app.scenario, comp.grads, lang)
        live_figure.live_figure(large_type(spec) if app.present else spec, key=f"{option}_chart",
                                config=PLOT_CONFIG)
        ratio = ratio_sentence(sizes, style)
        st.caption(t("Per layer: the size of the gradient of all its weights, and the mean size of its neurons' "
                     "δ = ∂E/∂net. On its way back δ is multiplied in every layer by the weights and by f′(net): "
                     "below 1 per layer the gradient vanishes, above 1 it explodes. Hover for full precision.", lang)
                   + (" " + ratio if ratio else ""))
        st.caption(t("Compare the three deep examples (same shape, same random draws):", lang))
        shown = deep_preset_of(app.scenario)
        for column, name in zip(st.columns(len(DEEP_PRESETS)), DEEP_PRESETS):
            column.button(name, **state.on_click(f"{option}_{name}", state.load_preset, name), width="stretch",
                          disabled=name == shown)


# ---------------------------------------------------------------- checks and tables


CHECK_DECIMALS = 10  # the two estimates side by side: enough places to see where they part


def render_gradient_check(app: AppState, comp: Computed, ref: ParamRef | None) -> None:
    """Finite-difference estimate beside the backprop value for one parameter, with the verdict."""
    if ref is None:
        return
    check = gradcheck.gradient_check(app.scenario, grads=comp.grads, refs=[ref])
    name = names_for(app.scenario.layers).param(ref)
    c1, c2, c3 = st.columns(3)
    c1.metric(t("Backprop ∂E/∂{p}", app.lang, p=name), fmt(check.analytic[0], CHECK_DECIMALS, app.lang))
    c2.metric(t("Finite differences", app.lang), fmt(check.numeric[0], CHECK_DECIMALS, app.lang))
    c3.metric(t("Relative error", app.lang), fmt(check.relative_error[0], 2, app.lang))
    st.caption(t("Numeric estimate: (−E(p+2h) + 8E(p+h) − 8E(p−h) + E(p−2h)) / 12h with h = {h}. Verdict: {verdict}.",
                 app.lang, h=format(check.h, "g"), verdict=gradcheck.verdict(check, 0, app.lang)))


def loss_before_after(app: AppState, comp: Computed) -> None:
    """E now and E after the walkthrough's update step."""
    e_after = engine.loss_value(comp.update.after)
    now, then = st.columns(2)
    now.metric(t("E now", app.lang), fmt(comp.trace.loss, app.decimals, app.lang),
               help=numbers.exact(comp.trace.loss, lang=app.lang))
    finite = math.isfinite(e_after)
    then.metric(t("E after this step", app.lang), fmt(e_after, app.decimals, app.lang),
                delta=fmt(e_after - comp.trace.loss, app.decimals, app.lang) if finite else None,
                delta_color="inverse",
                help=numbers.exact(e_after, lang=app.lang))
    problem = comp.walkthrough.update_problem
    if problem and app.quiz:  # the new values are the Update page's questions: the words without them
        problem = update_problem(comp.update, comp.walkthrough.names, app.decimals, app.lang, values=False)
    if problem:  # words for what overflowed, where the numbers would be
        st.warning(problem)


def table_height(n_rows: int) -> int:
    """Pixel height that shows every row of a dataframe up to 25 rows (the default hid rows 11 and 12)."""
    return TABLE_ROW_PX * (min(n_rows, TABLE_MAX_ROWS) + 1) + TABLE_BORDER_PX


def parameter_table(app: AppState, comp: Computed) -> None:
    """Every parameter: before, the gradient the update used, after (w⁺ = w − η·∂E/∂w)."""
    s, upd, d, hidden = app.scenario, comp.update, app.decimals, quiz.hidden(app, comp)
    nm = names_for(s.layers)
    rows = []
    # in the order of the steps: output layer first, as the seed works it
    for ref in sorted(engine.parameter_refs(s), key=lambda r: -r.layer):
        rows.append({
            t("parameter", app.lang): nm.param(ref),
            t("before", app.lang): fmt(engine.value_of(s, ref), d, app.lang),
            "∂E/∂p": fmt(upd.gradient(ref), d, app.lang),
            t("after", app.lang): (HIDDEN if StepId(Phase.UPDATE, ref) in hidden
                                   else fmt(engine.value_of(upd.after, ref), d, app.lang)),
        })
    st.markdown(t("**All parameters after one step** (η = {lr})", app.lang, lr=fmt(s.learning_rate, d, app.lang)))
    if not s.train_biases:
        st.caption(t("Biases are fixed (train_biases is false): they keep their value.", app.lang))
    st.dataframe(rows, hide_index=True, width="stretch", height=table_height(len(rows)))
