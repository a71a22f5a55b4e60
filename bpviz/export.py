"""A scenario as a runnable PyTorch script, in the style of the seed's own (``bpviz export torch``, the sidebar's
download).

The script builds the network from ``nn.Linear`` layers with the scenario's numbers copied in (``repr``: float64
round-trips exactly), runs the forward pass with the same activations and the loss as the engine computes it,
``backward()`` and one ``optim.SGD`` step, and prints the outputs, the loss, every gradient and the ``state_dict``
after the step. Its results are in top-level variables (``output``, ``loss``, ``gradients``, ``state_dict``), so a
test can run it and compare them with the engine. Which PyTorch loss each bpviz loss is (the engine's conventions):

    half_sse                0.5 * ((o - t) ** 2).sum()            mean over samples: .sum(dim=1).mean()
    mse                     nn.MSELoss()(o, t)
    bce after sigmoid       nn.BCEWithLogitsLoss()(net_L, t)      on the output layer's pre-activation
    cross_entropy, softmax  nn.CrossEntropyLoss()(net_L, t)       probability targets, on the logits

``update_order`` ``output_first`` is not a PyTorch convention: the script then updates layer by layer, output layer
first, each lower δ backpropagated through the already-updated weights (:func:`bpviz.engine.backpropagate`).
Comments and printed labels are in ``lang``; code stays English. Nothing here imports PyTorch.
"""

from __future__ import annotations

import re

import numpy as np

from .config import ORDER_LABELS, Scenario, preset, preset_names
from .functions import LEAKY_SLOPE, LOSSES
from .i18n import N_, t, tn
from .ids import Bias, Weight
from .naming import Names, names_for

TARGETS = ("torch",)
INDENT = "    "
COMMENT_WIDTH = 96  # columns of a comment's text (a CJK character is two wide, see _comment)
ONE_LINE_ROWS = 1  # a tensor of this many rows (and no comments) is written on one line: [[0.05, 0.1]]

# what the script prints before each result (translated where it is written; a test reads the output by them)
LABELS = {
    "output": N_("outputs:"),
    "loss": N_("loss:"),
    "gradients": N_("gradients ∂E/∂p:"),
    "gradients_used": N_("gradients ∂E/∂p used by the step:"),
    "state_dict": N_("parameters after one SGD step (state_dict):"),
}
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")  # CJK characters and full-width punctuation: two columns
_TOKEN = re.compile(r"\s+|[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+")  # spaces, 1 CJK, a word
_NO_LINE_START, _NO_LINE_END = set("，。；：、）！？…"), set("（")


def torch_script(scenario: Scenario, lang: str = "en") -> str:
    """The PyTorch script of ``scenario``: runnable with ``python`` where ``torch`` is installed."""
    nm = names_for(scenario.layers)
    lines = [*_header(scenario, lang), "", *_imports(lang), "", "", *_net_class(scenario, nm, lang), "", "",
             'if __name__ == "__main__":', *_main(scenario, lang)]
    return "\n".join(lines) + "\n"


def file_name(scenario: Scenario) -> str:
    """A file name for the script: bpviz_seed.py for an unchanged preset, else the layer sizes (bpviz_2_4_3.py)."""
    same = next((name for name in preset_names() if preset(name).to_dict() == scenario.to_dict()), None)
    return f"bpviz_{same or '_'.join(map(str, scenario.layers))}.py"


# ---------------------------------------------------------------- text helpers


def _comment(text: str, indent: str = "") -> list[str]:
    """``text`` as ``#`` comment lines of at most COMMENT_WIDTH columns (a CJK character is two wide): broken at
    spaces, and between CJK characters but not before closing punctuation or after an opening bracket; a word is never
    split."""
    lines, line = [], ""
    for token in _TOKEN.findall(text):
        if token.isspace():
            line += " " if line else ""
        elif line and _columns(line + token) > COMMENT_WIDTH and token not in _NO_LINE_START:
            opening = line[-1] if line[-1] in _NO_LINE_END else ""  # an opening bracket goes with what it opens
            lines.append(line.removesuffix(opening).rstrip())
            line = opening + token
        else:
            line += token
    return [f"{indent}# {line}" for line in [*lines, line.rstrip()] if line]


