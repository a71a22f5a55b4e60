"""The one validator: every kind of bad input gets one clear error naming the field."""

from __future__ import annotations

import contextlib
import copy
import json

import numpy as np
import pytest

from bpviz.config import (
    MAX_DOCUMENT_BYTES,
    SEED_DOCUMENT,
    ScenarioError,
    load_json,
    parse_json,
    preset,
    validate,
)


def test_seed_preset_is_the_seed_document():
    s = preset("seed")
    assert s.layers == (2, 2, 2)
    assert s.activations == ("sigmoid", "sigmoid") and s.loss == "half_sse"
    np.testing.assert_array_equal(s.weights[0], [[0.15, 0.20], [0.25, 0.30]])
    np.testing.assert_array_equal(s.weights[1], [[0.40, 0.45], [0.50, 0.55]])
    np.testing.assert_array_equal(s.biases[1], [0.60, 0.60])
    assert s.inputs.shape == (1, 2) and s.targets.shape == (1, 2) and not s.batched
    assert s.train_biases is True and s.update_order == "simultaneous"
    assert s.to_dict() == SEED_DOCUMENT


def test_round_trip_through_json():
    s = preset("seed")
    again = load_json(s.to_json())
    assert again.to_dict() == s.to_dict()


def test_defaults_for_optional_keys(seed_doc):
    del seed_doc["train_biases"], seed_doc["update_order"]
    s = validate(seed_doc)
    assert s.train_biases is True and s.update_order == "simultaneous"


def test_batched_samples(seed_doc):
    seed_doc["inputs"] = [[0.05, 0.10], [0.5, 0.2], [1, 0]]
    seed_doc["targets"] = [[0.01, 0.99], [0.2, 0.3], [0, 1]]
    s = validate(seed_doc)
    assert s.batched and s.inputs.shape == (3, 2) and s.n_samples == 3
    assert s.to_dict()["inputs"] == [[0.05, 0.10], [0.5, 0.2], [1.0, 0.0]]


def _error(doc) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        validate(doc)
    return info.value


def mutate(path, value):
    doc = copy.deepcopy(SEED_DOCUMENT)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("weights", 1, 0, 1), "abc", 'weights[1][0][1]: expected a finite number, got "abc"'),
        (("weights", 0, 1, 0), True, "weights[0][1][0]: expected a finite number, got true"),
        (("weights", 0, 1, 0), None, "weights[0][1][0]: expected a finite number, got null"),
        (("weights", 1, 0, 0), 1e7, "weights[1][0][0]: |value| must be at most 1e+06"),
        (("weights", 1, 0), [0.4], "weights[1][0]: expected 2 entries, got 1"),
        (("weights", 1), [[0.4, 0.45]], "weights[1]: expected 2 entries, got 1"),
        (("biases", 0, 1), "x", 'biases[0][1]: expected a finite number, got "x"'),
        (("biases",), [[0.35, 0.35]], "biases: expected 2 entries, got 1"),
        (("layers",), [2], "layers: expected 2 to 8 layers"),
        (("layers",), [2, 2, 2, 2, 2, 2, 2, 2, 2], "layers: expected 2 to 8 layers"),
        (("layers", 1), 9, "layers[1]: expected 1 to 8 neurons, got 9"),
        (("layers", 1), 0, "layers[1]: expected 1 to 8 neurons, got 0"),
        (("layers", 1), 2.5, "layers[1]: expected a whole number, got 2.5"),
        (("activations", 0), "swish", 'activations[0]: unknown activation "swish"'),
        (("activations", 0), "softmax", "activations[0]: softmax is only allowed on the output layer"),
        (("activations",), ["sigmoid"], "activations: expected 2 entries, got 1"),
        (("loss",), "hinge", 'loss: unknown loss "hinge"'),
        (("loss",), "cross_entropy", "loss: cross_entropy needs softmax outputs"),
        (("inputs",), [0.05], "inputs: expected 2 entries, got 1"),
        (("inputs",), [0.05, "a"], 'inputs[1]: expected a finite number, got "a"'),
        (("inputs",), [], "inputs: expected at least one sample"),
        (("targets",), [[0.01, 0.99]], "targets: inputs and targets must both be one sample"),
        (("learning_rate",), 0, "learning_rate: must be in (0, 100], got 0"),
        (("learning_rate",), 101, "learning_rate: must be in (0, 100], got 101"),
        (("learning_rate",), "0.5", 'learning_rate: expected a finite number, got "0.5"'),
        (("train_biases",), "yes", 'train_biases: expected true or false, got "yes"'),
        (("update_order",), "random", 'update_order: expected one of simultaneous, output_first, got "random"'),
        (("colour",), "red", "colour: unknown key"),
        (("weights",), KeyError, "weights: missing (required)"),
    ],
)
def test_bad_field_names_the_field(path, value, message):
    err = _error(mutate(path, value))
    assert str(err).startswith(message), str(err)


