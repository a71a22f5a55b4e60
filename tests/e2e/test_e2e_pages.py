"""End-to-end: the real app in real Chromium, driven like a student would (sidebar links, keyboard, uploads).

Expected numbers come from bpviz.engine / bpviz.figures on the same scenario, never from the page itself. Each test
opens its own browser context, hence its own Streamlit session starting from the seed example. The page-visit test
also writes the screenshots in assets/ (``<url path>_<width>.png``, ``home_<width>.png`` for the root).
"""

from __future__ import annotations

import copy
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from bpviz import engine
from bpviz.config import SEED_DOCUMENT, load_json, preset, preset_names
from bpviz.figures.network import network_figure
from bpviz.ids import Phase
from bpviz.ui.navigation import PAGES as NAV_PAGES
from bpviz.walkthrough import build_walkthrough

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
MAX_PNG_BYTES = 400_000


# (url path, title) of every page in the app's one page list; "" is the root (Home)
PAGES = [(p.url_path, p.title) for p in NAV_PAGES]
SIZES = [(1280, 800), (1920, 1080)]

# Streamlit's frontend, opened on a deep link such as /forward, first probes /forward/_stcore/health and
# /forward/_stcore/host-config (404) before finding the server at the root. Exactly these are filtered out.
PROBE_404 = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def f4(x: float) -> str:
    """A number as the app shows it with 4 decimals."""
    return f"{x:.4f}"


# ---------------------------------------------------------------- waiting and reading


_SIGNATURE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebar"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return {
    state: app ? app.getAttribute('data-test-script-state') : 'none',
    status: document.querySelectorAll('[data-testid="stStatusWidget"]').length,
    stale: document.querySelectorAll('[data-stale="true"]').length,
    chartsPending: charts.filter(c => !c.querySelector('.main-svg')).length,
    charts: charts.length,
    text: (main ? main.innerText : '') + '|' + (side ? side.innerText : ''),
  };
}"""


def settle(page, timeout: float = 60.0) -> None:
    """Wait until the script run has finished (no running status), nothing is stale, every chart is drawn and the
    page has stopped changing for three polls in a row."""
    deadline = time.monotonic() + timeout
    last, stable = None, 0
    while time.monotonic() < deadline:
        sig = page.evaluate(_SIGNATURE)
        busy = sig["state"] != "notRunning" or sig["status"] or sig["stale"] or sig["chartsPending"]
        if busy or sig != last:
            stable = 0
        else:
            stable += 1
            if stable >= 3:
                return
        last = sig
        page.wait_for_timeout(150)
    busy = {k: v for k, v in (last or {}).items() if k != "text"}
    raise AssertionError(f"the page did not settle within {timeout} s: {busy}")


def wait_for(page, predicate, what: str, timeout: float = 30.0):
    """Poll ``predicate()`` until it is truthy; fail saying ``what`` was expected."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(150)
    raise AssertionError(f"timed out waiting for {what} (last: {value!r})")


def open_app(page, server_url: str) -> None:
    page.goto(server_url + "/")
    wait_for(page, lambda: page.title() == "bpviz · Home", "the home page", timeout=60)
    settle(page)


def nav_link(page, path: str):
    return page.locator(f'[data-testid="stSidebar"] a[data-testid="stSidebarNavLink"][href$="/{path}"]')


def go(page, server_url: str, path: str, title: str) -> None:
    """Click the page's link in the sidebar's page list and wait until the page has settled."""
    nav_link(page, path).click()
    page.wait_for_url(f"{server_url}/{path}")
    wait_for(page, lambda: page.title() == f"bpviz · {title}", f"the page {title!r}")
    settle(page)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def metrics(page, where: str = '[data-testid="stMain"]') -> dict[str, str]:
    """label -> shown value of every st.metric."""
    return page.evaluate("""(where) => Object.fromEntries([...document.querySelectorAll(
        where + ' [data-testid="stMetric"]')].map(m => [
          m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
          m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))""", where)


