"""End-to-end: the live slider (bpviz/ui/live_slider.py) in real Chromium. The page follows a dragged thumb; the
keyboard keeps Streamlit's slider keys and the 0.01 grid; a drag moves nothing else on the page.

Expected numbers come from bpviz.engine for the value the thumb ends on, never from the page. The drag test also
writes assets/live_drag.png, frames of a drag for the README (motion does not show in one screenshot).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bpviz import engine
from bpviz.config import preset
from bpviz.ui import link

from .browser import ASSETS, f4, go, metrics, open_app, settle, slider_text, slider_thumb, wait_for

pytestmark = pytest.mark.e2e

SEED = preset("seed")
FOCUS_W5, SIDEBAR_W5 = "focus_sb_w_1_0_0", "sb_w_1_0_0"
MOVES, DRAG_MS = 20, 2000  # the drag: 20 moves over 2 s
START, END = 0.40, 0.90
MIN_SHOWN = 8  # distinct E total values the page must show during that drag
FRAMES = 6  # frames of the drag in assets/live_drag.png
# a frame: the step's heading, formula and slider, and the network under them (the page scrolled to the heading)
FRAME_REGION = """() => {
  const h = [...document.querySelectorAll('h3, h4')].find(e => e.innerText.startsWith('Backward:'));
  h.scrollIntoView();
  const top = h.getBoundingClientRect();
  const graph = document.querySelector('.st-key-backward_graph').getBoundingClientRect();
  return {x: top.left - 8, y: top.top - 4, width: graph.right - top.left + 16, height: graph.bottom - top.top + 8};
}"""
STRIP = ASSETS / "live_drag.png"

# every animation frame: (page clock, E total shown, top of the graph, the graph's DOM node is still the one marked
# before the drag, elements visibly faded: Streamlit marks the elements of a running script stale and fades them
# after 0.5 s; the hidden key-only buttons do not count)
RECORD = """() => {
  const rec = window.__rec = []; window.__stop = false;
  const graph = document.querySelector('.st-key-backward_graph .js-plotly-plot');
  graph.__marked = true;
  const tick = () => {
    const m = [...document.querySelectorAll('[data-testid="stMetric"]')].find(e => e.innerText.includes('E total'));
    const g = document.querySelector('.st-key-backward_graph .js-plotly-plot');
    rec.push([performance.now(), m && m.querySelector('[data-testid="stMetricValue"]').innerText.trim(),
              g ? Math.round(g.getBoundingClientRect().top) : null, !!(g && g.__marked),
              [...document.querySelectorAll('[data-stale="true"]')]
                .filter(e => e.checkVisibility() && parseFloat(getComputedStyle(e).opacity) < FADED).length]);
    if (!window.__stop) requestAnimationFrame(tick);
  };
  tick();
}""".replace("FADED", "0.8")


def loss_with_w5(w5: float) -> str:
    W = [w.copy() for w in SEED.weights]
    W[1][0, 0] = w5
    return f4(engine.loss_value(SEED.with_parameters(W, SEED.biases)))


def gradient_with_w5(w5: float) -> str:
    W = [w.copy() for w in SEED.weights]
    W[1][0, 0] = w5
    s = SEED.with_parameters(W, SEED.biases)
    return f4(engine.backward(s, engine.forward(s)).dE_dW[1][0, 0])


def backward_page(page_factory, server_url):
    page = page_factory(1280, 800)
    open_app(page, server_url)
    go(page, server_url, "backward", "Backward pass")
    assert slider_text(page, FOCUS_W5) == f4(START)
    return page


def drag(page, key: str, frames: list | None = None, clip: dict | None = None) -> tuple[float, float]:
    """Mouse down on the thumb at START, MOVES moves to END over DRAG_MS, mouse up; (down, up) on the page clock.
    With ``frames``, a screenshot of ``clip`` every MOVES / FRAMES moves (in place of that pause)."""
    box = page.locator(f".st-key-{key} .track").bounding_box()
    x_of = lambda v: box["x"] + box["width"] * (v + 1) / 2  # noqa: E731  (the range is -1 .. 1)
    y = box["y"] + box["height"] / 2
    page.mouse.move(x_of(START), y)
    down = page.evaluate("performance.now()")
    page.mouse.down()
    for i in range(1, MOVES + 1):
        page.mouse.move(x_of(START + (END - START) * i / MOVES), y)
        if frames is not None and i % (MOVES // FRAMES) == 0:
            frames.append(page.screenshot(clip=clip))
        else:
            page.wait_for_timeout(DRAG_MS / MOVES)  # the drag's pace (the stimulus), not a wait for the page
    up = page.evaluate("performance.now()")
    page.mouse.up()
    return down, up


def test_a_drag_shows_the_numbers_while_the_thumb_moves(page_factory, server_url):
    page = backward_page(page_factory, server_url)
    graph_top = page.evaluate("document.querySelector('.st-key-backward_graph').getBoundingClientRect().top")
    page.evaluate(RECORD)
    down, up = drag(page, FOCUS_W5)
    final = float(slider_thumb(page, FOCUS_W5).get_attribute("aria-valuenow"))
    assert final == END  # the thumb ends where the mouse was released, on the grid
    wait_for(page, lambda: metrics(page).get("E total") == loss_with_w5(final), f"E total for w5 = {final}")
    settle(page)
    rec = page.evaluate("window.__stop = true, window.__rec")

    during = [r for r in rec if down <= r[0] <= up]
    shown = {r[1] for r in during} - {loss_with_w5(START)}
    assert len(shown) >= MIN_SHOWN, f"{len(shown)} E total values shown during the drag: {sorted(shown)}"
    grid = {loss_with_w5(round(START + i / 100, 2)) for i in range(0, 51)}
    assert shown <= grid, shown - grid  # each one the engine's E total for a w5 the thumb passed
    # nothing else moved or flickered: the graph stayed in place, the same Plotly node updated, nothing faded
    assert {r[2] for r in rec} == {round(graph_top)}, "the graph moved during the drag"
    assert all(r[3] for r in rec), "the graph was drawn anew instead of updated in place"
    assert max(r[4] for r in rec) == 0, "elements faded as stale during the drag"
    # after release: every number is the engine's for the final value, in both twins and the formula
    assert slider_text(page, SIDEBAR_W5) == f4(END)
    wait_for(page, lambda: any(k.endswith(f"={gradient_with_w5(END)}") for k in
                               page.eval_on_selector_all('[data-testid="stMain"] .katex-html',
                                                         "els => els.map(e => e.textContent.replace(/\\u200b/g, ''))")),
             f"∂E/∂w5 for w5 = {END} in the formula")
    wait_for(page, lambda: linked_w5(page) == END, f"w5 = {END} in the share link (the address bar)")


def linked_w5(page) -> float | None:
    query = parse_qs(urlsplit(page.url).query)
    return link.unpack(query["s"][-1])["weights"][1][0][0] if "s" in query else None


def step_shown(page) -> str:
    return page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.inner_text()


@pytest.mark.parametrize(("key", "steps", "expected"), [
    ("ArrowRight", 3, 0.43), ("ArrowLeft", 2, 0.38), ("PageUp", 1, 0.50), ("PageDown", 2, 0.20),
    ("End", 1, 1.0), ("Home", 1, -1.0),
])
def test_the_keyboard_moves_on_the_grid(page_factory, server_url, key, steps, expected):
    page = backward_page(page_factory, server_url)
    thumb = slider_thumb(page, FOCUS_W5)
    step = step_shown(page)
    for _ in range(steps):
        thumb.focus()
        page.keyboard.press(key)
    wait_for(page, lambda: metrics(page).get("E total") == loss_with_w5(expected), f"E total for w5 = {expected}")
    settle(page)
    now = thumb.get_attribute("aria-valuenow")
    assert float(now) == expected and len(now) <= 5, now  # exactly the grid value: 0.43, not 0.43000000000000005
    assert slider_text(page, SIDEBAR_W5) == f4(expected)
    assert linked_w5(page) == expected
    assert step_shown(page) == step  # PageUp/PageDown stayed with the slider: the step keys did not fire


def test_the_slider_is_accessible(page_factory, server_url):
    page = backward_page(page_factory, server_url)
    thumb = slider_thumb(page, SIDEBAR_W5)
    assert thumb.get_attribute("role") == "slider" and thumb.get_attribute("tabindex") == "0"
    assert (thumb.get_attribute("aria-valuemin"), thumb.get_attribute("aria-valuemax"),
            thumb.get_attribute("aria-valuenow")) == ("-1", "1", "0.4")
    name = page.get_by_role("slider", name="w5 (h1 → o1)")
    assert name.count() == 1  # the visible label names it for a screen reader


def test_frames_of_a_drag_for_the_readme(page_factory, server_url):
    """assets/live_drag.png: FRAMES moments of a drag of w5, left to right, top to bottom."""
    from io import BytesIO

    from PIL import Image

    page = backward_page(page_factory, server_url)
    frames: list[bytes] = []
    clip = page.evaluate(FRAME_REGION)
    drag(page, FOCUS_W5, frames, clip)
    wait_for(page, lambda: metrics(page).get("E total") == loss_with_w5(END), f"E total for w5 = {END}")
    settle(page)
    frames.append(page.screenshot(clip=clip))
    assert len({hash(f) for f in frames}) >= 3  # the frames differ: the page moved during the drag
    images = [Image.open(BytesIO(f)).convert("RGB") for f in frames[-FRAMES:]]
    scale, cols = 0.5, 3
    w, h = int(images[0].width * scale), int(images[0].height * scale)
    rows = (len(images) + cols - 1) // cols
    strip = Image.new("RGB", (w * cols, h * rows), "white")
    for i, im in enumerate(images):
        strip.paste(im.resize((w, h), Image.LANCZOS), ((i % cols) * w, (i // cols) * h))
    strip.save(STRIP, optimize=True)
