"""The walkthrough script: the seed's numbers, step order, highlights, laziness and speed, every architecture."""

from __future__ import annotations

import pytest

from bpviz import config, engine
from bpviz.ids import Bias, Neuron, Phase, StepId, Weight
from bpviz.walkthrough import PHASES, Step, Walkthrough, build_walkthrough

from .test_symbolic import make_scenario


def walk(sc: config.Scenario, **kw) -> Walkthrough:
    tr = engine.forward(sc)
    return build_walkthrough(sc, tr, engine.backward(sc, tr), **kw)


SEED = config.preset("seed")


def test_seed_values_and_formulas():
    wt = walk(SEED)
    net_h1 = wt[wt.index_of("forward:net:1:0")]
    assert net_h1.latex_symbolic == r"net_{h1} = w_{1} i_{1} + w_{2} i_{2} + b_{h1}"
    assert net_h1.latex_numeric == r"net_{h1} = 0.1500 \cdot 0.0500 + 0.2000 \cdot 0.1000 + 0.3500 = 0.3775"
    out_h1 = wt[wt.index_of("forward:out:1:0")]
    assert out_h1.latex_symbolic == r"out_{h1} = \frac{1}{1 + e^{- net_{h1}}}"
    assert out_h1.latex_numeric.endswith("= 0.5933") and abs(out_h1.value - 0.5932699921071872) < 1e-15
    assert wt[wt.index_of("forward:out:2:0")].latex_numeric.endswith("= 0.7514")
    assert wt[wt.index_of("forward:out:2:1")].latex_numeric.endswith("= 0.7729")
    share = wt[wt.index_of("loss:share:0")]
    assert share.latex_symbolic.startswith("E_{o1} = ") and "t_{1}" in share.latex_symbolic
    total = wt[wt.index_of("loss:total")]
    assert total.latex_numeric.endswith("= 0.2984") and abs(total.value - 0.2983711087600027) < 1e-15
    w5 = wt[wt.index_of("backward:w:1:0:0")]
    assert w5.latex_numeric.endswith("= 0.0822") and abs(w5.value - 0.0821670406) < 1e-10
    assert len(w5.factors) == 1 and len(w5.factors[0]) == 3
    assert "out_{o1} - t_{1}" in w5.latex_general
    w5_new = wt[wt.index_of("update:w:1:0:0")]
    assert w5_new.latex_numeric == r"{w_{5}}^{+} = 0.4000 - 0.5000 \cdot 0.0822 = 0.3589"
    assert abs(w5_new.value - 0.3589164797) < 1e-10


def test_seed_updates_match_the_reference_values():
    wt = walk(SEED)
    expected = {"update:w:0:0:0": 0.1497807161, "update:w:1:1:1": 0.5613701211, "update:b:0:1": 0.3450228726,
                "update:b:1:0": 0.5307507192}
    for key, value in expected.items():
        assert abs(wt[wt.index_of(key)].value - value) < 1e-10, key


def test_seed_step_order():
    wt = walk(SEED)
    keys = [sid.format() for sid in wt.ids()]
    assert len(wt) == len(keys) == len(wt.titles()) == 8 + 3 + 12 + 12
    assert keys[:4] == ["forward:net:1:0", "forward:out:1:0", "forward:net:1:1", "forward:out:1:1"]
    assert keys[8:11] == ["loss:share:0", "loss:share:1", "loss:total"]
    backward = [wt[i].title for i in range(wt.first_of("backward"), wt.first_of("update"))]
    assert backward == [f"Backward: gradient of {p}" for p in
                        ("w5", "w6", "w7", "w8", "b_o1", "b_o2", "w1", "w2", "w3", "w4", "b_h1", "b_h2")]
    assert [wt.first_of(p) for p in PHASES] == [0, 8, 11, 23]
    assert [wt[i].phase for i in range(len(wt))] == sorted((wt[i].phase for i in range(len(wt))),
                                                             key=PHASES.index)
    assert all(wt[i].index == i and wt[i].key == keys[i] for i in range(len(wt)))
    assert wt[-1].key == "update:b:0:1"
    with pytest.raises(IndexError):
        wt[len(wt)]
    with pytest.raises(KeyError):
        wt.index_of("backward:w:5:0:0")


