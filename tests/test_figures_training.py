"""Training figures: they build, carry the right data, mark divergence, and stay free of NaN."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from bpviz.builder import build_scenario
from bpviz.config import preset
from bpviz.datasets import with_dataset
from bpviz.figures.training import (
    decision_boundary_figure,
    loss_curve_figure,
    outputs_figure,
    parameter_traces_figure,
)
from bpviz.training import train


def by_key(fig: go.Figure, key: str):
    found = [tr for tr in fig.data if (tr.meta or {}).get("key") == key]
    assert found, f"no trace {key!r}"
    return found[0]


def keys(fig: go.Figure) -> list[str]:
    return [(tr.meta or {}).get("key") for tr in fig.data]


@pytest.fixture(scope="module")
def seed_run():
    return train(preset("seed"), 300, record_every=10)


@pytest.fixture(scope="module")
def diverged_run():
    s = build_scenario([2, 3, 1], ["relu", "identity"], "half_sse", init="xavier",
                       inputs=[[0, 0], [0, 1], [1, 0], [1, 1]], targets=[[0], [1], [1], [0]], learning_rate=5.0)
    r = train(s, 1000)
    assert r.diverged
    return r


def test_loss_curve(seed_run):
    fig = loss_curve_figure(seed_run)
    assert isinstance(fig, go.Figure)
    loss = by_key(fig, "loss")
    np.testing.assert_array_equal(loss.x, np.arange(301))
    np.testing.assert_array_equal(loss.y, seed_run.losses)
    assert "diverged" not in keys(fig)
    assert fig.layout.yaxis.type != "log"
    assert loss_curve_figure(seed_run, log_scale=True).layout.yaxis.type == "log"


def test_loss_curve_marks_divergence(diverged_run):
    fig = loss_curve_figure(diverged_run, log_scale=True)
    mark = by_key(fig, "diverged")
    assert list(mark.x) == [diverged_run.stopped_at]
    assert mark.hovertext[0] == diverged_run.explain()
    assert any(f"diverged at step {diverged_run.stopped_at}" in a.text for a in fig.layout.annotations)
    assert any(s.type == "line" and s.x0 == diverged_run.stopped_at for s in fig.layout.shapes)
    assert "NaN" not in fig.to_json() and "Infinity" not in fig.to_json()


def test_loss_curve_marks_target():
    r = train(preset("seed"), 5000, stop_loss=0.01)
    fig = loss_curve_figure(r)
    assert list(by_key(fig, "target-reached").x) == [r.stopped_at]


def test_log_scale_copes_with_a_zero_loss():
    s = build_scenario([1, 1], ["identity"], "half_sse", init="zeros", inputs=[[1.0]], targets=[[0.0]])
    r = train(s, 3)
    assert r.losses[0] == 0.0
    y = np.asarray(by_key(loss_curve_figure(r, log_scale=True), "loss").y)
    assert np.all(y > 0) and np.all(np.isfinite(y))


def test_long_runs_are_thinned_but_keep_ends_and_extremes():
    r = train(preset("seed"), 20_000, record_every=1)
    loss = by_key(loss_curve_figure(r), "loss")
    assert len(loss.x) < 5000
    assert loss.x[0] == 0 and loss.x[-1] == 20_000
    assert max(loss.y) == r.losses.max() and min(loss.y) == r.losses.min()


def test_parameter_traces(seed_run):
    fig = parameter_traces_figure(seed_run, ["w5", "b_o1"])
    assert keys(fig) == ["param:w5", "param:b_o1"]
    w5 = by_key(fig, "param:w5")
    np.testing.assert_array_equal(w5.x, seed_run.steps)
    np.testing.assert_array_equal(w5.y, seed_run.params[:, 4])
    assert w5.y[0] == 0.40 and w5.name == "w5"
    assert len(parameter_traces_figure(seed_run).data) == 12
    with pytest.raises(ValueError, match="w99"):
        parameter_traces_figure(seed_run, ["w99"])


def test_outputs_figure(seed_run):
    fig = outputs_figure(seed_run)
    o2 = by_key(fig, "output:0:1")
    np.testing.assert_array_equal(o2.y, seed_run.outputs[:, 0, 1])
    assert list(by_key(fig, "target:0:1").y) == [0.99, 0.99]
    big = train(with_dataset(preset("xor_2_4_1"), "circles", n=50), 5)
    fig = outputs_figure(big)
    assert sum(k.startswith("output:") for k in keys(fig)) == 6  # only the first few samples
    assert "6 of 50" in fig.layout.title.text


def test_decision_boundary_one_output():
    r = train(preset("xor_2_4_1"), 2000, record_every=2000)
    s = r.final
    fig = decision_boundary_figure(s, resolution=30)
    surface = by_key(fig, "surface")
    assert np.asarray(surface.z).shape == (30, 30)
    assert surface.zmin == 0 and surface.zmax == 1
    assert "boundary" in keys(fig)
    c0, c1 = by_key(fig, "class:0"), by_key(fig, "class:1")
    assert len(c0.x) == 2 and len(c1.x) == 2
    assert c0.marker.color != c1.marker.color and c0.marker.symbol != c1.marker.symbol  # not colour alone
    # the plane agrees with the points: each trained XOR corner lies on its own class's side
    xs, ys, z = np.asarray(surface.x), np.asarray(surface.y), np.asarray(surface.z)
    for x, y, cls in [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]:
        i, j = np.abs(ys - y).argmin(), np.abs(xs - x).argmin()
        assert (z[i, j] > 0.5) == bool(cls)
    json.loads(fig.to_json())


def test_decision_boundary_several_classes_and_explicit_data():
    s = preset("softmax_3class")
    fig = decision_boundary_figure(s, resolution=20)
    z = np.asarray(by_key(fig, "surface").z)
    assert z.shape == (20, 20) and set(np.unique(z)) <= {0, 1, 2}
    assert {"class:0", "class:1", "class:2"} <= set(keys(fig))
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    T = np.array([[0.0], [1.0]])
    fig = decision_boundary_figure(preset("xor_2_4_1"), X, T, resolution=10)
    assert list(by_key(fig, "class:1").x) == [1.0]


def test_decision_boundary_rejects_non_2d_inputs():
    with pytest.raises(ValueError):
        decision_boundary_figure(build_scenario([3, 1], ["sigmoid"], "half_sse"))