def katex(page) -> list[str]:
    """Rendered formulas as the reader sees them (KaTeX's HTML half, zero-width spaces removed)."""
    return [t.replace("\u200b", "") for t in
            page.eval_on_selector_all('[data-testid="stMain"] .katex-html', "els => els.map(e => e.textContent)")]


def annotations(page, chart_key: str) -> dict[str, float]:
    """Text -> opacity of every annotation drawn in the SVG of the chart with this widget key."""
    pairs = page.eval_on_selector_all(
        f".st-key-{chart_key} .js-plotly-plot g.annotation",
        "els => els.map(e => [e.textContent, parseFloat(getComputedStyle(e).opacity)])")
    return dict(pairs)


def figure_meta(page, chart_key: str) -> dict:
    """``layout.meta`` of the Plotly figure the browser is showing."""
    return page.evaluate(f"() => document.querySelector('.st-key-{chart_key} .js-plotly-plot').layout.meta")


def slider_text(page, key: str) -> str:
    return page.locator(f".st-key-{key} input[type=range]").get_attribute("aria-valuetext")


def table_text(page, table) -> str:
    """Text of an st.dataframe (its grid is drawn on a canvas; the accessible copy exists only once it is on screen)."""
    table.scroll_into_view_if_needed()
    return wait_for(page, lambda: table.text_content(), "the table's cells")


def scroll_to_top(page) -> None:
    page.evaluate("""() => { for (const el of document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]'))
        el.scrollTo(0, 0); window.scrollTo(0, 0); }""")


def real_console_errors(page, server_url: str) -> list[tuple[str, str]]:
    probes = {f"{server_url}/{p}/_stcore/{what}" for p, _ in PAGES if p for what in ("health", "host-config")}
    return [(text, url) for text, url in page.console_errors if not (text == PROBE_404 and url in probes)]


def assert_healthy(page, server_url: str) -> None:
    """No exception box, no error alert, no console error (other than the deep-link probes), nothing fetched from
    another host."""
    where = page.url
    assert page.locator('[data-testid="stException"]').count() == 0, (
        where, page.locator('[data-testid="stException"]').all_inner_texts())
    errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    assert errors == [], (where, errors)
    assert real_console_errors(page, server_url) == [], where
    assert page.external_requests == [], where


