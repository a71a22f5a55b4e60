"""Real-browser latency: from an arrow-key press on the w5 slider to the new numbers on screen (seed network).

Run: ``python benchmarks/bench_browser.py [--quick] [--json out.json] [--presses 20]``. Starts ``streamlit run
app.py`` on a free local port and Debian's Chromium through Playwright. For the backward and the forward page: open
the app, click the page's link in the sidebar, focus the w5 slider's thumb and press ArrowRight ``--presses`` times
(after two untimed warm-up presses). Each press is timed until the page shows the value bpviz.engine computes for
the new w5: the "E total" metric, and on the backward page also ∂E/∂w5 in the step's formula.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import CHROMIUM, CHROMIUM_ARGS, ROOT, Row, arguments, finish, row, seed_scenario, stop_process

from bpviz import engine
from bpviz.ids import Weight
from bpviz.symbolic import format_number
from bpviz.ui import sidebar, state, widgets

W5 = Weight(1, 0, 0)
THUMB = ".st-key-sb_w_1_0_0 [role=slider], .st-key-sb_w_1_0_0 input[type=range]"
P95_TARGET_MS = 300.0
DECIMALS = state.DEFAULT_DECIMALS

# true when the "E total" metric shows `loss` and (if given) some formula's TeX source has the number `grad`;
# notes the moment in window.__bench.shown (page clock) for the breakdown
SHOWS = """([loss, grad]) => {
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .find(m => (m.querySelector('[data-testid="stMetricLabel"]') || m).innerText.includes('E total'));
  const value = metric && metric.querySelector('[data-testid="stMetricValue"]');
  if (!value || value.innerText.trim() !== loss) return false;
  if (grad !== null) {
    const number = new RegExp('(^|[^0-9.])' + grad.replace(/[.*+?^${}()|[\\]\\\\]/g, '\\\\$&') + '($|[^0-9])');
    if (![...document.querySelectorAll('.katex-mathml annotation')].some(a => number.test(a.textContent))) return false;
  }
  window.__bench.shown = performance.now();
  return true;
}"""

# page-clock timestamps: the key press, every websocket message sent (the rerun request) and received (deltas)
INSTRUMENT = """
window.__bench = {key: 0, sent: [], received: [], shown: 0, long: []};
new PerformanceObserver(list => list.getEntries().forEach(e => window.__bench.long.push([e.startTime, e.duration])))
  .observe({type: 'longtask', buffered: false});
document.addEventListener('keydown', () => { window.__bench.key = performance.now(); }, true);
const OriginalWebSocket = window.WebSocket;
window.WebSocket = class extends OriginalWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => window.__bench.received.push(performance.now()));
  }
  send(data) { window.__bench.sent.push(performance.now()); return super.send(data); }
};
"""
RESET = "() => { const b = window.__bench; b.key = 0; b.sent = []; b.received = []; b.shown = 0; b.long = []; }"
# ms on the page clock: key -> rerun request sent, request -> first reply, first reply -> last message received
# before the number was shown (the server running the script), that message -> number shown (the page rendering);
# then the time the page's main thread spent in long tasks (> 50 ms, e.g. Plotly or KaTeX) between key and shown,
# and key -> shown itself
BREAKDOWN = """() => {
  const b = window.__bench, sent = b.sent.find(t => t >= b.key), first = b.received.find(t => t >= sent);
  const last = b.received.filter(t => t <= b.shown).pop();
  const busy = b.long.filter(([start]) => start >= b.key && start <= b.shown).reduce((sum, [, d]) => sum + d, 0);
  return [sent - b.key, first - sent, last - first, b.shown - last, busy, b.shown - b.key];
}"""


def expected(w5: float) -> tuple[str, str]:
    """(E total, ∂E/∂w5) as the page prints them (metric, formula), computed by the engine for the seed with this w5."""
    s = seed_scenario()
    W = [w.copy() for w in s.weights]
    W[1][0, 0] = w5
    s = s.with_parameters(W, [b.copy() for b in s.biases])
    trace = engine.forward(s)
    grads = engine.backward(s, trace)
    return widgets.fmt(trace.loss, DECIMALS), format_number(engine.gradient_of(grads, W5), DECIMALS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(log: Path, script: str = "app.py") -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` (relative to the repository) on a free local port; (process, base URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited ({proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not answer in 90 s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server from :func:`start_server`: politely, then for good after 15 s."""
    stop_process(proc, 15)


def bench_page(browser, url: str, title: str, with_formula: bool, presses: int) -> list[Row]:
    """Open ``title`` through its sidebar link in a fresh session (the seed), then time ``presses`` arrow keys."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url)
        link = page.locator("[data-testid=stSidebar] a", has_text=title).first
        link.wait_for(timeout=120_000)
        link.click()
        w5 = seed_scenario().weights[1][0, 0]
        loss, grad = expected(w5)
        page.wait_for_function(SHOWS, arg=[loss, grad if with_formula else None], timeout=120_000)
        first_load = time.perf_counter() - t0
        thumb = page.locator(THUMB).first
        thumb.focus()
        times, parts = [], []
        for i in range(presses + 2):
            w5 = round(w5 + sidebar.GRID, 10)
            loss, grad = expected(w5)
            page.evaluate(RESET)
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(SHOWS, arg=[loss, grad if with_formula else None], polling="raf",
                                   timeout=30_000)
            if i >= 2:  # the first two presses are warm-up
                times.append(time.perf_counter() - t0)
                parts.append(page.evaluate(BREAKDOWN))
        key_send, send_reply, server, render, busy, _ = (statistics.median(p) for p in zip(*parts))
        in_page = [p[-1] / 1000 for p in parts]
        shown = "E total and ∂E/∂w5 in the formula" if with_formula else "E total"
        split = (f"median split: key->request {key_send:.0f} ms, ->first reply {send_reply:.0f} ms, ->last message "
                 f"before shown {server:.0f} ms, ->shown {render:.0f} ms; long tasks on the page {busy:.0f} ms")
        return [
            row(f"browser: ArrowRight on w5 until {shown} is updated, {title}", "seed", times,
                f"p95 <= {P95_TARGET_MS:g} ms", P95_TARGET_MS, on="p95",
                note=f"Playwright wall time; first load via sidebar link {first_load:.2f} s"),
            row(f"browser, same presses on the page clock (keydown to shown), {title}", "seed", in_page,
                f"p95 <= {P95_TARGET_MS:g} ms", P95_TARGET_MS, on="p95", note=split),
        ]
    except Exception:
        shot = Path(tempfile.gettempdir()) / f"bench_browser_{title.replace(' ', '_')}.png"
        page.screenshot(path=str(shot))
        print(f"failed on {title}; screenshot {shot}", file=sys.stderr)
        raise
    finally:
        context.close()


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    presses = 5 if args.quick else args.presses
    log = Path(tempfile.gettempdir()) / "bench_browser_streamlit.log"
    proc, url = start_server(log)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for title, with_formula in (("Backward pass", True), ("Forward pass", False)):
                    for r in bench_page(browser, url, title, with_formula, presses):
                        print(f"{title:14} median {r.median_ms:6.0f} ms  p95 {r.p95_ms:6.0f} ms  ({r.note})",
                              flush=True)
                        rows.append(r)
            finally:
                browser.close()
    finally:
        stop_server(proc)
    finish(rows, args.json, "Browser (bench_browser.py)")


if __name__ == "__main__":
    main()
