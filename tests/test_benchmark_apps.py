"""The apps the cold-load benchmark measures (benchmarks/cold_parts_app.py) still run with bpviz as it is now: a
renamed style block or chart helper would otherwise only show as a benchmark that hangs waiting for a chart."""

from __future__ import annotations

import importlib

import pytest
from streamlit.testing.v1 import AppTest

from .apptest_util import figures, live
from .deploy_util import ROOT  # also puts benchmarks/ on sys.path

PARTS = importlib.import_module("bench_cold").PARTS
APP = ROOT / "benchmarks" / "cold_parts_app.py"


def _run(parts: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["parts"] = parts
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at: AppTest) -> list[dict]:
    return figures(at)


def test_the_floor_is_one_small_chart_and_nothing_else():
    at = _run("")
    (chart,) = _charts(at)
    assert chart["data"][0]["y"] == [1, 3, 2]
    assert not at.sidebar.slider and not at.metric and not at.selectbox


@pytest.mark.parametrize("part", PARTS)
def test_each_part_adds_its_kind_of_element(part):
    at = _run(part)
    shown = {"style": lambda: at.get("html"), "sidebar": lambda: at.sidebar.get("bidi_component"),
             "metrics": lambda: at.metric, "stepper": lambda: at.selectbox, "formula": lambda: at.markdown,
             "network": lambda: [c for c in _charts(at) if len(c["data"]) > 1]}[part]()
    assert shown, part
    assert len(_charts(at)) == 1


def test_the_bare_app_shows_the_w5_its_live_slider_reports():
    """The load test's floor (benchmarks/bare_app.py) answers a live slider's report as the app does."""
    at = AppTest.from_file(str(ROOT / "benchmarks" / "bare_app.py"), default_timeout=60).run()
    assert not at.exception and at.text[-1].value == "w5 = 0.4000"
    live(at, "sb_w_1_0_0").set_value(0.5).run()
    assert not at.exception and at.text[-1].value == "w5 = 0.5000"


def test_the_drag_floor_shows_the_engines_loss_for_its_w5():
    at = AppTest.from_file(str(ROOT / "benchmarks" / "live_floor_app.py"), default_timeout=60).run()
    live(at, "sb_w_1_0_0").set_value(0.5).run()
    assert not at.exception
    assert at.metric[0].value == importlib.import_module("bench_drag").loss_text(0.5)
