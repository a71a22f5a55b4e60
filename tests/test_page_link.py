"""AppTest: a share link opens what it describes, the URL follows what is shown, presentation mode and its controls."""

from __future__ import annotations

import json

from bpviz.config import SEED_DOCUMENT, validate
from bpviz.ids import StepId
from bpviz.ui import link

from .apptest_util import assert_clean, latex, live, many_samples, opened, texts

BACKWARD = "views/backward_pass.py"


def w5_doc(value: float) -> dict:
    doc = json.loads(json.dumps(SEED_DOCUMENT))
    doc["weights"][1][0][0] = value
    return doc


def test_a_link_opens_its_scenario_step_and_decimals():
    at = opened({"s": link.pack(w5_doc(0.45)), "st": "backward:w:0:0:0", "d": "6"}, BACKWARD)
    assert_clean(at)
    assert at.selectbox(key="nav_backward_step").value == StepId.parse("backward:w:0:0:0")
    assert live(at, "sb_w_1_0_0").value == 0.45
    formulas = "\n".join(latex(at))
    assert "0.450000" in formulas  # w5 as the link set it, in the path of w1's formula, with 6 decimals
    assert "This link could not be used entirely" not in texts(at)


def test_the_url_follows_every_change():
    at = opened({})
    assert dict(at.query_params) == {}  # the seed on the home page: the bare address
    at.switch_page(BACKWARD).run()
    live(at, "sb_w_1_0_0").set_value(0.45).run()
    at.selectbox(key="nav_backward_step").set_value(StepId.parse("backward:w:0:0:0")).run()
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    back, warnings = link.from_query(query)
    assert warnings == []
    assert back.scenario.to_dict() == validate(w5_doc(0.45)).to_dict()
    assert back.steps["backward"] == StepId.parse("backward:w:0:0:0")


def test_a_tampered_link_says_what_it_ignored_as_plain_text_and_keeps_the_rest():
    at = opened({"d": "99", "<b>bold</b>": "1", "st": "backward:w:0:0:0"}, BACKWARD)
    assert_clean(at)
    assert any("could not be used entirely" in w.value for w in at.warning)
    shown = [el.value for el in at.text]
    assert any("d (decimals)" in s for s in shown) and any("<b>bold</b>" in s for s in shown)
    assert not any("<b>bold</b>" in el.value for el in at.markdown)  # never as Markdown or HTML
    assert at.selectbox(key="nav_backward_step").value == StepId.parse("backward:w:0:0:0")  # the good part is kept
    at.button(key="link_problems_ok").click().run()
    assert not any("could not be used entirely" in w.value for w in at.warning)


def test_presentation_mode_from_a_link_has_its_controls_and_no_page_header():
    at = opened({"present": "1"}, BACKWARD)
    assert_clean(at)
    assert at.toggle(key="sb_present").value is True
    keys = {b.key for b in at.button}
    assert {"present_off", "present_qr", "nav_backward_next"} <= keys
    assert not any(el.value.startswith("## ") for el in at.markdown)  # the step box names the step
    at.button(key="present_off").click().run()
    assert at.toggle(key="sb_present").value is False
    assert "present" not in at.query_params
    assert "present_off" not in {b.key for b in at.button}


def test_presentation_mode_from_the_sidebar_goes_into_the_link():
    at = opened({}, "views/training.py")
    at.toggle(key="sb_present").set_value(True).run()
    assert_clean(at)
    assert at.query_params["present"] == "1"
    assert "present_off" in {b.key for b in at.button}  # pages without a step navigator have the presenter bar


def test_a_link_to_a_network_of_its_own_does_not_claim_to_be_an_example():
    doc = {**json.loads(json.dumps(SEED_DOCUMENT)), "layers": [2, 1, 2], "weights": [[[0.1, 0.2]], [[0.3], [0.4]]],
           "biases": [[0.0], [0.0, 0.0]]}
    at = opened({"s": link.pack(doc)})
    assert at.selectbox(key="sb_preset").value is None  # "your own network"
    assert opened({"s": link.pack(w5_doc(0.45))}).selectbox(key="sb_preset").value == "seed"  # the seed, moved


def test_a_new_session_on_the_link_of_a_too_large_scenario_says_the_network_is_not_in_it():
    """A student whose replica went away reconnects with the URL the app wrote: the seed is shown, and said so."""
    first = opened({}, BACKWARD)
    first.session_state["bpviz_app"].scenario = validate(many_samples(600, seed=1))
    first.run()
    written = {k: (v[-1] if isinstance(v, list) else v) for k, v in first.query_params.items()}
    assert written.get("big") == "600" and "s" not in written
    again = opened(written, BACKWARD)
    assert_clean(again)
    assert any("could not be used entirely" in w.value for w in again.warning)
    assert any("600 samples" in el.value and "too large for a link" in el.value for el in again.text)
