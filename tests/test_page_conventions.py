"""AppTest: the Conventions and checks page (update conventions, the reference card, finite differences)."""

from __future__ import annotations

import re

import pytest

from bpviz import engine
from bpviz.config import preset
from bpviz.ui import link

from .apptest_util import assert_clean, corpus_doc, live, open_page, opened, texts

PAGE = "views/conventions.py"


@pytest.fixture
def at():
    return open_page(PAGE)


def _table(at, column: str):
    return next(df.value for df in [*at.dataframe, *at.table] if column in df.value.columns)


def _current_row(at):
    table = _table(at, "E after one step")
    return table[table["current"] == "◀"].iloc[0]


def _largest_relative_error(at) -> float:
    caption = next(c.value for c in at.caption if "largest relative error" in c.value)
    return float(re.search(r"largest relative error ([0-9.e+-]+)", caption).group(1))


def test_loads_with_seed(at):
    assert_clean(at)
    assert "0.298371109" in texts(at)  # E now, the README's E_total
    row = _current_row(at)
    assert row["biases"] == "trained" and row["E after one step"] == "0.280471447"  # PyTorch's number
    # the table names the update orders with the control's words
    assert set(_table(at, "E after one step")["update order"]) == set(at.radio(key="conv_update_order").options)


def test_reference_card_all_agree(at):
    card = _table(at, "published")
    assert len(card) == 5
    assert set(card["agree"]) == {"✓"}
    assert (card["published"] == card["this app"]).all()


def test_switching_conventions_changes_scenario_and_e_after_one_step(at):
    at.toggle(key="conv_train_biases").set_value(False).run()
    assert_clean(at)
    assert not at.session_state["bpviz_app"].scenario.train_biases
    at.radio(key="conv_update_order").set_value("output_first").run()
    assert_clean(at)
    s = at.session_state["bpviz_app"].scenario
    assert not s.train_biases and s.update_order == "output_first"
    assert s.to_dict() == preset("mazur").to_dict()  # these are exactly Mazur's conventions
    row = _current_row(at)
    assert row["biases"] == "fixed" and row["E after one step"] == "0.291027924"  # Mazur's published figure
    # the Update page applies the same conventions
    at.switch_page("views/update.py").run()
    assert_clean(at)
    assert "0.2910" in texts(at)
    assert "Biases are fixed" in texts(at)


def test_every_row_is_the_engines_step(at):
    table = _table(at, "E after one step")
    s = preset("seed")
    for _, row in table.iterrows():
        tb = row["biases"] == "trained"
        order = "output_first" if "output" in row["update order"] else "simultaneous"
        expected = engine.loss_value(engine.step(s, train_biases=tb, update_order=order).after)
        assert row["E after one step"] == f"{expected:.9f}"


def test_controls_follow_a_loaded_preset():
    at = open_page("views/network_builder.py")
    at.button(key="bld_preset_mazur").click().run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    assert at.toggle(key="conv_train_biases").value is False
    assert at.radio(key="conv_update_order").value == "output_first"
    assert _current_row(at)["E after one step"] == "0.291027924"


def test_gradient_check_for_seed(at):
    assert _largest_relative_error(at) < 1e-6
    table = _table(at, "finite differences")
    assert len(table) == 12
    rows = dict(zip(table["parameter"], table["backprop"]))
    assert rows["w5"] == "0.0821670406" and rows["w1"] == "0.0004385677" and rows["b_o1"] == "0.1384985616"
    assert (table["backprop"] == table["finite differences"]).all()
    assert all(v.startswith("agree (|difference| ≤ ") for v in table["verdict"])


def test_gradient_check_follows_sliders(at):
    live(at, "sb_w_1_0_0").set_value(0.9).run()  # w5
    assert_clean(at)
    s = preset("seed").replace(weights=[[[0.15, 0.2], [0.25, 0.3]], [[0.9, 0.45], [0.5, 0.55]]])
    g = engine.backward(s)
    rows = dict(zip(_table(at, "finite differences")["parameter"], _table(at, "finite differences")["backprop"]))
    assert rows["w5"] == f"{g.dE_dW[1][0, 0]:.10f}"
    assert _largest_relative_error(at) < 1e-6


def test_other_networks(at):
    at.session_state["bpviz_app"].scenario = preset("softmax_3class")
    at.run()
    assert_clean(at)
    assert _largest_relative_error(at) < 1e-6
    assert set(_table(at, "published")["agree"]) == {"✓"}  # the card is always about the worked example


def test_a_convention_whose_step_overflows_says_so_in_words():
    """A 7-layer identity net with η = 100: the table shows no 'nan'/'inf', and the step is explained below it."""
    at = opened({"s": link.pack(corpus_doc("issue11_identity_7_layers_eta_100"))}, PAGE)
    assert_clean(at)
    column = _table(at, "E after one step")["E after one step"].tolist()
    assert not any(re.search(r"nan|inf", x) for x in column), column
    assert "overflow" in " ".join(column) or "undefined" in " ".join(column)
    warnings = [w.value for w in at.warning]
    assert any("float64" in w and "output layer first" in w for w in warnings), warnings


def test_numbers_with_a_power_of_ten_are_a_line_of_text_not_metrics_cut_short():
    """1.280e+100 in a metric column scrolled, and read "1.280e+" on screen; the whole numbers go in a line."""
    at = opened({"s": link.pack(corpus_doc("issue11_identity_7_layers_eta_100"))})
    assert_clean(at)
    assert not [m.value for m in at.metric if "e+" in m.value or "overflow" in m.value]
    assert any("E total **1.638e+100**" in m.value for m in at.markdown), [m.value for m in at.markdown][:5]
