"""One rule for showing numbers, in text and in LaTeX."""

import pytest

from bpviz import numbers


@pytest.mark.parametrize(
    ("x", "text", "latex"),
    [(0.15, "0.1500", "0.1500"), (0.37749999, "0.3775", "0.3775"), (1.0, "1", "1"), (0.0, "0", "0"),
     (-0.0, "0", "0"), (2.0, "2", "2"), (0.99999, "1.0000", "1.0000"),  # rounded, so not shown as the whole 1
     (4.386e-5, "4.386e-05", r"4.386 \times 10^{-5}"), (-1e-5, "-1.000e-05", r"-1.000 \times 10^{-5}"),
     (999999.5, "1.000e+06", r"1.000 \times 10^{6}"), (-0.2171, "-0.2171", "-0.2171")],
)
def test_one_rule(x, text, latex):
    assert numbers.text(x, 4) == text
    assert numbers.latex(x, 4) == latex


def test_typographic_minus_only_on_the_number():
    assert numbers.text(-1e-5, 4, minus="−") == "−1.000e-05"
    assert numbers.text(-0.25, 2, minus="−") == "−0.250"  # at least 3 significant figures
    assert numbers.text(-12.25, 1, minus="−") == "−12.2"


def test_every_view_uses_it():
    from bpviz.figures import compgraph, network
    from bpviz.matrix import format_number as matrix_number
    from bpviz.symbolic import format_number as formula_number
    from bpviz.ui import widgets as ui

    for x in (0.15, 4.386e-5, -0.2171, 1.0):
        assert ui.fmt(x, 4) == numbers.text(x, 4)
        assert network._fmt(x, 4) == compgraph.fmt(x, 4) == numbers.text(x, 4, minus="\u2212")
        assert formula_number(x, 4) == matrix_number(x, 4) == numbers.latex(x, 4)
