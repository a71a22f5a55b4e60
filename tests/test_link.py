"""Share links: every state survives state → query → state; a tampered link never raises and keeps what it can."""

from __future__ import annotations

import json
import zlib
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.config import MAX_HIDDEN_LAYERS, MAX_NEURONS, SEED_DOCUMENT, validate
from bpviz.i18n import LANGUAGES
from bpviz.ids import StepId
from bpviz.ui import link
from bpviz.ui.state import MAX_DECIMALS, MIN_DECIMALS, AppState
from bpviz.walkthrough import step_ids
from tests.apptest_util import many_samples
from tests.test_engine import PAIRS, random_scenario


def seed_state(**kw) -> AppState:
    return AppState(**{"scenario": validate(SEED_DOCUMENT), **kw})


def round_trip(app: AppState) -> tuple[AppState, list[str]]:
    return link.from_query(link.to_query(app))


# ---------------------------------------------------------------- identity


def test_the_seed_on_the_home_page_is_the_bare_url():
    assert link.to_query(seed_state()) == {}


def test_a_small_change_to_the_seed_is_a_short_link():
    doc = json.loads(json.dumps(SEED_DOCUMENT))
    doc["weights"][1][0][0] = 0.45  # w5
    query = link.to_query(seed_state(scenario=validate(doc)))
    assert len(query["s"]) <= 20, query
    back, warnings = link.from_query(query)
    assert warnings == [] and back.scenario.to_dict() == validate(doc).to_dict()


def test_the_largest_network_is_a_link_of_at_most_8000_characters():
    """8 inputs, 6 hidden layers of 8, 8 outputs, every number a random float64 (17 significant digits)."""
    rng = np.random.default_rng(1)
    layers = [MAX_NEURONS] * (MAX_HIDDEN_LAYERS + 2)
    doc = {"layers": layers, "activations": ["tanh"] * MAX_HIDDEN_LAYERS + ["sigmoid"], "loss": "bce",
           "weights": [rng.normal(size=(b, a)).tolist() for a, b in zip(layers, layers[1:])],
           "biases": [rng.normal(size=b).tolist() for b in layers[1:]],
           "inputs": rng.uniform(-1, 1, MAX_NEURONS).tolist(), "targets": rng.uniform(0, 1, MAX_NEURONS).tolist(),
           "learning_rate": 0.5}
    app = seed_state(scenario=validate(doc), steps={"backward": StepId.parse("backward:w:0:7:7")}, decimals=8)
    address = "https://bpviz.example.edu:8501/backward?" + urlencode(link.to_query(app))
    assert len(address) <= 8000, len(address)
    back, warnings = link.from_query(dict(parse_qsl(urlsplit(address).query)))
    assert warnings == [] and back.to_dict() == app.to_dict()


def test_a_large_network_fits_the_link_limit():
    rng = np.random.default_rng(0)
    s = random_scenario(rng, "tanh", "sigmoid", "bce", n_hidden_layers=5)
    doc = s.to_dict()
    doc["layers"] = [6, 8, 8, 8, 8, 8, 1]
    doc["weights"] = [rng.normal(size=(doc["layers"][i + 1], doc["layers"][i])).tolist() for i in range(6)]
    doc["biases"] = [rng.normal(size=doc["layers"][i + 1]).tolist() for i in range(6)]
    doc["activations"] = ["tanh"] * 5 + ["sigmoid"]
    doc["inputs"], doc["targets"] = rng.uniform(-1, 1, 6).tolist(), [1.0]
    big = validate(doc)
    query = link.to_query(seed_state(scenario=big))
    assert len(query["s"]) < link.MAX_PACKED
    back, warnings = link.from_query(query)
    assert warnings == [] and back.scenario.to_dict() == big.to_dict()


OPTION_VALUES = {"sb_sample": [1, 2], "backward_gradcheck": [True, False], "cg_mode": ["whole", "one"],
                 "cg_focus": ["n:1:0", "n:2:1"], "train_steps": [1, 500, 10_000], "train_log": [True],
                 "bld_lr": [0.001, 0.5], "bld_act_0": ["tanh", "relu"], "bld_n_1": [3], "ap_speed": [1, 8],
                 "ap_loop": [True, False]}


