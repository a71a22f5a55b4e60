"""The reference card: every published figure is reproduced under its own convention."""

import pytest

from bpviz.conventions import reference_checks


def test_every_reference_agrees():
    checks = reference_checks()
    assert len(checks) >= 4
    for c in checks:
        assert c.agrees, (c.what, c.published, c.app)


def test_agreement_is_not_trivial():
    # the same figure under another convention must disagree: 0.291027774 (simultaneous, biases fixed) ≠ Mazur's
    c = reference_checks()[0]
    assert c.app[0] == pytest.approx(0.29102792390544197, rel=1e-13)
    from dataclasses import replace

    wrong = replace(c, app=(0.29102777369359933,))
    assert not wrong.agrees
