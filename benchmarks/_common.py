"""Shared helpers of the benchmark scripts: the two networks, statistics, cache clearing and the markdown table.

The benchmarks print tables; they never assert on time (the machine is shared and noisy). ``--json PATH`` writes the
rows for ``run_all.py``, which prints one table for everything.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bpviz.builder import build_scenario  # noqa: E402
from bpviz.config import Scenario, preset  # noqa: E402

APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"  # Debian's; the flags keep a headless run quiet and repeatable
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEEP = "6x8"  # 8 inputs, 6 hidden layers of 8 sigmoid neurons, 8 outputs


def seed_scenario() -> Scenario:
    return preset("seed")


def deep_scenario() -> Scenario:
    """The largest network the app allows: 8-8-8-8-8-8-8-8, sigmoid, ½·SSE, Xavier weights (fixed seed)."""
    return build_scenario([8] + [8] * 6 + [8], ["sigmoid"] * 7, "half_sse", init="xavier")


NETWORKS: dict[str, Callable[[], Scenario]] = {"seed": seed_scenario, DEEP: deep_scenario}


@dataclass
class Row:
    """One line of the result table; times in milliseconds."""

    what: str
    network: str
    median_ms: float
    p95_ms: float
    n: int
    target: str = ""  # e.g. "median <= 30 ms"
    met: bool | None = None  # None: no target
    note: str = ""


def p95(samples: Iterable[float]) -> float:
    return float(np.percentile(np.asarray(list(samples), dtype=float), 95))


def row(what: str, network: str, seconds: list[float], target: str = "", limit_ms: float | None = None,
        on: str = "median", note: str = "") -> Row:
    """A row from raw samples (seconds); ``limit_ms`` applies to the median or the p95 (``on``)."""
    ms = [s * 1000.0 for s in seconds]
    med, hi = float(statistics.median(ms)), p95(ms)
    met = None if limit_ms is None else (med if on == "median" else hi) <= limit_ms
    return Row(what, network, med, hi, len(ms), target, met, note)


def timed(fn: Callable[[], object], repeats: int, warmup: int = 0) -> list[float]:
    """Wall time of ``fn()`` in seconds, ``repeats`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def clear_caches() -> None:
    """Forget every per-architecture cache (bpviz's lru_caches and SymPy's own), so the next call runs cold."""
    import sympy.core.cache

    for name, module in list(sys.modules.items()):
        if name == "bpviz" or name.startswith("bpviz."):
            for obj in list(vars(module).values()):
                if callable(getattr(obj, "cache_clear", None)):
                    obj.cache_clear()
    sympy.core.cache.clear_cache()


def fmt_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def markdown(rows: list[Row]) -> str:
    """The table: what | network | median | p95 | target (✓ met, ✗ missed)."""
    lines = ["| what | network | median | p95 | target |", "| --- | --- | ---: | ---: | --- |"]
    for r in rows:
        target = r.target + ("" if r.met is None else (" ✓" if r.met else " ✗ missed"))
        what = r.what + (f" ({r.note})" if r.note else "") + (f" [n={r.n}]" if r.n > 1 else "")
        lines.append(f"| {what} | {r.network} | {fmt_ms(r.median_ms)} | {fmt_ms(r.p95_ms)} | {target} |")
    return "\n".join(lines)


def machine_line() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here (for run_all.py)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, numbers less stable)")
    return parser


def finish(rows: list[Row], json_path: Path | None, title: str) -> None:
    print(f"\n### {title}\n\n{machine_line()}\n")
    print(markdown(rows))
    if json_path is not None:
        json_path.write_text(json.dumps([asdict(r) for r in rows], indent=1))


def load_rows(path: Path) -> list[Row]:
    return [Row(**d) for d in json.loads(path.read_text())]


def stop_process(proc, grace: float) -> None:
    """End a server the benchmark started: SIGTERM, then SIGKILL if it has not gone within ``grace`` seconds."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
