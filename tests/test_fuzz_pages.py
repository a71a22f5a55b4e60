"""Fuzzing the pages: extreme valid scenarios opened as share links on every page (AppTest).

Each scenario reaches the page as a student's would: a link carrying it (and, on a walkthrough page, one of its
steps) opened in the session. Checked on every page and every scenario: no exception, no error box, no raw
"inf"/"nan" in any text, table or figure, and "overflow"/"undefined" only on a page that explains it (names
float64) in words. One AppTest session per page, reused (the link changes under it, as back/forward would), so
SymPy builds each of the fixed architectures' forms once.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from bpviz.config import validate
from bpviz.engine import backward, forward
from bpviz.numbers import OVERFLOW, UNDEFINED
from bpviz.ui import link
from bpviz.ui.link import PAGE_OF_PHASE
from bpviz.ui.navigation import PAGES
from bpviz.ui.state import AppState
from bpviz.walkthrough import build_walkthrough

from .apptest_util import TEXT_ELEMENTS, figures
from .strategies import extreme_documents, fixed_architectures
from .test_fuzz import EXPLAINED, RAW_NON_FINITE, strings

SCENARIOS_PER_PAGE = 200
_SESSIONS: dict[str, AppTest] = {}


def session(page: str) -> AppTest:
    """One AppTest session per page, opened once and kept for every scenario of that page."""
    if page not in _SESSIONS:
        at = AppTest.from_file("../app.py", default_timeout=120)
        at.run()
        if page:
            at.switch_page(page).run()
        _SESSIONS[page] = at
    return _SESSIONS[page]


def page_texts(at: AppTest) -> list[str]:
    """Every text a user can read on the page, table cells and figure texts/hovers included."""
    parts = [str(el.value) for kind in TEXT_ELEMENTS for el in at.get(kind)]
    parts += [str(el.value) for el in at.get("exception")]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [df.value.to_string() for df in [*at.dataframe, *at.table]]
    parts += [s for fig in figures(at) for s in strings(_without_binary([fig.get("data"), fig.get("layout")]))]
    if not all(np.isfinite(x).all() for fig in figures(at) for x in _binary_arrays(fig)):
        parts.append("a chart's data: inf")  # a number Plotly would not draw, caught below like any other
    return parts


def _without_binary(value):
    """The figure JSON without its base64 arrays (``{"dtype": "f8", "bdata": "..."}``), which are not text."""
    if isinstance(value, dict):
        return {k: _without_binary(v) for k, v in value.items() if k != "bdata"}
    if isinstance(value, list):
        return [_without_binary(v) for v in value]
    return value


def _binary_arrays(value) -> list[np.ndarray]:
    """Every base64 float array in a figure's JSON, decoded."""
    if isinstance(value, dict):
        if "bdata" in value and str(value.get("dtype", "")).startswith("f"):
            return [np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])]
        return [a for v in value.values() for a in _binary_arrays(v)]
    if isinstance(value, list):
        return [a for v in value for a in _binary_arrays(v)]
    return []


def query_for(doc: dict, page_url: str, pick: int) -> dict[str, str]:
    """The link to ``doc`` with, on a walkthrough page, the ``pick``-th of that page's steps chosen."""
    scenario = validate(doc)
    app = AppState(scenario=scenario)
    if page_url in set(PAGE_OF_PHASE.values()):
        trace = forward(scenario)
        wt = build_walkthrough(scenario, trace, backward(scenario, trace))
        mine = [sid for sid in wt.ids() if PAGE_OF_PHASE[sid.phase] == page_url]
        app.steps[page_url] = mine[pick % len(mine)]
    return link.to_query(app)


def check_page(at: AppTest, doc: dict, query: dict[str, str]) -> None:
    at.query_params.clear()
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception][:1]
    assert not at.error, [e.value for e in at.error][:1]
    assert at.session_state["bpviz_app"].scenario.to_dict() == validate(doc).to_dict()  # the link was opened
    shown = page_texts(at)
    raw = [x for x in shown if RAW_NON_FINITE.search(x)]
    assert not raw, raw[0][:300]
    if any(OVERFLOW in x or UNDEFINED in x for x in shown):
        assert any(EXPLAINED in x for x in shown), "overflow shown without the float64 explanation"


@pytest.mark.parametrize("page", [p.path for p in PAGES], ids=[p.url_path or "home" for p in PAGES])
def test_extreme_scenarios_on_every_page(page):
    url = next(p.url_path for p in PAGES if p.path == page)

    @settings(max_examples=SCENARIOS_PER_PAGE, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(extreme_documents(architectures=fixed_architectures()), st.integers(0, 1000))
    def run(doc, pick):
        check_page(session(page), doc, query_for(doc, url, pick))

    run()
