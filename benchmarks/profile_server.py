"""Where the time of one rerun goes inside a real Streamlit server, and what a cold page load costs.

Run: ``python benchmarks/profile_server.py [--page backward] [--moves 20] [--top 25] [--browser]``.

Part 1, a warm rerun after a slider move, measured inside the server: this script starts ``app.py`` in a child
process through this file's ``--serve`` mode, which is deploy/replica.py's launcher plus instrumentation of
Streamlit's script thread (its thread CPU time per run, and cProfile of the timed runs); a protocol client
(benchmarks/stclient.py) opens the page and moves the w5 slider. It prints the reply time seen by the client, the
server's CPU per move from /proc (both threads), the script thread's share, and the top functions. ``--gc`` keeps
Streamlit's default ``runner.postScriptGC=true`` to show its cost, ``--plain`` leaves Nagle's algorithm on.

Part 2, a cold page load: a fresh server process (imports, first script run, SymPy), the first ForwardMsgs of the
first session and what they weigh; with ``--browser`` also Debian's Chromium (Playwright) in a fresh context, with
and without HAProxy's gzip in front (deploy/serve.py): time until the first graph is visible, the bytes of the
static assets, and the time of the first script run.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROFILE_AFTER = 4  # runs not profiled: the first page run and three warm-up moves


def serve_instrumented(argv: list[str]) -> None:
    """``--serve OUT_DIR streamlit-args...``: run Streamlit with the script thread timed and profiled."""
    out_dir = Path(argv[0])
    sys.path.insert(0, str(ROOT / "deploy"))
    import replica

    if os.environ.get("PROFILE_PLAIN") != "1":
        replica.enable_nodelay()
    from streamlit.runtime.scriptrunner import script_runner as sr

    original = sr.ScriptRunner._run_script_thread
    state = {"runs": 0, "prof": cProfile.Profile()}

    def body(self) -> None:
        state["runs"] += 1
        profiled = state["runs"] > PROFILE_AFTER
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        if profiled:
            state["prof"].enable()
        try:
            original(self)
        finally:
            if profiled:
                state["prof"].disable()
            with open(out_dir / "runs.txt", "a") as f:
                f.write(f"{state['runs']} {time.thread_time() - cpu0:.6f} {time.perf_counter() - wall0:.6f}\n")
            if profiled:
                state["prof"].dump_stats(str(out_dir / "script.prof"))

    sr.ScriptRunner._run_script_thread = body
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv[1:]]
    cli.main()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(out_dir: Path, port: int, options: dict[str, str], plain: bool) -> subprocess.Popen:
    sys.path.insert(0, str(ROOT / "deploy"))
    from serve import PRODUCTION_OPTIONS, http_ok, wait_until

    args = ["run", str(ROOT / "app.py")]
    for k, v in {**PRODUCTION_OPTIONS, **options, "server.port": str(port), "server.address": "127.0.0.1"}.items():
        args += [f"--{k}", v]
    env = dict(os.environ, PROFILE_PLAIN="1" if plain else "0")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(out_dir), *args], cwd=ROOT, env=env,
                            stdout=open(out_dir / "server.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/_stcore/health"), 60, "server",
               alive=lambda: proc.poll() is None)
    return proc


def part_rerun(args, out_dir: Path) -> None:
    from stclient import StreamlitSession

    sys.path.insert(0, str(ROOT / "deploy"))
    from serve import free_port

    port = free_port()
    options = {} if not args.gc else {"runner.postScriptGC": "true"}
    proc = start_server(out_dir, port, options, args.plain)
    try:
        s = StreamlitSession(f"http://127.0.0.1:{port}", args.page, timeout=60)
        s.connect()
        for v in (0.1, 0.2, 0.3):
            s.set_slider("sb_w_1_0_0", v)
        cpu0 = cpu_seconds(proc.pid)
        replies, nbytes = [], []
        for i in range(args.moves):
            r = s.set_slider("sb_w_1_0_0", round(-0.9 + 0.07 * i, 2))
            replies.append(r.elapsed * 1000)
            nbytes.append(r.nbytes)
        time.sleep(0.3)  # the last run's bookkeeping (and GC, with --gc) ends after script_finished is sent
        server_cpu = (cpu_seconds(proc.pid) - cpu0) * 1000 / args.moves
        s.close()
    finally:
        proc.terminate()
        proc.wait(10)
    runs = [line.split() for line in (out_dir / "runs.txt").read_text().splitlines()]
    timed = [(float(c) * 1000, float(w) * 1000) for n, c, w in runs if int(n) > PROFILE_AFTER]
    script_cpu = statistics.median(c for c, _ in timed)
    script_wall = statistics.median(w for _, w in timed)
    print(f"\n### One warm rerun of {args.page} after a w5 move ({args.moves} moves; "
          f"{'GC after every run' if args.gc else 'no forced GC'}; {'Nagle on' if args.plain else 'TCP_NODELAY'})\n")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}\n")
    print("| what | median |\n| --- | ---: |")
    print(f"| reply time at the client (send → script_finished) | {statistics.median(replies):.1f} ms |")
    print(f"| server CPU per move, all threads (/proc) | {server_cpu:.1f} ms |")
    print(f"| script thread: wall time of the run (with cProfile on) | {script_wall:.1f} ms |")
    print(f"| script thread: CPU time of the run (with cProfile on) | {script_cpu:.1f} ms |")
    print(f"| reply size | {statistics.median(nbytes) / 1024:.1f} KB in {r.messages} messages |")
    stats = pstats.Stats(str(out_dir / "script.prof"), stream=(buf := io.StringIO()))
    stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print("\n```\n" + buf.getvalue().strip() + "\n```")


def part_cold(args, out_dir: Path) -> None:
    """A fresh server process: the first session's first run, message by message."""
    from stclient import StreamlitSession

    sys.path.insert(0, str(ROOT / "deploy"))
    from serve import free_port

    port = free_port()
    proc = start_server(out_dir, port, {}, plain=False)
    try:
        rows = []
        for label in ("first session of a fresh server", "second session (server warm)"):
            s = StreamlitSession(f"http://127.0.0.1:{port}", args.page, timeout=60)
            t0 = time.perf_counter()
            s.get("/" + args.page)
            s.get("/_stcore/health")
            s._open_socket(resume=False)
            t_socket = time.perf_counter() - t0
            marks: dict[str, float] = {}
            original = s.receive

            def receive(original=original, marks=marks):
                msg, n = original()
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    kind = msg.delta.new_element.WhichOneof("type")
                marks.setdefault(kind, time.perf_counter())
                if kind == "plotly_chart":
                    marks["plotly bytes"] = n
                return msg, n

            s.receive = receive
            t1 = time.perf_counter()
            reply = s.rerun(first=True)
            rows.append((label, t_socket, t1, marks, reply))
            s.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\n### Cold page open of {args.page}, protocol level (load average {os.getloadavg()[0]:.2f})\n")
    print("| session | HTTP + socket | new_session | page config | first element | network graph | finished | "
          "bytes | graph delta |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, t_socket, t1, marks, reply in rows:
        def at(key, t1=t1, marks=marks):
            return f"{(marks[key] - t1) * 1000:.0f} ms" if key in marks else "n/a"
        first = min((v for k, v in marks.items() if k not in ("new_session", "session_status_changed",
                                                              "navigation", "page_config_changed",
                                                              "plotly bytes")), default=t1)
        print(f"| {label} | {t_socket * 1000:.0f} ms | {at('new_session')} | {at('page_config_changed')} | "
              f"{(first - t1) * 1000:.0f} ms | {at('plotly_chart')} | {reply.elapsed * 1000:.0f} ms | "
              f"{reply.nbytes / 1024:.1f} KB | {marks.get('plotly bytes', 0) / 1024:.1f} KB |")


def part_imports() -> None:
    """Import time of the heavy modules in a fresh interpreter (python -X importtime), cumulative."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import streamlit, bpviz.ui"], cwd=ROOT,
                         capture_output=True, text=True).stderr
    cumulative: dict[str, int] = {}
    for line in out.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cum, name = (p.strip() for p in line.split(":", 1)[1].split("|"))
            if cum.isdigit():
                cumulative[name.strip()] = int(cum)
    print(f"\n### Import time in a fresh interpreter (load average {os.getloadavg()[0]:.2f})\n")
    print("| module | cumulative |\n| --- | ---: |")
    for name in ("streamlit", "numpy", "sympy", "plotly.graph_objects", "bpviz.symbolic", "bpviz.figures.network",
                 "bpviz.ui"):
        if name in cumulative:
            print(f"| {name} | {cumulative[name] / 1000:.0f} ms |")


def part_browser(args) -> None:
    """Debian's Chromium, fresh context, through deploy/serve.py (gzip) and straight to a replica (no gzip)."""
    sys.path.insert(0, str(ROOT / "deploy"))
    from playwright.sync_api import sync_playwright
    from serve import Cluster, free_port

    script = """() => {
      const r = performance.getEntriesByType('resource');
      const sum = (f) => r.filter(f).reduce((s, e) => s + e.transferSize, 0);
      const nav = performance.getEntriesByType('navigation')[0];
      return {n: r.length, js: sum(e => e.name.endsWith('.js')), css: sum(e => e.name.endsWith('.css')),
              fonts: sum(e => /woff2?|ttf/.test(e.name)), all: sum(e => true) + nav.transferSize,
              decoded: r.reduce((s, e) => s + e.decodedBodySize, 0), dcl: nav.domContentLoadedEventEnd,
              ws: (r.find(e => e.name.includes('_stcore/health')) || {}).responseEnd || 0};
    }"""
    rows = []
    with Cluster(replicas=1, port=free_port(), address="127.0.0.1", restart=False, quiet=True) as c, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        for label, base in (("fresh server, via HAProxy (gzip)", c.url), ("server warm, via HAProxy (gzip)", c.url),
                            ("server warm, straight to Streamlit (no gzip)", c.members[0].url)):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(f"{base}/{args.page}")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60000)
            graph = time.perf_counter() - t0
            page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                                   ".some(e => e.innerText.trim() === '0.2984')", timeout=60000)
            numbers_shown = time.perf_counter() - t0
            stats = page.evaluate(script)
            rows.append((label, graph, numbers_shown, stats))
            context.close()
        browser.close()
    print(f"\n### Cold load in a fresh browser context (Chromium, 1280×800; load average {os.getloadavg()[0]:.2f})\n")
    print("| case | first graph visible | E total shown | DOMContentLoaded | requests | transferred | "
          "JS transferred | decoded size |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, graph, shown, s in rows:
        print(f"| {label} | {graph * 1000:.0f} ms | {shown * 1000:.0f} ms | {s['dcl']:.0f} ms | {s['n']} | "
              f"{s['all'] / 1024:.0f} KB | {s['js'] / 1024:.0f} KB | {s['decoded'] / 1024:.0f} KB |")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_instrumented(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--page", default="backward")
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--gc", action="store_true", help="keep runner.postScriptGC=true (Streamlit's default)")
    parser.add_argument("--plain", action="store_true", help="leave Nagle's algorithm on (plain Streamlit)")
    parser.add_argument("--browser", action="store_true", help="also the cold load in Chromium (Playwright)")
    parser.add_argument("--skip-rerun", action="store_true", help="only the cold-load parts")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bpviz-profile-") as tmp:
        if not args.skip_rerun:
            part_rerun(args, Path(tmp))
        with contextlib.suppress(FileNotFoundError):
            (Path(tmp) / "runs.txt").unlink()
        part_cold(args, Path(tmp))
    part_imports()
    if args.browser:
        part_browser(args)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
