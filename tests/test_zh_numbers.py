"""A value float64 cannot hold reads in the reader's language: "溢出"/"未定义" in Chinese, never the English
"overflow"/"undefined", wherever a number is formatted (the walkthrough's update problem, the network figure's
texts and hovers, the computational graph, the matrix LaTeX, the CLI); and Chinese labels get room for their
glyphs (a wide character counts as two Latin letters in every width estimate)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bpviz import numbers
from bpviz.cli import main
from bpviz.compgraph import build_graph
from bpviz.config import validate
from bpviz.engine import backward, forward
from bpviz.figures import compgraph as cg_figure
from bpviz.figures import network
from bpviz.figures.compgraph import compgraph_figure
from bpviz.figures.network import network_figure
from bpviz.i18n import t
from bpviz.ids import Phase
from bpviz.matrix import bmatrix, highlighted_latex, matrix_steps
from bpviz.naming import names_for
from bpviz.walkthrough import build_walkthrough, update_problem

from .conftest import CORPUS
from .test_fuzz import strings

ENGLISH = (numbers.OVERFLOW, numbers.UNDEFINED)  # "overflow", "undefined"
ZH_OVERFLOW, ZH_UNDEFINED = t(numbers.OVERFLOW, "zh"), t(numbers.UNDEFINED, "zh")


def corpus(name: str) -> dict:
    return json.loads((CORPUS / f"{name}.json").read_text())


def identity_net_eta_100() -> dict:
    """2-4-4-4-1, identity, every weight 1e6, η = 100: E after the step overflows (the review's case)."""
    layers = [2, 4, 4, 4, 1]
    return {"layers": layers, "activations": ["identity"] * 4, "loss": "half_sse",
            "weights": [[[1e6] * a for _ in range(b)] for a, b in zip(layers, layers[1:])],
            "biases": [[0.0] * b for b in layers[1:]], "inputs": [1.0, 1.0], "targets": [0.0],
            "learning_rate": 100.0}


def computed(doc: dict):
    scenario = validate(doc)
    trace = forward(scenario)
    return scenario, trace, backward(scenario, trace)


def assert_chinese(text: str, *words: str) -> None:
    """``text`` names each of ``words`` (Chinese) and neither English word."""
    for word in words:
        assert word in text, (word, text[:400])
    for word in ENGLISH:
        assert word not in text, (word, text[:400])


# ---------------------------------------------------------------- the walkthrough's update problem


@pytest.mark.parametrize("doc", [identity_net_eta_100(), corpus("issue11_identity_7_layers_eta_100")],
                         ids=["identity_2_4_4_4_1", "identity_7_layers"])
def test_update_problem_in_chinese(doc):
    scenario, trace, grads = computed(doc)
    wt = build_walkthrough(scenario, trace, grads, lang="zh")
    assert wt.update_problem is not None
    assert_chinese(wt.update_problem, ZH_OVERFLOW)
    first = next(sid for sid in wt.ids() if sid.phase == Phase.UPDATE)
    assert wt.update_problem in wt.step(first).notes  # the walkthrough note of the update page
    for sid in wt.ids():  # every step's notes and formulas
        step = wt.step(sid)
        assert_chinese(" ".join([*step.notes, step.latex_numeric]))
    english = build_walkthrough(scenario, trace, grads).update_problem  # English unchanged
    assert numbers.OVERFLOW in english and ZH_OVERFLOW not in english


def test_update_problem_function_takes_the_language():
    """The function itself, as the Conventions page and the CLI call it."""
    from bpviz.engine import step

    scenario, trace, _ = computed(corpus("step_beyond_float64"))
    names = names_for(scenario.layers)
    zh = update_problem(step(scenario, trace=trace), names, 4, "zh")
    assert_chinese(zh, ZH_UNDEFINED)
    assert numbers.UNDEFINED in update_problem(step(scenario, trace=trace), names, 4)


def test_cli_updated_warning_in_chinese(tmp_path, capsys):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(identity_net_eta_100()))
    assert main(["--lang", "zh", "compute", str(path)]) == 3  # computed, a part of it beyond float64
    out = json.loads(capsys.readouterr().out)
    assert out["updated"] is None
    assert_chinese(" ".join(out["warnings"]), ZH_OVERFLOW)


