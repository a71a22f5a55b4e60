"""The one Streamlit module: session state, the shared sidebar, step navigation, and the page error boundary.

Pages stay thin: ``run_page(body)`` sets the page up, computes the forward/backward trace once, draws the sidebar
and calls ``body(app, comp)``. The whole app state is one serialisable :class:`AppState` (``to_dict``/``from_dict``)
kept under one session-state key; widget values are seeded from it (never the other way round), so navigating
between pages (which drops widget state in Streamlit) loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from . import engine, explain, numbers
from .config import MAX_ABS_NUMBER, Scenario, ScenarioError, load_json, preset, preset_names, validate
from .figures.network import network_figure
from .i18n import t
from .naming import names_for
from .walkthrough import Step, Walkthrough, build_walkthrough

STATE_KEY = "bpviz_app"

# The page list, drawn by :func:`navigation` (Streamlit's own list is hidden in .streamlit/config.toml so that every
# title goes through the translation function). Paths are relative to app.py; Streamlit routes pages/ by file name,
# which keeps deep links such as /Backward_pass working.
NAV_PAGES = [
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Forward_pass.py", "Forward pass", ":material/arrow_forward:"),
    ("pages/2_Backward_pass.py", "Backward pass", ":material/arrow_back:"),
    ("pages/3_Update.py", "Update", ":material/update:"),
    ("pages/4_Network_builder.py", "Network builder", ":material/construction:"),
    ("pages/5_Computational_graph.py", "Computational graph", ":material/account_tree:"),
    ("pages/6_Matrix_view.py", "Matrix view", ":material/grid_on:"),
    ("pages/7_Training.py", "Training", ":material/trending_down:"),
    ("pages/8_Conventions_and_checks.py", "Conventions and checks", ":material/fact_check:"),
]
SIDEBAR_PREFIX = "sb_"
DEFAULT_DECIMALS = 4
GRID = 0.01  # slider step: the seed's values (0.15, 0.05, ...) sit on this grid


# ---------------------------------------------------------------- the app state


@dataclass
class AppState:
    """Everything a share link must restore: scenario, current step of each page, display options."""

    scenario: Scenario
    decimals: int = DEFAULT_DECIMALS
    lang: str = "en"
    steps: dict[str, str] = field(default_factory=dict)  # page -> step key (stable across slider moves)
    options: dict[str, Any] = field(default_factory=dict)  # page-specific display options (serialisable)
    # session only (not shared): undo stack and the last message for the user
    history: list[Scenario] = field(default_factory=list)
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.to_dict(),
            "decimals": self.decimals,
            "lang": self.lang,
            "steps": dict(self.steps),
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppState:
        """Rebuild from :meth:`to_dict` output; the scenario goes through the one validator."""
        if not isinstance(data, dict):
            raise ScenarioError("(state)", "expected an object")
        decimals = data.get("decimals", DEFAULT_DECIMALS)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 1 <= decimals <= 10:
            raise ScenarioError("decimals", f"expected a whole number from 1 to 10, got {decimals!r}")
        steps = data.get("steps", {})
        if not isinstance(steps, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in steps.items()):
            raise ScenarioError("steps", "expected an object of page names to step keys")
        options = data.get("options", {})
        if not isinstance(options, dict):
            raise ScenarioError("options", "expected an object")
        try:
            scenario = validate(data.get("scenario"))
        except ScenarioError as exc:  # name the field by its full path in the state
            path = "scenario" if exc.path == "(document)" else f"scenario.{exc.path}"
            raise ScenarioError(path, exc.reason) from None
        return cls(scenario=scenario, decimals=decimals, lang=str(data.get("lang", "en")), steps=dict(steps),
                   options=dict(options))


def init_state() -> AppState:
    """The session's AppState, created once (guarded) from the seed example."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = AppState(scenario=preset("seed"))
    return st.session_state[STATE_KEY]


def app_state() -> AppState:
    return init_state()


