"""The handout: the seed's worked solution and a deep net, in Markdown and LaTeX."""

from __future__ import annotations

import re

import pytest

from bpviz import config, engine
from bpviz.explain import render

from .test_symbolic import make_scenario

SEED = config.preset("seed")


def test_seed_markdown_has_every_step_and_the_key_numbers():
    md = render(SEED, "markdown")
    for number in ("0.3775", "0.5933", "0.7514", "0.7729", "0.2984", "0.0822", "0.3589", "0.7414", "0.1868"):
        assert number in md, number
    assert md.count("\n### ") == 35
    assert r"$$ net_{h1} = 0.1500 \cdot 0.0500 + 0.2000 \cdot 0.1000 + 0.3500 = 0.3775 $$" in md
    assert r"out_{o1} \left(1 - out_{o1}\right) = 0.7514 \cdot \left(1 - 0.7514\right) = 0.1868" in md
    assert "Path 2" in md  # w1's second output path
    assert md.count("$$") % 2 == 0
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings == ["Forward pass", "Loss", "Backward pass (chain rule)", "Update (gradient descent)"]


def test_seed_latex_is_a_complete_document():
    tex = render(SEED, "latex")
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\begin{document}") == 1
    assert tex.count(r"\[") == tex.count(r"\]")
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}")
    assert tex.count("{") == tex.count("}")
    assert "0.3589" in tex and "0.2984" in tex and r"half\_sse" in tex
    body = tex[tex.index(r"\begin{document}"):]
    assert "_h1" not in body.replace(r"\_h1", "")  # notes' plain names are escaped


def test_deep_net_renders_with_the_delta_recursion():
    sc = make_scenario((2, 3, 3, 2), ("tanh", "relu", "softmax"), "cross_entropy", seed=6)
    md = render(sc, "markdown", decimals=3)
    assert r"\delta^{(1)}_{1} &= " in md
    n_steps = 2 * 8 + 2 + 1 + 2 * len(engine.parameter_refs(sc))
    assert md.count("\n### ") == n_steps
    tex = render(sc, "latex")
    assert r"\begin{aligned}" in tex and tex.count("{") == tex.count("}")
    assert "⁽" not in tex and "₁" not in tex  # Unicode names turned into maths for pdflatex


def test_batched_summary_mentions_the_samples():
    sc = make_scenario((2, 2, 1), ("sigmoid", "sigmoid"), "bce", n=3, seed=7)
    assert "3 samples" in render(sc)


def test_unknown_format():
    with pytest.raises(ValueError):
        render(SEED, "html")


def test_no_factor_row_repeats_a_number():
    """The handout drops a column that only repeats the one before (∂net/∂w5 = out_h1 = 0.5933, never
    "= 0.5933 = 0.5933"), with the same rule as the app's factor table."""
    text = render(SEED, fmt="markdown")
    assert re.search(r"= (-?[0-9.]+) = \1 \$", text) is None
    assert r"= out_{h1} = 0.5933 $" in text and r"\frac{\partial net_{o1}}{\partial b_{o1}} = 1 $" in text
