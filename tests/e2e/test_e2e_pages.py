"""End-to-end: the real app in real Chromium, driven like a student would (sidebar links, keyboard, uploads).

Expected numbers come from bpviz.engine / bpviz.figures on the same scenario, never from the page itself. Each test
opens its own browser context, hence its own Streamlit session starting from the seed example. The page-visit test
also writes the screenshots in assets/ (``<url path>_<width>.png``, ``home_<width>.png`` for the root).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from bpviz import engine, export
from bpviz.config import SEED_DOCUMENT, load_json, preset, preset_names
from bpviz.figures.network import network_figure
from bpviz.gradient_sizes import RELU_HE, VANISHING, gradient_sizes
from bpviz.ids import Phase
from bpviz.ui.sidebar import TORCH_DOWNLOAD
from bpviz.walkthrough import build_walkthrough

from .browser import (
    PAGES,
    SEED,
    SEED_GRADS,
    SEED_TRACE,
    SIZES,
    annotations,
    assert_healthy,
    f4,
    figure_meta,
    go,
    katex,
    main_text,
    metrics,
    metrics_shown,
    open_app,
    screenshot,
    scroll_to_top,
    settle,
    slider_text,
    slider_thumb,
    table_text,
    train_xor,
    wait_for,
)

pytestmark = pytest.mark.e2e

# ---------------------------------------------------------------- per-page expectations (seed example)

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
    m = metrics_shown(page, "out o1", "out o2", "E total")
    assert (m["out o1"], m["out o2"], m["E total"]) == (OUT_O1, OUT_O2, E_TOTAL), m
    assert page.locator(".st-key-home_graph .main-svg").count() >= 1


def check_forward(page) -> None:
    m = metrics_shown(page, "out o1", "out o2", "E total")
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
    start = train_xor(page)  # the classic problem, trained to a visible boundary
    curve = page.locator(".st-key-train_loss .js-plotly-plot")
    assert "E over 1,000 steps" in curve.inner_text()
    points = page.evaluate("""() => document.querySelector('.st-key-train_loss .js-plotly-plot')._fullData
        .filter(t => t.name === 'loss').map(t => t._length)""")
    assert points and points[0] > 10, points  # a curve, not a dot
    m = metrics_shown(page, "Steps run", "E at start", "E at the end")
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


PRESSES, PRESS_GAP_MS = 10, 120  # faster than a run of the Backward page: presses arrive while it runs


def test_fast_key_presses_on_a_slider_are_all_kept(page_factory, server_url):
    """Ten → presses 120 ms apart move w5 by ten grid steps (kept 3 of 10 when the other w5 slider, or the address
    bar, still held an older value; see bpviz.ui.state.seed_widget). The gap is the stimulus, not a wait."""
    page = page_factory(1280, 800)
    open_app(page, server_url)
    go(page, server_url, "backward", "Backward pass")
    thumb = slider_thumb(page, "sb_w_1_0_0")
    thumb.focus()
    for _ in range(PRESSES):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(PRESS_GAP_MS)
    settle(page)
    final = f4(0.40 + 0.01 * PRESSES)
    assert slider_text(page, "sb_w_1_0_0") == final and thumb.get_attribute("aria-valuenow") == "0.5"
    assert slider_text(page, "focus_sb_w_1_0_0") == final


def test_slider_by_keyboard_updates_numbers_and_graph(page_factory, server_url):
    page = page_factory(1280, 800)
    open_app(page, server_url)
    go(page, server_url, "backward", "Backward pass")
    assert slider_text(page, "sb_w_1_0_0") == "0.4000"
    before = annotations(page, "backward_graph")
    thumb = slider_thumb(page, "sb_w_1_0_0")
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
    page.locator('[data-testid="stSidebar"]').get_by_text("Scenario file (JSON)").click()  # the drawer is closed
    file_input = page.locator(".st-key-sb_upload input[type=file]")

    bad = copy.deepcopy(SEED_DOCUMENT)
    bad["weights"][1][0][1] = "abc"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    file_input.set_input_files(str(tmp_path / "bad.json"))
    warning = page.locator(".st-key-message_upload")
    warning.wait_for(timeout=30_000)
    settle(page)
    text = warning.inner_text()
    assert 'weights[1][0][1]: expected a finite number, got "abc"' in text and "bad.json" in text, text
    uploader = page.locator(".st-key-sb_upload").bounding_box()
    below = warning.bounding_box()
    assert 0 <= below["y"] - (uploader["y"] + uploader["height"]) < 50  # right under the uploader, where the eye is
    assert "could not be loaded" in page.locator('[data-testid="stToast"]').inner_text()
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
    """The sidebar's downloads: the scenario JSON round-trips through the validator; the handout has every step; the
    PyTorch script is the seed's."""
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
    settle(page)  # the handout's download reran the page: click the button of the finished run
    with page.expect_download() as info:  # made on the click (a deferred download)
        page.locator(f".st-key-{TORCH_DOWNLOAD}").get_by_role("button", name="PyTorch script").click()
    assert info.value.suggested_filename == "bpviz_seed.py"
    assert Path(info.value.path()).read_text(encoding="utf-8") == export.torch_script(preset("seed"))
    assert_healthy(page, server_url)


