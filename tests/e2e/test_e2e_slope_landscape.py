"""End-to-end: the gradient as a slope on the Backward page and the loss landscape on the Training page, drawn in a
real browser, following a slider, with the screenshots in assets/ (``slope_1280.png``, ``landscape_1280.png``).

Expected numbers come from bpviz.engine and bpviz.numbers, never from the page itself.
"""

from __future__ import annotations

import pytest

from bpviz import engine, numbers
from bpviz.ids import Weight

from .browser import SEED, SEED_GRADS, assert_healthy, go, screenshot, settle, slider_thumb, train_xor, wait_for

pytestmark = pytest.mark.e2e

W5 = Weight(1, 0, 0)
HEADER_ROOM = 110  # px scrolled back above a chart: the app's header bar covers the top of the main area


def chart_text(page, key: str) -> str:
    """The text a chart draws (title, legend, annotations), from its SVG."""
    return page.locator(f".st-key-{key} .main-svg").last.evaluate(
        "svg => Array.from(svg.closest('.js-plotly-plot').querySelectorAll('text'))"
        ".map(t => t.textContent).join(' | ')")


def show(page, key: str) -> None:
    """Scroll the chart with this key to the top of the main area (under the app's header)."""
    page.locator(f".st-key-{key}").evaluate("el => el.scrollIntoView({block: 'start'})")
    page.locator('[data-testid="stMain"]').evaluate("(el, room) => el.scrollBy(0, -room)", HEADER_ROOM)
    settle(page)


def test_the_backward_page_draws_the_slope_and_it_follows_the_slider(page_factory, server_url):
    page = page_factory(1280, 800)
    page.goto(server_url + "/backward")
    page.wait_for_selector(".st-key-backward_slope .main-svg", timeout=60_000)
    settle(page)
    g = engine.gradient_of(SEED_GRADS, W5)
    text = chart_text(page, "backward_slope")
    assert f"tangent, slope ∂E/∂w5 = {numbers.text(g)}" in text
    assert f"now: w5 = {numbers.text(0.4)}, E = {numbers.text(engine.forward(SEED).loss)}" in text
    assert "one step" in text
    show(page, "backward_slope")
    screenshot(page, "slope_1280.png")
    # the sidebar's w5 slider, one arrow key (a Playwright fill() would not rerun the script)
    thumb = slider_thumb(page, "sb_w_1_0_0")
    before = float(thumb.get_attribute("aria-valuenow"))
    thumb.focus()
    page.keyboard.press("ArrowRight")
    wait_for(page, lambda: float(thumb.get_attribute("aria-valuenow")) != before, "the slider to move")
    settle(page)
    w5 = float(thumb.get_attribute("aria-valuenow"))
    W = [w.copy() for w in SEED.weights]
    W[1][0, 0] = w5
    moved = SEED.with_parameters(W, list(SEED.biases))
    g_new = engine.gradient_of(engine.backward(moved), W5)
    wait_for(page, lambda: f"slope ∂E/∂w5 = {numbers.text(g_new)}" in chart_text(page, "backward_slope"),
             "the tangent's slope at the new w5")
    assert f"now: w5 = {numbers.text(w5)}" in chart_text(page, "backward_slope")
    assert_healthy(page, server_url)


def test_the_training_page_draws_the_landscape_with_the_projected_path(page_factory, server_url):
    page = page_factory(1280, 800)
    page.goto(server_url + "/")
    settle(page)
    go(page, server_url, "training", "Training")
    page.wait_for_selector(".st-key-train_landscape .main-svg", timeout=60_000)
    assert "current weights" in chart_text(page, "train_landscape")
    train_xor(page)
    wait_for(page, lambda: "end of the training run" in chart_text(page, "train_landscape"),
             "the landscape around the trained weights")
    text = chart_text(page, "train_landscape")
    assert "The path is projected" in text and "training path (projected)" in text
    assert "−∇E" in text
    show(page, "train_landscape")
    screenshot(page, "landscape_1280.png")
    assert_healthy(page, server_url)
