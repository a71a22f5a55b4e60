"""Names of neurons, values and parameters, in LaTeX and plain text.

Networks with at most one hidden layer use the seed's names: inputs i1 i2 ..., hidden h1 h2 ..., outputs
o1 o2 ...; ``net_`` and ``out_`` prefixes; weights w1, w2, ... numbered row-major, layer by layer (so the
seed's w1..w8); biases b_{h1}, b_{o1} ... (one per neuron, as PyTorch's nn.Linear; the hand-worked seed writes
b1 for the shared hidden bias and b2 for the shared output bias). Deeper networks use the general scheme
x_k, z^{(l)}_j, a^{(l)}_j, w^{(l)}_{jk}, b^{(l)}_j (plain text w⁽ˡ⁾ⱼₖ), and every weight also keeps its flat
number w1, w2, ... (:meth:`Names.weight_number`).

Layer index l counts from 0 (inputs); ``weights[l]`` connects layer l to layer l + 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .ids import Bias, Neuron, ParamRef, Weight

# the one table of Unicode super- and subscripts (plain text names such as w⁽²⁾₁₃; explain.py maps them back)
SUPERSCRIPTS = dict(zip("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾"))
SUBSCRIPTS = dict(zip("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
_SUP = str.maketrans(SUPERSCRIPTS)
_SUB = str.maketrans(SUBSCRIPTS)


def sup(text: object) -> str:
    """``text`` in Unicode superscripts: sup("(2)") == "⁽²⁾"."""
    return str(text).translate(_SUP)


def sub(text: object) -> str:
    """``text`` in Unicode subscripts: sub(13) == "₁₃"."""
    return str(text).translate(_SUB)


@dataclass(frozen=True)
class Names:
    """Naming for one architecture (only the layer sizes matter)."""

    layers: tuple[int, ...]

    @property
    def seed_style(self) -> bool:
        return len(self.layers) <= 3

    @property
    def L(self) -> int:
        return len(self.layers) - 1

    # ------------------------------------------------------------ neurons

    def node(self, l: int, j: int) -> str:
        """Plain-text name of neuron j of layer l (i1, h1, o1 or x1, n⁽¹⁾₁)."""
        if self.seed_style:
            prefix = "i" if l == 0 else ("o" if l == self.L else "h")
            return f"{prefix}{j + 1}"
        if l == 0:
            return f"x{j + 1}"
        return f"n{sup(f'({l})')}{sub(j + 1)}"

    def neuron(self, n: Neuron) -> str:
        """:meth:`node` of a :class:`~bpviz.ids.Neuron`."""
        return self.node(n.layer, n.index)

    def net(self, l: int, j: int) -> str:
        """LaTeX of the pre-activation of neuron (l, j): net_{h1} or z^{(1)}_{1} (inputs: their value)."""
        if l == 0:
            return self.input(j)
        if self.seed_style:
            return rf"net_{{{self.node(l, j)}}}"
        return rf"z^{{({l})}}_{{{j + 1}}}"

    def out(self, l: int, j: int) -> str:
        """LaTeX of the activation of neuron (l, j): out_{h1} or a^{(1)}_{1} (inputs: i_{1} or x_{1})."""
        if l == 0:
            return self.input(j)
        if self.seed_style:
            return rf"out_{{{self.node(l, j)}}}"
        return rf"a^{{({l})}}_{{{j + 1}}}"

    def plain_net(self, l: int, j: int) -> str:
        """Plain text of the pre-activation of neuron (l, j), as the formulas name it: net o1, or z⁽⁷⁾₁."""
        if self.seed_style:
            return f"net {self.node(l, j)}"
        return f"z{sup(f'({l})')}{sub(j + 1)}"

    def out_text(self, l: int, j: int) -> str:
        """Plain text of the activation of neuron (l, j), as the formulas name it: out o1, or a⁽⁷⁾₁."""
        if self.seed_style or l == 0:
            return f"out {self.node(l, j)}" if l else self.node(l, j)
        return f"a{sup(f'({l})')}{sub(j + 1)}"

    def input(self, k: int) -> str:
        return rf"i_{{{k + 1}}}" if self.seed_style else rf"x_{{{k + 1}}}"

    def target(self, k: int) -> str:
        return rf"t_{{{k + 1}}}"

    def loss_share(self, k: int) -> str:
        """LaTeX of output k's share of the loss: E_{o1} or E_{1}."""
        return rf"E_{{{self.node(self.L, k)}}}" if self.seed_style else rf"E_{{{k + 1}}}"

    def delta(self, l: int, j: int) -> str:
        return rf"\delta_{{{self.node(l, j)}}}" if self.seed_style else rf"\delta^{{({l})}}_{{{j + 1}}}"

    # ------------------------------------------------------------ parameters

    def weight_number(self, l: int, j: int, k: int) -> int:
        """Flat 1-based number of weights[l][j][k] (row-major, layer by layer: the seed's w1..w8)."""
        return sum(self.layers[i] * self.layers[i + 1] for i in range(l)) + j * self.layers[l] + k + 1

    def param(self, ref: ParamRef) -> str:
        """Plain-text name of a parameter, the same name the formulas use: w5, b_h1 (seed style) or w⁽²⁾₁₃, b⁽²⁾₁
        (general; :meth:`weight_number` still gives the flat w1, w2, ... numbering)."""
        match ref:
            case Weight(layer, row, col) if self.seed_style:
                return f"w{self.weight_number(layer, row, col)}"
            case Weight(layer, row, col):
                return f"w{sup(f'({layer + 1})')}{sub(row + 1)}{sub(col + 1)}"
            case Bias(layer, row) if self.seed_style:
                return f"b_{self.node(layer + 1, row)}"
            case Bias(layer, row):
                return f"b{sup(f'({layer + 1})')}{sub(row + 1)}"
        raise TypeError(f"not a parameter: {ref!r}")

    def param_latex(self, ref: ParamRef) -> str:
        """LaTeX of a parameter: w_{5}, b_{h1} (seed style) or w^{(2)}_{11}, b^{(2)}_{1} (general)."""
        match ref:
            case Weight(layer, row, col) if self.seed_style:
                return rf"w_{{{self.weight_number(layer, row, col)}}}"
            case Weight(layer, row, col):
                sep = "," if max(self.layers) >= 10 else ""
                return rf"w^{{({layer + 1})}}_{{{row + 1}{sep}{col + 1}}}"
            case Bias(layer, row) if self.seed_style:
                return rf"b_{{{self.node(layer + 1, row)}}}"
            case Bias(layer, row):
                return rf"b^{{({layer + 1})}}_{{{row + 1}}}"
        raise TypeError(f"not a parameter: {ref!r}")


@lru_cache(maxsize=64)
def names_for(layers: tuple[int, ...]) -> Names:
    return Names(tuple(layers))
