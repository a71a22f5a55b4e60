"""How large the gradient is in each layer: ‖∂E/∂W⁽ˡ⁾‖ and mean |δ⁽ˡ⁾| per weight layer, read off the engine's
arrays, and the lesson of each deep preset (vanishing, ReLU with He, saturated tanh) in a sentence with its numbers.

Layer l = 1 … L is the l-th weight layer, as the matrix view counts: W⁽ˡ⁾ is the engine's ``weights[l − 1]`` and
δ⁽ˡ⁾ = ∂E/∂net of the neurons it feeds, the engine's ``dE_dz[l]``. On its way back δ is multiplied in every layer
by the weights and by f′(net),  δ⁽ˡ⁻¹⁾ = f′(z⁽ˡ⁻¹⁾) ⊙ (W⁽ˡ⁾ᵀ δ⁽ˡ⁾),  so a factor below 1 per layer makes the
gradient of the first layers vanish and a factor above 1 makes it explode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from .config import Scenario, preset
from .engine import Gradients, Trace
from .i18n import t
from .naming import sup
from .numbers import Style

VANISHING, RELU_HE, SATURATED = "deep_sigmoid_vanishing", "deep_relu_he", "deep_tanh_saturated"
DEEP_PRESETS = (VANISHING, RELU_HE, SATURATED)
SATURATED_NET = 3.0  # |net| beyond this: tanh′(net) = 1 − tanh²(net) < 0.0099, the neuron is flat
SHOWN_EXACTLY = 6  # a factor below 10⁶ is written out (14,000), a larger one as a power of ten (1.2 × 10¹⁰)


# ---------------------------------------------------------------- the sizes


def frobenius(a: np.ndarray) -> float:
    """‖a‖ = √Σ a², scaled by the largest |a| first so that entries near float64's limit do not overflow on the way
    (inf only where the norm itself is beyond float64; nan where an entry is)."""
    a = np.asarray(a, dtype=np.float64)
    big = float(np.max(np.abs(a))) if a.size else 0.0
    if big == 0.0 or not math.isfinite(big):
        return big
    return big * float(np.sqrt(np.sum(np.square(a / big))))


def mean_abs(a: np.ndarray) -> float:
    """mean |a|, scaled by the largest |a| first (the sum of entries near float64's limit would overflow)."""
    a = np.asarray(a, dtype=np.float64)
    big = float(np.max(np.abs(a))) if a.size else 0.0
    if big == 0.0 or not math.isfinite(big):
        return big
    return big * float(np.mean(np.abs(a) / big))


@dataclass(frozen=True)
class GradientSizes:
    """Per weight layer l = 1 … L (index l − 1): ``weight_norm`` ‖∂E/∂W⁽ˡ⁾‖ = √Σⱼₖ (∂E/∂w⁽ˡ⁾ⱼₖ)² (Frobenius) and
    ``delta_mean`` mean |δ⁽ˡ⁾| over the samples and the layer's neurons."""

    weight_norm: tuple[float, ...]
    delta_mean: tuple[float, ...]

    @property
    def n_layers(self) -> int:
        return len(self.weight_norm)

    def first_to_last(self) -> float | None:
        """‖∂E/∂W⁽¹⁾‖ / ‖∂E/∂W⁽ᴸ⁾‖ (None with one layer, when either is 0 or beyond float64, or when the ratio or its
        inverse is: 10⁻³⁰⁰ / 10³⁰⁰)."""
        first, last = self.weight_norm[0], self.weight_norm[-1]
        if self.n_layers < 2 or not (_positive(first) and _positive(last)):
            return None
        ratio = first / last
        return ratio if _positive(ratio) and math.isfinite(1 / ratio) else None


def gradient_sizes(grads: Gradients) -> GradientSizes:
    """The sizes of the engine's gradients: ``dE_dW[l − 1]`` and ``dE_dz[l]`` for l = 1 … L."""
    return GradientSizes(tuple(frobenius(g) for g in grads.dE_dW), tuple(mean_abs(d) for d in grads.dE_dz[1:]))


def _positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def spread(values: tuple[float, ...]) -> float | None:
    """max / min of ``values`` (None when one is 0 or beyond float64: no finite spread)."""
    return max(values) / min(values) if values and all(_positive(v) for v in values) else None


def saturated_share(scenario: Scenario, trace: Trace, limit: float = SATURATED_NET) -> float:
    """The share of hidden nets (every hidden neuron, every sample) with |net| > ``limit``."""
    nets = [np.abs(z).ravel() for z in trace.z[1:scenario.n_layers]]
    return float(np.mean(np.concatenate(nets) > limit)) if nets else 0.0


def weight_norm_symbol(l: int) -> str:
    """‖∂E/∂W⁽ˡ⁾‖ in plain text."""
    return f"‖∂E/∂W{sup(f'({l})')}‖"


def delta_mean_symbol(l: int) -> str:
    """mean |δ⁽ˡ⁾| in plain text (the word "mean" is the caller's, translated)."""
    return f"|δ{sup(f'({l})')}|"


# ---------------------------------------------------------------- in words


def about(x: float) -> str:
    """A factor ≥ 1 to two significant figures, as a sentence says it: 6.8, 14,000, 1.2 × 10¹⁰."""
    if x < 10:
        return f"{x:.2g}"
    power = math.floor(math.log10(x))
    lead = round(x / 10 ** (power - 1))  # the two leading digits, 10 … 100
    if lead == 100:
        lead, power = 10, power + 1
    if power < SHOWN_EXACTLY:
        return f"{lead * 10 ** (power - 1):,}"
    return f"{lead / 10:g} × 10{sup(power)}"


def ratio_sentence(sizes: GradientSizes, style: Style) -> str | None:
    """How the first layer's gradient compares with the output layer's, in one sentence (None when it cannot)."""
    ratio = sizes.first_to_last()
    if ratio is None:
        return None
    values = {"first": weight_norm_symbol(1), "last": weight_norm_symbol(sizes.n_layers),
              "ratio": style.text(ratio)}
    if ratio < 1:
        return t("{first} / {last} = {ratio}: the first layer's gradient is {times} times smaller than the output "
                 "layer's.", style.lang, times=about(1 / ratio), **values)
    return t("{first} / {last} = {ratio}: the first layer's gradient is {times} times the output layer's.",
             style.lang, times=about(ratio), **values)


@cache
def _preset_document(name: str) -> dict:
    return preset(name).to_dict()


def deep_preset_of(scenario: Scenario) -> str | None:
    """The deep preset ``scenario`` is, unchanged (None for any other network, or once a number was moved)."""
    for name in DEEP_PRESETS:
        doc = _preset_document(name)
        if scenario.architecture == (tuple(doc["layers"]), tuple(doc["activations"]), doc["loss"]) \
                and scenario.to_dict() == doc:
            return name
    return None


def preset_lesson(scenario: Scenario, trace: Trace, sizes: GradientSizes, style: Style) -> str | None:
    """The lesson of the deep preset ``scenario`` is (unchanged), with its numbers; None for any other network."""
    name = deep_preset_of(scenario)
    if name is None:
        return None
    L = sizes.n_layers
    first, last = weight_norm_symbol(1), weight_norm_symbol(L)
    if name == VANISHING:
        return t("Vanishing gradient: on its way back δ is multiplied in every sigmoid layer by σ′(net) ≤ 0.25 and "
                 "by weights smaller than 1, so it shrinks layer after layer: mean {delta_last} is {top} at the "
                 "output and {bottom} in layer 1, and {first} is {times} times smaller than {last}. The first layers "
                 "hardly learn.", style.lang, delta_last=delta_mean_symbol(L), top=style.text(sizes.delta_mean[-1]),
                 bottom=style.text(sizes.delta_mean[0]), first=first, last=last,
                 times=about(1 / sizes.first_to_last()))
    if name == RELU_HE:
        return t("ReLU and He initialisation: relu′(net) is 1 wherever a neuron is active, and weights drawn with "
                 "variance 2 / fan_in keep the size of δ from layer to layer, so the gradient neither vanishes nor "
                 "explodes: every ‖∂E/∂W⁽ˡ⁾‖ lies between {low} and {high}, within a factor of {spread}.",
                 style.lang, low=style.text(min(sizes.weight_norm)), high=style.text(max(sizes.weight_norm)),
                 spread=about(spread(sizes.weight_norm)))
    largest = format(max(float(np.max(np.abs(w))) for w in scenario.weights), "g")  # as the preset writes it
    share = format(saturated_share(scenario, trace), ".0%")
    return t("Saturation: with weights this large (|w| up to {largest}), {share} of the hidden nets (every neuron, "
             "every sample) are beyond ±3, where tanh is flat: tanh′(net) = 1 − out² < 0.01. Each layer multiplies "
             "δ by that slope, so large weights do not make the gradient large, they stop it: {first} is {times} "
             "times smaller than {last}.", style.lang, largest=largest, share=share, first=first, last=last,
             times=about(1 / sizes.first_to_last()))
