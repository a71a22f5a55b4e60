"""How a number is shown, everywhere (formulas, graph labels, tables, metrics): one rule, two notations.

- a whole number as itself (1, 2, 0: an exact 0 says "exactly zero", e.g. a dead ReLU);
- a non-zero number that would round to 0 at ``decimals`` places, or one of 100,000 or more, in scientific
  notation (4.386e-05), so a vanishing gradient does not read as zero;
- anything else with exactly ``decimals`` places (0.1500, 0.3775: a reader sees the numbers are rounded).
"""

from __future__ import annotations

import math

LARGE = 1e5


def _parts(x: float, decimals: int) -> tuple[str, str | None]:
    """(digits, power of ten or None) of ``x`` under the rule above."""
    if x == round(x) and abs(x) < LARGE:
        return str(int(x)), None
    fixed = f"{x:.{decimals}f}"
    if float(fixed) == 0 or abs(x) >= LARGE:
        mantissa, exponent = f"{x:.{max(decimals - 1, 1)}e}".split("e")
        return mantissa, str(int(exponent))
    return fixed, None


def text(x: float, decimals: int = 4, minus: str = "-") -> str:
    """Plain text (tables, metrics, Plotly labels); ``minus="−"`` for the typographic minus sign."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    digits, power = _parts(x, decimals)
    digits = digits.replace("-", minus)
    return digits if power is None else f"{digits}e{int(power):+03d}"


def latex(x: float, decimals: int = 4) -> str:
    r"""LaTeX (formulas): the same rule, scientific numbers as ``4.386 \times 10^{-5}``."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    digits, power = _parts(x, decimals)
    return digits if power is None else rf"{digits} \times 10^{{{power}}}"
