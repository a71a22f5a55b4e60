"""Shared test helpers."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bpviz.config import SEED_DOCUMENT

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"  # the scenarios that once failed: test_fuzz.py runs every one


@pytest.fixture
def seed_doc() -> dict:
    """A fresh copy of the seed document (tests may mutate it)."""
    return copy.deepcopy(SEED_DOCUMENT)


# ---------------------------------------------------------------- CI: a skipped browser test is a failure

_skipped_e2e: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and "tests/e2e/" in report.nodeid.replace("\\", "/"):
        _skipped_e2e.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("BPVIZ_REQUIRE_E2E") == "1" and _skipped_e2e and session.exitstatus == 0:
        print(f"\nBPVIZ_REQUIRE_E2E=1 but {len(_skipped_e2e)} browser test(s) were skipped, e.g. {_skipped_e2e[0]}")
        session.exitstatus = 1