def set_scenario(app: AppState, scenario: Scenario, *, preset_name: str | None = None) -> None:
    """Replace the scenario (apply, upload, preset, builder ...), keeping the old one for Undo.

    Widgets need no reset: :func:`seed_widget` gives every bound widget its value from the AppState on the next run.
    ``preset_name`` names the example now loaded (for the sidebar's Example box): "" for a network of the user's
    own (the box then says so), None to leave the box as it is.
    """
    app.history.append(app.scenario)
    del app.history[:-50]  # bounded undo stack
    app.scenario = scenario
    app.message = None
    if preset_name is not None:
        app.options[f"{SIDEBAR_PREFIX}preset"] = preset_name or None


def seed_widget(key: str, value: Any) -> None:
    """Give a widget its value from the AppState, on every run, before the widget is created.

    Why every run: after a page switch Streamlit still holds the old page's value under the key, but the widget on
    the new page has another identity and would start from its default. Assigning through the Session State API
    makes the new widget pick the value up. Widgets bound this way must write their changes back to the AppState
    in an ``on_change`` callback (see :func:`bind_option`), or the next run would undo the user's change.
    """
    st.session_state[key] = value


def bind_option(app: AppState, key: str, default: Any) -> dict[str, Any]:
    """Widget kwargs for a page option kept in ``app.options[key]`` (seeded now, written back on change)."""
    seed_widget(key, app.options.get(key, default))
    return {"key": key, "on_change": remember_option, "args": (key,)}


# ---------------------------------------------------------------- computed once per run


@dataclass(frozen=True)
class Computed:
    """The forward trace, backward gradients and walkthrough of the current scenario."""

    trace: engine.Trace
    grads: engine.Gradients
    walkthrough: Walkthrough
    sample: int = 0  # the sample every page shows (0-based; chosen in the sidebar when there are several)

    def step_for(self, key: str | None) -> Step | None:
        """The walkthrough step with this key, or None (e.g. after the architecture changed)."""
        keys = self.walkthrough.keys()
        return self.walkthrough[keys.index(key)] if key in keys else None

    def phase_indices(self, phases: tuple[str, ...]) -> list[int]:
        keys = self.walkthrough.keys()
        return [i for i, k in enumerate(keys) if k.split(":", 1)[0] in phases]


def current_sample(app: AppState) -> int:
    """The sample the pages show (0-based), as chosen in the sidebar (1-based there, as students count)."""
    chosen = app.options.get(f"{SIDEBAR_PREFIX}sample", 1)
    return min(max(int(chosen) - 1, 0), app.scenario.n_samples - 1) if isinstance(chosen, int) else 0


def compute(app: AppState) -> Computed:
    trace = engine.forward(app.scenario)
    grads = engine.backward(app.scenario, trace)
    sample = current_sample(app)
    wt = build_walkthrough(app.scenario, trace, grads, decimals=app.decimals, sample=sample, lang=app.lang)
    return Computed(trace, grads, wt, sample)


def fmt(x: float, decimals: int) -> str:
    """A number as every page shows it (:func:`bpviz.numbers.text`)."""
    return numbers.text(x, decimals)


# ---------------------------------------------------------------- sidebar: scenario, sliders, file in/out


def _snap(v: float) -> float:
    """Values a slider reports land exactly on the 0.01 grid when they are meant to (0.15, not 0.15000000000000002)."""
    snapped = round(v / GRID) * GRID
    return float(round(snapped, 10)) if abs(v - snapped) < 1e-9 else float(v)


def _slider_range(value: float, lo: float, hi: float) -> tuple[float, float]:
    """A slider range on the 0.01 grid that always contains the current value.

    A value just outside [lo, hi] (weights drift in training) widens the range to the next grid point; a value far
    outside (an uploaded 999999) gets a window of ±1 around it, so the slider stays usable in 0.01 steps.
    """
    if lo - 1 <= value <= hi + 1:
        return (float(round(min(lo, np.floor(value / GRID) * GRID), 10)),
                float(round(max(hi, np.ceil(value / GRID) * GRID), 10)))
    centre = round(value / GRID) * GRID
    return float(round(centre - 1.0, 10)), float(round(centre + 1.0, 10))


