"""Core (no Streamlit) timings: training, walkthrough, network figure, slope curve and loss landscape, matrix view,
computational graph.

Run: ``python benchmarks/bench_core.py [--quick] [--json out.json]``. Prints a markdown table and, because the
machine is shared, ratios measured within this one run (6x8 vs seed; cold vs warm), which are steadier than the
absolute numbers.
"""

from __future__ import annotations

import time

from _common import DEEP, NETWORKS, Row, arguments, clear_caches, finish, row, timed

from bpviz import compgraph, engine, landscape, training
from bpviz.config import preset
from bpviz.figures.compgraph import compgraph_figure
from bpviz.figures.network import network_figure
from bpviz.ids import Neuron
from bpviz.matrix import matrix_steps
from bpviz.walkthrough import build_walkthrough

TRAIN_STEPS = 10_000


def _train_rows(repeats: int) -> list[Row]:
    rows = []
    for name in ("seed", "xor_2_4_1"):
        s = preset(name)
        training.train(s, 100)  # imports and first-call costs out of the way
        for every, why in ((10, "record_every=10 as the Training page"), (1, "record_every=1: every step kept")):
            secs = timed(lambda s=s, every=every: training.train(s, TRAIN_STEPS, record_every=every), repeats)
            target = ("well under 1 s (taken as <= 500 ms)", 500.0) if name == "seed" else ("", None)
            rows.append(row(f"train {TRAIN_STEPS:,} steps", name, secs, target[0], target[1], note=why))
    return rows


def _slope_row(s, grads, net: str, quick: bool) -> Row:
    """The slope chart's curve (issue 9: 201 points in <= 5 ms on the seed), for a first-layer weight: the worst case,
    every layer runs on the stacked copies (an output weight reuses all layers below it)."""
    ref = engine.parameter_refs(s)[0]
    target = ("<= 5 ms", 5.0) if net == "seed" else ("", None)
    upd = engine.step(s)  # the page passes the walkthrough's own update step
    secs = timed(lambda: landscape.slope_curve(s, ref, points=landscape.CURVE_POINTS, grads=grads, update=upd),
                 50 if quick else 300, warmup=5)
    return row(f"slope curve, {landscape.CURVE_POINTS} points", net, secs, *target,
               note="first-layer weight: every layer on the stacked copies")


def _landscape_row(s, grads, net: str, quick: bool) -> Row:
    """The loss landscape (issue 9: a 61×61 grid in <= 50 ms on the seed), over the first and last weight."""
    refs = engine.parameter_refs(s)
    pair = (refs[0], refs[-1])
    n = landscape.GRID_POINTS
    secs = timed(lambda: landscape.landscape(s, pair, grads=grads), 20 if quick else 100, warmup=2)
    target = ("<= 50 ms", 50.0) if net == "seed" else ("", None)
    return row(f"loss landscape, {n}x{n} grid", net, secs, *target, note="from the first layer: every copy full")


def _walk_all(s, trace, grads) -> int:
    """Build the walkthrough and every one of its steps (what a student paging through all of them costs)."""
    wt = build_walkthrough(s, trace, grads)
    return sum(1 for _ in wt)