@st.composite
def app_states(draw) -> AppState:
    """Random networks of every activation/loss pairing, with steps, decimals, options, mode and language."""
    hidden, out, loss = draw(st.sampled_from(PAIRS))
    seed = draw(st.integers(0, 2**32 - 1))
    s = random_scenario(np.random.default_rng(seed), hidden, out, loss, n_hidden_layers=draw(st.integers(1, 3)),
                        n_samples=draw(st.integers(1, 3)))
    known = sorted(step_ids(s.architecture), key=StepId.format)
    steps = {}
    for page, phase in (("forward", "forward"), ("backward", "backward"), ("update", "update")):
        choices = [sid for sid in known if sid.format().startswith(phase)]
        if draw(st.booleans()):
            steps[page] = draw(st.sampled_from(choices))
    keys = draw(st.lists(st.sampled_from(sorted(OPTION_VALUES)), unique=True, max_size=4))
    options = {k: draw(st.sampled_from(OPTION_VALUES[k])) for k in keys}
    if options.get("sb_sample", 1) > s.n_samples:
        options.pop("sb_sample")
    return AppState(scenario=s, decimals=draw(st.integers(MIN_DECIMALS, MAX_DECIMALS)), steps=steps,
                    options=options, present=draw(st.booleans()), lang=draw(st.sampled_from(LANGUAGES)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(app_states())
def test_every_state_survives_a_round_trip_through_the_link(app):
    back, warnings = round_trip(app)
    assert warnings == []
    assert back.to_dict() == app.to_dict()


def test_a_loss_step_is_kept_on_the_forward_page():
    sid = StepId.parse("loss:total")
    back, warnings = round_trip(seed_state(steps={"forward": sid}))
    assert warnings == [] and back.steps == {"forward": sid}


# ---------------------------------------------------------------- tampered links


def test_a_damaged_scenario_falls_back_to_the_seed_and_keeps_the_rest():
    back, warnings = link.from_query({"s": "1@@not-base64@@", "d": "6", "st": "backward:w:1:0:0"})
    assert len(warnings) == 1 and warnings[0].startswith("s (the scenario)")
    assert back.scenario.to_dict() == validate(SEED_DOCUMENT).to_dict()
    assert back.decimals == 6 and back.steps["backward"].format() == "backward:w:1:0:0"


def test_a_scenario_the_validator_refuses_names_its_field():
    doc = json.loads(json.dumps(SEED_DOCUMENT))
    doc["weights"][0][1][0] = "abc"
    back, warnings = link.from_query({"s": link.pack(doc)})
    assert len(warnings) == 1 and "scenario.weights[0][1][0]" in warnings[0], warnings
    assert back.scenario.to_dict() == validate(SEED_DOCUMENT).to_dict()


def test_a_number_json_cannot_hold_is_refused_by_the_parser():
    doc = json.loads(json.dumps(SEED_DOCUMENT))
    doc["weights"][0][1][0] = float("inf")  # json.dumps writes Infinity, which JSON does not have
    back, warnings = link.from_query({"s": link.pack(doc)})
    assert len(warnings) == 1 and "finite" in warnings[0], warnings
    assert back.scenario.to_dict() == validate(SEED_DOCUMENT).to_dict()


def test_a_step_this_network_does_not_have_is_dropped_with_a_warning():
    back, warnings = link.from_query({"st": "backward:w:7:0:0,forward:net:1:1"})
    assert len(warnings) == 1 and "backward:w:7:0:0" in warnings[0]
    assert back.steps == {"forward": StepId.parse("forward:net:1:1")}


@pytest.mark.parametrize("query, part", [
    ({"d": "99"}, "d (decimals)"), ({"d": "-1"}, "d (decimals)"), ({"lang": "xx"}, "lang"),
    ({"o": link.pack({"nonsense": 1})}, "o:"), ({"o": link.pack({"train_steps": 10**9})}, "o:"),
    ({"o": link.pack([1, 2])}, "o (display options)"), ({"o": "1garbage"}, "o (display options)"),
    ({"utm_source": "mail"}, "utm_source"), ({"st": "drop table"}, "st:"), ({"d": "²"}, "d (decimals)"),
    ({"o": link.pack({"bld_n_²": 3})}, "o:"), ({"st": "backward:w:" + "9" * 5000 + ":0:0"}, "st:"),
])
def test_each_bad_part_gives_one_warning_naming_it(query, part):
    back, warnings = link.from_query(query)
    assert len(warnings) == 1 and part in warnings[0], warnings
    assert back.to_dict() == seed_state().to_dict()


def test_a_decompression_bomb_is_refused_quickly():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = link.VERSION + link.base64.urlsafe_b64encode(c.compress(b"[" + b"0," * 5_000_000) + c.flush()).decode()
    assert len(bomb) < link.MAX_PACKED
    back, warnings = link.from_query({"s": bomb})
    assert len(warnings) == 1 and back.scenario.to_dict() == validate(SEED_DOCUMENT).to_dict()


def test_warnings_quote_at_most_a_short_piece_of_the_link():
    back, warnings = link.from_query({"x" * 5000: "y", "d": "9" * 5000})
    assert len(warnings) == 2 and all(len(w) < 300 for w in warnings)


def test_a_repeated_key_uses_its_last_value():
    back, warnings = link.from_query({"d": ["3", "7"]})
    assert warnings == [] and back.decimals == 7


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*link.QUERY_KEYS, "x", "s2"]) | st.text(max_size=8),
                       st.text(max_size=60) | st.sampled_from(["1", "1eJ", "0", "backward:w:1:0:0"])
                       | st.lists(st.text(max_size=20), max_size=3), max_size=6))
def test_no_query_makes_the_link_reader_raise(query):
    back, warnings = link.from_query(query)
    assert all(isinstance(w, str) and w for w in warnings)
    assert AppState.from_dict(back.to_dict()).to_dict() == back.to_dict()  # a state the app can hold and share


def test_a_scenario_too_large_for_a_link_leaves_a_marker_and_opening_it_says_so():
    """Not silently the seed: whoever opens the link (or reconnects to another replica with it) is told."""
    query = link.to_query(seed_state(scenario=validate(many_samples(1000))))
    assert "s" not in query and query["big"] == "1000"
    back, warnings = link.from_query(query)
    assert back.scenario.to_dict() == validate(SEED_DOCUMENT).to_dict()
    assert len(warnings) == 1 and "1,000 samples" in warnings[0] and "scenario file" in warnings[0]


@pytest.mark.parametrize("marker", ["abc", "²", "9" * 5000, "1001", ""])
def test_a_damaged_too_large_marker_still_says_the_network_is_missing(marker):
    back, warnings = link.from_query({"big": marker})
    assert back.scenario.to_dict() == validate(SEED_DOCUMENT).to_dict()
    assert len(warnings) == 1 and "too large for a link" in warnings[0] and "samples" not in warnings[0]
    assert all(len(w) < 300 for w in warnings)  # the marker itself is never echoed


def test_a_scenario_in_the_link_wins_over_a_too_large_marker():
    app = seed_state(scenario=validate({**SEED_DOCUMENT, "learning_rate": 0.25}))
    back, warnings = link.from_query({**link.to_query(app), "big": "1000"})
    assert warnings == [] and back.scenario.learning_rate == 0.25
