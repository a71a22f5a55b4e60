"""The PyTorch export (``bpviz export torch``): the script runs and agrees with the engine, and reads as it should.

With PyTorch installed the exported scripts are run (one as a real ``python`` process, the others in a fresh
namespace) for the seed, every preset and random networks of every activation × loss pairing, both update orders,
biases trained or fixed, one sample or several, and their outputs, loss, gradients and updated parameters are
compared with :mod:`bpviz.engine` to 1e-10 relative. Without PyTorch those tests skip and the structural ones still
check the script: it compiles, every number of the scenario sits in it in its place, each loss and update order is
mapped as documented.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zlib

import numpy as np
import pytest

from bpviz import config, engine, export
from bpviz.i18n import t

from .test_engine import (
    PAIRS,
    SEED_B_AFTER,
    SEED_DB,
    SEED_DW,
    SEED_LOSS,
    SEED_OUT,
    SEED_W_AFTER,
    random_scenario,
)
from .test_saturation import BCE_50, CE_800

REL, ABS = 1e-10, 1e-12
SEED_TOL = 1e-10  # the README's reference values are printed to 10 decimals
CJK = re.compile(r"[\u4e00-\u9fff]")
TORCH_REASON = "PyTorch is not a dependency; pip install torch==2.13.0 to run the exported scripts"
CONVENTIONS = [(order, biases) for order in engine.UPDATE_ORDERS for biases in (True, False)]


def needs_torch():
    return pytest.importorskip("torch", reason=TORCH_REASON)


def with_conventions(sc: config.Scenario, order: str, train_biases: bool) -> config.Scenario:
    return sc.replace(update_order=order, train_biases=train_biases)


def random_cases(hidden: str, out: str, loss: str):
    """Random networks of one pairing (0 to 3 hidden layers, 1 to 3 samples) under every update convention."""
    rng = np.random.default_rng(zlib.crc32(f"export {hidden} {out} {loss}".encode()))
    for order, biases in CONVENTIONS:
        sc = random_scenario(rng, hidden, out, loss, n_hidden_layers=int(rng.integers(0, 4)),
                             n_samples=int(rng.integers(1, 4)))
        yield with_conventions(sc, order, biases)


# ---------------------------------------------------------------- running the script


def run_in_namespace(script: str) -> dict:
    """Execute an exported script as ``__main__`` in a fresh namespace; its globals (output, loss, gradients,
    state_dict, ...) as NumPy / float. The process-wide default dtype the script sets is restored afterwards."""
    torch = needs_torch()
    saved = torch.get_default_dtype()
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(script, "bpviz_export.py", "exec"), namespace)  # noqa: S102 (our own generated script)
    finally:
        torch.set_default_dtype(saved)
    return {
        "output": namespace["output"].detach().numpy(),
        "loss": namespace["loss"].item(),
        "gradients": {k: v.detach().numpy() for k, v in namespace["gradients"].items()},
        "state_dict": {k: v.detach().numpy() for k, v in namespace["state_dict"].items()},
        "dtype": namespace["output"].dtype,
    }


def engine_results(sc: config.Scenario) -> dict:
    """The same quantities from the engine: forward, and the step under the scenario's conventions (its gradients
    are those the step used: under output_first the lower layers' went through the updated weights)."""
    trace = engine.forward(sc)
    update = engine.step(sc, trace=trace)
    params = lambda W, B: {f"linear{l + 1}.{kind}": (W if kind == "weight" else B)[l]  # noqa: E731
                           for l in range(sc.n_layers) for kind in ("weight", "bias")}
    return {"output": trace.outputs, "loss": trace.loss,
            "gradients": params(update.grads.dE_dW, update.grads.dE_db),
            "state_dict": params(update.after.weights, update.after.biases)}


def assert_agrees(ran: dict, expected: dict, what: str = "") -> None:
    np.testing.assert_allclose(ran["output"], expected["output"], rtol=REL, atol=ABS, err_msg=f"{what} output")
    np.testing.assert_allclose(ran["loss"], expected["loss"], rtol=REL, atol=ABS, err_msg=f"{what} loss")
    for part in ("gradients", "state_dict"):
        assert sorted(ran[part]) == sorted(expected[part]), (what, part)  # every parameter
        for name, value in expected[part].items():
            np.testing.assert_allclose(ran[part][name], value, rtol=REL, atol=ABS, err_msg=f"{what} {part} {name}")


def assert_script_agrees(sc: config.Scenario, lang: str = "en") -> None:
    ran = run_in_namespace(export.torch_script(sc, lang))
    assert str(ran["dtype"]) == "torch.float64"
    assert_agrees(ran, engine_results(sc), f"{sc.layers} {sc.activations} {sc.loss} {sc.update_order} "
                                           f"train_biases={sc.train_biases} n={sc.n_samples}")


