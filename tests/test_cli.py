"""The console script: JSON numbers, the handout, the PyTorch script, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from bpviz import export
from bpviz.cli import main
from bpviz.config import SEED_DOCUMENT, preset, validate

from .conftest import ROOT
from .test_engine import SEED_DW, SEED_LOSS, SEED_W_AFTER


def run(args, stdin: str | None = None):
    """Run the CLI in a subprocess, as a user would (so a traceback would be visible on stderr)."""
    return subprocess.run([sys.executable, "-m", "bpviz.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_compute_preset_seed():
    r = run(["compute", "--preset", "seed"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["loss"] == pytest.approx(SEED_LOSS, abs=1e-12)
    assert out["forward"]["outputs"] == pytest.approx([0.7513650695523157, 0.7729284653214625], abs=1e-12)
    assert out["forward"]["z"][0] == pytest.approx([0.3775, 0.3925], abs=1e-12)
    assert out["gradients"]["weights"][1][0][0] == pytest.approx(SEED_DW[1][0][0], abs=1e-10)
    assert out["updated"]["weights"][1][0][0] == pytest.approx(SEED_W_AFTER[1][0][0], abs=1e-10)
    assert out["gradient_check"]["max_relative_error"] < 1e-6


def test_compute_from_file_and_stdin(tmp_path, seed_doc):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(seed_doc))
    a = run(["compute", str(f)])
    b = run(["compute", "-"], stdin=json.dumps(seed_doc))
    assert a.returncode == b.returncode == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)


def test_compute_updated_is_a_valid_scenario(capsys):
    assert main(["compute", "--preset", "seed"]) == 0
    updated = json.loads(capsys.readouterr().out)["updated"]
    from bpviz.config import validate

    assert validate(updated).weights[1][0][0] == pytest.approx(0.3589164797, abs=1e-10)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "error: {path}: no such file"),
        ("badjson", "error: (document): invalid JSON"),
        ("nan", "error: (document): NaN is not allowed"),
        ("badweight", 'error: weights[1][0][1]: expected a finite number, got "abc"'),
        ("deep", "error: (document): nested too deeply"),
        ("huge", "error: (document): too large"),
        ("dir", "error: {path}: is a directory"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, seed_doc, setup, message):
    f = tmp_path / "s.json"
    if setup == "badjson":
        f.write_text("{")
    elif setup == "nan":
        f.write_text('{"layers": [2, 2], "weights": NaN}')
    elif setup == "badweight":
        seed_doc["weights"][1][0][1] = "abc"
        f.write_text(json.dumps(seed_doc))
    elif setup == "deep":
        f.write_text("[" * 200_000 + "]" * 200_000)
    elif setup == "huge":
        f.write_text("[" + "0," * 2_000_000 + "0]")
    elif setup == "dir":
        f = tmp_path
    for command in (["compute"], ["explain"], ["export", "torch"]):
        r = run([*command, str(f)])
        assert r.returncode == 2, r.stderr
        assert r.stdout == ""
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr
        assert lines[0].startswith(message.format(path=f)), lines[0]


def test_no_file_and_no_preset():
    r = run(["compute"])
    assert r.returncode == 2 and r.stderr.startswith("error: FILE:")


def test_explain_markdown_preset_seed():
    r = run(["explain", "--preset", "seed", "--format", "markdown"])
    assert r.returncode == 0, r.stderr
    for number in ("0.3775", "0.5933", "0.7514", "0.2984", "0.0822", "0.3589"):
        assert number in r.stdout, number


# the seed's key numbers: net and out of h1, h2, o1, o2, E total, ∂E/∂w5, ∂E/∂w1, w5 after the update
SEED_KEY_NUMBERS = ("0.3775", "0.5933", "0.3925", "0.5969", "1.1059", "0.7514", "1.2249", "0.7729", "0.2984",
                    "0.0822", "0.0004", "0.3589")


def test_explain_in_chinese_has_the_key_numbers_and_chinese_headings():
    r = run(["explain", "--preset", "seed", "--lang", "zh"])
    assert r.returncode == 0, r.stderr
    for number in SEED_KEY_NUMBERS:
        assert number in r.stdout, number
    headings = [line[3:] for line in r.stdout.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["正向传播", "损失"] and "反向传播" in headings[2] and "更新" in headings[3], headings
    assert "# 反向传播" in r.stdout.splitlines()[0]


def test_a_validation_error_in_chinese_names_the_field_as_in_the_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SEED_DOCUMENT, "layers": [2, 0, 2]}))
    r = run(["explain", str(bad), "--lang", "zh"])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "layers[1]" in r.stderr and re.search(r"[\u4e00-\u9fff]", r.stderr), r.stderr


def test_explain_latex_is_a_document():
    r = run(["explain", "--preset", "seed", "--format", "latex"])
    assert r.returncode == 0, r.stderr
    assert "\\begin{document}" in r.stdout and "\\end{document}" in r.stdout


def test_file_and_preset_are_exclusive(tmp_path, seed_doc):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(seed_doc))
    r = run(["compute", str(f), "--preset", "seed"])
    assert r.returncode == 2 and r.stderr.strip() == "error: FILE: give either a scenario file or --preset, not both"


def test_export_torch_prints_the_script_of_a_preset_a_file_and_stdin(tmp_path, seed_doc):
    """``bpviz export torch``: the scenario's PyTorch script on stdout, whatever names the scenario."""
    r = run(["export", "torch", "--preset", "mazur"])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout == export.torch_script(preset("mazur"))
    seed_doc["learning_rate"] = 0.25
    f = tmp_path / "s.json"
    f.write_text(json.dumps(seed_doc))
    from_file, from_stdin = run(["export", "torch", str(f)]), run(["export", "torch", "-"], stdin=json.dumps(seed_doc))
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_file.stdout == from_stdin.stdout == export.torch_script(validate(seed_doc))
    assert "optim.SGD(net.parameters(), lr=0.25)" in from_file.stdout