# ---------------------------------------------------------------- the network figure


@pytest.mark.parametrize("mode", ["values", "gradients"])
def test_network_figure_hovers_in_chinese(mode):
    """bce whose outputs round to exactly 1: ∂E/∂out is beyond float64 in the output neurons' hovers."""
    scenario, trace, grads = computed(corpus("issue11_bce_weights_1e3"))
    fig = network_figure(scenario, trace, grads, mode=mode, lang="zh").to_plotly_json()
    texts = strings([fig["data"], fig["layout"]])
    assert any(f"∂E/∂out_o1 = {ZH_OVERFLOW}" in s or f"= −{ZH_OVERFLOW}" in s for s in texts), texts[:5]
    assert_chinese(" ".join(texts), ZH_OVERFLOW)
    english = " ".join(strings(network_figure(scenario, trace, grads, mode=mode).to_plotly_json()))
    assert numbers.OVERFLOW in english and ZH_OVERFLOW not in english


def test_network_request_formats_in_the_readers_language():
    scenario, trace, grads = computed(corpus("issue11_bce_weights_1e3"))
    req = network._Request(scenario, trace, grads, names_for(scenario.layers), "values", 4, 0, "zh")
    assert req.fmt(float("inf")) == ZH_OVERFLOW and req.fmt(float("-inf")) == "−" + ZH_OVERFLOW
    assert req.exact(float("nan")) == ZH_UNDEFINED
    assert network._fmt(float("inf"), 4) == numbers.OVERFLOW  # English by default


# ---------------------------------------------------------------- the computational graph


@pytest.mark.parametrize("name", ["issue11_bce_weights_1e3", "compgraph_zero_division"])
def test_compgraph_figure_in_chinese(name):
    scenario, _, _ = computed(corpus(name))
    graph = build_graph(scenario)
    seen = []
    for k in (None, *range(graph.n_steps + 1)):
        fig = compgraph_figure(graph, upto_step=k, lang="zh").to_plotly_json()
        text = " ".join(strings([fig["data"], fig["layout"]]))
        assert_chinese(text)
        seen.append(text)
    assert_chinese(" ".join(seen), ZH_OVERFLOW, ZH_UNDEFINED)  # box texts and hovers both
    english = compgraph_figure(graph, lang="en").to_plotly_json()
    assert numbers.OVERFLOW in " ".join(strings([english["data"], english["layout"]]))


def test_compgraph_fmt_takes_the_language():
    assert cg_figure.fmt(float("-inf"), 4, "zh") == "−" + ZH_OVERFLOW
    assert cg_figure.fmt(float("nan"), 4, "zh") == ZH_UNDEFINED
    assert cg_figure.fmt(float("inf")) == numbers.OVERFLOW


# ---------------------------------------------------------------- the matrix LaTeX


def test_bmatrix_and_highlighted_latex_in_chinese():
    values = np.array([np.inf, -np.inf, np.nan, 0.25])
    zh = bmatrix(values, 4, lang="zh")
    assert_chinese(zh, rf"\text{{{ZH_OVERFLOW}}}", rf"\text{{-{ZH_OVERFLOW}}}", rf"\text{{{ZH_UNDEFINED}}}")
    assert bmatrix(values, 4) == (r"\begin{bmatrix}\text{overflow} \\ \text{-overflow} \\ \text{undefined} \\ "
                                  r"0.2500\end{bmatrix}")  # English unchanged
    scenario, trace, grads = computed(corpus("issue11_bce_weights_1e3"))
    step = replace(matrix_steps(scenario, trace, grads, lang="zh")[0], value=values)
    assert_chinese(highlighted_latex(step, 1, 0, 4, lang="zh"), ZH_OVERFLOW, ZH_UNDEFINED)