def parse_printout(stdout: str, lang: str, order: str) -> dict:
    """What an exported script printed, read back by its labels (the values are Python literals: every digit)."""
    labels = {key: t(export.LABELS[key], lang) for key in export.LABELS}
    grads_label = labels["gradients_used" if order == "output_first" else "gradients"]
    result: dict = {"gradients": {}, "state_dict": {}}
    section = None
    for line in stdout.splitlines():
        if line.startswith("  "):
            name, value = line.split(maxsplit=1)
            result[section][name] = np.array(ast.literal_eval(value))
        elif line.startswith(labels["output"]):
            result["output"] = np.array(ast.literal_eval(line.removeprefix(labels["output"])))
        elif line.startswith(labels["loss"]):
            result["loss"] = float(line.removeprefix(labels["loss"]))
        elif line == grads_label:
            section = "gradients"
        elif line == labels["state_dict"]:
            section = "state_dict"
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return result


def run_as_a_program(tmp_path, sc: config.Scenario, lang: str) -> dict:
    needs_torch()
    path = tmp_path / export.file_name(sc)
    path.write_text(export.torch_script(sc, lang), encoding="utf-8")
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env={"PYTHONIOENCODING": "utf-8", "PATH": ""})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return parse_printout(r.stdout, lang, sc.update_order)


# ---------------------------------------------------------------- with PyTorch: the script's numbers are the engine's


def test_the_seed_script_run_with_python_prints_the_seed_reference_numbers(tmp_path):
    """``python bpviz_seed.py``: what it prints equals the engine, and the seed's published float64 values."""
    sc = config.preset("seed")
    printed = run_as_a_program(tmp_path, sc, "en")
    assert_agrees(printed, engine_results(sc), "seed")
    np.testing.assert_allclose(printed["output"][0], SEED_OUT[1], rtol=0, atol=SEED_TOL)
    assert printed["loss"] == pytest.approx(SEED_LOSS, abs=SEED_TOL)
    for l in (0, 1):
        g, p = printed["gradients"], printed["state_dict"]
        np.testing.assert_allclose(g[f"linear{l + 1}.weight"], SEED_DW[l], rtol=0, atol=SEED_TOL)
        np.testing.assert_allclose(g[f"linear{l + 1}.bias"], SEED_DB[l], rtol=0, atol=SEED_TOL)
        np.testing.assert_allclose(p[f"linear{l + 1}.weight"], SEED_W_AFTER[l], rtol=0, atol=SEED_TOL)
        np.testing.assert_allclose(p[f"linear{l + 1}.bias"], SEED_B_AFTER[l], rtol=0, atol=SEED_TOL)


def test_mazur_in_chinese_run_with_python_equals_the_engine_and_his_published_loss(tmp_path):
    """output_first with fixed biases, comments and labels in Chinese: the loss after the printed step is Mazur's
    published 0.291027924 (the engine's 0.29102792390544197), the biases unchanged."""
    sc = config.preset("mazur")
    printed = run_as_a_program(tmp_path, sc, "zh")
    assert_agrees(printed, engine_results(sc), "mazur zh")
    after = [printed["state_dict"][f"linear{l}.{kind}"] for kind in ("weight", "bias") for l in (1, 2)]
    assert engine.loss_value(sc, after[:2], after[2:]) == pytest.approx(0.29102792390544197, rel=1e-13)
    for l in (0, 1):
        np.testing.assert_array_equal(printed["state_dict"][f"linear{l + 1}.bias"], sc.biases[l])


@pytest.mark.parametrize("name", config.preset_names())
def test_every_preset_script_equals_the_engine(name):
    assert_script_agrees(config.preset(name))


@pytest.mark.parametrize(("order", "train_biases"), CONVENTIONS)
def test_the_seed_under_every_convention_equals_the_engine(order, train_biases):
    assert_script_agrees(with_conventions(config.preset("seed"), order, train_biases))


@pytest.mark.parametrize(("hidden", "out", "loss"), PAIRS)
def test_random_networks_of_every_pairing_equal_the_engine(hidden, out, loss):
    for sc in random_cases(hidden, out, loss):
        assert_script_agrees(sc)


@pytest.mark.parametrize("doc", [BCE_50, CE_800], ids=["bce_50", "cross_entropy_800"])
def test_saturated_outputs_use_the_logits_losses_as_the_engine_does(doc):
    """A sigmoid at 1 - 2e-22 and a softmax at logits [0, 800]: the script's loss is E = 50 and 800, as the engine's
    (BCELoss or log of the outputs would say 100 and inf)."""
    sc = config.validate(doc)
    ran = run_in_namespace(export.torch_script(sc))
    assert ran["loss"] == pytest.approx(engine.forward(sc).loss, rel=REL)
    assert_agrees(ran, engine_results(sc))