# ---------------------------------------------------------------- 6: vanishing gradients, seen in a deep network


def test_vanishing_gradients_section(page_factory, server_url):
    """The deep sigmoid example from the builder's button, then the Backward pass: its "Gradient size per layer"
    section is open, the chart shows the engine's numbers on a log axis with the lesson above it; its buttons load
    the other deep examples. Writes assets/vanishing_gradients_1280.png (the section at the top of the screen)."""
    page = page_factory(1280, 800)
    open_app(page, server_url)
    go(page, server_url, "builder", "Network builder")
    page.locator(f".st-key-bld_preset_{VANISHING} button").click()
    wait_for(page, lambda: "Current network: 2-4-4-4-4-4-4-1" in main_text(page), "the deep network")
    go(page, server_url, "backward", "Backward pass")
    chart = page.locator(".st-key-backward_grad_sizes_chart .js-plotly-plot")
    chart.wait_for(timeout=30_000)
    settle(page)
    s = preset(VANISHING)
    sizes = gradient_sizes(engine.backward(s))
    drawn = page.evaluate("""() => Object.fromEntries(document.querySelector(
        '.st-key-backward_grad_sizes_chart .js-plotly-plot').data.map(t => [t.meta.key, t.y]))""")
    assert drawn == {"weight_norm": list(sizes.weight_norm), "delta_mean": list(sizes.delta_mean)}
    assert page.evaluate("""() => document.querySelector('.st-key-backward_grad_sizes_chart .js-plotly-plot')
        ._fullLayout.yaxis.type""") == "log"
    lesson = page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="Vanishing gradient")
    assert lesson.count() == 1 and "14,000 times smaller" in lesson.inner_text()
    assert_healthy(page, server_url)
    page.locator(".st-key-backward_grad_sizes").evaluate("el => el.scrollIntoView({block: 'start'})")
    settle(page)
    screenshot(page, "vanishing_gradients_1280.png")
    page.locator(f".st-key-backward_grad_sizes_{RELU_HE} button").click()  # compare: the same net with ReLU and He
    wait_for(page, lambda: "ReLU and He initialisation" in main_text(page), "the ReLU example's lesson")
    settle(page)
    relu = gradient_sizes(engine.backward(preset(RELU_HE)))
    assert page.evaluate("""() => document.querySelector('.st-key-backward_grad_sizes_chart .js-plotly-plot')
        .data.find(t => t.meta.key === 'weight_norm').y""") == list(relu.weight_norm)
    assert_healthy(page, server_url)
