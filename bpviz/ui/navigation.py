"""The one page list, and the step navigators (Prev / choose / Next) the pages share.

:data:`PAGES` is the only place a page is listed: ``app.py`` builds ``st.navigation`` from it (titles through
``t()`` at run time), the home page links to it, and :func:`bpviz.ui.boundary.run_page` finds the running page in
it by file name. Page scripts live in ``views/`` (not ``pages/``: see the README, "How to add a page").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ..i18n import LANGUAGE_NAMES, LANGUAGE_SHORT, LANGUAGES, N_, t
from ..ids import Phase, StepId
from . import autoplay, share, state
from .computed import Computed
from .state import AppState

VIEWS = "views"  # the folder of page scripts, relative to app.py
NAV_COLUMNS = (3, 14, 3)  # Prev | chooser | Next ("◀ 上一步 ←" needs about 110 px at 1280)
# Prev | chooser | Next | Play | language | leave | QR code, per language: at 1280 px with 24 px type every label fits
# whole ("◀ 上一步" is wider than "◀ Prev", "Backward: gradient of w5" wider than "反向传播：w5 的梯度"; checked by eye)
PRESENT_NAV_COLUMNS = {"en": (7, 18, 7, 7, 6, 6, 6), "zh": (8, 17, 8, 7, 6, 6, 5)}


@dataclass(frozen=True)
class PageSpec:
    """One page: its script in ``views/``, its URL path, English title (marked with ``N_``, translated when shown),
    icon, and the one-line description on the home page ("" for the home page itself; marked with ``N_`` too)."""

    file: str
    url_path: str
    title: str
    icon: str
    what: str = ""

    @property
    def path(self) -> str:
        return f"{VIEWS}/{self.file}"

    @property
    def walk(self) -> bool:
        """Whether the page is part of the walkthrough (forward → backward → update, see :data:`WALK`)."""
        return any(self.url_path == page for page, _ in WALK)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("home.py", "", N_("Home"), ":material/home:"),
    PageSpec("forward_pass.py", "forward", N_("Forward pass"), ":material/arrow_forward:",
             N_("from inputs to outputs, neuron by neuron, then the loss")),
    PageSpec("backward_pass.py", "backward", N_("Backward pass"), ":material/arrow_back:",
             N_("the chain rule for every weight, output layer first")),
    PageSpec("update.py", "update", N_("Update"), ":material/update:",
             N_("one gradient-descent step: w⁺ = w − η·∂E/∂w")),
    PageSpec("network_builder.py", "builder", N_("Network builder"), ":material/construction:",
             N_("other sizes, activations, losses; XOR, softmax, dead ReLUs")),
    PageSpec("computational_graph.py", "graph", N_("Computational graph"), ":material/account_tree:",
             N_("the loss as elementary operations, micrograd style")),
    PageSpec("matrix_view.py", "matrix", N_("Matrix view"), ":material/grid_on:",
             N_("the same backward pass with vectors and matrices")),
    PageSpec("training.py", "training", N_("Training"), ":material/trending_down:",
             N_("thousands of steps, the loss curve, the decision boundary")),
    PageSpec("conventions.py", "conventions", N_("Conventions and checks"), ":material/fact_check:",
             N_("why published numbers differ; finite differences")),
)


def spec_of(script: str) -> PageSpec:
    """The page whose script is ``script`` (a path or a file name, e.g. a view's ``__file__``)."""
    name = Path(script).name
    return next(p for p in PAGES if p.file == name)


def navigation(lang: str):
    """``st.navigation`` over :data:`PAGES` with translated titles (drawn at the top of the sidebar)."""
    pages = [st.Page(p.path, title=t(p.title, lang),  # marked with N_ in PAGES above
                     icon=p.icon, url_path=p.url_path or None, default=not p.url_path) for p in PAGES]
    return st.navigation(pages, position="sidebar")


# ---------------------------------------------------------------- step navigators


# the walkthrough is one sequence over three pages: forward (with the loss) → backward → update
WALK: tuple[tuple[str, tuple[Phase, ...]], ...] = (
    ("forward", (Phase.FORWARD, Phase.LOSS)), ("backward", (Phase.BACKWARD,)), ("update", (Phase.UPDATE,)),
)
HIDDEN_KEYS = "nav_hidden_keys"  # a container of key-only buttons (PageDown/PageUp, what presenter clickers send)


def spec_at(url_path: str) -> PageSpec:
    """The page with this URL path ("" is Home)."""
    return next(p for p in PAGES if p.url_path == url_path)


def page_path(url_path: str) -> str:
    """The script of the page with this URL path."""
    return spec_at(url_path).path


def walk(comp: Computed) -> list[tuple[str, StepId]]:
    """Every walkthrough step in order, with the page that shows it."""
    return [(page, sid) for page, phases in WALK for sid in comp.phase_ids(phases)]


def step_navigator(page: str, app: AppState, comp: Computed):
    """Prev / jump list / Next over the walkthrough; returns the current step.

    Next and Prev carry on across pages (after the last forward step comes the backward pass, then the update) and
    answer the keyboard: → / PageDown and ← / PageUp (PageDown/PageUp through key-only buttons: one shortcut each).
    Autoplay (``autoplay.py``) walks the same sequence with Next's own move: Play under the row, or in presentation
    mode's row (and Space).
    """
    wt = comp.walkthrough
    phases = dict(WALK)[page]
    ids = comp.phase_ids(phases)
    titles = dict(zip(wt.ids(), wt.titles()))
    number = {sid: n for n, sid in enumerate(ids, start=1)}
    cur = app.steps.get(page)
    if cur not in number:
        cur = app.steps[page] = ids[0]
    sequence = walk(comp)
    here = sequence.index((page, cur))
    moves = {-1: here > 0, +1: here < len(sequence) - 1}
    key = f"nav_{page}_step"
    state.seed_widget(key, cur)
    columns = st.columns(PRESENT_NAV_COLUMNS[app.lang] if app.present else NAV_COLUMNS, vertical_alignment="bottom")
    c_prev, c_sel, c_next = columns[:3]
    for column, delta, label, shortcut in ((c_prev, -1, "◀ " + t("Prev", app.lang), "Left"),
                                            (c_next, +1, t("Next", app.lang) + " ▶", "Right")):
        column.button(label, **state.on_click(f"nav_{page}_{'prev' if delta < 0 else 'next'}", _move, sequence, here,
                                              delta), disabled=not moves[delta], width="stretch", shortcut=shortcut,
                      help=_where(sequence, here, delta, app.lang))
    c_sel.selectbox(t("Step", app.lang), ids, format_func=lambda sid: f"{number[sid]}/{len(ids)} · {titles[sid]}",
                    label_visibility="collapsed" if app.present else "visible",
                    **state.on_widget(key, state.set_step, page))
    if app.present:  # presentation mode's own controls share the row: one row less on a projected screen
        autoplay.play_button(app, columns[3], here=here, length=len(sequence), presenting=True)
        presenter_controls(app, *columns[4:])
    with st.container(key=HIDDEN_KEYS):
        for delta, shortcut in ((-1, "PageUp"), (+1, "PageDown")):
            st.button(shortcut, **state.on_click(f"nav_{page}_{shortcut.lower()}", _move, sequence, here, delta),
                      disabled=not moves[delta], shortcut=shortcut)
        if app.present:
            autoplay.space_key(app, here=here, length=len(sequence))
        autoplay.ticker(app, sequence, here, _move)  # here too: the fragment draws nothing, but takes no gap
    if app.present:  # the toggle's help names the keys; the projected screen keeps the line for the formula
        return wt.step(cur)
    with autoplay.controls(app, here=here, length=len(sequence)), st.container(key="keys_hint"):
        st.caption(t("Keys: → or PageDown for the next step, ← or PageUp for the previous one (after moving a slider, "
                     "click the page first: a slider keeps its arrow keys).", app.lang))
    return wt.step(cur)


def _where(sequence: list[tuple[str, StepId]], here: int, delta: int, lang: str) -> str | None:
    """The tooltip of Prev/Next when it leaves this page."""
    there = here + delta
    if not 0 <= there < len(sequence) or sequence[there][0] == sequence[here][0]:
        return None
    title = t(spec_at(sequence[there][0]).title, lang)  # marked with N_ in PAGES above
    return t("Goes on to the {page} page", lang, page=title)


def _move(sequence: list[tuple[str, StepId]], here: int, delta: int) -> None:
    state.acted()  # a clicker sends PageDown faster than the URL of the last step reaches the browser
    there = min(max(here + delta, 0), len(sequence) - 1)
    page, sid = sequence[there]
    state.set_step(sid, page)
    if page != sequence[here][0]:
        state.go_to_page(page_path(page))


def presenter_controls(app: AppState, lang_column, leave_column, qr_column) -> None:
    """Presentation mode's language switch, its way out (the sidebar is folded away) and its QR code button."""
    other = next(code for code in LANGUAGES if code != app.lang)  # two languages: one click switches
    lang_column.button(LANGUAGE_SHORT[other], **state.on_click("present_lang", state.set_lang, other),
                       icon=":material/translate:", width="stretch",
                       help=t("Show the interface in {language}", app.lang, language=LANGUAGE_NAMES[other]))
    leave_column.button(t("Exit", app.lang), **state.on_click("present_off", state.set_present, False),
                        icon=":material/close_fullscreen:", width="stretch",
                        help=t("Leave presentation mode (the sidebar comes back)", app.lang))
    with qr_column:
        share.qr_button(app, share.url(app), key="present_qr", compact=True)


def counter_navigator(key: str, label: str, n_max: int, app: AppState, default: int = 0) -> int:
    """Prev / slider / Next over 0..n_max, remembered in ``app.options[key]`` (survives page switches)."""
    stored = app.options.get(key, default)
    if isinstance(stored, bool) or not isinstance(stored, int) or not 0 <= stored <= n_max:
        stored = app.options[key] = min(max(int(default), 0), n_max)
    c_prev, c_sel, c_next = st.columns(NAV_COLUMNS, vertical_alignment="bottom")
    c_prev.button("◀ " + t("Prev", app.lang), **state.on_click(f"{key}_prev", state.move_counter, key, -1, n_max),
                  disabled=stored == 0, width="stretch")
    if n_max > 0:
        c_sel.slider(label, 0, n_max, **state.bind_option(app, key, default))
    else:
        c_sel.caption(label)
    c_next.button(t("Next", app.lang) + " ▶", **state.on_click(f"{key}_next", state.move_counter, key, +1, n_max),
                  disabled=stored >= n_max, width="stretch")
    return stored
