"""After a class: is the memory still held by live Python objects (a leak), or only not given back to the system?

Run: ``python benchmarks/memory_trace.py [--sessions 40] [--rss-sessions 100] [--moves 3] [--ttl 5] [--top 12]``.
A class, played by the protocol client (stclient.py) against one replica (deploy/replica.py, production options,
``server.disconnectedSessionTTL=--ttl``): one student opens the page and moves w5 (the warm baseline); then the
students open it and move w5 ``--moves`` times each; then all close, the TTL passes and one more session removes the
expired ones (Streamlit reaps them when a session ends).

1. The live Python heap: the replica runs in this file's ``--serve`` mode, with ``tracemalloc`` on and a snapshot of
   every live allocation written when sent SIGUSR1, at the baseline, with the ``--sessions`` students open and after
   the class. Printed: the heap at each point and where what is still live after the class was allocated.
   tracemalloc slows the server and takes memory itself, so no RSS is read from this replica.
2. RSS (VmRSS, no tracemalloc) for ``--rss-sessions`` students, of bpviz's Backward pass page and, as the control, of
   ``bare_app.py`` (Streamlit with the same sidebar widgets and one text element, no bpviz): if the bare app keeps
   its memory after the class as well, the RSS that stays is Streamlit's and CPython's, not bpviz's.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FRAMES = 12  # traceback depth kept per allocation
SETTLE_S = 3  # seconds for the server to handle closed websockets
W5 = "sb_w_1_0_0"  # the slider both apps have (bare_app.py uses bpviz's sidebar keys)


def serve_traced(argv: list[str]) -> None:
    """The replica, with tracemalloc on; SIGUSR1 writes snapshot N to $BPVIZ_SNAPSHOTS/N.bin (after a full GC)."""
    import gc
    import tracemalloc

    tracemalloc.start(FRAMES)
    folder = Path(os.environ["BPVIZ_SNAPSHOTS"])
    count = [0]

    def dump(signum, frame) -> None:
        gc.collect()
        tracemalloc.take_snapshot().dump(str(folder / f"{count[0]}.bin"))
        (folder / f"{count[0]}.done").touch()
        count[0] += 1

    signal.signal(signal.SIGUSR1, dump)
    sys.path.insert(0, str(ROOT / "deploy"))
    import replica

    replica.main(argv)


def play_class(url: str, page: str, sessions: int, moves: int, ttl: int, at: Callable[[str], None]) -> None:
    """The class described above; ``at(point)`` is called at "baseline", "open" and "after"."""
    from stclient import StreamlitSession

    def one_student() -> None:
        s = StreamlitSession(url, page, timeout=120)
        s.connect()
        s.set_slider(W5, 0.5)
        s.close()

    one_student()
    time.sleep(SETTLE_S)
    at("baseline")
    students = [StreamlitSession(url, page, timeout=120) for _ in range(sessions)]
    for s in students:
        s.connect()
    for _ in range(moves):
        for s in students:
            s.set_slider(W5, round(random.uniform(0.1, 0.9), 2))
    at("open")
    for s in students:
        s.close()
    time.sleep(ttl + SETTLE_S)
    one_student()  # a session's end reaps the expired ones ...
    time.sleep(SETTLE_S)  # ... once the server has handled the disconnect
    at("after")


def replica(app: Path, args: argparse.Namespace, folder: Path, traced: bool) -> tuple[subprocess.Popen, str]:
    """Start one replica of ``app`` on a free port (traced: through this file's --serve mode); returns it and URL."""
    from serve import PRODUCTION_OPTIONS, REPLICA, free_port, http_ok, streamlit_command, wait_until

    port = free_port()
    command = streamlit_command(app, port, {**PRODUCTION_OPTIONS, "server.disconnectedSessionTTL": str(args.ttl)})
    if traced:  # the same command through this file's --serve mode, which wraps deploy/replica.py
        at = command.index(str(REPLICA))
        command[at:at + 1] = [__file__, "--serve"]
    log_path = folder / f"{app.stem}.log"
    with open(log_path, "ab") as log:  # the child keeps its own copy of the handle
        proc = subprocess.Popen(command, cwd=app.parent, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "BPVIZ_SNAPSHOTS": str(folder)})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(url + "/_stcore/health"), 120, f"a replica of {app.name}",
                   alive=lambda: proc.poll() is None)
    except BaseException:
        stop(proc)
        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)  # the folder goes away with us
        raise
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    """End a replica: SIGTERM, then SIGKILL if it has not gone within 30 s."""
    from _common import stop_process  # here, not at the top: the traced replica runs this file and must not load it

    stop_process(proc, 30)


