"""Typed identifiers: one format/parse pair each, and parse refuses anything it did not format."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpviz.ids import (
    Bias,
    LossShare,
    Net,
    Neuron,
    Out,
    Phase,
    StepId,
    TotalLoss,
    Weight,
    backward_order,
    parameter_refs,
    parse_param,
)

index = st.integers(0, 12)
neurons = st.builds(Neuron, index, index)
params = st.one_of(st.builds(Weight, index, index, index), st.builds(Bias, index, index))
subjects = st.one_of(st.builds(Net, neurons), st.builds(Out, neurons), st.builds(LossShare, index),
                     st.just(TotalLoss()), params)


@given(st.builds(StepId, st.sampled_from(Phase), subjects))
def test_step_ids_round_trip(sid):
    assert StepId.parse(sid.format()) == sid


@given(params)
def test_parameters_round_trip(ref):
    assert parse_param(ref.format()) == ref


@given(neurons)
def test_neurons_round_trip(n):
    assert Neuron.parse(n.format()) == n


def test_the_seeds_names():
    assert Weight(1, 0, 0).format() == "w:1:0:0"  # w5
    assert StepId(Phase.BACKWARD, Weight(1, 0, 0)).format() == "backward:w:1:0:0"
    assert StepId.parse("forward:net:1:0") == StepId(Phase.FORWARD, Net(Neuron(1, 0)))
    assert Weight(1, 0, 0).source == Neuron(1, 0) and Weight(1, 0, 0).target == Neuron(2, 0)
    assert Bias(0, 1).source is None and Bias(0, 1).target == Neuron(1, 1)


@pytest.mark.parametrize("text", ["", "backward", "backward:", "backward:w:1:0", "backward:w:1:0:0:0",
                                  "sideways:w:1:0:0", "backward:w:-1:0:0", "backward:w:01:0:0", "backward:w:a:0:0",
                                  "forward:net:1", "loss:total:0", "backward:x:1:0", "backward:w:1:0:0\n"])
def test_parse_refuses_what_format_never_writes(text):
    with pytest.raises(ValueError):
        StepId.parse(text)


def test_orders():
    layers = (2, 2, 2)
    refs = parameter_refs(layers)
    assert [r.format() for r in refs[:8]] == [f"w:{l}:{j}:{k}" for l in (0, 1) for j in (0, 1) for k in (0, 1)]
    assert backward_order(layers)[:6] == [Weight(1, 0, 0), Weight(1, 0, 1), Weight(1, 1, 0), Weight(1, 1, 1),
                                          Bias(1, 0), Bias(1, 1)]
    assert set(backward_order(layers)) == set(refs) and len(backward_order(layers)) == len(refs)
