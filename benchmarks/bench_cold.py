"""Cold load: a student opens a share link in a fresh browser; how long until the first graph is on the screen.

Run: ``python benchmarks/bench_cold.py [--rounds 9] [--page backward] [--json out.json]`` (needs Debian's haproxy
and chromium). Starts the app behind HAProxy with ``deploy/serve.py`` (as for a class, with one replica) and, as the
floor, ``cold_parts_app.py`` (Streamlit with one small Plotly chart, with the app's theme and toolbar settings).
Every round opens, each in a fresh Chromium context (empty cache) at 1280×800 on loopback, in an order that rotates
from round to round:

* the page through deploy/serve.py (HAProxy, gzip),
* the same page straight from the Streamlit process (what ``streamlit run app.py`` gives),
* Home through deploy/serve.py,
* the floor, straight from its Streamlit process.

The first round warms browser and servers and is not counted. A load counts from ``page.goto`` until the chart's
SVG exists; the table also gives when "E total" shows the engine's loss, the spread, and the median of the per-round
differences against the floor (the machine's load moves both, so the difference holds steadier than either).

``--parts`` also measures where the time beyond the floor goes: the floor plus one kind of element of bpviz's pages
(``cold_parts_app.py``: style block, sidebar widgets, metrics, step selector, formula, network chart), and all of
them together, in the same rotating rounds.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import CHROMIUM, CHROMIUM_ARGS, ROOT, Row, arguments, finish, machine_line, seed_scenario

from bpviz import engine, numbers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "deploy"))

VIEWPORT = {"width": 1280, "height": 800}
TARGET_MS = 2500.0
GRAPH = ".js-plotly-plot .main-svg"
TIMEOUT_MS = 60000
PARTS = ("style", "sidebar", "metrics", "stepper", "formula", "network")  # see cold_parts_app.py
PINGS = "() => performance.getEntriesByType('resource').filter(e => e.name.endsWith('/_stcore/health')).length"
SHOWS_LOSS = """(loss) => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
  .some(e => e.innerText.trim() === loss)"""


@dataclass
class Case:
    label: str
    url: str
    loss: str | None  # the "E total" to wait for; None: the floor has no metric
    graph: list[float] = field(default_factory=list)  # seconds
    shown: list[float] = field(default_factory=list)  # seconds until E total shows the loss
    pings: list[int] = field(default_factory=list)


def load_once(browser, case: Case) -> tuple[float, float, int]:
    """One cold load in a fresh context: (first graph s, loss shown s, health pings)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(case.url)
        page.wait_for_selector(GRAPH, timeout=TIMEOUT_MS)
        graph = time.perf_counter() - t0
        if case.loss is not None:
            page.wait_for_function(SHOWS_LOSS, arg=case.loss, timeout=TIMEOUT_MS)
        shown = time.perf_counter() - t0
        return graph, shown, page.evaluate(PINGS)
    finally:
        context.close()


def rows_of(cases: list[Case], reference: Case) -> list[Row]:
    rows = []
    for c in cases:
        ms = [g * 1000 for g in c.graph]
        q1, _, q3 = statistics.quantiles(ms, n=4) if len(ms) > 1 else (ms[0], 0, ms[0])
        diff = statistics.median((a - b) * 1000 for a, b in zip(c.graph, reference.graph))
        shown = "" if c.loss is None else f"E total shown {statistics.median(c.shown) * 1000:.0f} ms, "
        note = (f"{shown}IQR {q1:.0f}–{q3:.0f} ms, health pings {statistics.median(c.pings):g}"
                + ("" if c is reference else f", {diff:+.0f} ms against the floor"))
        rows.append(Row(f"cold load to first graph: {c.label}", "seed", statistics.median(ms),
                        float(sorted(ms)[-1]), len(ms), f"median <= {TARGET_MS:.0f} ms",
                        statistics.median(ms) <= TARGET_MS, note))
    return rows


def _at_least_one(text: str) -> int:
    n = int(text)
    if n < 1:
        raise ValueError(text)
    return n


def app_config() -> dict[str, str]:
    """The app's .streamlit/config.toml as command-line options, so the floor runs with the same theme and toolbar
    (its replica starts in benchmarks/, where Streamlit would not find the app's config)."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    return {f"{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
            for section, table in config.items() for key, value in table.items()}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=_at_least_one, default=9, help="counted rounds (one more warms up)")
    parser.add_argument("--page", default="backward", help="the page's URL path")
    parser.add_argument("--parts", action="store_true", help="where the time beyond the floor goes (see above)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from serve import Cluster, free_port

    rounds = 3 if args.quick else args.rounds
    loss = numbers.text(engine.forward(seed_scenario()).loss, 4)
    with Cluster(replicas=1, port=free_port(), address="127.0.0.1", restart=False, quiet=True) as served, \
            Cluster(replicas=1, port=free_port(), address="127.0.0.1", restart=False, quiet=True,
                    app=HERE / "cold_parts_app.py", options=app_config()) as floor, sync_playwright() as p:
        floor_url = f"{floor.members[0].url}/"
        cases = [Case("share link through deploy/serve.py", f"{served.url}/{args.page}", loss),
                 Case("the same straight from Streamlit", f"{served.members[0].url}/{args.page}", loss),
                 Case("Home through deploy/serve.py", f"{served.url}/", loss)]
        if args.parts:
            cases += [Case(f"floor + {part}", f"{floor_url}?parts={part}", None) for part in PARTS]
            cases.append(Case("floor + all of them", f"{floor_url}?parts={','.join(PARTS)}", None))
        cases.append(Case("floor: Streamlit with one small Plotly chart", floor_url, None))
        print(f"before: {machine_line()}", flush=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for r in range(rounds + 1):
                for i in range(len(cases)):
                    case = cases[(i + r) % len(cases)]
                    graph, shown, pings = load_once(browser, case)
                    if r:
                        case.graph.append(graph)
                        case.shown.append(shown)
                        case.pings.append(pings)
                print(f"round {r}{' (warm-up)' if not r else ''} done", flush=True)
        finally:
            browser.close()
    finish(rows_of(cases, cases[-1]), args.json, f"Cold load in a fresh Chromium context, 1280×800, {rounds} rounds "
                                                 "(bench_cold.py; the p95 column is the slowest load)")


if __name__ == "__main__":
    main()
