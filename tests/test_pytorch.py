"""PyTorch parity: loss, every gradient and one SGD step equal PyTorch's (float64) on random and saturated networks.

PyTorch is not a dependency; these tests skip when it is absent (``pip install torch==2.13.0`` to run them). Which
PyTorch loss each bpviz loss equals is what :mod:`bpviz.functions` states (``pytorch``), and what is measured here.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from bpviz import config, engine, functions

from .test_engine import PAIRS, random_scenario
from .test_saturation import BCE_50, CE_800

torch = pytest.importorskip("torch", reason="PyTorch is not a dependency; pip install torch==2.13.0 to run these")
F = torch.nn.functional

REL, ABS = 1e-10, 1e-12
ACTIVATION = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z,
              "leaky_relu": lambda z: F.leaky_relu(z, functions.LEAKY_SLOPE), "softmax": lambda z: torch.softmax(z, 1)}


def torch_loss(sc: config.Scenario, z_out, a_out, t):
    """The PyTorch loss that ``functions.LOSSES[sc.loss]`` names for this output activation."""
    fused = sc.loss in ("bce", "cross_entropy") and sc.activations[-1] == functions.LOSSES[sc.loss].requires
    if sc.loss == "half_sse":
        return 0.5 * torch.nn.MSELoss(reduction="sum")(a_out, t) / a_out.shape[0]
    if sc.loss == "mse":
        return torch.nn.MSELoss()(a_out, t)
    if sc.loss == "bce":
        return torch.nn.BCEWithLogitsLoss()(z_out, t) if fused else torch.nn.BCELoss()(a_out, t)
    if sc.loss == "cross_entropy":
        return torch.nn.CrossEntropyLoss()(z_out, t) if fused else torch.nn.NLLLoss()(torch.log(a_out), t.argmax(1))
    raise AssertionError(f"no PyTorch loss for {sc.loss}")


def torch_run(sc: config.Scenario):
    """(E, [dE/dW], [dE/db]) from PyTorch's autograd on the same numbers."""
    Ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in sc.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in sc.biases]
    a = torch.tensor(sc.inputs, dtype=torch.float64)
    z = a
    for W, b, act in zip(Ws, bs, sc.activations):
        z = a @ W.T + b  # nn.Linear
        a = ACTIVATION[act](z)
    E = torch_loss(sc, z, a, torch.tensor(sc.targets, dtype=torch.float64))
    E.backward()
    return E.item(), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


def assert_parity(sc: config.Scenario) -> float:
    """The engine's E and gradients equal PyTorch's; returns the largest relative difference seen."""
    trace = engine.forward(sc)
    grads = engine.backward(sc, trace)
    E, dW, db = torch_run(sc)
    worst = 0.0
    for ours, theirs in [(trace.loss, E), *zip(grads.dE_dW, dW), *zip(grads.dE_db, db)]:
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        np.testing.assert_allclose(ours, theirs, rtol=REL, atol=ABS)
        worst = max(worst, float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300))))
    return worst


@pytest.mark.parametrize("hidden, out, loss", PAIRS)
def test_random_networks_equal_pytorch(hidden, out, loss):
    rng = np.random.default_rng(zlib.crc32(f"{hidden} {out} {loss}".encode()))
    for _ in range(8):
        sc = random_scenario(rng, hidden, out, loss, n_hidden_layers=int(rng.integers(1, 4)),
                             n_samples=int(rng.integers(1, 4)))
        assert_parity(sc)


@pytest.mark.parametrize("hidden, out, loss", PAIRS)
def test_saturated_networks_equal_pytorch(hidden, out, loss):
    """Weights up to ±300: outputs at 0 or 1 in float64, |z| in the hundreds."""
    rng = np.random.default_rng(zlib.crc32(f"saturated {hidden} {out} {loss}".encode()))
    for _ in range(4):
        sc = random_scenario(rng, hidden, out, loss, n_hidden_layers=1, scale=300.0)
        if loss in ("bce", "cross_entropy") and out != functions.LOSSES[loss].requires:
            continue  # not a pairing the validator accepts
        assert_parity(sc)


def test_the_issue_documents_equal_the_logits_losses_not_the_clamped_ones():
    """bce with a saturated sigmoid: BCEWithLogitsLoss (E = 50, ∂E/∂w = 1), which bpviz reports; BCELoss clamps
    log at -100 and says E = 100 with gradient 0. Softmax at logits [0, 800]: CrossEntropyLoss's 800."""
    for doc, expected in ((BCE_50, 50.0), (CE_800, 800.0)):
        sc = config.validate(doc)
        assert assert_parity(sc) <= REL
        assert engine.forward(sc).loss == pytest.approx(expected, rel=1e-12)
    sc = config.validate(BCE_50)
    w = torch.tensor([[50.0]], dtype=torch.float64, requires_grad=True)
    clamped = torch.nn.BCELoss()(torch.sigmoid(torch.tensor([[1.0]], dtype=torch.float64) @ w.T),
                                 torch.tensor([[0.0]], dtype=torch.float64))
    clamped.backward()
    assert (clamped.item(), w.grad.item()) == (100.0, 0.0)  # the outputs form: flat where it clamps


def test_one_sgd_step_equals_torch_optim_sgd():
    sc = config.preset("seed")
    Ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in sc.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in sc.biases]
    opt = torch.optim.SGD([*Ws, *bs], lr=sc.learning_rate)
    a = torch.tensor(sc.inputs, dtype=torch.float64)
    for W, b in zip(Ws, bs):
        a = torch.sigmoid(a @ W.T + b)
    torch_loss(sc, None, a, torch.tensor(sc.targets, dtype=torch.float64)).backward()
    opt.step()
    after = engine.step(sc).after
    for ours, theirs in [*zip(after.weights, Ws), *zip(after.biases, bs)]:
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=REL, atol=ABS)
