"""A slider whose value reaches the app while the thumb is dragged (Streamlit's own slider sends it on release).

Built on ``st.components.v2.component`` (inline HTML/CSS/JS that ships with Streamlit, no frontend build). The
browser half, ``live_slider.js``, is fixed code: the label, the range and the value reach it as data and are
written as text. It reports a state ``move``, ``{"v": value, "n": nonce}``; the nonce makes every report a change,
so moving back to a value reported before still counts. During a drag it sends the next value only when the app has
drawn the run that applied the last one (:func:`run_done`, drawn at the end of every run, says which reports were
applied), and never more often than every 60 ms. So a drag never queues reruns behind each other, the page keeps up
at the speed of a rerun, and the value on release is always sent last. Keyboard: arrows (one step), PageUp and
PageDown (ten), Home and End.

Values are checked here, not trusted: a report that is not a finite number is ignored, one out of range clamped
(:func:`read_value`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from . import state

# The state's name. Not "value": Streamlit 1.67 takes a component state {"value": <a dict>} for its own wrapper
# around the states and fires no callback for it (tests/test_live_slider.py shows it)
STATE = "move"
ACKS_KEY = "bpviz_live_acks"  # session: widget key -> nonce of the last report a callback received
HERE = Path(__file__).resolve().parent
JS = (HERE / "live_slider.js").read_text(encoding="utf-8")
DONE_JS = ("export default function ({ data }) {\n"
           "  window.dispatchEvent(new CustomEvent('bpviz:run-done', { detail: data }));\n}\n")
# Streamlit's slider, in the theme's colours: label above, the value over the thumb, min and max under the ends
CSS = """
.live { font-family: var(--st-font, sans-serif); color: var(--st-text-color, #31333f); padding: 0 0 0.25rem;
        user-select: none; -webkit-user-select: none; }
.head { display: flex; align-items: center; gap: 0.35rem; font-size: 0.875rem; line-height: 1.4;
        min-height: 1.5rem; margin-bottom: 1.3rem; }
.help { display: inline-flex; justify-content: center; align-items: center; width: 0.95rem; height: 0.95rem;
        border: 1px solid currentColor; border-radius: 50%; font-size: 0.65rem; opacity: 0.6; cursor: help; }
.help[hidden] { display: none; }
.track { position: relative; height: 1.5rem; margin: 0 0.5rem; cursor: pointer; touch-action: none; }
.rail, .fill { position: absolute; top: 50%; height: 0.25rem; margin-top: -0.125rem; border-radius: 0.25rem; }
.rail { left: 0; right: 0; background: var(--st-secondary-background-color, #f0f2f6); }
.fill { left: 0; background: var(--st-primary-color, #ff4b4b); }
.thumb { position: absolute; top: 50%; width: 0.75rem; height: 0.75rem; margin: -0.375rem 0 0 -0.375rem;
         border-radius: 50%; background: var(--st-primary-color, #ff4b4b); outline: none; }
.thumb:focus-visible { box-shadow: 0 0 0 0.2rem rgba(255, 75, 75, 0.5); }
.value { position: absolute; bottom: 1.25rem; transform: translateX(-50%); white-space: nowrap;
         font-size: 0.875rem; color: var(--st-primary-color, #ff4b4b); }
.ends { display: flex; justify-content: space-between; font-size: 0.75rem; opacity: 0.6; visibility: hidden; }
.live:hover .ends, .live:focus-within .ends { visibility: visible; }  /* like Streamlit's: the ends on hover */
"""
GRID_PLACES_MAX = 10


def step_places(step: float) -> int:
    """Decimals of a step (2 for 0.01): a multiple of the step written with these is exact."""
    return min(GRID_PLACES_MAX, max(0, -math.floor(math.log10(step) + 1e-9)))


def on_grid(v: float, step: float) -> float:
    """``v`` exactly on the multiples of ``step`` (0.15, not 0.15000000000000002) when within 1e-9 of one, else
    ``v`` as it is (a trained weight, 0.3589164797, stays)."""
    snapped = round(round(v / step) * step, step_places(step))
    return float(snapped) if abs(v - snapped) < 1e-9 else float(v)


@dataclass(frozen=True)
class Grid:
    """A slider's range and step: the multiples of step from lo to hi (both on the grid)."""

    lo: float
    hi: float
    step: float

    @property
    def places(self) -> int:
        """Decimals of the step (2 for 0.01): a grid value written with these is exact."""
        return step_places(self.step)

    def snap(self, v: float) -> float:
        """``v`` clamped into the range, then :func:`on_grid`."""
        return on_grid(min(self.hi, max(self.lo, v)), self.step)


def read_value(raw: Any, grid: Grid) -> float | None:
    """The value in a report from the browser, ``{"v": 0.45, "n": 17}``; None for anything else.

    A number outside the range is clamped into it (the browser only sends values in range; a hand-made message
    might not); a bool, a string, NaN or ±inf is not a value.
    """
    v = raw.get("v") if isinstance(raw, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return grid.snap(float(v))


def nonce(raw: Any) -> int | None:
    """The report's nonce (the browser half's count of its reports), or None when it has none."""
    n = raw.get("n") if isinstance(raw, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) else None


_slider = st.components.v2.component("bpviz_live_slider", js=JS, css=CSS)
_done = st.components.v2.component("bpviz_run_done", js=DONE_JS)


def _acks() -> dict[str, int]:
    acks = st.session_state.get(ACKS_KEY)
    if acks is None:
        acks = st.session_state[ACKS_KEY] = {}
    return acks


def _reported(key: str, grid: Grid, change: Callable[..., None], args: tuple) -> None:
    """The component's callback: hand a valid value to ``change(value, *args)``; remember the report as seen."""
    state.acted()
    raw = _report(st.session_state.get(key))
    n = nonce(raw)
    if n is not None:
        _acks()[key] = n
    value = read_value(raw, grid)
    if value is not None:
        change(value, *args)


def reported(key: str, grid: Grid) -> float | None:
    """The value the slider with this key reported last (None: none yet, or not a value), read from the widget's
    state, as a script without callbacks reads it (benchmarks/bare_app.py)."""
    return read_value(_report(st.session_state.get(key)), grid)


def _report(held: Any) -> Any:
    """The last report in what Streamlit holds under the widget's key (a mapping of the component's states)."""
    return held.get(STATE) if hasattr(held, "get") else None


def live_slider(label: str, key: str, value: float, grid: Grid, change: Callable[..., None], args: tuple = (),
                *, decimals: int = 2, help_text: str | None = None) -> None:
    """A slider at ``value`` on ``grid``; a move calls ``change(value, *args)``, also during a drag.

    ``decimals``: how the value is written (the app's setting); label and help are shown as plain text.
    """
    data = {"key": key, "label": label, "help": help_text, "value": float(value), "min": grid.lo, "max": grid.hi,
            "step": grid.step, "grid_places": grid.places, "places": int(decimals)}
    state.hold_live(key, float(value), change, args, lambda held: read_value(_report(held), grid))
    _slider(key=key, data=data, on_move_change=lambda: _reported(key, grid, change, args))


def run_done() -> None:
    """Tell the page's live sliders that this run has been drawn, and which of their reports it applied."""
    with st.sidebar:
        _done(key="bpviz_run_done", data={"acks": dict(_acks())}, height=0)
