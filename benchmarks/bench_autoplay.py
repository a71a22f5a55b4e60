"""Autoplay in a real browser: how many runs of the app each step costs, how long a step takes at 1 s per step, and
that nothing runs while paused.

Counts come from the server's own messages (websocket frames read as ForwardMsg): every script run starts with a
``new_session`` message whose metadata names the fragments it runs (none: the whole app). The browser opens the
Forward pass in a fresh session at 1 s per step, a few steps before the backward page, presses Play, and watches
``--steps`` steps go by (crossing to the backward page); then Pause, and ``--paused`` seconds of nothing (a window
on the clock is what this measures: a benchmark, not a test).

    python benchmarks/bench_autoplay.py [--steps 12] [--paused 10]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from _common import CHROMIUM, CHROMIUM_ARGS, arguments, machine_line, p95
from bench_browser import start_server, stop_server

from bpviz.config import preset
from bpviz.ui import autoplay, link, navigation
from bpviz.ui.computed import compute
from bpviz.ui.state import AUTOPLAY_SPEED_OPTION, AppState

START = 5  # the 6th forward step: the walk crosses to the backward page after a few steps
STEP_BOX = '[data-testid="stMain"] [data-testid="stSelectbox"] input'
PLAY = f".st-key-{autoplay.PLAY_KEY} button"
PLAY_TEXT = f".st-key-{autoplay.PLAY_KEY} [data-testid='stMarkdownContainer']"


class Frames:
    """Runs started by the server (from its new_session messages) and messages the browser sent, as they come."""

    def __init__(self) -> None:
        self.full = self.fragment = self.sent = 0

    def received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, str):
            return
        msg = ForwardMsg.FromString(payload)
        if msg.WhichOneof("type") == "new_session":
            if msg.metadata.run.fragment_ids:
                self.fragment += 1
            else:
                self.full += 1

    def watch(self, ws) -> None:
        ws.on("framereceived", self.received)
        ws.on("framesent", lambda _: setattr(self, "sent", self.sent + 1))

    def take(self) -> tuple[int, int, int]:
        counts = (self.full, self.fragment, self.sent)
        self.full = self.fragment = self.sent = 0
        return counts


def wait(page, predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(20)
    raise RuntimeError("timed out")


def measure(browser, url: str, steps: int, paused: float) -> dict[str, object]:
    sid = navigation.walk(compute(AppState(scenario=preset("seed"))))[START][1]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    frames = Frames()
    page.on("websocket", frames.watch)
    page.goto(f"{url}/forward?st={sid.format()}&o={link.pack({AUTOPLAY_SPEED_OPTION: 1})}")
    wait(page, lambda: page.locator(STEP_BOX).count() and page.locator(PLAY).count())
    page.wait_for_timeout(2000)  # the first load's runs are not autoplay's
    frames.take()
    shown = page.locator(STEP_BOX).first.input_value()
    page.locator(PLAY).first.click()
    per_step, periods, last = [], [], None
    while len(per_step) < steps:
        wait(page, lambda before=shown: page.locator(STEP_BOX).first.input_value() != before)
        now = time.monotonic()
        shown = page.locator(STEP_BOX).first.input_value()
        if last is not None:
            periods.append(now - last)
        last = now
        per_step.append(frames.take())
    pages = page.url.split("?")[0].rsplit("/", 1)[-1]
    page.locator(PLAY).first.click()
    wait(page, lambda: page.locator(PLAY_TEXT).first.inner_text().strip() == "Play")
    page.wait_for_timeout(500)  # the Pause run itself
    frames.take()
    at = page.locator(STEP_BOX).first.input_value()
    page.wait_for_timeout(paused * 1000)
    idle = frames.take()
    moved = page.locator(STEP_BOX).first.input_value() != at
    page.close()
    # the first step's counts include Play's own run; the others are beats alone
    beats = per_step[1:]
    return {"beats": beats, "periods": periods, "idle": idle,
            "moved": moved, "reached": pages}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--paused", type=float, default=10.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.gettempdir()) / "bench_autoplay_streamlit.log"
    proc, url = start_server(log)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                r = measure(browser, url, 4 if args.quick else args.steps, args.paused)
            finally:
                browser.close()
    finally:
        stop_server(proc)
    beats, periods = r["beats"], [s * 1000 for s in r["periods"]]
    full = [b[0] for b in beats]
    print(f"\n{machine_line()}\n")
    print("| what | value |\n| --- | ---: |")
    print(f"| steps watched after the first (1 s per step, forward page to the {r['reached']} page) | {len(beats)} |")
    print(f"| full runs of the app per step (mean; min–max) | {statistics.mean(full):.2f} ({min(full)}–{max(full)}) |")
    print(f"| fragment runs (beats) per step (mean) | {statistics.mean(b[1] for b in beats):.2f} |")
    print(f"| messages the browser sent per step (mean) | {statistics.mean(b[2] for b in beats):.2f} |")
    print(f"| time between steps (median / p95) | {statistics.median(periods):.0f} / {p95(periods):.0f} ms |")
    print(f"| paused {args.paused:g} s: full runs / fragment runs / messages sent | "
          f"{r['idle'][0]} / {r['idle'][1]} / {r['idle'][2]} |")
    print(f"| paused: the step moved | {'yes' if r['moved'] else 'no'} |")


if __name__ == "__main__":
    main()