def _columns(text: str) -> int:
    return sum(2 if _CJK.match(c) else 1 for c in text)


def _floats(values) -> str:
    """A Python list literal of floats, each as repr (float64 reads back exactly)."""
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _matrix(target: str, rows: np.ndarray, comments: list[str], indent: str) -> list[str]:
    """``target = torch.tensor([...])`` with one row per line, each with its comment (if any); a single row without
    a comment on one line, as the seed writes its one sample."""
    if len(rows) <= ONE_LINE_ROWS and not any(comments):
        return [f"{indent}{target} = torch.tensor([{_floats(rows[0])}])"]
    out = [f"{indent}{target} = torch.tensor(["]
    for row, note in zip(rows, comments):
        out.append(f"{indent}{INDENT}{_floats(row)},{f'  # {note}' if note else ''}")
    return out + [f"{indent}])"]


def _nodes(nm: Names, l: int, width: int) -> str:
    return " ".join(nm.node(l, j) for j in range(width))


# ---------------------------------------------------------------- the parts of the script


def _header(sc: Scenario, lang: str) -> list[str]:
    samples = tn("{n} sample", "{n} samples", sc.n_samples, lang)
    return [
        *_comment(t("bpviz: this network as a PyTorch script. One forward pass, backward() and one SGD step; it "
                    "prints the outputs, the loss, every gradient and the parameters after the step, so you can check "
                    "bpviz's numbers with PyTorch as the worked example does.", lang)),
        *_comment(t("Layers {layers}; activations {activations}; loss {loss}; learning rate {lr}; {samples}; biases "
                    "trained: {biases}; update order: {order}.", lang, layers=" - ".join(map(str, sc.layers)),
                    activations=", ".join(sc.activations), loss=sc.loss, lr=repr(sc.learning_rate), samples=samples,
                    biases=t("yes", lang) if sc.train_biases else t("no", lang),
                    order=t(ORDER_LABELS[sc.update_order], lang))),  # N_ in bpviz.config
        *_comment(t("Made by bpviz (bpviz export torch). It needs only PyTorch: python this_file.py", lang)),
    ]


def _imports(lang: str) -> list[str]:
    return [
        "import torch",
        "import torch.nn as nn",
        "import torch.nn.functional as F",
        "import torch.optim as optim",
        "",
        *_comment(t("float64, as bpviz computes (the worked example's script used float32, which agrees to about 7 "
                    "digits)", lang)),
        "torch.set_default_dtype(torch.float64)",
    ]


def _net_class(sc: Scenario, nm: Names, lang: str) -> list[str]:
    body = INDENT * 2
    out = ["class Net(nn.Module):", f"{INDENT}def __init__(self):", f"{body}super().__init__()"]
    for l in range(sc.n_layers):
        below, above = _nodes(nm, l, sc.layers[l]), _nodes(nm, l + 1, sc.layers[l + 1])
        out.append(f"{body}self.linear{l + 1} = nn.Linear({sc.layers[l]}, {sc.layers[l + 1]})  # {below} → {above}")
    out += _comment(t("The scenario's numbers, copied in exactly. nn.Linear keeps weight[j][k] = the weight from "
                      "neuron k of the layer below to neuron j (outputs × inputs): one row per neuron, named in its "
                      "comment.", lang), body)
    for l in range(sc.n_layers):
        rows = sc.weights[l]
        notes = [" ".join(nm.param(Weight(l, j, k)) for k in range(rows.shape[1])) + f" → {nm.node(l + 1, j)}"
                 for j in range(rows.shape[0])]
        out += _matrix(f"self.linear{l + 1}.weight.data", rows, notes, body)
        biases = " ".join(nm.param(Bias(l, j)) for j in range(sc.layers[l + 1]))
        out.append(f"{body}self.linear{l + 1}.bias.data = torch.tensor({_floats(sc.biases[l])})  # {biases}")
    out += ["", f"{INDENT}def forward(self, x):"]
    out += _comment(t("Every layer's net (pre-activation) and out (activation) are kept as self.net1, self.out1, "
                      "…: for the loss and for the printout.", lang), body)
    below = "x"
    for l, act in enumerate(sc.activations, start=1):
        formula = "  # net = out @ weight.T + bias" if l == 1 else ""
        out.append(f"{body}self.net{l} = self.linear{l}({below}){formula}")
        out.append(f"{body}self.out{l} = {_activation_code(act, f'self.net{l}', lang)}")
        below = f"self.out{l}"
    return out + [f"{body}return {below}"]


