"""Fuzzing in the suite: extreme valid scenarios through every layer, malformed documents through the validator and
the CLI, and a corpus of the cases that once failed.

The rule checked everywhere: no exception, no NumPy warning, and every number shown is finite or is "overflow" /
"undefined" with the explanation next to it (never "inf" or "nan"). Bounded: the valid scenarios are drawn on a
fixed list of architectures covering every activation × loss pairing (SymPy builds each once), so the file runs in
well under a minute on 2 cores.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import sys
import warnings

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from bpviz import compgraph, engine, explain, gradcheck, matrix
from bpviz.cli import main
from bpviz.config import SEED_DOCUMENT, ScenarioError, parse_json, validate
from bpviz.figures.compgraph import compgraph_figure
from bpviz.figures.network import network_figure
from bpviz.ids import Neuron
from bpviz.naming import names_for
from bpviz.numbers import OVERFLOW, UNDEFINED
from bpviz.walkthrough import build_walkthrough, update_problem

from .conftest import CORPUS
from .strategies import extreme_documents, fixed_architectures

RAW_NON_FINITE = re.compile(r"(?<![A-Za-z])(inf|nan|Infinity|NaN)(?![A-Za-z])")
EXPLAINED = "float64"  # every explanation of an overflow names what cannot hold the number
VALID_EXAMPLES = 1000
MALFORMED_EXAMPLES = 1000


def figure_strings(fig) -> list[str]:
    """Every string of a Plotly figure (its raw trace and layout dicts: ``to_plotly_json`` deep-copies them, which
    was a third of this file's time)."""
    return strings([fig._data, fig._layout])


def strings(value) -> list[str]:
    """Every string inside a JSON-like value (a figure's texts, hovers, annotations)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    return []


def assert_shown(texts: list[str], where: str, explanation: str | None = None) -> None:
    """No raw inf/nan; "overflow"/"undefined" only with an explanation naming float64: ``explanation`` (shown next
    to these texts), or, without one, inside the same text (a hover box)."""
    raw = [x for x in texts if RAW_NON_FINITE.search(x)]
    assert not raw, (where, raw[0][:200])
    words = [x for x in texts if OVERFLOW in x or UNDEFINED in x]
    if explanation is not None:
        assert not words or EXPLAINED in explanation, (where, explanation)
    else:
        assert all(EXPLAINED in x for x in words), (where, [x for x in words if EXPLAINED not in x][0][:300])


def tally(what: str) -> None:
    """Count ``what`` in hypothesis' statistics (``pytest --hypothesis-show-statistics``); nothing outside it."""
    if currently_in_test_context():
        event(what)


def check_scenario(s) -> None:
    """The whole pipeline on one scenario, under the rule above."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = engine.forward(s)
        grads = engine.backward(s, trace)
        numbers_ = [trace.loss, *(x for z in trace.z for x in z.ravel()), *(x for w in grads.dE_dW for x in w.ravel())]
        assert all(math.isfinite(x) for x in numbers_), "a valid scenario's forward and backward pass are finite"
        wt = build_walkthrough(s, trace, grads, decimals=4)
        update = wt.update
        problem = update_problem(update, names_for(s.layers))
        if update.overflow() is not None or not math.isfinite(engine.loss_value(update.after)):
            assert problem is not None and EXPLAINED in problem
            tally("explained: the update overflows")
        check = gradcheck.gradient_check(s, grads=grads)
        assert check.explained, [r for r in check.reasons if r == gradcheck.DIFFERS]
        for reason in sorted(set(check.reasons) - {gradcheck.AGREE}):
            tally(f"explained: gradient check {reason}")
        for step in wt:
            texts = [step.latex_symbolic, step.latex_numeric, step.latex_intermediate or "", *step.notes]
            assert_shown(texts, f"walkthrough {step.id.format()}", " ".join(step.notes))
        last = wt[len(wt) - 1]
        for mode in ("values", "gradients"):
            assert_shown(figure_strings(network_figure(s, trace, grads, last, mode=mode)), "network figure")
        focus = None if compgraph.full_graph_allowed(s) else Neuron(1, 0)
        graph = compgraph.build_graph(s, focus=focus)
        finite = all(math.isfinite(n.value) and math.isfinite(n.grad) for n in graph.nodes)
        assert finite or graph.overflow() is not None
        if not finite:
            tally("explained: the computational graph overflows")
        assert_shown(figure_strings(compgraph_figure(graph, upto_step=None)), "compgraph figure",
                     None if finite else EXPLAINED)  # the page puts graph.overflow() in words above the figure
        for m in matrix.matrix_steps(s, trace, grads):
            assert_shown([m.latex_general, m.latex_numeric, *m.derivation, *m.notes], f"matrix {m.key}")
        assert_shown([explain.render(s, fmt="markdown")], "handout", problem)


@settings(max_examples=VALID_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(extreme_documents(architectures=fixed_architectures()))
def test_extreme_valid_scenarios_through_every_layer(doc):
    check_scenario(validate(doc))


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json")), ids=lambda p: p.stem)
def test_the_corpus_of_cases_that_once_failed(path):
    check_scenario(validate(json.loads(path.read_text())))


# ---------------------------------------------------------------- malformed documents


def _mutations():
    """A seed document broken in one place: a value replaced, a key removed or added, the text cut or garbled."""
    junk = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False),
                     st.text(max_size=30), st.lists(st.integers(-3, 3), max_size=4),
                     st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
    keys = sorted(SEED_DOCUMENT)
    replace = st.tuples(st.just("replace"), st.sampled_from(keys), junk)
    drop = st.tuples(st.just("drop"), st.sampled_from(keys), st.none())
    add = st.tuples(st.just("add"), st.text(min_size=1, max_size=30).filter(lambda k: k not in SEED_DOCUMENT), junk)
    cut = st.tuples(st.just("cut"), st.integers(0, 400), st.none())
    garble = st.tuples(st.just("garble"), st.integers(0, 400), st.text(min_size=1, max_size=3))
    return st.one_of(replace, drop, add, cut, garble)


def malformed(kind: str, where, value) -> str:
    doc = json.loads(json.dumps(SEED_DOCUMENT))
    if kind == "replace":
        doc[where] = value
    elif kind == "drop":
        del doc[where]
    elif kind == "add":
        doc[where] = value
    text = json.dumps(doc)
    if kind == "cut":
        text = text[:where]
    elif kind == "garble":
        text = text[:where] + value + text[where + 1:]
    return text


@settings(max_examples=MALFORMED_EXAMPLES, deadline=None, database=None)
@given(_mutations())
def test_malformed_documents_are_one_error_line_with_exit_2(mutation):
    text = malformed(*mutation)
    try:
        validate(parse_json(text))
        valid = True
    except ScenarioError as exc:
        valid = False
        event("rejected by the validator")
        assert "\n" not in str(exc) and str(exc).isprintable(), repr(str(exc))
    old_stdin, stdout, stderr = sys.stdin, io.StringIO(), io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()))  # the CLI reads the document from stdin, as bytes
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(["compute", "-"])
    finally:
        sys.stdin = old_stdin
    out, err = stdout.getvalue(), stderr.getvalue()
    event(f"CLI exit {status}")
    if valid:
        assert status in (0, 3) and err == "", err
        json.loads(out, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    else:
        assert status == 2 and out == "", (status, out[:200])
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) < 400, err[:500]