def live_heap(args: argparse.Namespace) -> None:
    import tracemalloc

    from serve import wait_until

    snaps: dict[str, tracemalloc.Snapshot] = {}
    with tempfile.TemporaryDirectory(prefix="bpviz-memory-") as tmp:
        folder = Path(tmp)
        proc, url = replica(ROOT / "app.py", args, folder, traced=True)

        def snapshot(point: str) -> None:
            n = len(snaps)
            os.kill(proc.pid, signal.SIGUSR1)
            wait_until(lambda: (folder / f"{n}.done").exists(), 120, f"snapshot {n}",
                       alive=lambda: proc.poll() is None)
            snaps[point] = tracemalloc.Snapshot.load(str(folder / f"{n}.bin"))

        try:
            play_class(url, "backward", args.sessions, args.moves, args.ttl, snapshot)
        finally:
            stop(proc)
    before = snaps["baseline"]
    total = sum(s.size for s in before.statistics("filename"))
    print(f"\n### Live Python heap around a class of {args.sessions} (tracemalloc; {machine()})\n")
    print(f"| point | live heap | vs baseline | per session |\n| --- | ---: | ---: | ---: |\n"
          f"| baseline: warm, no session | {total / 2**20:.1f} MB | | |")
    for what, point in ((f"{args.sessions} sessions open, {args.moves} moves each", "open"),
                        ("closed, expired and removed", "after")):
        grown = sum(d.size_diff for d in snaps[point].compare_to(before, "filename"))
        per_session = f"{grown / 1024 / args.sessions:+.1f} KB" if point == "open" else ""
        print(f"| {what} | {(total + grown) / 2**20:.1f} MB | {grown / 1024:+.0f} KB ({100 * grown / total:+.2f} %) "
              f"| {per_session} |")
    print("\nWhere what is still live after the class was allocated:\n\n| file | KB | blocks |\n| --- | ---: | ---: |")
    for d in snaps["after"].compare_to(before, "filename")[:args.top]:
        print(f"| {Path(d.traceback[0].filename).name} | {d.size_diff / 1024:+.1f} | {d.count_diff:+d} |")


def rss(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bpviz-memory-") as tmp:
        for label, app, page in (("bpviz, Backward pass", ROOT / "app.py", "backward"),
                                 ("control: bare_app.py (no bpviz)", HERE / "bare_app.py", "")):
            proc, url = replica(app, args, Path(tmp), traced=False)
            seen: dict[str, float] = {}

            def read(point: str, proc=proc, seen=seen) -> None:
                line = next(x for x in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                            if x.startswith("VmRSS"))
                seen[point] = int(line.split()[1]) / 1024

            try:
                play_class(url, page, args.rss_sessions, args.moves, args.ttl, read)
            finally:
                stop(proc)
            rows.append((label, seen))
    n = args.rss_sessions
    print(f"\n### RSS of one replica around a class of {n} (VmRSS, no tracemalloc; {machine()})\n")
    print("| app | baseline | sessions open | after the class | kept of what the class added |\n"
          "| --- | ---: | ---: | ---: | ---: |")
    for label, s in rows:
        base, grown, kept = s["baseline"], s["open"] - s["baseline"], s["after"] - s["baseline"]
        print(f"| {label} | {base:.1f} MB | {s['open']:.1f} MB ({1024 * grown / n:+.0f} KB per session) | "
              f"{s['after']:.1f} MB ({100 * kept / base:+.1f} %) | {100 * kept / grown if grown else 0:.0f} % |")


def machine() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"


def main() -> None:
    sys.path.insert(0, str(ROOT / "deploy"))
    sys.path.insert(0, str(HERE))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=40, help="students of the traced class (tracemalloc is slow)")
    p.add_argument("--rss-sessions", type=int, default=100, help="students of the RSS classes")
    p.add_argument("--moves", type=int, default=3)
    p.add_argument("--ttl", type=int, default=5)
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args()
    live_heap(args)
    rss(args)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_traced(sys.argv[2:])
    else:
        main()