def _cold(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        clear_caches()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    args = arguments(__doc__.splitlines()[0]).parse_args()
    q = args.quick
    rows: list[Row] = []
    medians: dict[tuple[str, str], float] = {}

    def add(r: Row) -> None:
        rows.append(r)
        medians[(r.what, r.network)] = r.median_ms

    for r in _train_rows(2 if q else 5):
        add(r)
    # warm plotly, numpy and SymPy imports once, so the first network's numbers are not import time
    s0 = NETWORKS["seed"]()
    t0_, g0_ = engine.forward(s0), engine.backward(s0)
    network_figure(s0, t0_, g0_, None)

    for net, make in NETWORKS.items():
        s = make()
        trace = engine.forward(s)
        grads = engine.backward(s, trace)
        n_steps = len(build_walkthrough(s, trace, grads))
        add(row("engine forward + backward", net, timed(lambda s=s: engine.backward(s, engine.forward(s)),
                                                        50 if q else 300, warmup=5)))
        add(row("walkthrough: build + all steps, cold", net,
                _cold(lambda s=s, tr=trace, g=grads: _walk_all(s, tr, g), 2 if q else 3),
                note=f"{n_steps} steps, SymPy templates built"))
        add(row("walkthrough: build + all steps, warm", net,
                timed(lambda s=s, tr=trace, g=grads: _walk_all(s, tr, g), 3 if q else 10, warmup=1),
                note=f"{n_steps} steps"))
        wt = build_walkthrough(s, trace, grads)
        i_bw = wt.first_of("backward")
        first_bw = wt[i_bw]
        add(row("walkthrough: build + first backward step, warm", net,
                timed(lambda s=s, tr=trace, g=grads, i=i_bw: build_walkthrough(s, tr, g)[i],
                      10 if q else 50, warmup=1), note="what one page run needs"))
        add(row("network_figure (values, no step)", net,
                timed(lambda s=s, tr=trace, g=grads: network_figure(s, tr, g, None), 5 if q else 20, warmup=1)))
        add(row("network_figure (gradients, backward step)", net,
                timed(lambda s=s, tr=trace, g=grads, st=first_bw: network_figure(s, tr, g, st, mode="gradients"),
                      5 if q else 20, warmup=1)))
        add(_slope_row(s, grads, net, q))
        add(_landscape_row(s, grads, net, q))
        add(row("matrix_steps", net, timed(lambda s=s, tr=trace, g=grads: matrix_steps(s, tr, g),
                                           10 if q else 50, warmup=1)))
        add(row("compgraph.full_graph_allowed, cold", net,
                _cold(lambda s=s: compgraph.full_graph_allowed(s), 2 if q else 3), note="node count of the full graph"))
        focus = None if compgraph.full_graph_allowed(s) else Neuron(1, 0)
        kind = "whole loss" if focus is None else "one neuron (1, 0)"
        add(row("compgraph.build_graph, cold", net,
                _cold(lambda s=s, f=focus: compgraph.build_graph(s, focus=f), 2 if q else 3), note=kind))
        add(row("compgraph.build_graph, warm", net,
                timed(lambda s=s, f=focus: compgraph.build_graph(s, focus=f), 10 if q else 50, warmup=1), note=kind))
        graph = compgraph.build_graph(s, focus=focus)
        add(row("compgraph_figure", net, timed(lambda g=graph: compgraph_figure(g, upto_step=1), 5 if q else 20,
                                               warmup=1), note=kind))

    finish(rows, args.json, "Core (bench_core.py)")
    print(f"\nRatios within this run ({DEEP} median / seed median; cold / warm):\n")
    print("| what | ratio |\n| --- | ---: |")
    for what in sorted({w for w, n in medians if n == DEEP}):
        if (what, "seed") in medians and medians[(what, "seed")] > 0:
            print(f"| {what}: {DEEP} / seed | {medians[(what, DEEP)] / medians[(what, 'seed')]:.1f}x |")
    for net in NETWORKS:
        cold = medians.get(("walkthrough: build + all steps, cold", net))
        warm = medians.get(("walkthrough: build + all steps, warm", net))
        if cold and warm:
            print(f"| walkthrough cold / warm, {net} | {cold / warm:.1f}x |")
    if any(r.what.startswith("train") for r in rows):
        print("\nTraining, µs per step (record_every=1 rows last): " +
              ", ".join(f"{r.network} {r.median_ms / TRAIN_STEPS * 1000:.0f} µs ({r.note.split(' ')[0].rstrip(':')})"
                        for r in rows if r.what.startswith("train")))


if __name__ == "__main__":
    main()
