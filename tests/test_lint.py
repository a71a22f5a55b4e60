"""The code stays ruff clean and keeps its layers (configuration in pyproject.toml); no eval of user text."""

import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import bpviz

from .conftest import ROOT

CODE = ["bpviz", "views", "app.py", "tests", "benchmarks", "deploy"]


def _tool(name: str) -> str:
    """A command installed in this test environment (pip install -e '.[test]'): missing is a failure, not a skip."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is not installed in this environment: pip install -e '.[test]'"
    return str(path)


def test_ruff_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", *CODE], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_layers_point_one_way():
    """import-linter's contracts in pyproject.toml: the layers, and nothing below bpviz.ui imports Streamlit."""
    r = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout, r.stdout


def test_every_module_is_in_the_contracts():
    """A new module must take its place in the layers (or the Streamlit rule would not cover it)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers, streamlit_rule = config[0]["layers"], config[1]["source_modules"]
    layered = {m.strip() for line in layers for m in line.split("|")}
    modules = {f"bpviz.{m.name}" for m in pkgutil.iter_modules(bpviz.__path__)}
    assert modules == layered
    assert modules - {"bpviz.ui"} == set(streamlit_rule)


def test_no_eval_of_user_text():
    """No eval/exec/sympify/parse_expr anywhere in the product code: user input never becomes code."""
    files = [*(ROOT / "bpviz").rglob("*.py"), *(ROOT / "views").glob("*.py"), ROOT / "app.py"]
    pattern = re.compile(r"\b(eval|exec|sympify|parse_expr)\(")
    hits = [f"{f.name}:{n}" for f in files for n, line in enumerate(f.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert hits == []
