"""The code stays ruff clean (configuration in pyproject.toml)."""

import re
import shutil
import subprocess

import pytest

from .conftest import ROOT


def test_ruff_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    r = subprocess.run([ruff, "check", "bpviz", "pages", "app.py", "tests", "benchmarks", "deploy"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_eval_of_user_text():
    """No eval/exec/sympify/parse_expr anywhere in the product code: user input never becomes code."""
    files = [*(ROOT / "bpviz").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    pattern = re.compile(r"\b(eval|exec|sympify|parse_expr)\(")
    hits = [f"{f.name}:{n}" for f in files for n, line in enumerate(f.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert hits == []
