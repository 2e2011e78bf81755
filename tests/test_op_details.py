"""Corners of the ops that the mutation run (docs/mutation.md) found untested: concatenating one
tensor or mixed dtypes, a vector through linear and flatten, im2col's default padding, weighted
binary cross-entropy, NumPy sample weights on every device, sampling's default fill value, and
which op an error names. References: NumPy written out in float64."""

import numpy as np
import pytest

import minicnn as mc
from helpers import on
from minicnn.ops.sampling import sample

F = mc.F


def test_concatenate_of_one_tensor_is_that_tensor(device):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = on(device, x, requires_grad=True)
    y = F.concatenate([t], axis=1)
    np.testing.assert_array_equal(y.numpy(), x)
    g = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, 4.0]], np.float32)
    (y * on(device, g)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), g)


def test_concatenate_casts_integers_to_the_first_tensors_float_dtype():
    first = mc.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    ints = [mc.tensor(np.arange(4, dtype=np.int64).reshape(2, 2)),
            mc.tensor(np.arange(4, dtype=np.int32).reshape(2, 2))]
    y = F.concatenate([first] + ints, axis=0)
    assert y.dtype == np.float32 and y.shape == (6, 2)
    np.testing.assert_array_equal(y.numpy(), np.concatenate([np.ones((2, 2)), np.arange(4).reshape(2, 2),
                                                             np.arange(4).reshape(2, 2)]))
    y.sum().backward()
    np.testing.assert_array_equal(first.grad.numpy(), np.ones((2, 2)))


def test_conv_shape_errors_name_the_op_called():
    with pytest.raises(ValueError, match=r"^conv1d: x must have shape \(N, C, L\)"):
        F.conv1d(mc.zeros(1, 1, 4, 4), mc.zeros(1, 1, 3))
    with pytest.raises(ValueError, match=r"^conv2d: x must have shape \(N, C, H, W\)"):
        F.conv2d(mc.zeros(1, 1, 4), mc.zeros(1, 1, 3, 3))


def test_linear_of_a_single_vector(device):
    x, w, b = (np.array([1.0, -2.0, 0.5], np.float32), np.arange(6, dtype=np.float32).reshape(3, 2),
               np.array([0.25, -1.0], np.float32))
    tx, tw = on(device, x, requires_grad=True), on(device, w, requires_grad=True)
    y = F.linear(tx, tw, on(device, b))
    assert y.shape == (2,)
    np.testing.assert_allclose(y.numpy(), x.astype(np.float64) @ w + b, rtol=1e-6)
    g = np.array([1.0, 3.0], np.float32)
    (y * on(device, g)).sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), w @ g.astype(np.float64), rtol=1e-6)
    np.testing.assert_allclose(tw.grad.numpy(), np.outer(x, g), rtol=1e-6)


def test_flatten_of_a_batch_of_numbers_adds_a_feature_axis():
    """Keras' Flatten: (batch,) becomes (batch, 1)."""
    y = F.flatten(mc.tensor(np.arange(4.0, dtype=np.float32)))
    assert y.shape == (4, 1)
    np.testing.assert_array_equal(y.numpy()[:, 0], np.arange(4.0))


def test_im2col_pads_nothing_by_default():
    """cols[c, i, j, y, z, n] = x[n, c, y * SH + i, z * SW + j] (the formula of its docstring)."""
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 4)).astype(np.float32)
    kernel, stride, out = (2, 3), (2, 1), (2, 2)
    cols = mc.get_backend("cpu").im2col(x, kernel, stride, out)
    assert cols.shape == (3, 2, 3, 2, 2, 2)
    for c, i, j, yy, z, n in np.ndindex(cols.shape):
        assert cols[c, i, j, yy, z, n] == x[n, c, yy * stride[0] + i, z * stride[1] + j]


@pytest.mark.parametrize("shape", [(5,), (5, 1)])
def test_binary_cross_entropy_weights_each_image(device, shape):
    p = np.array([0.1, 0.8, 0.45, 0.99, 0.3], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    w = np.array([1.0, 0.5, 2.0, 0.0, 3.0], np.float32)
    per_image = -(y * np.log(p.astype(np.float64)) + (1 - y) * np.log(1 - p.astype(np.float64)))
    got = F.binary_cross_entropy(on(device, p.reshape(shape)), on(device, y.reshape(shape)), sample_weight=w)
    assert got.item() == pytest.approx(np.mean(w * per_image), rel=1e-5)


def test_numpy_sample_weights_follow_the_predictions_device(device):
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, -2.0]], np.float32)
    labels, w = np.array([2, 1]), np.array([0.5, 2.0], np.float32)
    log_p = logits - np.log(np.exp(logits.astype(np.float64)).sum(1, keepdims=True))
    want = np.mean(-log_p[[0, 1], labels] * w)
    got = F.sparse_categorical_cross_entropy(on(device, logits), on(device, labels), from_logits=True, sample_weight=w)
    assert got.device == device and got.item() == pytest.approx(want, rel=1e-5)
    onehot = np.eye(3, dtype=np.float32)[labels]
    got = F.categorical_cross_entropy(on(device, logits), on(device, onehot), from_logits=True, sample_weight=w)
    assert got.item() == pytest.approx(want, rel=1e-5)


def test_sampling_outside_the_image_in_constant_mode_reads_zero_by_default():
    backend = mc.get_backend("cpu")
    images = np.full((1, 1, 3, 3), 5.0, np.float32)
    ys = np.array([[[1.0, -10.0, 1.0]]], np.float32)
    xs = np.array([[[1.0, 1.0, 20.0]]], np.float32)
    got = sample(backend, images, ys, xs, "constant")
    np.testing.assert_array_equal(got, [[[[5.0, 0.0, 0.0]]]])
