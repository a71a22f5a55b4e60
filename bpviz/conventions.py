"""Published reference numbers for the seed network and the app's own value beside each, so students see why
published numbers differ: they use different update conventions.

Conventions: ``train_biases`` (PyTorch trains one bias per neuron; the hand-worked versions keep b1 and b2 fixed)
and ``update_order`` ("simultaneous": every gradient from the old weights, as optimizer.step(); "output_first":
the output layer is updated first and the hidden deltas use the updated output weights, as in Matt Mazur's
"A Step by Step Backpropagation Example").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import engine
from .config import preset
from .i18n import N_
from .training import train


@dataclass(frozen=True)
class ReferenceCheck:
    """One published figure and the app's value under the same convention.

    ``what`` and ``source`` are English texts marked with ``N_``: translated where shown, ``t(check.what, lang)``.
    """

    what: str
    source: str
    train_biases: bool
    update_order: str
    published: tuple[float, ...]
    published_digits: int  # decimals the source prints: agreement means equal after rounding to these
    app: tuple[float, ...]

    @property
    def agrees(self) -> bool:
        tol = 0.5 * 10.0 ** (-self.published_digits) * (1 + 1e-9)
        return all(abs(a - p) <= tol for a, p in zip(self.app, self.published, strict=True))


MAZUR = N_("Matt Mazur, A Step by Step Backpropagation Example")


def _seed(train_biases: bool, update_order: str):
    return preset("seed").replace(train_biases=train_biases, update_order=update_order)


def _loss_after_one_step(train_biases: bool, update_order: str) -> float:
    return engine.loss_value(engine.step(_seed(train_biases, update_order)).after)


@lru_cache(maxsize=1)
def reference_checks() -> tuple[ReferenceCheck, ...]:
    """Every reference, computed once per process (the 10,000-step run takes a fraction of a second)."""
    mazur_run = train(_seed(False, "output_first"), 10_000)
    seed_after = engine.step(_seed(True, "simultaneous")).after
    return (
        ReferenceCheck(N_("E after one step"), MAZUR, False, "output_first", (0.291027924,), 9,
                       (_loss_after_one_step(False, "output_first"),)),
        ReferenceCheck(N_("outputs after 10,000 steps"), MAZUR, False, "output_first", (0.015912196, 0.984065734), 9,
                       tuple(float(v) for v in engine.forward(mazur_run.final).outputs[0])),
        ReferenceCheck(N_("E after one step"), N_("PyTorch: loss.backward(); optim.SGD(lr=0.5).step()"), True,
                       "simultaneous", (0.280471447,), 9, (_loss_after_one_step(True, "simultaneous"),)),
        ReferenceCheck(N_("w5, w6, w7, w8 after one step"), N_("the worked example's printed state_dict (4 decimals)"),
                       True, "simultaneous", (0.3589, 0.4087, 0.5113, 0.5614), 4,
                       tuple(float(v) for v in seed_after.weights[1].ravel())),
        ReferenceCheck(N_("E before any step"), N_("the worked example (E_total = 0.2984)"), True, "simultaneous",
                       (0.2984,), 4, (engine.loss_value(preset("seed")),)),
    )