def _on_param_slider(key: str, kind: str, l: int, j: int, k: int) -> None:
    app = app_state()
    v = _snap(float(st.session_state[key]))
    W = [w.copy() for w in app.scenario.weights]
    B = [b.copy() for b in app.scenario.biases]
    if kind == "w":
        W[l][j, k] = v
    else:
        B[l][j] = v
    app.scenario = app.scenario.with_parameters(W, B)
    app.message = None


def _on_data_slider(key: str, field_name: str, sample: int, k: int) -> None:
    app = app_state()
    v = _snap(float(st.session_state[key]))
    arr = getattr(app.scenario, field_name).copy()
    arr[sample, k] = v
    _try_replace(app, **{field_name: arr if app.scenario.batched else arr[0]})


def _on_lr_slider(key: str) -> None:
    app = app_state()
    _try_replace(app, learning_rate=_snap(float(st.session_state[key])))


def _try_replace(app: AppState, **changes: Any) -> None:
    """Apply a change through the validator; on a bad value keep the last good state and say why."""
    try:
        app.scenario = app.scenario.replace(**changes)
        app.message = None
    except ScenarioError as exc:
        app.message = t("Not applied: {error}", lang=app.lang, error=str(exc))


def _on_decimals() -> None:
    app_state().decimals = int(st.session_state[f"{SIDEBAR_PREFIX}decimals"])


def _on_preset() -> None:
    name = st.session_state[f"{SIDEBAR_PREFIX}preset"]
    if name is not None:
        load_preset(name)


def load_preset(name: str) -> None:
    """Load a built-in example (the sidebar's Example box names it; Undo remembers the network before)."""
    app = app_state()
    set_scenario(app, preset(name), preset_name=name)
    app.steps.clear()  # a new network: every page starts at its first step


def reset() -> None:
    """Back to the seed example (Undo still remembers where we were)."""
    load_preset("seed")


def reset_everything() -> None:
    """A fresh AppState (scenario, steps, options, display): the way out when the state itself has gone bad."""
    st.session_state[STATE_KEY] = AppState(scenario=preset("seed"))


def _on_upload() -> None:
    app = app_state()
    uploaded = st.session_state.get(f"{SIDEBAR_PREFIX}upload")
    if uploaded is None:
        return
    try:
        scenario = load_json(uploaded.getvalue())
    except ScenarioError as exc:
        app.message = t("Could not load {name}: {error}. The current scenario is kept.", lang=app.lang,
                        name=uploaded.name, error=str(exc))
        return
    set_scenario(app, scenario, preset_name="")


def _slider(label: str, key: str, value: float, lo: float, hi: float, on_change: Callable, args: tuple,
            help_text: str | None = None, decimals: int = DEFAULT_DECIMALS) -> None:
    seed_widget(key, float(value))
    lo, hi = _slider_range(float(st.session_state[key]), lo, hi)
    st.slider(label, min_value=lo, max_value=hi, step=GRID, key=key, on_change=on_change, args=args,
              format=f"%.{max(2, min(decimals, 6))}f", help=help_text)