@pytest.mark.parametrize("args", [["--lang", "zh", "export", "torch", "--preset", "seed"],
                                  ["export", "torch", "--preset", "seed", "--lang", "zh"]])
def test_export_in_chinese_has_chinese_comments(args):
    r = run(args)
    assert r.returncode == 0, r.stderr
    assert r.stdout == export.torch_script(preset("seed"), "zh")
    comments = [line for line in r.stdout.splitlines() if line.lstrip().startswith("# ")]
    assert comments and all(CJK.search(line) for line in comments), comments


@pytest.mark.parametrize(("args", "start"), [
    (["export", "--preset", "seed"], "error: the following arguments are required: target"),
    (["export", "pdf", "--preset", "seed"], "error: argument target: invalid choice: 'pdf'"),
    (["export", "torch"], "error: FILE: give a scenario file, '-' for stdin, or --preset NAME"),
    (["export", "torch", "--preset", "nope"], "error: argument --preset: invalid choice: 'nope'"),
])
def test_an_export_mistake_is_one_error_line(args, start):
    assert one_error_line(run(args)).startswith(start)


# ---------------------------------------------------------------- hardening: one line, strict JSON


def _refuse_constant(name: str):
    raise ValueError(f"not JSON (RFC 8259): {name}")


def strict_json(text: str):
    return json.loads(text, parse_constant=_refuse_constant)


def one_error_line(r) -> str:
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout[:200])
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr[:500]
    assert "Traceback" not in r.stderr and "usage:" not in r.stderr
    return lines[0]


@pytest.mark.parametrize("args", [["compute", "--bogus"], [], ["explain", "--format", "pdf", "--preset", "seed"],
                                  ["compute", "--preset", "nope"], ["frobnicate"]])
def test_a_command_line_mistake_is_one_error_line(args):
    line = one_error_line(run(args))
    assert "(bpviz --help)" in line


@pytest.mark.parametrize("key", ["la\nyers", "a\rb", "x\x1ey", "k" * 100_000, "\u2028", "é\x00"])
def test_an_unknown_key_is_echoed_on_one_line_escaped_and_clipped(seed_doc, key):
    line = one_error_line(run(["compute", "-"], stdin=json.dumps({**seed_doc, key: 1})))
    echoed = line.removeprefix("error: ").removesuffix(": unknown key")
    assert len(echoed) <= 80 and echoed.isprintable(), repr(echoed)


def test_a_huge_integer_is_not_echoed_whole(seed_doc):
    doc = json.dumps(seed_doc).replace('"layers": [2, 2, 2]', '"layers": [2, ' + "9" * 4000 + ", 2]")
    line = one_error_line(run(["compute", "-"], stdin=doc))
    assert line == "error: layers[1]: expected 1 to 8 neurons, got a whole number of 4,000 digits", line


def test_a_duplicate_key_is_refused_naming_it(seed_doc):
    text = json.dumps(seed_doc).replace('{"layers": [2, 2, 2]', '{"layers": "garbage", "layers": [2, 2, 2]', 1)
    assert text.count('"layers"') == 2
    assert one_error_line(run(["compute", "-"], stdin=text)) == "error: layers: given twice (each key at most once)"


def test_a_byte_order_mark_is_accepted(tmp_path, seed_doc):
    f = tmp_path / "bom.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(seed_doc).encode())
    r = run(["compute", str(f)])
    assert r.returncode == 0, r.stderr
    assert strict_json(r.stdout)["loss"] == pytest.approx(SEED_LOSS, abs=1e-12)


