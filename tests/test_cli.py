"""The console script: JSON numbers, the handout, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bpviz.cli import main

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
    for command in ("compute", "explain"):
        r = run([command, str(f)])
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


def test_explain_latex_is_a_document():
    r = run(["explain", "--preset", "seed", "--format", "latex"])
    assert r.returncode == 0, r.stderr
    assert "\\begin{document}" in r.stdout and "\\end{document}" in r.stdout


def test_file_and_preset_are_exclusive(tmp_path, seed_doc):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(seed_doc))
    r = run(["compute", str(f), "--preset", "seed"])
    assert r.returncode == 2 and r.stderr.strip() == "error: FILE: give either a scenario file or --preset, not both"