def test_highlights():
    wt = walk(SEED)
    net_o1 = wt[wt.index_of("forward:net:2:0")]
    assert set(net_o1.nodes) == {Neuron(1, 0), Neuron(1, 1), Neuron(2, 0)}
    assert net_o1.edges == (Weight(1, 0, 0), Weight(1, 0, 1)) and net_o1.bias_edges == (Bias(1, 0),)
    w5 = wt[wt.index_of("backward:w:1:0:0")]
    assert w5.edges == (Weight(1, 0, 0),) and set(w5.nodes) == {Neuron(1, 0), Neuron(2, 0)} and w5.paths == ()
    assert w5.param == Weight(1, 0, 0)
    w1 = wt[wt.index_of("backward:w:0:0:0")]
    assert w1.edges == (Weight(0, 0, 0),)
    # via o1 (w5) and via o2 (w7)
    assert w1.paths == ((Weight(0, 0, 0), Weight(1, 0, 0)), (Weight(0, 0, 0), Weight(1, 1, 0)))
    assert {Neuron(2, 0), Neuron(2, 1), Neuron(1, 0), Neuron(0, 0)} <= set(w1.nodes)
    b_h1 = wt[wt.index_of("backward:b:0:0")]
    assert b_h1.bias_edges == (Bias(0, 0),) and b_h1.edges == ()
    assert any("b1" in n and "PyTorch" in n for n in b_h1.notes)
    assert not any("PyTorch" in n for n in w1.notes)


def test_fixed_biases_keep_their_value():
    wt = walk(SEED.replace(train_biases=False))
    b = wt[wt.index_of("update:b:1:0")]
    assert b.value == 0.6 and any("keeps its value" in n for n in b.notes)
    assert abs(wt[wt.index_of("update:w:1:0:0")].value - 0.3589164797) < 1e-10


def test_output_first_updates_follow_the_engine():
    sc = SEED.replace(update_order="output_first")
    wt = walk(sc)
    new = engine.step(sc).after
    for ref in engine.parameter_refs(sc):
        assert wt[wt.index_of(StepId(Phase.UPDATE, ref))].value == pytest.approx(engine.value_of(new, ref), abs=1e-15)


def test_batched_scenario_shows_one_sample_and_the_mean():
    sc = make_scenario((2, 3, 2), ("tanh", "sigmoid"), "half_sse", n=3, seed=2)
    wt = walk(sc, sample=1)
    step = wt[wt.index_of("backward:w:0:0:0")]
    assert any("averaged over 3 samples" in n for n in step.notes)
    assert step.chain.batch_value == engine.gradient_of(engine.backward(sc), step.param)
    upd = wt[wt.index_of("update:w:0:0:0")]
    assert upd.value == pytest.approx(engine.step(sc).after.weights[0][0, 0], abs=1e-15)


ARCHITECTURES = [
    ((2, 2, 2), ("sigmoid", "sigmoid"), "half_sse"),
    ((3, 2), ("identity",), "mse"),
    ((2, 4, 1), ("tanh", "sigmoid"), "bce"),
    ((4, 5, 3), ("relu", "softmax"), "cross_entropy"),
    ((2, 3, 3, 3), ("leaky_relu", "relu", "softmax"), "mse"),
    ((8,) * 8, ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "sigmoid", "softmax"), "cross_entropy"),
]


@pytest.mark.parametrize("layers,acts,loss", ARCHITECTURES)
def test_every_architecture_builds_every_step(layers, acts, loss):
    sc = make_scenario(layers, acts, loss, seed=1)
    wt = walk(sc)
    n_neurons = sum(layers[1:])
    n_params = len(engine.parameter_refs(sc))
    assert len(wt) == 2 * n_neurons + layers[-1] + 1 + 2 * n_params
    g = engine.backward(sc)
    for ref in engine.parameter_refs(sc)[:: max(1, n_params // 40)]:
        step = wt.step(StepId(Phase.BACKWARD, ref))
        assert isinstance(step, Step) and step.value == pytest.approx(engine.gradient_of(g, ref), rel=1e-12,
                                                                       abs=1e-15)
        assert step.factors and step.latex_symbolic and step.latex_numeric
    for i in list(range(0, wt.first_of("backward"))) + [len(wt) - 1]:
        assert wt[i].latex_numeric


def test_every_preset_walks():
    for name in config.preset_names():
        sc = config.preset(name)
        wt = walk(sc)
        steps = [wt[i] for i in range(len(wt))]
        assert steps[wt.first_of("loss") + sc.layers[-1]].value == pytest.approx(engine.forward(sc).loss)


