"""Live sliders in a real browser: how the page follows a dragged thumb, beside key presses and the floor.

Run: ``python benchmarks/bench_drag.py [--rounds 3] [--json out.json]`` (needs Debian's chromium). Starts
``streamlit run app.py`` (the app turns TCP_NODELAY on for every connection after the first: one untimed visit per
app comes first) and, as the floor, ``benchmarks/live_floor_app.py`` (Streamlit with the same live slider and
one metric), each on a free local port. In every round, in a fresh Chromium context at 1280×800:

* drag: mouse down on the w5 thumb (Backward pass: the slider beside the formula; floor: its only slider), 20 moves
  over 2 s from w5 = 0.40 to 0.90, mouse up. A recorder on the page notes every change of the thumb's value and of
  the "E total" shown (MutationObservers: the recorder costs the page next to nothing). Reported: E total values
  shown during the drag (per second), the lag from the moment the thumb reached a value to the moment the page
  showed the engine's E total for it (p50, p95), and the time from release until the final value is shown;
* keys: ten ArrowRight presses on the same thumb, each timed until the engine's E total for the new w5 is shown.

Both apps run in the same rounds, in alternating order, so their ratio holds steadier than either number.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from _common import CHROMIUM, CHROMIUM_ARGS, Row, arguments, finish, machine_line, row, seed_scenario
from bench_browser import start_server, stop_server

from bpviz import engine
from bpviz.ui import widgets
from tests.e2e.browser import drag_thumb

VIEWPORT = {"width": 1280, "height": 800}
MOVES, DRAG_MS = 20, 2000
START, END = 0.40, 0.90
PRESSES = 10
TIMEOUT_MS = 60_000
DECIMALS = 4
TARGETS = {  # label -> (script, page path, key of the slider to drag)
    "bpviz Backward pass": ("app.py", "backward", "focus_sb_w_1_0_0"),
    "floor: live slider + one metric": ("benchmarks/live_floor_app.py", "", "sb_w_1_0_0"),
}
THUMB = ".st-key-{key} [role=slider]"
E_TOTAL = """() => { const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
  .find(e => e.innerText.includes('E total'));
  return m ? m.querySelector('[data-testid="stMetricValue"]').innerText.trim() : null; }"""


def loss_text(w5: float) -> str:
    s = seed_scenario()
    W = [w.copy() for w in s.weights]
    W[1][0, 0] = w5
    return widgets.fmt(engine.loss_value(s.with_parameters(W, s.biases)), DECIMALS)


GRID_LOSS = {round(i / 100, 2): loss_text(round(i / 100, 2)) for i in range(-100, 101)}


def thumb_value(page, key: str) -> float:
    return float(page.locator(THUMB.format(key=key)).get_attribute("aria-valuenow"))


def wait_shown(page, loss: str) -> None:
    page.wait_for_function(f"(loss) => ({E_TOTAL})() === loss", arg=loss, polling="raf", timeout=TIMEOUT_MS)


def record_start(page, key: str) -> None:
    """(page clock ms, the thumb's value, the E total shown) at every change of either, noted by MutationObservers
    (no layout read per frame: a recorder must not slow the page it measures)."""
    page.evaluate("""(key) => { const rec = window.__rec = [];
      const thumb = document.querySelector('.st-key-' + key + ' [data-testid="stBidiComponentIsolated"]')
        .shadowRoot.querySelector('[role=slider]');
      const main = document.querySelector('[data-testid="stMain"]');
      const eTotal = () => { const m = [...main.querySelectorAll('[data-testid="stMetric"]')]
        .find(e => e.textContent.includes('E total'));
        return m ? m.querySelector('[data-testid="stMetricValue"]').textContent.trim() : null; };
      const note = () => rec.push([performance.now(), Number(thumb.getAttribute('aria-valuenow')), eTotal()]);
      window.__observers = [new MutationObserver(note), new MutationObserver(note)];
      window.__observers[0].observe(thumb, {attributes: true, attributeFilter: ['aria-valuenow']});
      window.__observers[1].observe(main, {subtree: true, childList: true, characterData: true});
      note(); }""", key)


def drag(page, key: str) -> dict:
    """One drag of w5 from START to END; the recorder's view of it."""
    record_start(page, key)
    down, up = drag_thumb(page, key, START, END, moves=MOVES, duration_ms=DRAG_MS)
    final = thumb_value(page, key)
    wait_shown(page, loss_text(final))
    page.evaluate("window.__observers.forEach(o => o.disconnect())")
    return {"down": down, "up": up, "final": final, "rec": page.evaluate("window.__rec")}


def analyse(d: dict) -> tuple[int, list[float], float]:
    """(E total values shown during the drag, lag of each shown value in s, release -> final shown in s)."""
    first_at: dict[float, float] = {}  # w5 -> when the thumb first showed it
    shown: list[tuple[float, str]] = []
    for t, v, e in d["rec"]:
        if v is not None and v not in first_at:
            first_at[v] = t
        if e is not None and (not shown or shown[-1][1] != e):
            shown.append((t, e))
    during = [(t, e) for t, e in shown[1:] if d["down"] <= t <= d["up"]]
    lags = []
    for t, e in during:
        reached = [first_at[v] for v, loss in GRID_LOSS.items() if loss == e and first_at.get(v, 1e18) <= t]
        if reached:
            lags.append((t - max(reached)) / 1000)
    final_at = shown[-1][0] if shown and shown[-1][1] == loss_text(d["final"]) else float("nan")
    return len({e for _, e in during}), lags, max(0.0, final_at - d["up"]) / 1000  # 0: shown before the release


def presses(page, key: str) -> list[float]:
    """Seconds from each ArrowRight on the thumb until the page shows the engine's E total for the new w5."""
    thumb = page.locator(THUMB.format(key=key))
    thumb.focus()
    out = []
    for _ in range(PRESSES):
        target = round(thumb_value(page, key) + 0.01, 2)
        t0 = time.perf_counter()
        page.keyboard.press("ArrowRight")
        wait_shown(page, loss_text(target))
        out.append(time.perf_counter() - t0)
    return out


def one_round(browser, label: str, url: str, key: str, acc: dict) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(url)
        wait_shown(page, loss_text(START))
        page.locator(THUMB.format(key=key)).wait_for(timeout=TIMEOUT_MS)
        n, lags, release = analyse(drag(page, key))
        acc.setdefault("shown", []).append(n)
        acc.setdefault("lags", []).extend(lags)
        acc.setdefault("release", []).append(release)
        acc.setdefault("keys", []).extend(presses(page, key))
    finally:
        context.close()


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rounds = 1 if args.quick else args.rounds
    print(f"before: {machine_line()}", flush=True)
    procs, urls = [], {}
    try:
        for label, (script, path, _) in TARGETS.items():
            proc, base = start_server(Path(tempfile.gettempdir()) / f"bench_drag_{len(procs)}.log", script)
            procs.append(proc)
            urls[label] = f"{base}/{path}"
        results: dict[str, dict] = {label: {} for label in TARGETS}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for label in TARGETS:  # warm-up, not counted: imports, caches, the first connection
                    one_round(browser, label, urls[label], TARGETS[label][2], {})
                for r in range(rounds):
                    order = list(TARGETS) if r % 2 == 0 else list(reversed(TARGETS))
                    for label in order:
                        one_round(browser, label, urls[label], TARGETS[label][2], results[label])
                    print(f"round {r + 1} done", flush=True)
            finally:
                browser.close()
    finally:
        for proc in procs:
            stop_server(proc)
    finish(rows(results), args.json, f"Dragging w5 ({MOVES} moves over {DRAG_MS / 1000:g} s), bench_drag.py")


def rows(results: dict[str, dict]) -> list[Row]:
    out: list[Row] = []
    for label, acc in results.items():
        rate = statistics.median(acc["shown"]) / (DRAG_MS / 1000)
        out.append(row(f"{label}: drag, thumb to E total shown ({rate:.1f} values shown per second; per drag: "
                       f"{', '.join(map(str, acc['shown']))})", "seed", acc["lags"]))
        out.append(row(f"{label}: release to final value shown", "seed", acc["release"]))
        out.append(row(f"{label}: ArrowRight to new E total shown", "seed", acc["keys"]))
    return out


if __name__ == "__main__":
    main()
