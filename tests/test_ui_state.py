"""The whole app state is one serialisable object (share links that restore it from the URL build on this)."""

import json

import pytest

from bpviz import engine
from bpviz.config import ScenarioError, preset
from bpviz.ids import StepId
from bpviz.ui.state import AppState


def test_app_state_round_trips_through_json():
    app = AppState(scenario=engine.step(preset("xor_2_4_1")).after, decimals=6,
                   steps={"backward": StepId.parse("backward:w:0:1:0")},
                   options={"train_steps": 500, "cg_mode": "one"})
    again = AppState.from_dict(json.loads(json.dumps(app.to_dict())))
    assert again.to_dict() == app.to_dict()
    assert again.scenario.weights[0].tolist() == app.scenario.weights[0].tolist()


@pytest.mark.parametrize(
    ("change", "field"),
    [({"decimals": 0}, "decimals"), ({"decimals": "4"}, "decimals"), ({"steps": ["x"]}, "steps"),
     ({"options": 3}, "options"), ({"scenario": 5}, "scenario"),
     ({"steps": {"backward": "backward:w:x"}}, "steps.backward"),
     ({"scenario": {**preset("seed").to_dict(), "layers": [2]}}, "scenario.layers")],
)
def test_bad_state_names_the_field(change, field):
    data = {**AppState(scenario=preset("seed")).to_dict(), **change}
    with pytest.raises(ScenarioError) as info:
        AppState.from_dict(data)
    assert str(info.value).startswith(field)


@pytest.mark.parametrize(
    ("value", "lo", "hi", "expected"),
    [(0.5, 0.01, 2.0, (0.01, 2.0)),  # the learning rate slider never offers 0
     (-1.2345, -1.0, 1.0, (-1.24, 1.0)),  # widened to the next 0.01 grid point: 0.15 etc. stay reachable
     (999999.0, -1.0, 1.0, (999998.0, 1000000.0)),  # far out: a usable ±1 window, not −1 … 999999
     (0.3589164797, -1.0, 1.0, (-1.0, 1.0))],
)
def test_slider_range(value, lo, hi, expected):
    from bpviz.ui.sidebar import GRID, slider_range

    got = slider_range(value, lo, hi)
    assert got == expected and got[0] <= value <= got[1]
    assert abs(round(got[0] / GRID) * GRID - got[0]) < 1e-9  # on the grid