def test_the_chinese_script_has_chinese_comments_and_runs_the_same():
    sc = random_scenario(np.random.default_rng(5), "leaky_relu", "softmax", "cross_entropy", n_hidden_layers=2,
                         n_samples=3)
    for order, biases in CONVENTIONS:
        case = with_conventions(sc, order, biases)
        script = export.torch_script(case, "zh")
        comments = [line for line in script.splitlines() if line.lstrip().startswith("#")]
        assert comments and all(CJK.search(c) for c in comments if len(c) > 40), comments
        assert_agrees(run_in_namespace(script), engine_results(case), f"zh {order} {biases}")


# ---------------------------------------------------------------- without PyTorch: what the script says


def tensor_literals(script: str) -> dict[str, object]:
    """Every ``target = torch.tensor(<literal>)`` assignment of the script, target (as written) → the literal."""
    found = {}
    for node in ast.walk(ast.parse(script)):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) == "torch.tensor"):
            found[ast.unparse(node.targets[0])] = ast.literal_eval(node.value.args[0])
    return found


def structural_cases():
    rng = np.random.default_rng(20260101)
    cases = [config.preset(name) for name in config.preset_names()]
    for hidden, out, loss in PAIRS[::4]:
        cases += list(random_cases(hidden, out, loss))
    return cases + [config.validate(BCE_50), config.validate(CE_800),
                    random_scenario(rng, "tanh", "identity", "mse", n_hidden_layers=6, n_samples=5)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_script_compiles_and_holds_every_number_in_its_place(lang):
    """Each weight matrix, bias vector, the inputs, targets and η are in the script exactly (repr), assigned to the
    nn.Linear layer they belong to; the layers have the scenario's shapes."""
    for sc in structural_cases():
        script = export.torch_script(sc, lang)
        compile(script, "bpviz_export.py", "exec")
        literals = tensor_literals(script)
        for l in range(sc.n_layers):
            assert literals[f"self.linear{l + 1}.weight.data"] == sc.weights[l].tolist()
            assert literals[f"self.linear{l + 1}.bias.data"] == sc.biases[l].tolist()
            assert f"self.linear{l + 1} = nn.Linear({sc.layers[l]}, {sc.layers[l + 1]})" in script
        assert f"self.linear{sc.n_layers + 1}" not in script
        assert literals["inputs"] == sc.inputs.tolist() and literals["target"] == sc.targets.tolist()
        assert f"lr={sc.learning_rate!r})" in script
        n_values = sum(w.size + b.size for w, b in zip(sc.weights, sc.biases)) + sc.inputs.size + sc.targets.size
        assert sum(np.size(v) for v in literals.values()) == n_values  # nothing else is copied in


def test_each_row_of_a_weight_matrix_names_its_weights_and_neuron():
    script = export.torch_script(config.preset("seed"))
    for row in ("[0.15, 0.2],  # w1 w2 → h1", "[0.25, 0.3],  # w3 w4 → h2",
                "[0.4, 0.45],  # w5 w6 → o1", "[0.5, 0.55],  # w7 w8 → o2"):
        assert row in script, row
    assert "torch.tensor([0.35, 0.35])  # b_h1 b_h2" in script


def _loss_block(script: str) -> tuple[str, str]:
    """(the comment above ``loss = ...``, that line's code)."""
    lines = script.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("loss = "))
    start = at
    while lines[start - 1].strip().startswith("#"):
        start -= 1
    return " ".join(line.strip().removeprefix("# ") for line in lines[start:at]), lines[at].strip()


LOSS_MAPPINGS = [  # (scenario, the code, words of its comment)
    ("seed", "loss = 0.5 * ((output - target) ** 2).sum()", ["half_sse", "½ Σₖ (oₖ − tₖ)²"]),
    ("xor_2_2_1", "loss = 0.5 * ((output - target) ** 2).sum(dim=1).mean()", ["half_sse", "mean over them"]),
    ("mse", "loss = nn.MSELoss()(output, target)", ["mse", "nn.MSELoss()", "mean over the samples"]),
    ("xor_2_4_1", "loss = nn.BCEWithLogitsLoss()(net.net2, target)",
     ["bce after sigmoid", "nn.BCEWithLogitsLoss()", "output layer's net", "clamp", "mean over the samples"]),
    ("softmax_3class", "loss = nn.CrossEntropyLoss()(net.net2, target)",
     ["cross_entropy after softmax", "nn.CrossEntropyLoss()", "logits", "probabilities", "mean over the samples"]),
]