def test_bce_needs_sigmoid_outputs_and_targets_in_unit_interval(seed_doc):
    seed_doc["loss"] = "bce"
    seed_doc["targets"] = [0.01, 1.5]
    assert str(_error(seed_doc)) == "targets[1]: bce needs targets in [0, 1], got 1.5"
    seed_doc["targets"] = [0.01, 0.99]
    seed_doc["activations"] = ["sigmoid", "tanh"]
    assert str(_error(seed_doc)).startswith("loss: bce needs sigmoid outputs")


def test_cross_entropy_needs_probability_targets(seed_doc):
    seed_doc["activations"] = ["sigmoid", "softmax"]
    seed_doc["loss"] = "cross_entropy"
    seed_doc["targets"] = [0.3, 0.3]
    assert str(_error(seed_doc)) == "targets: cross_entropy needs targets that sum to 1, got 0.6"
    seed_doc["targets"] = [0.3, 0.7]
    assert validate(seed_doc).loss == "cross_entropy"


def test_softmax_needs_two_outputs(seed_doc):
    doc = {**seed_doc, "layers": [2, 1], "activations": ["softmax"], "weights": [[[1, 2]]], "biases": [[0]],
           "targets": [1]}
    assert str(_error(doc)).startswith("activations[0]: softmax needs at least 2 outputs")


def test_too_many_samples(seed_doc):
    seed_doc["inputs"] = [[0.0, 0.0]] * 1001
    seed_doc["targets"] = [[0.0, 0.0]] * 1001
    assert str(_error(seed_doc)).startswith("inputs: at most 1000 samples")


def test_sample_counts_must_match(seed_doc):
    seed_doc["inputs"] = [[0.0, 0.0]] * 3
    seed_doc["targets"] = [[0.0, 0.0]] * 2
    assert str(_error(seed_doc)) == "targets: expected one target per sample (3), got 2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "(document): invalid JSON"),
        ("[1, 2]", "(document): expected a JSON object"),
        ('{"layers": NaN}', "(document): NaN is not allowed"),
        ('{"layers": Infinity}', "(document): Infinity is not allowed"),
        ('{"layers": -Infinity}', "(document): -Infinity is not allowed"),
        ("[" * 100_000 + "]" * 100_000, "(document): nested too deeply"),
        ("[" * 40 + "]" * 40, "(document): nested too deeply"),
        ('{"learning_rate": ' + "9" * 5000 + "}", "(document): invalid JSON"),
        (" " * (MAX_DOCUMENT_BYTES + 1), "(document): too large"),
    ],
)
def test_bad_text(text, message):
    with pytest.raises(ScenarioError) as info:
        load_json(text)
    assert str(info.value).startswith(message), str(info.value)


def test_huge_float_literal_is_not_finite(seed_doc):
    text = json.dumps(seed_doc).replace("0.15", "1e400")
    with pytest.raises(ScenarioError, match=r"weights\[0\]\[0\]\[0\]: expected a finite number"):
        load_json(text)


def test_bytes_not_utf8():
    with pytest.raises(ScenarioError, match="not UTF-8"):
        parse_json(b"\xff\xfe{")


def test_only_scenario_error_for_arbitrary_documents():
    """Fuzz-ish: random JSON values anywhere in the document raise ScenarioError, never anything else."""
    rng = np.random.default_rng(0)
    junk = [None, True, "x", [], {}, [[[]]], -1, 0, 1e300, [1, "a"], {"a": 1}, 3.5, [0.1] * 9]
    keys = list(SEED_DOCUMENT)
    for _ in range(400):
        doc = copy.deepcopy(SEED_DOCUMENT)
        for _ in range(int(rng.integers(1, 3))):
            doc[keys[int(rng.integers(len(keys)))]] = junk[int(rng.integers(len(junk)))]
        with contextlib.suppress(ScenarioError):  # anything else propagates and fails the test
            validate(doc)


def test_replace_revalidates():
    s = preset("seed")
    assert s.replace(learning_rate=0.1).learning_rate == 0.1
    with pytest.raises(ScenarioError, match="learning_rate"):
        s.replace(learning_rate=-1)
