"""Helpers for the AppTest page tests: open a page, read every visible text, read the Plotly figures."""

from __future__ import annotations

import base64
import itertools
import json

import numpy as np
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.testing.v1 import AppTest

from bpviz import engine
from bpviz.config import SEED_DOCUMENT

from .conftest import CORPUS

TEXT_ELEMENTS = ("markdown", "latex", "caption", "info", "warning", "success", "title", "header", "subheader")


def open_page(page: str | None = None) -> AppTest:
    """The app from its entry script (paths resolve relative to this file), switched to ``page`` if given."""
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def opened(query: dict[str, str], page: str | None = None) -> AppTest:
    """A new session opening the app with ``query`` in its URL (a share link, a reload), then ``page``."""
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def many_samples(n: int, seed: int = 0) -> dict:
    """The seed's document with ``n`` random samples (inputs in [-1, 1], targets in [0, 1]): too large for a link."""
    rng = np.random.default_rng(seed)
    return {**SEED_DOCUMENT, "inputs": rng.uniform(-1, 1, (n, 2)).tolist(),
            "targets": rng.uniform(0, 1, (n, 2)).tolist()}


def corpus_doc(name: str) -> dict:
    """A scenario document of the fuzz corpus, by file stem."""
    return json.loads((CORPUS / f"{name}.json").read_text())


def texts(at: AppTest) -> str:
    """Everything a user can read: text elements, metric labels and values, table cells."""
    parts: list[str] = []
    for kind in TEXT_ELEMENTS:
        parts += [str(el.value) for el in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for df in [*at.dataframe, *at.table]:
        parts.append(df.value.to_string())
    return "\n".join(parts)


def latex(at: AppTest) -> list[str]:
    """Every formula: st.latex elements, and the step's formula (inline maths in markdown, ``$\\displaystyle …$``)."""
    inline = [el.value.removeprefix("$").removesuffix("$").removeprefix("\\displaystyle ") for el in at.markdown
              if el.value.startswith("$") and el.value.endswith("$")]
    return [el.value for el in at.latex] + inline


def figures(at: AppTest) -> list[dict]:
    """Plotly figure JSON of every chart on the page, in page order: st.plotly_chart's and bpviz's live figures
    (bpviz/ui/live_figure.py). AppTest has no accessor for either."""
    out = []
    for node in at._tree:
        if node.type == "plotly_chart":
            out.append(json.loads(node.proto.spec))
        elif node.type == "bidi_component" and node.proto.component_name == "bpviz_live_figure":
            out.append(json.loads(json.loads(node.proto.json)["figure"]))
    return out


def array(value) -> np.ndarray:
    """A Plotly JSON array as NumPy: a plain list, or Plotly's base64 typed array ``{"dtype", "bdata"[, "shape"]}``."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return out.reshape([int(n) for n in str(shape).split(",")]) if shape else out
    return np.asarray(value)


def trace_named(fig: dict, name: str) -> dict | None:
    return next((tr for tr in fig["data"] if tr.get("name") == name), None)


def highlighted(fig: dict) -> tuple[set[str], set[str]]:
    """Keys of the highlighted neurons and edges of a network figure."""
    nodes = trace_named(fig, "highlighted-nodes") or {}
    edges = trace_named(fig, "highlighted-edges") or {}
    return set(nodes.get("customdata") or []), set(edges.get("customdata") or [])


SIZES_LABEL = "Gradient size per layer"  # the expander on the Backward pass and Network builder pages


def sizes_chart(at) -> dict | None:
    """The gradient-size chart's figure JSON (None when the page shows none)."""
    return next((f for f in figures(at) if any((tr.get("meta") or {}).get("key") == "weight_norm"
                                               for tr in f["data"])), None)


def assert_sizes_chart_is_the_engines(fig: dict, scenario) -> None:
    """The chart's numbers are the engine's arrays: ‖dE_dW[l − 1]‖ and mean |dE_dz[l]| for l = 1 … L."""
    grads = engine.backward(scenario)
    norms = [float(np.sqrt(np.sum(g ** 2))) for g in grads.dE_dW]
    means = [float(np.mean(np.abs(d))) for d in grads.dE_dz[1:]]
    by_key = {tr["meta"]["key"]: tr for tr in fig["data"]}
    assert by_key["weight_norm"]["x"] == list(range(1, scenario.n_layers + 1))
    np.testing.assert_allclose(by_key["weight_norm"]["y"], norms, rtol=1e-12, atol=0)
    np.testing.assert_allclose(by_key["delta_mean"]["y"], means, rtol=1e-12, atol=0)
    assert fig["layout"]["yaxis"]["type"] == "log"


def assert_clean(at: AppTest) -> None:
    """No exception element and no error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


_nonces = itertools.count(1)
REPORTS = "_bpviz_live_reports"  # on an AppTest: key -> the last report each live slider sent, as the browser keeps


class LiveSlider:
    """A live slider (bpviz/ui/live_slider.py) in an AppTest run, found by key.

    AppTest has no accessor for ``st.components.v2`` widgets: this reads the data the component was drawn with and
    sends what the browser half sends, ``{"move": {"v": value, "n": nonce}}``, as the widget's JSON state. Like the
    browser, the AppTest keeps every live slider's last report and sends it again with every later run."""

    def __init__(self, at: AppTest, key: str) -> None:
        found = [el for el in at.get("bidi_component") if el.proto.component_name == "bpviz_live_slider"
                 and json.loads(el.proto.json)["key"] == key]
        assert len(found) == 1, f"{len(found)} live sliders with key {key!r}"
        self.at, self.key, self.data = at, key, json.loads(found[0].proto.json)

    value = property(lambda self: self.data["value"])
    min = property(lambda self: self.data["min"])
    max = property(lambda self: self.data["max"])
    label = property(lambda self: self.data["label"])

    def set_value(self, v: object) -> LiveSlider:
        """Report ``v`` (any JSON value, to test what the server does with a bad one) with the next run."""
        return self.send({"v": v, "n": next(_nonces)})

    def send(self, report: object) -> LiveSlider:
        reports(self.at)[self.key] = report
        return self

    def run(self) -> AppTest:
        self.at._run(widget_states(self.at))
        return self.at


def reports(at: AppTest) -> dict[str, object]:
    """The reports the AppTest's live sliders sent last (the browser's copy of their state)."""
    if not hasattr(at, REPORTS):
        setattr(at, REPORTS, {})
    return getattr(at, REPORTS)


def widget_states(at: AppTest, live_reports: dict[str, object] | None = None) -> WidgetStates:
    """What the browser sends with a run: every widget's value, with ``live_reports`` (default: the AppTest's own)
    for the live sliders drawn last run."""
    states = at._tree.get_widget_states()
    live_reports = reports(at) if live_reports is None else live_reports
    for el in at.get("bidi_component"):
        key = json.loads(el.proto.json).get("key")
        if el.proto.component_name == "bpviz_live_slider" and key in live_reports:
            states.widgets.append(WidgetState(id=el.proto.id, json_value=json.dumps({"move": live_reports[key]})))
    return states


def live(at: AppTest, key: str) -> LiveSlider:
    """The live slider with this key (``sb_w_1_0_0``: w5 in the sidebar; ``focus_sb_w_1_0_0`` beside the formula)."""
    return LiveSlider(at, key)
