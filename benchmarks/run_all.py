"""Run every benchmark (each in its own process, one after the other) and print one markdown table.

Run: ``python benchmarks/run_all.py [--quick] [--skip core,apptest,browser] [--out results.md]``. Numbers depend on
the machine and its load (printed with the table); nothing here fails on a slow number, a missed target is marked.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Row, arguments, load_rows, machine_line, markdown

HERE = Path(__file__).resolve().parent
SCRIPTS = {"apptest": "bench_apptest.py", "browser": "bench_browser.py", "core": "bench_core.py"}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--skip", default="", help="comma-separated: " + ", ".join(SCRIPTS))
    parser.add_argument("--out", type=Path, help="also write the combined table (markdown) here")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rows: list[Row] = []
    failed: list[str] = []
    before = machine_line()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, script in SCRIPTS.items():
            if name in skip:
                continue
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, str(HERE / script), "--json", str(out)] + (["--quick"] if args.quick else [])
            print(f"--- {script}", flush=True)
            done = subprocess.run(cmd, cwd=HERE.parent)
            if done.returncode != 0 or not out.exists():
                failed.append(f"{script} (exit {done.returncode})")
                continue
            rows += load_rows(out)
    table = markdown(rows)
    header = (f"Machine: {before} at the start, {machine_line()} at the end; "
              f"{time.perf_counter() - started:.0f} s in all.")
    text = f"## All benchmarks\n\n{header}\n\n{table}\n"
    if failed:
        text += "\nFailed: " + ", ".join(failed) + "\n"
    print("\n" + text)
    if args.out:
        args.out.write_text(text)
    missed = [r for r in rows if r.met is False]
    print(f"{len(rows)} rows, {len([r for r in rows if r.met])} targets met, {len(missed)} missed.")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
