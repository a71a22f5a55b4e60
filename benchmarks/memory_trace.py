"""After a class: is the memory still held by live Python objects (a leak), or only not given back to the system?

Run: ``python benchmarks/memory_trace.py [--sessions 40] [--moves 3] [--ttl 5] [--top 12]``. Starts one replica
(deploy/replica.py, production options, ``server.disconnectedSessionTTL=--ttl``) in this file's ``--serve`` mode,
which turns on ``tracemalloc`` and writes a snapshot of every live Python allocation when sent SIGUSR1. A protocol
client (stclient.py) opens the Backward pass page once and moves w5 (the warm baseline), then ``--sessions`` students
open it and move w5 ``--moves`` times each; then all close, the TTL passes and one more session removes the expired
ones. Printed: the live Python heap (tracemalloc) with the sessions open and after the class, against the baseline,
and where what is still live after the class was allocated. RSS is not shown: tracemalloc's own tables and snapshots
take memory (``benchmarks/load.py`` measures RSS without it).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FRAMES = 12  # traceback depth kept per allocation
SETTLE_S = 3  # seconds for the server to handle closed websockets


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


def main() -> None:
    sys.path.insert(0, str(ROOT / "deploy"))
    sys.path.insert(0, str(HERE))
    import tracemalloc

    from serve import PRODUCTION_OPTIONS, free_port, http_ok, wait_until
    from stclient import StreamlitSession

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=40)
    p.add_argument("--moves", type=int, default=3)
    p.add_argument("--ttl", type=int, default=5)
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args()
    port = free_port()
    options = {**PRODUCTION_OPTIONS, "server.disconnectedSessionTTL": str(args.ttl), "server.address": "127.0.0.1",
               "server.port": str(port)}
    command = [sys.executable, __file__, "--serve", "run", str(ROOT / "app.py")]
    command += [a for k, v in options.items() for a in (f"--{k}", v)]
    with tempfile.TemporaryDirectory(prefix="bpviz-memory-") as tmp:
        folder = Path(tmp)
        log = open(folder / "server.log", "wb")  # noqa: SIM115 (closed in finally)
        proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "BPVIZ_SNAPSHOTS": tmp})
        url = f"http://127.0.0.1:{port}"

        def one_student() -> None:
            s = StreamlitSession(url, "backward", timeout=120)
            s.connect()
            s.set_slider("sb_w_1_0_0", 0.5)
            s.close()

        def snapshot(n: int) -> tracemalloc.Snapshot:
            os.kill(proc.pid, signal.SIGUSR1)
            wait_until(lambda: (folder / f"{n}.done").exists(), 120, f"snapshot {n}")
            return tracemalloc.Snapshot.load(str(folder / f"{n}.bin"))

        try:
            wait_until(lambda: http_ok(url + "/_stcore/health"), 120, "the traced replica")
            one_student()
            before = snapshot(0)
            students = [StreamlitSession(url, "backward", timeout=120) for _ in range(args.sessions)]
            for s in students:
                s.connect()
            for _ in range(args.moves):
                for s in students:
                    s.set_slider("sb_w_1_0_0", round(random.uniform(0.1, 0.9), 2))
            during = snapshot(1)
            for s in students:
                s.close()
            time.sleep(args.ttl + SETTLE_S)
            one_student()  # a session's end reaps the expired ones ...
            time.sleep(SETTLE_S)  # ... once the server has handled the disconnect
            after = snapshot(2)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    total = sum(s.size for s in before.statistics("filename"))
    print(f"\n### Live Python heap around a class of {args.sessions} (tracemalloc; {machine()})\n")
    print(f"| point | live heap | vs baseline | per session |\n| --- | ---: | ---: | ---: |\n"
          f"| baseline: warm, no session | {total / 2**20:.1f} MB | | |")
    for what, snap in ((f"{args.sessions} sessions open, {args.moves} moves each", during),
                       ("closed, expired and removed", after)):
        grown = sum(d.size_diff for d in snap.compare_to(before, "filename"))
        print(f"| {what} | {(total + grown) / 2**20:.1f} MB | {grown / 1024:+.0f} KB ({100 * grown / total:+.2f} %) "
              f"| {grown / 1024 / args.sessions:+.1f} KB |")
    diff = after.compare_to(before, "filename")
    print("\nWhere what is still live after the class was allocated:\n\n| file | KB | blocks |\n| --- | ---: | ---: |")
    for d in diff[:args.top]:
        print(f"| {Path(d.traceback[0].filename).name} | {d.size_diff / 1024:+.1f} | {d.count_diff:+d} |")


def machine() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_traced(sys.argv[2:])
    else:
        main()