def sidebar(app: AppState) -> None:
    """Scenario controls shared by every page."""
    s = app.scenario
    nm = names_for(s.layers)
    sb = st.sidebar
    lang = app.lang
    with sb:
        navigation(app)
        st.divider()
        names = preset_names()
        seed_widget(f"{SIDEBAR_PREFIX}preset", app.options.get(f"{SIDEBAR_PREFIX}preset", names[0]))
        st.selectbox(t("Example", lang=lang), names, key=f"{SIDEBAR_PREFIX}preset", on_change=_on_preset,
                     placeholder=t("your own network", lang=lang),
                     help=t("Load a built-in scenario. 'seed' is the worked example.", lang=lang))
        c1, c2 = st.columns(2)
        c1.button(t("Reset to seed", lang=lang), on_click=reset, key=f"{SIDEBAR_PREFIX}reset",
                  width="stretch")
        c2.button(t("Undo", lang=lang), on_click=undo, key=f"{SIDEBAR_PREFIX}undo_sb",
                  disabled=not app.history, width="stretch")
        seed_widget(f"{SIDEBAR_PREFIX}decimals", app.decimals)
        st.slider(t("Decimals shown", lang=lang), 1, 8, key=f"{SIDEBAR_PREFIX}decimals", on_change=_on_decimals)
        if app.message:
            st.warning(app.message)

        with st.expander(t("Inputs and targets", lang=lang), expanded=True):
            _data_sliders(app, nm)
        with st.expander(t("Weights and biases", lang=lang), expanded=True):
            _parameter_sliders(app, nm)

        key = f"{SIDEBAR_PREFIX}lr"
        _slider(t("Learning rate η", lang=lang), key, s.learning_rate, 0.01, 2.0, _on_lr_slider, (key,),
                decimals=app.decimals)

        with st.expander(t("Scenario file (JSON)", lang=lang)):
            st.download_button(t("Download scenario", lang=lang), data=s.to_json(), file_name="bpviz-scenario.json",
                               mime="application/json", key=f"{SIDEBAR_PREFIX}download", width="stretch")
            st.file_uploader(t("Load a scenario", lang=lang), type=["json"], key=f"{SIDEBAR_PREFIX}upload",
                             on_change=_on_upload)
        with st.expander(t("Worked solution (handout)", lang=lang)):
            _handout_downloads(app)


HANDOUT_KEY = "handout"  # session only: the rendered handout and the state it was rendered for


def _prepare_handout() -> None:
    app = app_state()
    key = (app.scenario.to_json(indent=None), app.decimals, app.lang)
    st.session_state[HANDOUT_KEY] = (key, {fmt_name: explain.render(app.scenario, fmt=fmt_name, decimals=app.decimals,
                                                                     lang=app.lang)
                                           for fmt_name in ("markdown", "latex")})


def _handout_downloads(app: AppState) -> None:
    """Render the worked solution only when asked (not on every slider move), then offer it for download."""
    lang = app.lang
    st.button(t("Prepare the worked solution", lang=lang), key=f"{SIDEBAR_PREFIX}handout_prepare",
              on_click=_prepare_handout, width="stretch",
              help=t("Every step of the current network, as a Markdown or LaTeX document", lang=lang))
    stored = st.session_state.get(HANDOUT_KEY)
    if stored is None or stored[0] != (app.scenario.to_json(indent=None), app.decimals, lang):
        return  # nothing prepared yet, or prepared for another state
    for fmt_name, ext, mime in (("markdown", "md", "text/markdown"), ("latex", "tex", "application/x-tex")):
        st.download_button(t("Download as {fmt}", lang=lang, fmt="Markdown" if fmt_name == "markdown" else "LaTeX"),
                           data=stored[1][fmt_name], file_name=f"bpviz-worked-solution.{ext}", mime=mime,
                           key=f"{SIDEBAR_PREFIX}handout_{ext}", width="stretch")


MAX_SLIDERS = 24  # more sliders than this make every rerun slow (Streamlit scans session state per widget)