def screenshot(page, name: str) -> Path:
    """The viewport as a projector shows it, mouse parked in the header (no hover labels), under MAX_PNG_BYTES."""
    page.mouse.move(page.viewport_size["width"] // 2, 2)
    page.wait_for_timeout(300)
    data = page.screenshot(animations="disabled", caret="hide")
    if len(data) > MAX_PNG_BYTES:  # palette PNG: UI colours survive, size drops ~3x
        from PIL import Image

        img = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
    assert len(data) <= MAX_PNG_BYTES, (name, len(data))
    ASSETS.mkdir(exist_ok=True)
    path = ASSETS / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- per-page expectations (seed example)

SEED = preset("seed")
SEED_TRACE = engine.forward(SEED)
SEED_GRADS = engine.backward(SEED, SEED_TRACE)
OUT_O1, OUT_O2 = (f4(v) for v in SEED_TRACE.outputs[0])  # 0.7514, 0.7729
E_TOTAL = f4(SEED_TRACE.loss)  # 0.2984
NET_H1 = f4(SEED_TRACE.z[1][0, 0])  # 0.3775
DE_DW5 = f4(SEED_GRADS.dE_dW[1][0, 0])  # 0.0822
W5_AFTER = f4(engine.step(SEED).after.weights[1][0, 0])  # 0.3589


def test_seed_reference_values_are_the_worked_example():
    """The expectations below are the worked example's published numbers (guards the test's own arithmetic)."""
    assert (OUT_O1, OUT_O2, E_TOTAL, NET_H1, DE_DW5, W5_AFTER) == (
        "0.7514", "0.7729", "0.2984", "0.3775", "0.0822", "0.3589")


def check_home(page) -> None:
    m = metrics(page)
    assert (m["out o1"], m["out o2"], m["E total"]) == (OUT_O1, OUT_O2, E_TOTAL), m
    assert page.locator(".st-key-home_graph .main-svg").count() >= 1


def check_forward(page) -> None:
    m = metrics(page)
    assert (m["out o1"], m["out o2"], m["E total"]) == (OUT_O1, OUT_O2, E_TOTAL), m
    assert any(NET_H1 in f for f in katex(page)), katex(page)  # first step: net_h1 = ... = 0.3775
    labels = annotations(page, "forward_graph")
    assert f"E_total = {E_TOTAL}" in labels, labels
    assert f"net {NET_H1}" in page.locator(".st-key-forward_graph").inner_text()


def check_backward(page) -> None:
    assert any(f.endswith(f"={DE_DW5}") for f in katex(page)), katex(page)
    assert f"∂E/∂w5{DE_DW5}" in annotations(page, "backward_graph")


def check_update(page) -> None:
    assert any(f.endswith(f"={W5_AFTER}") for f in katex(page)), katex(page)
    assert W5_AFTER in table_text(page, page.locator('[data-testid="stDataFrame"]').first)


def check_builder(page) -> None:
    for name in preset_names():
        button = page.locator(f".st-key-bld_preset_{name} button")
        assert button.is_visible(), name
        assert button.inner_text().strip() == name
    assert page.locator(".st-key-builder_graph .main-svg").count() >= 1


def check_graph(page) -> None:
    chart = page.locator(".st-key-compgraph_chart .js-plotly-plot")
    assert chart.locator(".main-svg").count() >= 1
    assert page.evaluate("() => document.querySelector('.st-key-compgraph_chart .js-plotly-plot').data.length") > 0
    assert E_TOTAL in chart.inner_text()  # the loss node carries E's value


def check_matrix(page) -> None:
    assert any(DE_DW5 in f for f in katex(page)), katex(page)


def check_training(page) -> None:
    assert page.locator(".st-key-train_loss").count() == 0  # nothing trained yet
    # the XOR 2-4-1 example from the sidebar's Example box: the classic problem, trained to a visible boundary
    page.locator(".st-key-sb_preset").click()
    page.get_by_role("option", name="xor_2_4_1", exact=True).click()
    page.wait_for_selector(".st-key-train_boundary_now .main-svg", timeout=60_000)  # 4 points over the plane
    settle(page)
    start = engine.forward(preset("xor_2_4_1")).loss
    page.locator(".st-key-train_run button").click()
    page.wait_for_selector(".st-key-train_loss .main-svg", timeout=60_000)
    page.wait_for_selector(".st-key-train_boundary .main-svg", timeout=60_000)
    settle(page)
    curve = page.locator(".st-key-train_loss .js-plotly-plot")
    assert "E over 1,000 steps" in curve.inner_text()
    points = page.evaluate("""() => document.querySelector('.st-key-train_loss .js-plotly-plot')._fullData
        .filter(t => t.name === 'loss').map(t => t._length)""")
    assert points and points[0] > 10, points  # a curve, not a dot
    m = metrics(page)
    assert m["Steps run"] == "1,000" and m["E at start"] == f4(start), m
    assert float(m["E at the end"]) < 0.1 * float(m["E at start"]), m  # XOR learned, not stuck


def check_conventions(page) -> None:
    assert page.locator('[data-testid="stDataFrame"]').count() == 2  # this scenario's conventions; gradient check
    tables = page.locator('[data-testid="stTable"]')  # the reference card and the losses in PyTorch's terms
    assert tables.count() == 2
    reference = tables.filter(has_text="published")  # a static table, agreement first
    assert reference.count() == 1
    assert tables.filter(has_text="BCEWithLogitsLoss").count() == 1  # bce, in PyTorch terms
    reference.scroll_into_view_if_needed()
    agree = wait_for(page, lambda: reference.text_content().count("✓"), "✓ marks in the reference card")
    assert "✗" not in reference.text_content()
    assert agree >= 5


CHECKS = {"Home": check_home, "Forward pass": check_forward, "Backward pass": check_backward, "Update": check_update,
          "Network builder": check_builder, "Computational graph": check_graph, "Matrix view": check_matrix,
          "Training": check_training, "Conventions and checks": check_conventions}


def test_every_page_has_a_check():
    assert {title for _, title in PAGES} == set(CHECKS)


# ---------------------------------------------------------------- 1 + 5: every page, by its sidebar link


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_page_by_its_sidebar_link(page_factory, server_url, width, height):
    page = page_factory(width, height)
    open_app(page, server_url)
    for path, title in PAGES:
        if path:
            go(page, server_url, path, title)
        assert_healthy(page, server_url)
        CHECKS[title](page)
        settle(page)
        scroll_to_top(page)
        assert_healthy(page, server_url)
        screenshot(page, f"{path or 'home'}_{width}.png")


# ---------------------------------------------------------------- 2: a slider moved by keyboard


def test_slider_by_keyboard_updates_numbers_and_graph(page_factory, server_url):
    page = page_factory(1280, 800)
    open_app(page, server_url)
    go(page, server_url, "backward", "Backward pass")
    assert slider_text(page, "sb_w_1_0_0") == "0.4000"
    before = annotations(page, "backward_graph")
    thumb = page.locator(".st-key-sb_w_1_0_0 input[type=range]")
    for n in (1, 2, 3):
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_for(page, lambda n=n: slider_text(page, "sb_w_1_0_0") == f4(0.40 + 0.01 * n), f"w5 = {0.40 + 0.01 * n}")
        settle(page)
    w5 = 0.43
    W = [w.copy() for w in SEED.weights]
    W[1][0, 0] = w5
    moved = SEED.with_parameters(W, list(SEED.biases))
    trace = engine.forward(moved)
    grads = engine.backward(moved, trace)
    g5, loss = f4(grads.dE_dW[1][0, 0]), f4(trace.loss)
    assert (g5, loss) != (DE_DW5, E_TOTAL)  # the move is big enough to show at 4 decimals

    wait_for(page, lambda: metrics(page).get("E total") == loss, f"E total = {loss}")
    settle(page)
    assert any(f.endswith(f"={g5}") for f in katex(page)), katex(page)
    after = annotations(page, "backward_graph")
    assert f"∂E/∂w5{g5}" in after and f"∂E/∂w5{DE_DW5}" in before, (before, after)
    assert f"E_total = {loss}" in after
    # the same state on the forward page: the w5 edge label and the outputs
    go(page, server_url, "forward", "Forward pass")
    assert f"w5{f4(w5)}" in annotations(page, "forward_graph")
    assert metrics(page)["out o1"] == f4(trace.outputs[0, 0])
    assert slider_text(page, "sb_w_1_0_0") == f4(w5)
    assert_healthy(page, server_url)


# ---------------------------------------------------------------- 3: Prev / Next on the forward page


def _forward_expectations() -> list[tuple[str, list[str]]]:
    """(value at the end of the formula, highlighted neurons) of the first two forward steps, from the library."""
    wt = build_walkthrough(SEED, SEED_TRACE, SEED_GRADS)
    idx = wt.indices((Phase.FORWARD, Phase.LOSS))[:2]
    out = []
    for i in idx:
        meta = network_figure(SEED, SEED_TRACE, SEED_GRADS, wt[i]).layout.meta
        out.append((wt[i].latex_numeric.rsplit("=", 1)[-1].strip(), list(meta["highlighted_nodes"])))
    return out


def test_prev_next_change_formula_and_highlight(page_factory, server_url):
    page = page_factory(1280, 800)
    open_app(page, server_url)
    go(page, server_url, "forward", "Forward pass")
    (v1, nodes1), (v2, nodes2) = _forward_expectations()
    assert (v1, v2) == (NET_H1, f4(SEED_TRACE.a[1][0, 0]))  # net_h1, then out_h1

    def state():
        formulas = katex(page)
        return (formulas[0].split("=", 1)[0], formulas[1].rsplit("=", 1)[-1],
                figure_meta(page, "forward_graph")["highlighted_nodes"], annotations(page, "forward_graph"))

    lhs1, value, nodes, labels = state()
    assert (value, nodes) == (v1, nodes1)
    assert labels["w10.1500"] == 1.0 and labels["w30.2500"] < 1.0  # w1 (into h1) highlighted, w3 dimmed
    assert page.locator(".st-key-nav_forward_prev button").is_disabled()

    page.locator(".st-key-nav_forward_next button").click()
    wait_for(page, lambda: katex(page) and katex(page)[1].endswith(v2), "the second step's formula")
    settle(page)
    lhs2, value, nodes, labels = state()
    assert (value, nodes) == (v2, nodes2)
    assert lhs2 != lhs1 and "out" in lhs2 and "net" in lhs1, (lhs1, lhs2)
    assert labels["w10.1500"] < 1.0  # the activation step highlights no edge
    assert not page.locator(".st-key-nav_forward_prev button").is_disabled()

    page.locator(".st-key-nav_forward_prev button").click()
    wait_for(page, lambda: katex(page) and katex(page)[1].endswith(v1), "the first step's formula again")
    settle(page)
    assert state()[:3] == (lhs1, v1, nodes1)
    assert_healthy(page, server_url)


# ---------------------------------------------------------------- 4: scenario upload, invalid then valid


def test_upload_invalid_then_valid_scenario(page_factory, server_url, tmp_path):
    page = page_factory(1280, 800)
    open_app(page, server_url)
    file_input = page.locator(".st-key-sb_upload input[type=file]")

    bad = copy.deepcopy(SEED_DOCUMENT)
    bad["weights"][1][0][1] = "abc"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    file_input.set_input_files(str(tmp_path / "bad.json"))
    warning = page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentWarning"]')
    warning.wait_for(timeout=30_000)
    settle(page)
    text = warning.inner_text()
    assert 'weights[1][0][1]: expected a finite number, got "abc"' in text and "bad.json" in text, text
    m = metrics(page)
    assert (m["out o1"], m["out o2"], m["E total"]) == (OUT_O1, OUT_O2, E_TOTAL), m
    assert slider_text(page, "sb_w_1_0_1") == "0.4500"
    assert_healthy(page, server_url)

    good = copy.deepcopy(SEED_DOCUMENT)
    good["inputs"] = [0.3, 0.6]
    good["weights"][1][0][1] = -0.2
    (tmp_path / "good.json").write_text(json.dumps(good))
    expected = engine.forward(load_json(json.dumps(good)))
    file_input.set_input_files(str(tmp_path / "good.json"))
    wait_for(page, lambda: metrics(page).get("E total") == f4(expected.loss), "the uploaded scenario's loss")
    settle(page)
    m = metrics(page)
    assert (m["out o1"], m["out o2"]) == tuple(f4(v) for v in expected.outputs[0]), m
    assert not np.isclose(expected.loss, SEED_TRACE.loss)
    assert (slider_text(page, "sb_x_0_0"), slider_text(page, "sb_x_0_1")) == ("0.3000", "0.6000")
    assert slider_text(page, "sb_w_1_0_1") == "-0.2000"
    assert warning.count() == 0
    assert re.search(r"E_total = " + re.escape(f4(expected.loss)), " ".join(annotations(page, "home_graph")))
    assert_healthy(page, server_url)


def test_download_scenario_and_worked_solution(page_factory, server_url, tmp_path):
    """The sidebar's downloads: the scenario JSON round-trips through the validator; the handout has every step."""
    page = page_factory(1280, 800)
    open_app(page, server_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Scenario file (JSON)").click()
    with page.expect_download() as info:
        page.locator(".st-key-sb_download button").click()
    scenario = load_json(Path(info.value.path()).read_bytes())
    assert scenario.to_dict() == SEED_DOCUMENT
    sidebar.get_by_text("Worked solution (handout)").click()
    page.locator(".st-key-sb_handout_prepare").get_by_role("button", name="Prepare the worked solution").click()
    page.locator(".st-key-sb_handout_md button").wait_for(timeout=30_000)
    with page.expect_download() as info:
        page.locator(".st-key-sb_handout_md button").click()
    handout = Path(info.value.path()).read_text()
    for number in ("0.3775", "0.5933", "0.7514", "0.2984", "0.0822", "0.3589"):
        assert number in handout, number
    assert_healthy(page, server_url)
