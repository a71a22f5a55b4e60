"""The apps the cold-load benchmark measures (benchmarks/cold_parts_app.py) still run with bpviz as it is now: a
renamed style block or chart helper would otherwise only show as a benchmark that hangs waiting for a chart."""

from __future__ import annotations

import importlib
import json

import pytest
from streamlit.testing.v1 import AppTest

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
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def test_the_floor_is_one_small_chart_and_nothing_else():
    at = _run("")
    (chart,) = _charts(at)
    assert chart["data"][0]["y"] == [1, 3, 2]
    assert not at.sidebar.slider and not at.metric and not at.selectbox


@pytest.mark.parametrize("part", PARTS)
def test_each_part_adds_its_kind_of_element(part):
    at = _run(part)
    shown = {"style": lambda: at.get("html"), "sidebar": lambda: at.sidebar.slider, "metrics": lambda: at.metric,
             "stepper": lambda: at.selectbox, "formula": lambda: at.markdown,
             "network": lambda: [c for c in _charts(at) if len(c["data"]) > 1]}[part]()
    assert shown, part
    assert len(_charts(at)) == 1