def _data_sliders(app: AppState, nm) -> None:
    """Sliders for the inputs and targets of one sample (one chosen value at a time for wide networks)."""
    s, lang = app.scenario, app.lang
    sample = current_sample(app)
    if s.batched:
        app.options[f"{SIDEBAR_PREFIX}sample"] = sample + 1
        sample = int(st.number_input(t("Sample (every page shows this one)", lang=lang), 1, s.n_samples,
                                     **bind_option(app, f"{SIDEBAR_PREFIX}sample", 1))) - 1
    bounded = s.loss in ("bce", "cross_entropy") or s.activations[-1] in ("sigmoid", "softmax")
    values = [("inputs", k, nm.node(0, k), -1.0) for k in range(s.layers[0])]
    values += [("targets", k, f"t{k + 1}", 0.0 if bounded else -1.0) for k in range(s.layers[-1])]
    if len(values) > 8:
        labels = [label for _, _, label, _ in values]
        if app.options.get(f"{SIDEBAR_PREFIX}value") not in labels:
            app.options[f"{SIDEBAR_PREFIX}value"] = labels[0]
        chosen = st.selectbox(t("Value", lang=lang), labels, **bind_option(app, f"{SIDEBAR_PREFIX}value", labels[0]))
        values = [values[labels.index(chosen)]]
    for field_name, k, label, lo in values:
        key = f"{SIDEBAR_PREFIX}{'x' if field_name == 'inputs' else 't'}_{sample}_{k}"
        help_text = None if field_name == "inputs" else t(
            "Target (true value) of output {name}", lang=lang, name=nm.node(s.n_layers, k))
        _slider(label, key, getattr(s, field_name)[sample, k], lo, 1.0, _on_data_slider,
                (key, field_name, sample, k), help_text=help_text, decimals=app.decimals)


def _parameter_sliders(app: AppState, nm) -> None:
    """Sliders for every weight and bias; for big networks, those of one chosen neuron (its inputs and bias)."""
    s, lang = app.scenario, app.lang
    neurons = [(l, j) for l in range(s.n_layers) for j in range(s.layers[l + 1])]  # (weight layer, row)
    n_params = sum(w.size + b.size for w, b in zip(s.weights, s.biases))
    if n_params > MAX_SLIDERS:
        keys = [f"{l}:{j}" for l, j in neurons]
        if app.options.get(f"{SIDEBAR_PREFIX}neuron") not in keys:
            app.options[f"{SIDEBAR_PREFIX}neuron"] = keys[-1]
        chosen = st.selectbox(t("Neuron", lang=lang), keys, **bind_option(app, f"{SIDEBAR_PREFIX}neuron", keys[-1]),
                              format_func=lambda key: t("{name}: its incoming weights and bias", lang=lang,
                                                        name=nm.node(int(key.split(":")[0]) + 1,
                                                                     int(key.split(":")[1]))))
        neurons = [neurons[keys.index(chosen)]]
    for l, j in neurons:
        for k in range(s.layers[l]):
            ref = engine.ParamRef("w", l, j, k)
            key = f"{SIDEBAR_PREFIX}w_{l}_{j}_{k}"
            _slider(f"{nm.param(ref)} ({nm.node(l, k)} → {nm.node(l + 1, j)})", key, s.weights[l][j, k], -1.0, 1.0,
                    _on_param_slider, (key, "w", l, j, k), decimals=app.decimals)
        key = f"{SIDEBAR_PREFIX}b_{l}_{j}"
        _slider(f"{nm.param(engine.ParamRef('b', l, j))} ({nm.node(l + 1, j)})", key, s.biases[l][j], -1.0, 1.0,
                _on_param_slider, (key, "b", l, j, -1), decimals=app.decimals)


def navigation(app: AppState) -> None:
    """The page list, with translated titles."""
    for path, title, icon in NAV_PAGES:
        st.page_link(path, label=t(title, lang=app.lang), icon=icon)


def undo() -> None:
    app = app_state()
    if app.history:
        app.scenario = app.history.pop()
        app.message = None


def apply_update() -> None:
    """One gradient-descent step on the current scenario (Undo brings the old one back)."""
    app = app_state()
    new = engine.step(app.scenario)
    try:
        new = validate(new.to_dict())  # NaN, inf or |w| > 1e6 after a huge step: explain, do not apply
    except ScenarioError as exc:
        app.message = t(
            "The update was not applied: {error}. The learning rate is probably too large for these weights "
            "(|w| may be at most {limit:g}); try a smaller η.", lang=app.lang, error=str(exc), limit=MAX_ABS_NUMBER)
        return
    set_scenario(app, new)


# ---------------------------------------------------------------- step navigation and rendering


def _nav_key(page: str) -> str:
    return f"nav_{page}_step"


