"""Cross-entropy losses: Keras' documented values, float64 formulas, stability, gradients, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import minicnn as mc
from helpers import arrays, on

F = mc.F
# the clip bounds [1e-7, 1 - 1e-7] as float32 holds them
LOW, HIGH = float(np.float32(1e-7)), float(np.float32(1 - 1e-7))


# --- values from Keras' documentation ---

def test_keras_documented_values(device):
    bce_logits = F.binary_cross_entropy(on(device, [-18.6, 0.51, 2.94, -12.8]), on(device, [0, 1, 0, 0]),
                                        from_logits=True)
    assert bce_logits.item() == pytest.approx(0.8654, abs=1e-4)
    bce = F.binary_cross_entropy(on(device, [[0.6, 0.4], [0.4, 0.6]]), on(device, [[0, 1], [0, 0]]))
    assert bce.item() == pytest.approx(0.8149, abs=1e-4)
    probs = on(device, [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    cce = F.categorical_cross_entropy(probs, on(device, [[0, 1, 0], [0, 0, 1]]))
    assert cce.item() == pytest.approx(1.1769, abs=1e-4)
    scce = F.sparse_categorical_cross_entropy(probs, on(device, [1, 2]))
    assert scce.item() == pytest.approx(1.1769, abs=1e-4)
    for loss in (bce_logits, bce, cce, scce):
        assert loss.dtype == np.float32 and loss.shape == ()


# --- against float64 formulas on drawn inputs ---

def bce_reference(z, y, from_logits):
    p = special.expit(z) if from_logits else np.clip(z, LOW, HIGH)
    if from_logits:
        return np.mean(np.logaddexp(0, z) - y * z)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def cce_reference(pred, onehot, from_logits):
    if from_logits:
        log_p = special.log_softmax(pred, axis=-1)
    else:
        log_p = np.log(np.clip(pred / pred.sum(-1, keepdims=True), LOW, HIGH))
    return -np.mean(np.sum(onehot * log_p, axis=-1))


@given(data=st.data())
def test_binary_cross_entropy_matches_formula(device, data):
    n = data.draw(st.integers(1, 6))
    from_logits = data.draw(st.booleans())
    values = st.floats(-30, 30, width=32) if from_logits else st.floats(0, 1, width=32)
    z = data.draw(arrays((n, 1), values))
    y = data.draw(arrays((n,), st.sampled_from([0.0, 1.0])))
    loss = F.binary_cross_entropy(on(device, z), on(device, y), from_logits=from_logits)
    assert loss.dtype == np.float32
    expected = bce_reference(z.astype(np.float64)[:, 0], y, from_logits)
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-5)


@given(data=st.data())
def test_categorical_and_sparse_match_formula_and_each_other(device, data):
    n, classes = data.draw(st.integers(1, 5)), data.draw(st.integers(2, 5))
    from_logits = data.draw(st.booleans())
    values = st.floats(-30, 30, width=32) if from_logits else st.floats(0.0009765625, 1, width=32)
    pred = data.draw(arrays((n, classes), values))
    labels = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    onehot = np.eye(classes, dtype=np.float32)[labels]
    expected = cce_reference(pred.astype(np.float64), onehot, from_logits)
    cce = F.categorical_cross_entropy(on(device, pred), on(device, onehot), from_logits=from_logits)
    sparse = F.sparse_categorical_cross_entropy(on(device, pred), on(device, labels.reshape(n, 1)),
                                                from_logits=from_logits)
    assert cce.item() == pytest.approx(expected, rel=1e-5, abs=1e-5)
    assert sparse.item() == pytest.approx(expected, rel=1e-5, abs=1e-5)
    assert sparse.dtype == cce.dtype == np.float32


@settings(max_examples=10)
@given(data=st.data())
def test_loss_gradients(device, data):
    n, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    logits = on(device, data.draw(arrays((n, classes), st.floats(-5, 5, width=32))), requires_grad=True)
    probs = on(device, data.draw(arrays((n, classes), st.floats(0.0625, 0.9375, width=32))), requires_grad=True)
    labels = on(device, np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))))
    onehot = on(device, np.eye(classes)[labels.numpy()])
    y01 = on(device, data.draw(arrays((n, classes), st.sampled_from([0.0, 1.0]))))
    assert mc.gradcheck(lambda z: F.sparse_categorical_cross_entropy(z, labels, from_logits=True), logits)
    assert mc.gradcheck(lambda p: F.sparse_categorical_cross_entropy(p, labels), probs)
    assert mc.gradcheck(lambda z: F.categorical_cross_entropy(z, onehot, from_logits=True), logits)
    assert mc.gradcheck(lambda p: F.categorical_cross_entropy(p, onehot), probs)
    assert mc.gradcheck(lambda z: F.binary_cross_entropy(z, y01, from_logits=True), logits)
    assert mc.gradcheck(lambda p: F.binary_cross_entropy(p, y01), probs)


# --- numerical stability ---

def test_logits_of_1000_give_finite_loss_and_gradient(device):
    z = on(device, [[1000.0], [-1000.0], [1000.0], [0.0]], requires_grad=True)
    loss = F.binary_cross_entropy(z, on(device, [0, 1, 1, 1]), from_logits=True)
    loss.backward()
    assert loss.item() == pytest.approx((1000 + 1000 + 0 + np.log(2)) / 4, rel=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), [[0.25], [-0.25], [0], [-0.125]], atol=1e-7)

    logits = on(device, [[1000.0, -1000.0, 0.0], [0.0, 0.0, 1000.0]], requires_grad=True)
    loss = F.sparse_categorical_cross_entropy(logits, on(device, [1, 2]), from_logits=True)
    loss.backward()
    assert loss.item() == pytest.approx(2000 / 2, rel=1e-6)
    np.testing.assert_allclose(logits.grad.numpy(), [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-7)


def test_probabilities_of_0_and_1_are_clipped(device):
    p = on(device, [[0.0], [1.0]], requires_grad=True)
    loss = F.binary_cross_entropy(p, on(device, [1, 0]))
    loss.backward()
    expected = (-np.log(LOW) - np.log(1 - HIGH)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert np.all(np.isfinite(p.grad.numpy()))


# --- bad labels ---

def test_label_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        F.sparse_categorical_cross_entropy(mc.zeros(2, 3), [0, 3], from_logits=True)
    with pytest.raises(ValueError, match=r"label -1 is out of range"):
        F.sparse_categorical_cross_entropy(mc.zeros(2, 3), [-1, 0], from_logits=True)


def test_label_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"y_true_int has shape \(3,\), wanted \(2,\) or \(2, 1\)"):
        F.sparse_categorical_cross_entropy(mc.zeros(2, 3), [0, 1, 2])
    with pytest.raises(ValueError, match=r"y_true_onehot has shape \(2, 4\), wanted \(2, 3\)"):
        F.categorical_cross_entropy(mc.zeros(2, 3), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\), wanted \(2, 1\)"):
        F.binary_cross_entropy(mc.zeros(2, 1), [0, 1, 1])
    with pytest.raises(ValueError, match="integer class labels"):
        F.sparse_categorical_cross_entropy(mc.zeros(2, 3), [0.5, 1.0])


def test_integer_labels_never_promote_to_float64():
    logits = mc.zeros(4, 1, requires_grad=True)
    loss = F.binary_cross_entropy(logits, np.array([0, 1, 1, 0], dtype=np.int64), from_logits=True)
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


@settings(max_examples=25)
@given(data=st.data(), smoothing=st.sampled_from([0.0, 0.1, 0.35, 1.0]))
def test_label_smoothing_matches_the_smoothed_targets_formula(device, data, smoothing):
    n, k = data.draw(st.integers(1, 6)), data.draw(st.integers(2, 7))
    logits = data.draw(arrays((n, k), st.floats(-5, 5, width=32)))
    labels = np.asarray(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    log_p = special.log_softmax(logits.astype(np.float64), axis=1)
    targets = np.eye(k)[labels] * (1 - smoothing) + smoothing / k        # Keras: y (1 - e) + e / K
    expected = -(targets * log_p).sum(axis=1).mean()
    # PyTorch's form of the same: (1 - e) CE + e mean_k(-log p_k)
    torch_form = ((1 - smoothing) * -log_p[np.arange(n), labels] - smoothing * log_p.mean(axis=1)).mean()
    assert expected == pytest.approx(torch_form)
    sparse = mc.losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
    onehot = mc.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
    got = sparse(on(device, labels), on(device, logits)).item()
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert onehot(on(device, np.eye(k, dtype=np.float32)[labels]), on(device, logits)).item() == pytest.approx(
        expected, rel=1e-5, abs=1e-6)
    binary_targets = (labels % 2).astype(np.float32)
    z = logits[:, 0].astype(np.float64)
    y = binary_targets * (1 - smoothing) + smoothing / 2
    binary_expected = np.mean(-(y * special.log_expit(z) + (1 - y) * special.log_expit(-z)))
    binary = mc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=smoothing)
    assert binary(on(device, binary_targets), on(device, logits[:, 0])).item() == pytest.approx(
        binary_expected, rel=1e-5, abs=1e-6)


def test_label_smoothing_is_checked_and_shown():
    for bad in (-0.1, 1.5, "0.1", True):
        with pytest.raises(ValueError, match="label_smoothing must be a number in \\[0, 1\\]"):
            mc.losses.SparseCategoricalCrossentropy(label_smoothing=bad)
    loss = mc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert repr(loss) == "BinaryCrossentropy(from_logits=True, label_smoothing=0.1)"
