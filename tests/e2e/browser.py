"""Playwright helpers for the end-to-end tests: wait for conditions (never for fixed times), read what is shown."""

from __future__ import annotations

import io
import time
from pathlib import Path

from bpviz import engine
from bpviz.config import preset
from bpviz.ui.navigation import PAGES as NAV_PAGES

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
MAX_PNG_BYTES = 400_000


# (url path, title) of every page in the app's one page list; "" is the root (Home)
PAGES = [(p.url_path, p.title) for p in NAV_PAGES]
SIZES = [(1280, 800), (1920, 1080)]
SEED = preset("seed")  # the worked example, and the engine's numbers for it (expectations never come from the page)
SEED_TRACE = engine.forward(SEED)
SEED_GRADS = engine.backward(SEED, SEED_TRACE)

# Streamlit's frontend, opened on a deep link such as /forward, first probes /forward/_stcore/health and
# /forward/_stcore/host-config (404) before finding the server at the root. Exactly these are filtered out.
PROBE_404 = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def f4(x: float) -> str:
    """A number as the app shows it with 4 decimals."""
    return f"{x:.4f}"


# ---------------------------------------------------------------- waiting and reading


# a chart: Streamlit's, or bpviz's live figure (bpviz/ui/live_figure.js), which Plotly draws in place
CHARTS = ':is([data-testid="stPlotlyChart"], [data-testid="bpvizFigure"])'
_SIGNATURE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebar"]');
  const charts = [...document.querySelectorAll('CHARTS')];
  return {
    state: app ? app.getAttribute('data-test-script-state') : 'none',
    status: document.querySelectorAll('[data-testid="stStatusWidget"]').length,
    stale: document.querySelectorAll('[data-stale="true"]').length,
    chartsPending: charts.filter(c => !c.querySelector('.main-svg')).length,
    charts: charts.length,
    text: (main ? main.innerText : '') + '|' + (side ? side.innerText : ''),
  };
}""".replace("CHARTS", CHARTS)


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
    page.wait_for_url(lambda url: url.split("?")[0] == f"{server_url}/{path}")  # the query carries the state
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


def metrics_shown(page, *labels: str) -> dict[str, str]:
    """The metrics, once every one of ``labels`` is on the page (a loaded machine may draw them late)."""
    def complete() -> dict[str, str] | None:
        shown = metrics(page)
        return shown if all(k in shown for k in labels) else None

    return wait_for(page, complete, f"the metrics {labels}")


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


def slider_thumb(page, key: str):
    """The focusable thumb of the slider with this key: a live slider's (bpviz/ui/live_slider.js, in its shadow
    root, which Playwright's CSS selectors pierce) or a Streamlit slider's range input."""
    return page.locator(f".st-key-{key} [role=slider], .st-key-{key} input[type=range]").first


def slider_text(page, key: str) -> str:
    return slider_thumb(page, key).get_attribute("aria-valuetext")


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


def drag_thumb(page, key: str, start: float, end: float, *, moves: int, duration_ms: float,
               lo: float = -1.0, hi: float = 1.0, each=None) -> tuple[float, float]:
    """Drag the live slider with this key from ``start`` to ``end`` (its range ``lo`` .. ``hi``): mouse down, ``moves``
    moves paced on the clock over ``duration_ms``, mouse up. ``each(i)`` runs after move i (a screenshot, say).
    Returns (down, up) on the page's clock (``performance.now()``)."""
    box = page.locator(f".st-key-{key} .track").bounding_box()
    x_of = lambda v: box["x"] + box["width"] * (v - lo) / (hi - lo)  # noqa: E731
    y = box["y"] + box["height"] / 2
    page.mouse.move(x_of(start), y)
    down = page.evaluate("performance.now()")
    page.mouse.down()
    t0 = time.perf_counter()
    for i in range(1, moves + 1):
        page.mouse.move(x_of(start + (end - start) * i / moves), y)
        if each is not None:
            each(i)
        # the drag's pace (the stimulus), not a wait for the page: move i at i/moves of the duration
        page.wait_for_timeout(max(0.0, (t0 + duration_ms / 1000 * i / moves - time.perf_counter()) * 1000))
    up = page.evaluate("performance.now()")
    page.mouse.up()
    return down, up


def train_xor(page) -> float:
    """On the Training page: the XOR 2-4-1 example from the sidebar's Example box, then Train (1,000 steps), until
    the loss curve and the decision boundary are drawn. Returns the engine's E before training."""
    page.locator(".st-key-sb_preset").click()
    page.get_by_role("option", name="xor_2_4_1", exact=True).click()
    page.wait_for_selector(".st-key-train_boundary_now .main-svg", timeout=60_000)  # 4 points over the plane
    settle(page)
    page.locator(".st-key-train_run button").click()
    page.wait_for_selector(".st-key-train_loss .main-svg", timeout=60_000)
    page.wait_for_selector(".st-key-train_boundary .main-svg", timeout=60_000)
    settle(page)
    return engine.forward(preset("xor_2_4_1")).loss