@pytest.mark.parametrize(("name", "code", "words"), LOSS_MAPPINGS, ids=[m[0] for m in LOSS_MAPPINGS])
def test_each_loss_is_mapped_with_a_comment_saying_how(name, code, words):
    sc = (random_scenario(np.random.default_rng(1), "tanh", "identity", "mse", n_samples=2) if name == "mse"
          else config.preset(name))
    comment, line = _loss_block(export.torch_script(sc))
    assert line == code
    for word in words:
        assert word in comment, (word, comment)
    zh_comment, zh_line = _loss_block(export.torch_script(sc, "zh"))
    assert zh_line == code and CJK.search(zh_comment), zh_comment


def test_activations_are_mapped_as_the_engine_computes_them():
    sc = config.validate({**config.SEED_DOCUMENT, "layers": [2, 2, 2, 2, 2],
                          "activations": ["leaky_relu", "identity", "relu", "softmax"],
                          "weights": [[[0.1, 0.2], [0.3, 0.4]]] * 4, "biases": [[0.0, 0.0]] * 4})
    script = export.torch_script(sc)
    assert "self.out1 = F.leaky_relu(self.net1, negative_slope=0.01)" in script
    assert "self.out2 = self.net2  # identity: out = net" in script
    assert "self.out3 = torch.relu(self.net3)" in script
    assert "self.out4 = torch.softmax(self.net4, dim=1)" in script
    assert "torch.set_default_dtype(torch.float64)" in script


def code_only(script: str) -> str:
    """The script without its comments (whole-line and trailing)."""
    return "\n".join(line.split("  # ")[0] for line in script.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("layers", [(2, 2, 2), (3, 4, 2, 3, 1)])
def test_output_first_is_updated_explicitly_layer_by_layer_and_says_so(layers):
    """One stage per layer from the output down: each takes δ, sets the layer's gradients and steps; every lower δ
    goes through the updated weights above it. No loss.backward() (it would give the simultaneous gradients)."""
    rng = np.random.default_rng(3)
    sc = random_scenario(rng, "sigmoid", "sigmoid", "half_sse", n_hidden_layers=len(layers) - 2)
    doc = {**sc.to_dict(), "layers": list(layers), "activations": ["sigmoid"] * (len(layers) - 1),
           "weights": [rng.uniform(-1, 1, (layers[l + 1], layers[l])).tolist() for l in range(len(layers) - 1)],
           "biases": [rng.uniform(-1, 1, layers[l + 1]).tolist() for l in range(len(layers) - 1)],
           "inputs": rng.uniform(-1, 1, layers[0]).tolist(), "targets": rng.uniform(-1, 1, layers[-1]).tolist(),
           "update_order": "output_first"}
    sc = config.validate(doc)
    script = export.torch_script(sc)
    L = sc.n_layers
    assert "not a PyTorch convention" in script
    code = code_only(script)
    assert "loss.backward()" not in code and code.count("optimizer.step()") == L
    stages = [i for i, line in enumerate(script.splitlines()) if re.search(r"# Stage \d of \d", line)]
    assert len(stages) == L
    assert f"delta{L}, = torch.autograd.grad(loss, net.net{L})" in code
    for l in range(L - 1, 0, -1):
        assert (f"delta{l}, = torch.autograd.grad(net.out{l}, net.net{l}, delta{l + 1} @ "
                f"net.linear{l + 1}.weight.detach())") in code
        # its δ is taken after the layer above stepped
        assert code.index(f"delta{l}, =") > code.index(f'gradients["linear{l + 1}.bias"]')
    simultaneous = export.torch_script(with_conventions(sc, "simultaneous", True))
    assert code_only(simultaneous).count("loss.backward()") == code_only(simultaneous).count("optimizer.step()") == 1
    assert "autograd.grad" not in simultaneous and "not a PyTorch convention" not in simultaneous


def test_fixed_biases_are_left_out_of_the_optimizer_and_the_script_says_so():
    sc = config.preset("mazur")
    script = export.torch_script(sc)
    assert "optimizer = optim.SGD([net.linear1.weight, net.linear2.weight], lr=0.5)" in script
    assert "train_biases is false" in script
    assert "optimizer = optim.SGD(net.parameters(), lr=0.5)" in export.torch_script(config.preset("seed"))


def test_the_file_name_names_the_preset_or_the_layers():
    assert export.file_name(config.preset("seed")) == "bpviz_seed.py"
    assert export.file_name(config.preset("seed").replace(learning_rate=0.1)) == "bpviz_2_2_2.py"
    assert export.file_name(config.preset("softmax_3class")) == "bpviz_softmax_3class.py"
