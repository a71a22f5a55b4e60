"""How a number is shown, everywhere (formulas, graph labels, tables, metrics, handout): one rule, two notations.

- a whole number as itself (1, 2, 0: an exact 0 says "exactly zero", e.g. a dead ReLU);
- any other number with ``decimals`` places, or more where that would show fewer than ``MIN_SIGNIFICANT``
  significant figures (∂E/∂w1 = 0.000439, not 0.0004), so a reader sees the numbers are rounded and a small
  gradient keeps its digits;
- a number that would need more than ``MAX_FIXED_PLACES`` places for that (and more than ``decimals``), or one of
  100,000 or more, in scientific notation (4.39e-05), so a vanishing gradient does not read as zero;
- a value float64 cannot hold in words, never "inf" or "nan": "overflow" (beyond ±1.8e308) or "undefined" (∞ − ∞,
  0 · ∞); the place that shows one says next to it what overflowed and why.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from .i18n import N_, t

LARGE = 1e5
MIN_SIGNIFICANT = 3
MAX_FIXED_PLACES = 6
MINUS = "\u2212"  # the typographic minus sign "−" (figures, prose), for ``minus=``


def places(x: float, decimals: int) -> int:
    """Decimal places that show ``x`` with at least ``MIN_SIGNIFICANT`` significant figures, and at least
    ``decimals`` places."""
    if x == 0 or not math.isfinite(x):
        return decimals
    return max(decimals, MIN_SIGNIFICANT - 1 - math.floor(math.log10(abs(x))))


def _parts(x: float, decimals: int) -> tuple[str, str | None]:
    """(digits, power of ten or None) of ``x`` under the rule above."""
    if x == round(x) and abs(x) < LARGE:
        return str(int(x)), None
    n = places(x, decimals)
    if abs(x) >= LARGE or n > max(decimals, MAX_FIXED_PLACES):
        mantissa, exponent = f"{x:.{max(decimals - 1, MIN_SIGNIFICANT - 1)}e}".split("e")
        return mantissa, str(int(exponent))
    return f"{x:.{n}f}", None


OVERFLOW, UNDEFINED = N_("overflow"), N_("undefined")  # English; shown through non_finite(x, lang=...)


def non_finite(x: float, minus: str = "-", lang: str = "en") -> str:
    """The words for a value float64 cannot hold, in ``lang``."""
    if math.isnan(x):
        return t(UNDEFINED, lang)  # marked with N_ above
    return t(OVERFLOW, lang) if x > 0 else minus + t(OVERFLOW, lang)  # marked with N_ above


def exact(x: float, lang: str = "en") -> str:
    """Full precision (hover texts): Python's shortest round-tripping repr, or the words for a non-finite value."""
    x = float(x)
    return repr(x) if math.isfinite(x) else non_finite(x, lang=lang)


def text(x: float, decimals: int = 4, minus: str = "-", lang: str = "en") -> str:
    """Plain text (tables, metrics, Plotly labels); ``minus="−"`` for the typographic minus sign."""
    x = float(x)
    if not math.isfinite(x):
        return non_finite(x, minus, lang)
    digits, power = _parts(x, decimals)
    digits = digits.replace("-", minus)
    return digits if power is None else f"{digits}e{int(power):+03d}"


def latex(x: float, decimals: int = 4, lang: str = "en") -> str:
    r"""LaTeX (formulas): the same rule, scientific numbers as ``4.39 \times 10^{-5}``."""
    x = float(x)
    if not math.isfinite(x):
        return rf"\text{{{non_finite(x, lang=lang)}}}"
    digits, power = _parts(x, decimals)
    return digits if power is None else rf"{digits} \times 10^{{{power}}}"


@dataclass(frozen=True)
class Style:
    """How one reader sees numbers: ``decimals`` places, ``lang`` (the language of the words for a value float64
    cannot hold: "overflow", "undefined") and the ``minus`` sign of :meth:`text`. Every view that shows a number
    formats it through one of these, so none can forget the reader's language."""

    decimals: int = 4
    lang: str = "en"
    minus: str = "-"

    def text(self, x: float) -> str:
        """:func:`text` in this style."""
        return text(x, self.decimals, self.minus, self.lang)

    def latex(self, x: float) -> str:
        """:func:`latex` in this style."""
        return latex(x, self.decimals, self.lang)

    def exact(self, x: float) -> str:
        """:func:`exact` in this style (full precision; ``decimals`` does not apply)."""
        return exact(x, self.lang)


_WIDE_IN_CHINESE = frozenset("…—‘’“”")  # punctuation a Chinese text uses (……, “”), a full em wide there


def columns(s: str) -> int:
    """How many Latin letters wide ``s`` is drawn, for estimating a label's width: an East Asian wide or fullwidth
    character (汉字, fullwidth punctuation such as "（" or "："; ``unicodedata.east_asian_width`` "W"/"F") counts as
    two, every other character as one, so Chinese labels ("溢出", "E（样本 1）") get room for their glyphs. In a text
    with such a character, the punctuation Chinese shares with English ("累加中……", quotes) counts as two as well;
    a text without one (English) is as many letters wide as it has characters."""
    wide = [unicodedata.east_asian_width(c) in "WF" for c in s]
    chinese = any(wide)
    return sum(2 if w or (chinese and c in _WIDE_IN_CHINESE) else 1 for c, w in zip(s, wide))