def _activation_code(act: str, z: str, lang: str) -> str:
    """The PyTorch form of one activation applied to ``z``, with a comment where the mapping needs one."""
    match act:
        case "sigmoid" | "tanh" | "relu":
            return f"torch.{act}({z})"
        case "leaky_relu":
            return (f"F.leaky_relu({z}, negative_slope={LEAKY_SLOPE!r})  # "
                    + t("bpviz's slope for net ≤ 0", lang))
        case "identity":
            return f"{z}  # " + t("identity: out = net", lang)
        case "softmax":
            return f"torch.softmax({z}, dim=1)  # " + t("over the neurons of each sample", lang)
    raise ValueError(f"no PyTorch form for activation {act!r}")


def _loss_lines(sc: Scenario, lang: str, indent: str) -> list[str]:
    """The loss exactly as the engine computes it (E = mean over samples of Σ_k share_k), with its mapping."""
    record, net_L = LOSSES[sc.loss], f"net.net{sc.n_layers}"
    fused = record.fused_with(sc.activations[-1])
    several = sc.n_samples > 1
    if sc.loss == "half_sse":
        code = "0.5 * ((output - target) ** 2)" + (".sum(dim=1).mean()" if several else ".sum()")
        text = t("half_sse: E = ½ Σₖ (oₖ − tₖ)², as the worked example writes it.", lang)
        if several:
            text += " " + t("With several samples bpviz takes the mean over them: .sum(dim=1) is each sample's E, "
                            ".mean() their mean.", lang)
    elif sc.loss == "mse":
        code = "nn.MSELoss()(output, target)"
        text = t("mse: E = (1/K) Σₖ (oₖ − tₖ)² is nn.MSELoss(): its mean over every entry is the mean over the "
                 "samples of the mean over the K outputs.", lang)
    elif sc.loss == "bce" and fused:
        code = f"nn.BCEWithLogitsLoss()({net_L}, target)"
        text = t("bce after sigmoid: nn.BCEWithLogitsLoss() on the output layer's net (the logits), as bpviz computes "
                 "it: exact also where sigmoid rounds to 0 or 1 (nn.BCELoss() on the outputs would clamp log at −100). "
                 "Its mean over every entry is the mean over the samples of the mean over the outputs.", lang)
    elif sc.loss == "cross_entropy" and fused:
        code = f"nn.CrossEntropyLoss()({net_L}, target)"
        text = t("cross_entropy after softmax: nn.CrossEntropyLoss() on the output layer's net (the logits), with the "
                 "targets as probabilities, as bpviz computes it: finite for any net, also where a softmax output "
                 "rounds to 0. It takes the mean over the samples.", lang)
    else:  # bce needs sigmoid outputs, cross_entropy softmax ones: the validator accepts no other pairing
        raise ValueError(f"no PyTorch form for {sc.loss} after {sc.activations[-1]}")
    return [*_comment(text, indent), f"{indent}loss = {code}"]


def _main(sc: Scenario, lang: str) -> list[str]:
    i, n = INDENT, sc.n_samples
    out = _comment(tn("{n} sample, as a row (PyTorch works on batches of samples).",
                      "{n} samples, one per row; the loss is their mean, as in bpviz.", n, lang), i)
    out += _matrix("inputs", sc.inputs, [""] * n, i)
    out += _matrix("target", sc.targets, [""] * n, i)
    out += ["", f"{i}net = Net()", f"{i}output = net(inputs)"]
    out += _loss_lines(sc, lang, i)
    out.append("")
    out += _optimizer(sc, lang, i)
    out += _output_first(sc, lang, i) if sc.update_order == "output_first" else _simultaneous(lang, i)
    out += [f"{i}state_dict = net.state_dict()", ""]
    out += _prints(sc, lang, i)
    return out


