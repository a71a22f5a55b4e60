"""What every page needs computed from the state, once per run: the forward trace, the backward gradients and
the walkthrough (whose steps are built only when a page shows them)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import engine
from ..ids import Phase, StepId
from ..walkthrough import Step, Walkthrough, build_walkthrough
from .state import AppState


@dataclass(frozen=True)
class Computed:
    """The forward trace, backward gradients and walkthrough of the current scenario and sample."""

    trace: engine.Trace
    grads: engine.Gradients
    walkthrough: Walkthrough
    sample: int = 0  # the sample every page shows (0-based; chosen in the sidebar when there are several)

    def step_for(self, sid: StepId | None) -> Step | None:
        """The walkthrough step with this id, or None (none chosen, or the architecture changed)."""
        return None if sid is None else self.walkthrough.step(sid)

    def phase_ids(self, phases: tuple[Phase, ...]) -> list[StepId]:
        """The ids of the steps of these phases, in order."""
        ids = self.walkthrough.ids()
        return [ids[i] for i in self.walkthrough.indices(phases)]

    @property
    def update(self) -> engine.Update:
        """The gradient-descent step the walkthrough shows (computed once per run)."""
        return self.walkthrough.update


def compute(app: AppState) -> Computed:
    trace = engine.forward(app.scenario)
    grads = engine.backward(app.scenario, trace)
    sample = app.sample
    wt = build_walkthrough(app.scenario, trace, grads, decimals=app.decimals, sample=sample, lang=app.lang)
    return Computed(trace, grads, wt, sample)
