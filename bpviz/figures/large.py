"""Large type for a figure in presentation mode: no text under LARGE_MIN_FONT px, legible from the back of a hall."""

from __future__ import annotations

from typing import Any

from .network import LARGE_MIN_FONT  # the network figure's own floor in presentation mode


def large_type(spec: dict[str, Any], min_px: float = LARGE_MIN_FONT) -> dict[str, Any]:
    """``spec`` (Plotly's JSON form) with every font size raised to at least ``min_px``, the layout's default font
    included (tick labels and legends without a font of their own use it). Changes ``spec`` in place; returns it."""
    layout = spec.setdefault("layout", {})
    layout.setdefault("font", {})
    _raise(spec, min_px)
    return spec


def _raise(node: Any, min_px: float) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict):
                value["size"] = max(float(value.get("size") or 0), min_px)
            _raise(value, min_px)
    elif isinstance(node, list):
        for item in node:
            _raise(item, min_px)
