"""The page frame: ``app.py``'s set-up (page config, styles, navigation) and :func:`run_page`, the error boundary
every page runs inside (sidebar, computation and the page body; an unexpected error becomes a short message)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ..i18n import t
from . import link, navigation, state
from .computed import Computed, compute
from .sidebar import sidebar
from .state import AppState

# static CSS only (no user text): less empty space above the content, so graph and formula fit on 1280×800,
# and a long formula scrolls sideways instead of being cut off at the column's edge
STYLE = ("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem;padding-bottom:2rem}"
         ".katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:4px}"
         ".st-key-nav_hidden_keys{display:none}</style>")
ERROR_DETAIL_CHARS = 200


def main() -> None:
    """The entry script's work (``app.py``): page config, styles, the state (from the URL when a session starts), the
    page list; then the page; then the URL follows what is shown (a share link at every moment)."""
    st.set_page_config(page_title="bpviz", page_icon="🧠", layout="wide")
    st.html(STYLE)
    app = state.open_link(link.from_query)
    page = navigation.navigation(app.lang)
    if app.goto is not None:
        target, app.goto = app.goto, None
        st.switch_page(target)
    app.page = page.url_path
    page.run()
    state.write_link(link.to_query(state.get()))


def _link_problems(app: AppState) -> None:
    """What the opened link could not use, once, where the eye is (the link's own text shown as plain text)."""
    if not app.link_problems:
        return
    with st.container(key="link_problems"):
        st.warning(t("This link could not be used entirely:", app.lang))
        for problem in app.link_problems:
            st.text(problem)
        st.button(t("OK", app.lang), key="link_problems_ok", on_click=state.dismiss_link_problems)


def run_page(script: str, body: Callable[[AppState, Computed], None]) -> None:
    """Run a page (``script`` is the view's ``__file__``): sidebar, the computed trace, then ``body(app, comp)``.

    An unexpected error becomes a short message with a way out, never a traceback.
    """
    app = state.get()
    spec = navigation.spec_of(script)
    st.set_page_config(page_title=f"bpviz · {t(spec.title, app.lang)}")
    try:
        sidebar(app)
        _link_problems(app)
        body(app, compute(app))
    except Exception as exc:  # the error boundary: no traceback reaches a user
        st.error(t(
            "Something went wrong on this page ({kind}: {what}). Your scenario is kept: try Undo in the sidebar, or "
            "Reset to seed, or start again from the worked example with the button below.", app.lang,
            kind=type(exc).__name__, what=str(exc)[:ERROR_DETAIL_CHARS]))
        st.button(t("Start again from the worked example", app.lang), on_click=state.reset_everything,
                  key="error_reset")