def _on_nav_select(page: str) -> None:
    app = app_state()
    app.steps[page] = st.session_state[_nav_key(page)]


def _on_nav_move(page: str, keys: list[str], delta: int) -> None:
    app = app_state()
    cur = app.steps.get(page, keys[0])
    i = keys.index(cur) if cur in keys else 0
    i = min(max(i + delta, 0), len(keys) - 1)
    app.steps[page] = keys[i]
    st.session_state[_nav_key(page)] = keys[i]


def step_navigator(page: str, app: AppState, comp: Computed, phases: tuple[str, ...]) -> Step:
    """Prev / jump list / Next for the steps of ``phases``; returns the current step."""
    wt = comp.walkthrough
    indices = comp.phase_indices(phases)
    all_keys = wt.keys()
    titles = wt.titles()
    keys = [all_keys[i] for i in indices]
    title_of = {all_keys[i]: titles[i] for i in indices}
    number_of = {k: n for n, k in enumerate(keys, start=1)}
    cur = app.steps.get(page)
    if cur not in title_of:
        cur = keys[0]
        app.steps[page] = cur
    nav = _nav_key(page)
    seed_widget(nav, cur)
    c_prev, c_sel, c_next = st.columns([1, 6, 1], vertical_alignment="bottom")
    pos = keys.index(cur)
    c_prev.button("◀ " + t("Prev", lang=app.lang), key=f"nav_{page}_prev", on_click=_on_nav_move,
                  args=(page, keys, -1), disabled=pos == 0, width="stretch")
    c_sel.selectbox(t("Step", lang=app.lang), keys, key=nav, on_change=_on_nav_select, args=(page,),
                    format_func=lambda k: f"{number_of[k]}/{len(keys)} · {title_of[k]}")
    c_next.button(t("Next", lang=app.lang) + " ▶", key=f"nav_{page}_next", on_click=_on_nav_move,
                  args=(page, keys, +1), disabled=pos == len(keys) - 1, width="stretch")
    return wt[wt.index_of(cur)]


def _is_number(latex: str) -> bool:
    """Whether a LaTeX cell is a plain number, e.g. 0.5933 or \\left(-0.3688\\right)."""
    plain = latex.replace(r"\left(", "").replace(r"\right)", "").replace("{", "").replace("}", "")
    try:
        float(plain)
        return True
    except ValueError:
        return False


def factor_table_latex(term, decimals: int) -> str:
    r"""One chain-rule term as aligned rows: symbol = general form (sympy.diff) = with numbers = value.

    A column that would only repeat the one before it is left out (∂net/∂w5 = out_h1 = 0.5933, not
    "= 0.5933 = 0.5933"; ∂net/∂b = 1, not "1 = 1 = 1.0000").
    """
    rows = []
    for f in term:
        cells = [rf"\displaystyle {f.symbol_latex}", rf"\displaystyle {f.general_latex}"]
        if f.numeric_latex != f.general_latex:
            cells.append(rf"\displaystyle {f.numeric_latex}")
        if not _is_number(cells[-1].removeprefix(r"\displaystyle ")):
            cells.append(fmt(f.value, decimals))
        rows.append(" &=& ".join(cells) + " & &" * (4 - len(cells)))  # pad to the array's 7 columns
    return r"\begin{array}{rclclcl}" + r" \\[14pt] ".join(rows) + r"\end{array}"


def render_step(step: Step, app: AppState) -> None:
    """Title, the formula, the formula with numbers (ending in the value); for backward steps each local derivative."""
    render_formula(step)
    render_factors(step, app)


def render_formula(step: Step) -> None:
    """The step's title, its formula and the formula with numbers (ending in the value)."""
    st.markdown(f"#### {step.title}")
    # \large: the formula is what the room reads; KaTeX scrolls sideways rather than clipping a long chain
    st.latex(r"\large " + step.latex_symbolic)
    st.latex(r"\large " + step.latex_numeric)


