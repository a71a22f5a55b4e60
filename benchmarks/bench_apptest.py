"""Streamlit script rerun time after a sidebar slider change, per page, via AppTest (seed and 6x8 networks).

Run: ``python benchmarks/bench_apptest.py [--quick] [--json out.json] [--pages backward_pass,home] [--networks seed]
[--quiz] [--profile PAGE_ID] [--profile-network 6x8]``. ``--quiz``: with the quiz on (every slider move makes the
step a new question: its value hidden on the page).

Per network and page: all bpviz/SymPy caches are cleared, a fresh AppTest runs the app (Home), switches to the page
and runs it (the *cold open*: the first run of this architecture builds its SymPy templates), then moves a weight
slider once (the *first change*, also reported, not counted) and twice more as warm-up, and then times
``REPEATS`` slider changes (``.run()`` only). The Training page only trains when its button is pressed: this is a
normal rerun there. ``script`` in the notes is the time spent in Streamlit's script thread alone (without AppTest's
own message parsing).

``--profile PAGE_ID`` (e.g. ``conventions_and_checks``) profiles one warm rerun of that page with cProfile inside
the script thread and prints the top functions.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time

from _common import APP, DEEP, NETWORKS, Row, arguments, clear_caches, finish, row
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import local_script_runner as _lsr

from bpviz.ui import navigation, state
from tests.apptest_util import live

REPEATS = 30
TARGETS_MS = {"seed": 30.0, DEEP: 150.0}  # median of a warm rerun
# slider values on the 0.01 grid, each different from the one before (and from every initial weight used here)
VALUES = [round(-0.93 + 0.06 * i, 2) for i in range(32)]


def pages() -> list[tuple[str, str]]:
    """(file relative to app.py, title) of every page, from the app's own page list (a new page is benchmarked too)."""
    return [(p.path, p.title) for p in navigation.PAGES]


def page_id(page: tuple[str, str]) -> str:
    """A short name for --pages/--profile: the title in lower case with underscores (backward_pass)."""
    return page[1].lower().replace(" ", "_")


# ---------------------------------------------------------------- script-thread timing and profiling

_original_thread_body = _lsr.LocalScriptRunner._run_script_thread
_script_seconds: list[float] = []
_profiler: list[cProfile.Profile] = []  # at most one: profile the next script run


def _timed_thread_body(self) -> None:
    prof = _profiler[0] if _profiler else None
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    try:
        _original_thread_body(self)
    finally:
        if prof is not None:
            prof.disable()
        _script_seconds.append(time.perf_counter() - t0)


_lsr.LocalScriptRunner._run_script_thread = _timed_thread_body  # benchmark-only instrumentation, app untouched


# ---------------------------------------------------------------- one page


def _check(at: AppTest, where: str) -> None:
    if at.exception:
        raise RuntimeError(f"{where}: {[e.value for e in at.exception]}")


def weight_slider_key(layers: tuple[int, ...]) -> str:
    """w5 for the seed; for a big net the sidebar shows one neuron, by default the last output's weights."""
    n_params = sum(layers[i] * layers[i + 1] + layers[i + 1] for i in range(len(layers) - 1))
    row = layers[-1] - 1 if n_params > 24 else 0
    return f"sb_w_{len(layers) - 2}_{row}_0"


def open_page(net: str, page_file: str, quiz: bool = False) -> tuple[AppTest, float, float]:
    """A fresh AppTest with the network loaded, switched to the page; returns it, the cold first run of Home and
    the cold open time of the page (s; the same run for Home)."""
    clear_caches()
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.session_state[state.STATE_KEY] = state.AppState(scenario=NETWORKS[net](), quiz=quiz)
    t0 = time.perf_counter()
    at.run()
    cold = home = time.perf_counter() - t0
    _check(at, f"{net} home")
    if page_file != navigation.PAGES[0].path:
        at.switch_page(page_file)
        t0 = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t0
        _check(at, f"{net} {page_file}")
    return at, home, cold


def change_weight(at: AppTest, key: str, value: float) -> float:
    """Move the slider, rerun; the rerun's wall time (s). Checks the value reached the scenario."""
    slider = live(at, key).set_value(value)  # a live slider's report, as its browser half sends it
    t0 = time.perf_counter()
    slider.run()
    elapsed = time.perf_counter() - t0
    _check(at, key)
    s = at.session_state[state.STATE_KEY].scenario
    l, j, k = map(int, key.split("_")[2:])
    if abs(s.weights[l][j, k] - value) > 1e-12:
        raise RuntimeError(f"{key} = {value} did not reach the scenario ({s.weights[l][j, k]})")
    return elapsed


def bench_page(net: str, page: tuple[str, str], repeats: int, quiz: bool = False) -> Row:
    file, title = page
    at, home, cold = open_page(net, file, quiz)
    key = weight_slider_key(at.session_state[state.STATE_KEY].scenario.layers)
    first = change_weight(at, key, VALUES[0])
    for v in VALUES[1:3]:
        change_weight(at, key, v)
    del _script_seconds[:]
    times = [change_weight(at, key, VALUES[3 + i % (len(VALUES) - 3)]) for i in range(repeats)]
    script_ms = statistics.median(_script_seconds) * 1000
    limit = TARGETS_MS.get(net)
    home_page = file == navigation.PAGES[0].path
    cold_text = f"cold: first run {cold:.2f} s" if home_page else f"cold: Home {home:.2f} s, page {cold:.2f} s"
    what = f"AppTest rerun after slider: {title}" + (" (quiz on)" if quiz else "")
    return row(what, net, times, f"median <= {limit:g} ms", limit,
               note=f"{cold_text}, first change {first * 1000:.0f} ms, script {script_ms:.0f} ms")


def profile_page(net: str, page: tuple[str, str], top: int = 30) -> str:
    """cProfile of one warm rerun (inside the script thread), sorted by cumulative and by own time."""
    file, title = page
    at, _, _ = open_page(net, file)
    key = weight_slider_key(at.session_state[state.STATE_KEY].scenario.layers)
    for v in VALUES[:3]:
        change_weight(at, key, v)
    prof = cProfile.Profile()
    _profiler.append(prof)
    try:
        elapsed = change_weight(at, key, VALUES[3])
    finally:
        _profiler.clear()
    out = io.StringIO()
    out.write(f"\n### Profile: one warm rerun of {title} ({net}), {elapsed * 1000:.0f} ms wall (with profiler)\n\n")
    for order in ("cumulative", "tottime"):
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--pages", help="comma-separated page ids (home, forward_pass, backward_pass, ...); "
                        "default all")
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated: seed, 6x8")
    parser.add_argument("--quiz", action="store_true", help="with the quiz on")
    parser.add_argument("--profile", metavar="PAGE_ID", help="profile one warm rerun of this page instead")
    parser.add_argument("--profile-network", default=DEEP)
    args = parser.parse_args()
    all_pages = pages()
    if args.profile:
        page = next(p for p in all_pages if page_id(p) == args.profile)
        print(profile_page(args.profile_network, page))
        return
    chosen = [p for p in all_pages if not args.pages or page_id(p) in args.pages.split(",")]
    repeats = 8 if args.quick else REPEATS
    rows = []
    for net in args.networks.split(","):
        for page in chosen:
            r = bench_page(net, page, repeats, args.quiz)
            print(f"{r.network:5} {page_id(page):24} median {r.median_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  ({r.note})",
                  flush=True)
            rows.append(r)
    finish(rows, args.json, "AppTest reruns (bench_apptest.py)")


if __name__ == "__main__":
    main()
