"""mc.metrics' accuracies against keras.metrics: alone (update_state / result) and inside compile / fit,
where several metrics under their own names ("acc") fill History as Keras' do."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from keras_helpers import assert_close, keras, numpy
from test_keras_training import LABELS, ONE_HOT, X, assert_same_history, assert_same_model, twin_models

import minicnn as mc

BINARY = (LABELS > 0).astype(np.float32)[:, None]


@settings(max_examples=30, deadline=None)
@given(data=st.data(), threshold=st.sampled_from([0.0, 0.5, 0.25]))
def test_binary_accuracy(data, threshold):
    n, units = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 3))
    y_pred = data.draw(hnp.arrays(np.float32, (n, units), elements=st.floats(-2, 2, width=32)))
    y_true = data.draw(hnp.arrays(np.float32, (n, units), elements=st.sampled_from([0.0, 1.0])))
    mine, theirs = mc.metrics.BinaryAccuracy(threshold=threshold), keras.metrics.BinaryAccuracy(threshold=threshold)
    for part in (slice(0, n // 2), slice(n // 2, n)):      # two batches: a running mean over images
        if len(y_pred[part]):
            mine.update_state(y_true[part], y_pred[part])
            theirs.update_state(y_true[part], y_pred[part])
    assert_close(np.float32(mine.result()), numpy(theirs.result()), 1e-6, 1e-6, "binary_accuracy")
    mine.reset_state()
    assert mine.result() == 0.0


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_categorical_and_sparse_categorical_accuracy(data):
    n, classes = data.draw(st.integers(1, 6)), data.draw(st.integers(2, 4))
    y_pred = data.draw(hnp.arrays(np.float32, (n, classes), elements=st.floats(-2, 2, width=32), unique=True))
    labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    for mine, theirs, y_true in ((mc.metrics.CategoricalAccuracy(), keras.metrics.CategoricalAccuracy(),
                                  np.eye(classes, dtype=np.float32)[labels]),
                                 (mc.metrics.SparseCategoricalAccuracy(), keras.metrics.SparseCategoricalAccuracy(),
                                  labels)):
        mine.update_state(y_true, y_pred)
        theirs.update_state(y_true, y_pred)
        assert mine.name == theirs.name
        assert_close(np.float32(mine.result()), numpy(theirs.result()), 1e-6, 1e-6, mine.name)


CASES = {
    "acc": (["acc"], ["acc"]),
    "binary_named": (lambda: [mc.metrics.BinaryAccuracy(name="acc")],
                     lambda: [keras.metrics.BinaryAccuracy(name="acc")]),
    "binary_two": (lambda: ["binary_accuracy", mc.metrics.BinaryAccuracy(name="strict", threshold=0.8)],
                   lambda: ["binary_accuracy", keras.metrics.BinaryAccuracy(name="strict", threshold=0.8)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_named_metrics_fill_history_as_keras(case):
    mine_metrics, their_metrics = (m() if callable(m) else m for m in CASES[case])
    mine, theirs = twin_models(1, "sigmoid")
    mine.compile(mc.optimizers.SGD(lr=0.1), mc.losses.BinaryCrossentropy(), metrics=mine_metrics)
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1), keras.losses.BinaryCrossentropy(), metrics=their_metrics)
    args = dict(epochs=2, batch_size=4, shuffle=False, validation_split=0.25, verbose=0)
    assert_same_history(mine.fit(X, BINARY, **args), theirs.fit(X, BINARY, **args))
    assert_same_model(mine, theirs)
    mine_logs, their_logs = mine.evaluate(X, BINARY, return_dict=True), theirs.evaluate(X, BINARY, return_dict=True,
                                                                                          verbose=0)
    assert sorted(mine_logs) == sorted(their_logs)
    for key in their_logs:
        assert_close(np.float32(mine_logs[key]), np.float32(their_logs[key]), 1e-4, 1e-5, key)


def test_categorical_accuracy_by_name_in_fit():
    mine, theirs = twin_models(ONE_HOT.shape[1])
    mine.compile(mc.optimizers.SGD(lr=0.1), mc.losses.CategoricalCrossentropy(from_logits=True),
                 metrics=["categorical_accuracy"])
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1), keras.losses.CategoricalCrossentropy(from_logits=True),
                   metrics=["categorical_accuracy"])
    args = dict(epochs=2, batch_size=5, shuffle=False, verbose=0)
    assert_same_history(mine.fit(X, ONE_HOT, **args), theirs.fit(X, ONE_HOT, **args))


def test_named_metrics_survive_save_and_load(tmp_path):
    mine, _ = twin_models(1, "sigmoid")
    mine.compile("sgd", mc.losses.BinaryCrossentropy(), metrics=["acc", mc.metrics.BinaryAccuracy("b", threshold=0.7)])
    mine.save(tmp_path / "m.npz")
    loaded = mc.load_model(tmp_path / "m.npz")
    assert loaded.metrics == ["acc", "b"] and loaded.compiled_metrics[1].threshold == 0.7
    assert loaded.evaluate(X, BINARY, return_dict=True) == mine.evaluate(X, BINARY, return_dict=True)