def render_factors(step: Step, app: AppState) -> None:
    """For a backward step, each local derivative of the chain: general form, with numbers, value; then notes."""
    if step.factors:
        st.markdown(t("**Each local derivative**: its general form (derived by SymPy), then with numbers:",
                      lang=app.lang))
        for term_no, term in enumerate(step.factors, start=1):
            if len(step.factors) > 1:
                st.caption(t("Path {n} of {total}", lang=app.lang, n=term_no, total=len(step.factors)))
            st.latex(factor_table_latex(term, app.decimals))
    for note in step.notes:
        st.info(note)


# ---------------------------------------------------------------- the page frame and error boundary


def run_page(title: str, body: Callable[[AppState, Computed], None], *, icon: str = "🧠") -> None:
    """Set up a page, draw the sidebar, run its body; an unexpected error becomes a short message, never a trace."""
    st.set_page_config(page_title=f"bpviz · {title}", page_icon=icon, layout="wide")
    # static CSS only (no user text): less empty space above the content, so graph and formula fit on 1280×800
    # and a long formula scrolls sideways instead of being cut off at the column's edge
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem;padding-bottom:2rem}"
            ".katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:4px}</style>")
    app = init_state()
    try:
        sidebar(app)
        comp = compute(app)
        body(app, comp)
    except Exception as exc:  # the error boundary: no traceback reaches a user
        st.error(t(
            "Something went wrong on this page ({kind}: {what}). Your scenario is kept: try Undo in the sidebar, or "
            "Reset to seed, or start again from the worked example with the button below.", lang=app.lang,
            kind=type(exc).__name__, what=str(exc)[:200]))
        st.button(t("Start again from the worked example", lang=app.lang), on_click=reset_everything,
                  key="error_reset")


# ---------------------------------------------------------------- small shared panels


def remember_option(key: str) -> None:
    """Copy a page option widget's value into the AppState (so it survives page switches and share links)."""
    app_state().options[key] = st.session_state[key]


def network_chart(app: AppState, comp: Computed, step: Step | None, key: str, mode: str = "values") -> None:
    """The network figure of the current scenario and sample, with the step's neurons and edges highlighted."""
    fig = network_figure(app.scenario, comp.trace, comp.grads, step, mode=mode, decimals=app.decimals,
                         sample=comp.sample, lang=app.lang)
    st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def page_header(title: str, caption: str, app: AppState | None = None, comp: Computed | None = None) -> None:
    """Title and one-line explanation, with the outputs and the loss beside them (one row saves screen height)."""
    if comp is None or app is None:
        st.markdown(f"## {title}")
        st.caption(caption)
        return
    left, right = st.columns([1, 1], vertical_alignment="center")
    with left:
        st.markdown(f"## {title}")
        st.caption(caption)
    with right:
        output_metrics(app, comp)


def output_metrics(app: AppState, comp: Computed) -> None:
    """One line of big numbers: every output (of the sample shown) and the total loss."""
    s = app.scenario
    sample = comp.sample
    nm = names_for(s.layers)
    n_out = s.layers[-1]
    outs = [(nm.out_text(s.n_layers, k), comp.trace.outputs[sample, k]) for k in range(n_out)]
    loss = (t("E total", lang=app.lang) if s.n_samples == 1 else t("E total (mean of {n} samples)", lang=app.lang,
                                                                      n=s.n_samples), comp.trace.loss)
    if n_out <= 2:
        for col, (label, value) in zip(st.columns(n_out + 1), [*outs, loss]):
            col.metric(label, fmt(value, app.decimals), help=repr(float(value)))
    else:  # many outputs: one line of text instead of metrics that would be cut off
        st.markdown(" · ".join(f"{label} **{fmt(v, app.decimals)}**" for label, v in [*outs, loss]))


