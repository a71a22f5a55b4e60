"""Shared test helpers."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bpviz.config import SEED_DOCUMENT

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def seed_doc() -> dict:
    """A fresh copy of the seed document (tests may mutate it)."""
    return copy.deepcopy(SEED_DOCUMENT)
