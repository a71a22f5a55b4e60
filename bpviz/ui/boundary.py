"""The page frame: ``app.py``'s set-up (page config, styles, navigation) and :func:`run_page`, the error boundary
every page runs inside (sidebar, computation and the page body; an unexpected error becomes a short message)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from ..config import ScenarioError, clip
from ..i18n import pick_language, t
from . import link, live_slider, navigation, nodelay, notice, state
from .computed import Computed, compute
from .sidebar import sidebar
from .state import AppState

# Static CSS only (no user text). Less empty space above the content, so graph and formula fit on 1280×800; the
# step's formula is inline maths (KaTeX breaks it after = + ·) in a box that scrolls sideways only for what cannot
# break (an aligned block); the key-only buttons are hidden.
STYLE = ("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem;padding-bottom:2rem}"
         ".katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:4px}"
         ".st-key-formula [data-testid='stMarkdownContainer']{overflow-x:auto;overflow-y:hidden;"
         "padding-bottom:4px}"
         ".st-key-formula .katex{font-size:1.45em}"
         ".st-key-nav_hidden_keys{display:none}"
         # a number never ends in "…": a metric too wide for its column scrolls sideways (Streamlit cuts it off)
         "[data-testid='stMetricValue']>div{text-overflow:clip;overflow-x:auto;overflow-y:hidden}"
         + notice.STYLE + "</style>")
# Presentation mode: type for the back of a lecture hall (the formula ≥ 28 px at 1280 px wide, ≥ 40 px at 1920,
# text ≥ 22 px), and less padding so the formula and the graph share one 1280×800 screen.
MAIN = "[data-testid='stMainBlockContainer']"
HEADER_REM = 4.0  # Streamlit's top bar (the sidebar's ">>" button) ends 63.75 px down and covers what is under it
PRESENT_STYLE = ("<style>"
                 f"{MAIN}{{padding-top:{HEADER_REM}rem;padding-left:2rem;padding-right:2rem}}"
                 f"{MAIN} [data-testid='stMarkdownContainer'] p,{MAIN} [data-testid='stMarkdownContainer'] li,"
                 f"{MAIN} [data-testid='stCaptionContainer'],{MAIN} [data-testid='stWidgetLabel'] p,"
                 f"{MAIN} [data-testid='stAlertContentInfo'] p,{MAIN} button p,"
                 f"{MAIN} [data-testid='stSelectbox'] input{{font-size:24px;line-height:1.35}}"
                 f"{MAIN} h3{{font-size:30px;padding:0}} {MAIN} h4{{font-size:28px;padding:0.2rem 0}}"
                 f"{MAIN} [data-testid='stMetricValue']{{font-size:40px}}"
                 f"{MAIN} [data-testid='stMetricLabel'] p{{font-size:22px}}"
                 ".st-key-formula .katex{font-size:clamp(28px,2.15vw,46px)}"
                 "</style>")
ERROR_DETAIL_CHARS = 200

nodelay.enable()  # `streamlit run app.py` without Nagle's 40 ms per rerun, from the second connection on


def main() -> None:
    """The entry script's work (``app.py``): page config, styles, the state (from the URL when a session starts), the
    page list; then the page; then the URL follows what is shown (a share link at every moment)."""
    browser = pick_language(st.context.locale)  # a link without lang opens in the reader's language
    app = state.open_link(partial(link.from_query, default_lang=browser))
    # before st.navigation: after it, the page's own icon (":material/home:") became the favicon first, fetched
    # from Google's font server, which a classroom without internet cannot reach
    st.set_page_config(page_title="bpviz", page_icon="🧠", layout="wide",
                       initial_sidebar_state="collapsed" if app.present else "auto")
    st.html(STYLE)
    page = navigation.navigation(app.lang)
    title = t(navigation.spec_at(page.url_path).title, app.lang)  # marked with N_ in navigation.PAGES
    st.set_page_config(page_title=f"bpviz · {title}")
    target = state.take_goto()  # Next across pages (a callback cannot switch pages itself)
    if target is not None:
        st.switch_page(target)
    app.page = page.url_path
    page.run()
    state.adopt_held()
    state.write_link(link.to_query(state.get(), default_lang=browser))
    live_slider.run_done()


def _link_problems(app: AppState) -> None:
    """What the opened link could not use, once, where the eye is (the link's own text shown as plain text)."""
    if not app.link_problems:
        return
    with st.container(key="link_problems"):
        st.warning(t("This link could not be used entirely:", app.lang))
        for problem in app.link_problems:
            st.text(problem)
        st.button(t("OK", app.lang), **state.on_click("link_problems_ok", state.dismiss_link_problems))


def run_page(body: Callable[[AppState, Computed], None]) -> None:
    """Run a page: sidebar, the computed trace, then ``body(app, comp)``.

    An unexpected error becomes a short message with a way out, never a traceback.
    """
    app = state.get()
    try:
        if app.present:
            st.html(PRESENT_STYLE)
        sidebar(app)
        _link_problems(app)
        body(app, compute(app))
    except Exception as exc:  # the error boundary: no traceback reaches a user
        st.error(t("Something went wrong on this page. Your scenario is kept: try Undo in the sidebar, or Reset to "
                   "seed, or start again from the worked example with the button below.", app.lang))
        # the exception's text may quote the user's input: plain text, one line, clipped
        detail = exc.text(app.lang) if isinstance(exc, ScenarioError) else str(exc)
        notice.plain_box("page_error", f"{type(exc).__name__}: {clip(detail, ERROR_DETAIL_CHARS)}")
        st.button(t("Start again from the worked example", app.lang),
                  **state.on_click("error_reset", state.reset_everything))