def render_gradient_check(app: AppState, comp: Computed, ref: engine.ParamRef | None) -> None:
    """Finite-difference estimate beside the backprop value for one parameter."""
    if ref is None:
        return
    numeric = engine.numeric_gradient(app.scenario, ref)
    analytic = engine.gradient_of(comp.grads, ref)
    rel = float(engine.relative_error(np.array([analytic]), np.array([numeric]))[0])
    name = names_for(app.scenario.layers).param(ref)
    c1, c2, c3 = st.columns(3)
    c1.metric(t("Backprop ∂E/∂{p}", lang=app.lang, p=name), f"{analytic:.10f}")
    c2.metric(t("Finite differences", lang=app.lang), f"{numeric:.10f}")
    c3.metric(t("Relative error", lang=app.lang), f"{rel:.1e}")
    st.caption(t("Numeric estimate: (−E(p+2h) + 8E(p+h) − 8E(p−h) + E(p−2h)) / 12h with h = 0.001. "
                 "A relative error below 1e-6 means the two agree.", lang=app.lang))


def loss_before_after(app: AppState, comp: Computed, after: Scenario) -> None:
    e_after = engine.loss_value(after)
    now, then = st.columns(2)
    now.metric(t("E now", lang=app.lang), fmt(comp.trace.loss, app.decimals), help=repr(comp.trace.loss))
    then.metric(t("E after this step", lang=app.lang), fmt(e_after, app.decimals),
                delta=fmt(e_after - comp.trace.loss, app.decimals), delta_color="inverse", help=repr(e_after))


def table_height(n_rows: int) -> int:
    """Pixel height that shows every row of a dataframe up to 25 rows (the default hid rows 11 and 12)."""
    return 35 * (min(n_rows, 25) + 1) + 3


def parameter_table(app: AppState, comp: Computed, after: Scenario) -> None:
    """Every parameter: before, gradient, after (w⁺ = w − η·∂E/∂w)."""
    s = app.scenario
    nm = names_for(s.layers)
    d = app.decimals
    rows = []
    # in the order of the steps: output layer first, as the seed works it
    for ref in sorted(engine.parameter_refs(s), key=lambda r: -r.layer):
        rows.append({
            t("parameter", lang=app.lang): nm.param(ref),
            t("before", lang=app.lang): fmt(engine.value_of(s, ref), d),
            "∂E/∂p": fmt(engine.gradient_of(comp.grads, ref), d),
            t("after", lang=app.lang): fmt(engine.value_of(after, ref), d),
        })
    st.markdown(t("**All parameters after one step** (η = {lr})", lang=app.lang, lr=fmt(s.learning_rate, d)))
    if not s.train_biases:
        st.caption(t("Biases are fixed (train_biases is false): they keep their value.", lang=app.lang))
    st.dataframe(rows, hide_index=True, width="stretch", height=table_height(len(rows)))


def _on_counter_move(key: str, delta: int, n_max: int) -> None:
    value = min(max(int(st.session_state.get(key, 0)) + delta, 0), n_max)
    st.session_state[key] = value
    app_state().options[key] = value


def counter_navigator(key: str, label: str, n_max: int, app: AppState, default: int = 0) -> int:
    """Prev / slider / Next over 0..n_max, remembered in ``app.options[key]`` (survives page switches)."""
    stored = app.options.get(key, default)
    if not isinstance(stored, int) or not 0 <= stored <= n_max:
        stored = min(max(int(default), 0), n_max)
        app.options[key] = stored
    seed_widget(key, stored)
    c_prev, c_sel, c_next = st.columns([1, 6, 1], vertical_alignment="bottom")
    c_prev.button("◀ " + t("Prev", lang=app.lang), key=f"{key}_prev", on_click=_on_counter_move,
                  args=(key, -1, n_max), disabled=stored == 0, width="stretch")
    if n_max > 0:
        c_sel.slider(label, 0, n_max, key=key, on_change=remember_option, args=(key,))
    else:
        c_sel.caption(label)
    c_next.button(t("Next", lang=app.lang) + " ▶", key=f"{key}_next", on_click=_on_counter_move,
                  args=(key, +1, n_max), disabled=stored >= n_max, width="stretch")
    return int(st.session_state[key])