def _optimizer(sc: Scenario, lang: str, i: str) -> list[str]:
    lr = repr(sc.learning_rate)
    if sc.train_biases:
        return [f"{i}optimizer = optim.SGD(net.parameters(), lr={lr})"]
    weights = ", ".join(f"net.linear{l}.weight" for l in range(1, sc.n_layers + 1))
    return [*_comment(t("train_biases is false: the biases stay fixed. They still get a gradient (printed below), but "
                        "only the weights are given to the optimizer, so the step leaves the biases as they are.",
                        lang), i),
            f"{i}optimizer = optim.SGD([{weights}], lr={lr})"]


def _simultaneous(lang: str, i: str) -> list[str]:
    return [
        f"{i}optimizer.zero_grad()  # " + t("clear old gradients", lang),
        f"{i}loss.backward()  # " + t("every gradient ∂E/∂p, from the current parameters", lang),
        f"{i}gradients = {{name: p.grad.clone() for name, p in net.named_parameters()}}",
        f"{i}optimizer.step()  # " + t("p ← p − η·∂E/∂p for every parameter at once", lang),
    ]


def _output_first(sc: Scenario, lang: str, i: str) -> list[str]:
    """The update layer by layer, output layer first, each lower δ through the updated weights above it."""
    L = sc.n_layers
    out = _comment(t("update_order output_first: the output layer is updated first, and each lower layer's δ is "
                     "backpropagated through the already-updated weights above it (the convention behind Matt Mazur's "
                     "published numbers). This is not a PyTorch convention: loss.backward() and one optimizer.step() "
                     "would update every layer from the old weights. So the script updates explicitly, layer by "
                     "layer, in {n} stages.", lang, n=L), i)
    out.append(f"{i}gradients = {{}}")
    for stage, l in enumerate(range(L, 0, -1), start=1):
        out.append("")
        if l == L:
            out += _comment(t("Stage {stage} of {n}: linear{l}, the output layer. δ = ∂E/∂net from autograd (the "
                              "mean over the samples is in it).", lang, stage=stage, n=L, l=l), i)
            out.append(f"{i}delta{l}, = torch.autograd.grad(loss, net.net{l})")
        else:
            out += _comment(t("Stage {stage} of {n}: linear{l}. Its δ is backpropagated through the updated "
                              "linear{above}.weight; autograd applies the activation's derivative.", lang,
                              stage=stage, n=L, l=l, above=l + 1), i)
            out.append(f"{i}delta{l}, = torch.autograd.grad(net.out{l}, net.net{l}, "
                       f"delta{l + 1} @ net.linear{l + 1}.weight.detach())")
        below = "inputs" if l == 1 else f"net.out{l - 1}.detach()"
        out += _comment(t("∂E/∂W = δᵀ · out of the layer below; ∂E/∂b = δ summed over the samples.", lang), i)
        out += [f'{i}gradients["linear{l}.weight"] = net.linear{l}.weight.grad = delta{l}.T @ {below}',
                f'{i}gradients["linear{l}.bias"] = net.linear{l}.bias.grad = delta{l}.sum(dim=0)',
                f"{i}optimizer.step()  # " + t("moves only the parameters that have a .grad: this layer's", lang),
                f"{i}optimizer.zero_grad()  # " + t(".grad = None: an updated layer does not move again", lang)]
    return out + [""]


def _prints(sc: Scenario, lang: str, i: str) -> list[str]:
    grads = LABELS["gradients_used" if sc.update_order == "output_first" else "gradients"]
    return [
        *_comment(t(".tolist() prints every digit of float64 (a tensor prints 4 decimals).", lang), i),
        f"{i}print({t(LABELS['output'], lang)!r}, output.tolist())",  # the labels are marked with N_ above
        f"{i}print({t(LABELS['loss'], lang)!r}, loss.item())",
        f"{i}print({t(grads, lang)!r})",
        f"{i}for name in state_dict:",
        f'{i}{INDENT}print(" ", name, gradients[name].tolist())',
        f"{i}print({t(LABELS['state_dict'], lang)!r})",
        f"{i}for name, value in state_dict.items():",
        f'{i}{INDENT}print(" ", name, value.tolist())',
    ]