# found by the fuzz tests: with output_first and these numbers the updated weights reach 1.8e252, E after is nan
STEP_BEYOND_FLOAT64 = {
    "layers": [1, 5, 1, 8, 4], "activations": ["identity", "leaky_relu", "relu", "relu"], "loss": "half_sse",
    "update_order": "output_first", "train_biases": False, "learning_rate": 0.5}


def test_a_step_beyond_float64_is_null_with_a_warning_and_exit_3():
    doc = json.loads((ROOT / "tests" / "corpus" / "step_beyond_float64.json").read_text())
    assert {k: doc[k] for k in STEP_BEYOND_FLOAT64} == STEP_BEYOND_FLOAT64
    r = run(["compute", "-"], stdin=json.dumps(doc))
    assert r.returncode == 3 and r.stderr == "", (r.returncode, r.stderr[:300])  # no NumPy warning either
    out = strict_json(r.stdout)
    assert out["updated"] is None
    assert len(out["warnings"]) == 1 and out["warnings"][0].startswith("updated: After this step")
    assert "beyond float64" in out["warnings"][0]


def test_the_readme_shows_a_chinese_error_as_the_cli_prints_it(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SEED_DOCUMENT, "layers": [2, 0, 2]}))
    line = run(["compute", str(bad), "--lang", "zh"]).stderr.strip()
    assert f"`{line}`" in (ROOT / "README.md").read_text(encoding="utf-8"), line


# ---------------------------------------------------------------- --lang anywhere, argparse's own words translated

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("args", [["--lang", "zh", "compute", "--preset", "seed"],
                                  ["compute", "--preset", "seed", "--lang", "zh"],
                                  ["--lang=zh", "compute", "--preset", "seed"]])
def test_lang_goes_before_or_after_the_command(args):
    r = run(args)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["loss"] == pytest.approx(SEED_LOSS, abs=1e-12)


def test_lang_before_the_command_is_the_language_of_the_result(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SEED_DOCUMENT, "layers": [2, 0, 2]}))
    before, after = run(["--lang", "zh", "compute", str(bad)]), run(["compute", str(bad), "--lang", "zh"])
    assert before.returncode == after.returncode == 2 and before.stderr == after.stderr and CJK.search(before.stderr)
    assert run(["--lang", "zh", "compute", str(bad), "--lang", "en"]).stderr.startswith("error: layers[1]: expected")


@pytest.mark.parametrize("args", [["--lang", "zh", "explain", "--help"], ["explain", "--help", "--lang", "zh"]])
def test_help_in_chinese_has_argparse_own_words_in_chinese(args):
    r = run(args)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    for english in ("usage:", "positional arguments", "options:", "show this help message and exit"):
        assert english not in r.stdout, english
    assert r.stdout.startswith("用法：bpviz explain")
    for heading in ("位置参数", "选项", "显示此帮助信息并退出"):
        assert heading in r.stdout, (heading, r.stdout)
    assert "--format" in r.stdout and "--decimals" in r.stdout and "讲义" in r.stdout


def test_help_in_english_is_argparse_own_and_every_option_has_a_help_text():
    r = run(["explain", "--help"])
    assert r.returncode == 0 and r.stdout.startswith("usage: bpviz explain")
    assert "positional arguments:" in r.stdout and "show this help message and exit" in r.stdout
    assert "decimal places" in r.stdout and "markdown, or latex" in r.stdout
    assert "--lang" in run(["--help"]).stdout  # also before the command


@pytest.mark.parametrize(("args", "english"), [
    (["--lang", "zh", "compute", "--bogus"], "unrecognized arguments"),
    (["compute", "--bogus", "--lang", "zh"], "unrecognized arguments"),
    (["--lang", "zh", "frobnicate"], "invalid choice"),
    (["--lang", "zh"], "the following arguments are required"),
    (["--lang", "zh", "explain", "--decimals", "x"], "invalid int value"),
    (["--lang", "zh", "explain", "--preset"], "expected one argument"),
])
def test_a_command_line_mistake_in_chinese_is_one_chinese_line(args, english):
    line = one_error_line(run(args))
    assert CJK.search(line) and english not in line and "argument" not in line, line
    assert "(bpviz --help)" in line


def test_argparse_is_english_again_after_a_chinese_command_line(capsys):
    import argparse

    saved = argparse._, argparse.ngettext
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "compute", "--bogus"])
    assert "无法识别的参数" in capsys.readouterr().err
    assert (argparse._, argparse.ngettext) == saved
    with pytest.raises(SystemExit):
        main(["compute", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