def test_matrix_steps_format_in_the_readers_language():
    """Every matrix of every step (an engine δ replaced by non-finite values: a scenario the validator accepts
    keeps the matrices finite)."""
    scenario, trace, grads = computed(corpus("issue11_bce_weights_1e3"))
    bad = np.array([[np.inf, np.nan]])
    grads = replace(grads, dE_dz=(*grads.dE_dz[:-1], bad), dE_dW=tuple(np.full_like(w, np.inf) for w in grads.dE_dW))
    latex = " ".join(x for s in matrix_steps(scenario, trace, grads, lang="zh")
                     for x in (s.latex_numeric, *s.derivation))
    assert_chinese(latex, ZH_OVERFLOW, ZH_UNDEFINED)


# ---------------------------------------------------------------- one formatter


def test_style_is_the_one_rule():
    style = numbers.Style(4, "zh", numbers.MINUS)
    for x in (0.15, 4.386e-5, -0.2171, 1.0, float("inf"), float("-inf"), float("nan")):
        assert style.text(x) == numbers.text(x, 4, numbers.MINUS, "zh")
        assert style.latex(x) == numbers.latex(x, 4, "zh")
        assert style.exact(x) == numbers.exact(x, "zh")
        assert numbers.Style().text(x) == numbers.text(x)  # English, "-" by default


# ---------------------------------------------------------------- widths of Chinese labels


def test_columns_count_a_wide_character_as_two():
    assert numbers.columns("overflow") == 8 and numbers.columns("−0.25") == 5  # Latin: as before
    assert numbers.columns(ZH_OVERFLOW) == 2 * len(ZH_OVERFLOW)
    assert numbers.columns("E（样本 1）") == 1 + 2 + 2 + 2 + 1 + 1 + 2  # fullwidth brackets too
    assert numbers.columns("累加中……") == 10 and numbers.columns("accumulating …") == 14  # "……" in Chinese text
    assert numbers.columns("“应用”") == 8 and numbers.columns('"x"') == 3


@pytest.mark.parametrize("label", ["尚未传到", "样本均值", "溢出", "批量均值<br>样本"])
def test_network_text_box_gives_chinese_room(label):
    latin = "".join("x" if c not in "<br>" else c for c in label)  # as many Latin letters, the same lines
    for font in (10, 12.5):
        assert network._text_box(label, font)[0] >= 1.8 * network._text_box(latin, font)[0]
        assert network._text_box(latin, font)[0] == max(map(len, latin.split("<br>"))) * network.CHAR_WIDTH * font


def test_network_text_box_of_a_mixed_label():
    """"E（样本 1）= 0.25": E, a space, 1 and the number as Latin letters, the rest as two each."""
    label = "E（样本 1）= 0.25"
    assert network._text_box(label, 10)[0] == pytest.approx((len(label) + 4) * network.CHAR_WIDTH * 10)


def test_compgraph_legend_chips_give_chinese_room():
    """尚未传到, 累加中……, 最终值: each chip gets at least 1.8× the room of as many Latin letters."""
    graph = build_graph(validate(corpus("issue11_bce_weights_1e3")))
    for lang, factor in (("zh", 1.8), ("en", 1.0)):
        chips = [a for a in compgraph_figure(graph, lang=lang).layout.annotations
                 if a.name.startswith("legend ") and a.bgcolor]  # the fill-colour chips, left to right
        assert len(chips) == 4
        for a, b in zip(chips, chips[1:]):
            room = b.xshift - a.xshift - cg_figure.CHIP_PAD  # the chip's text, estimated
            assert room >= factor * len(a.text) * cg_figure.CHIP_CHAR_W - 1e-9, (lang, a.text, room)
            if lang == "en":
                assert room == pytest.approx(len(a.text) * cg_figure.CHIP_CHAR_W)  # English unchanged


def test_compgraph_box_of_a_chinese_word_is_wide_enough():
    """A box showing "溢出" is sized for four Latin letters, not two."""
    scenario, _, _ = computed(corpus("compgraph_zero_division"))
    graph = build_graph(scenario)
    zh = cg_figure.box_sizes(graph, 4, uniform=False, lang="zh")
    for n in graph.nodes:
        for v in (n.value, n.grad):
            shown = cg_figure.fmt(v, 4, "zh")
            if ZH_OVERFLOW in shown:
                assert zh[n.id][0] >= (2 + numbers.columns(shown)) * cg_figure.CHAR_W
