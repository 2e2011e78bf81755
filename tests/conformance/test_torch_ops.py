"""mc.F against torch.nn.functional: the same inputs and weights, outputs and gradients compared.

minicnn's conv2d is the true convolution, PyTorch's cross-correlation: PyTorch gets the kernel flipped
(once, here); Dense/linear weights are (in, out) in minicnn, (out, in) in PyTorch: transposed here.
"""

import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc

torch = pytest.importorskip("torch")
TF = torch.nn.functional
F = mc.F

finite = st.floats(-5, 5, width=32, allow_subnormal=False)


def pair(array):
    return mc.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def flipped(kernel):
    return (kernel[..., ::-1, ::-1] if kernel.ndim == 4 else kernel[..., ::-1]).copy()


def compare_with_gradients(mine, theirs, inputs, rtol=1e-4, atol=1e-5, what=""):
    """Outputs equal; then the gradients of sum(out * g) for a fixed g, input by input."""
    assert_close(mine, theirs, rtol=rtol, atol=atol, what=what)
    g = np.cos(np.arange(mine.size, dtype=np.float32)).reshape(mine.shape)
    (mine * mc.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for i, (m, t, transform) in enumerate(inputs):
        assert_close(m.grad, transform(t.grad.numpy()), rtol=rtol, atol=atol, what=f"{what}: gradient {i}")


@settings(max_examples=25)
@given(data=st.data(), stride=st.integers(1, 3), padding=st.sampled_from([0, 1, 2, "valid", "same"]),
       kernel=st.integers(1, 4), bias=st.booleans())
def test_conv2d_is_pytorchs_cross_correlation_with_the_kernel_flipped(data, stride, padding, kernel, bias):
    n, c, f = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(kernel, 7)), data.draw(st.integers(kernel, 7))
    x = data.draw(hnp.arrays(np.float32, (n, c, h, w), elements=finite))
    k = data.draw(hnp.arrays(np.float32, (f, c, kernel, kernel), elements=finite))
    b = data.draw(hnp.arrays(np.float32, (f,), elements=finite)) if bias else None
    if padding == "same" and stride > 1:
        # PyTorch refuses "same" with strides; minicnn pads as Keras: ceil(n / s) outputs, extra at the bottom/right
        total_h, total_w = (max((-(-s // stride) - 1) * stride + kernel - s, 0) for s in (h, w))
        torch_padding, pads = 0, (total_w // 2, total_w - total_w // 2, total_h // 2, total_h - total_h // 2)
    else:
        torch_padding, pads = padding, None
    (mx, tx), (mk, tk) = pair(x), pair(flipped(k))
    mk = mc.tensor(k, requires_grad=True)
    mb, tb = pair(b) if bias else (None, None)
    t_in = TF.pad(tx, pads) if pads else tx
    theirs = TF.conv2d(t_in, tk, tb, stride=stride, padding=torch_padding)
    mine = F.conv2d(mx, mk, mb, stride=stride, padding=padding)
    inputs = [(mx, tx, lambda g: g), (mk, tk, flipped)] + ([(mb, tb, lambda g: g)] if bias else [])
    compare_with_gradients(mine, theirs, inputs, what=f"conv2d stride {stride} padding {padding}")


def test_conv1d_is_pytorchs_with_the_kernel_flipped():
    rng = np.random.default_rng(1)
    x, k, b = rng.normal(size=(2, 3, 9)).astype(np.float32), rng.normal(size=(4, 3, 3)).astype(np.float32), \
        rng.normal(size=4).astype(np.float32)
    (mx, tx), (mb, tb) = pair(x), pair(b)
    mk, tk = mc.tensor(k, requires_grad=True), torch.tensor(flipped(k), requires_grad=True)
    compare_with_gradients(F.conv1d(mx, mk, mb, stride=2, padding=1), TF.conv1d(tx, tk, tb, stride=2, padding=1),
                           [(mx, tx, lambda g: g), (mk, tk, flipped), (mb, tb, lambda g: g)], what="conv1d")


@pytest.mark.parametrize("kind", ["max", "avg"])
@settings(max_examples=25)
@given(data=st.data(), size=st.integers(1, 3), stride=st.none() | st.integers(1, 3), padding=st.integers(0, 1))
def test_pooling_as_pytorchs(kind, data, size, stride, padding):
    if 2 * padding > size:
        return                           # PyTorch refuses padding over half the window; minicnn too? compared below
    h, w = data.draw(st.integers(size, 7)), data.draw(st.integers(size, 7))
    # distinct values: a tied maximum may send its gradient to another cell in each library
    x = (np.random.default_rng(data.draw(st.integers(0, 99))).permutation(2 * 3 * h * w).reshape(2, 3, h, w)
         .astype(np.float32) / 7)
    (mx, tx) = pair(x)
    if kind == "max":
        mine, theirs = F.max_pool2d(mx, size, stride, padding), TF.max_pool2d(tx, size, stride, padding)
    else:   # minicnn never counts padded cells in an average: PyTorch's count_include_pad=False
        mine = F.avg_pool2d(mx, size, stride, padding)
        theirs = TF.avg_pool2d(tx, size, stride, padding, count_include_pad=False)
    compare_with_gradients(mine, theirs, [(mx, tx, lambda g: g)], what=f"{kind} pool {size}/{stride}/{padding}")


@pytest.mark.parametrize("op", ["relu", "max_pool2d 2", "max_pool2d (2, 2) stride 1", "relu then max_pool2d 2"])
def test_an_infinite_or_nan_gradient_reaches_only_the_cells_it_belongs_to(op):
    """PyTorch passes a gradient on by selecting, not by multiplying with a 0/1 mask (inf * 0 is NaN)."""
    rng = np.random.default_rng(4)
    x = (rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6).astype(np.float32) - 100) / 7     # distinct, some < 0
    functions = {
        "relu": (F.relu, torch.relu),
        "max_pool2d 2": (lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2)),
        "max_pool2d (2, 2) stride 1": (lambda t: F.max_pool2d(t, (2, 2), 1), lambda t: TF.max_pool2d(t, 2, 1)),
        "relu then max_pool2d 2": (lambda t: F.max_pool2d(F.relu(t), 2), lambda t: TF.max_pool2d(torch.relu(t), 2)),
    }
    mine_fn, theirs_fn = functions[op]
    (mx, tx) = pair(x)
    mine, theirs = mine_fn(mx), theirs_fn(tx)
    g = np.cos(np.arange(mine.size, dtype=np.float32)).reshape(mine.shape)
    g.flat[::5], g.flat[1::7], g.flat[2::11] = np.inf, -np.inf, np.nan
    mine.backward(mc.tensor(g))
    theirs.backward(torch.tensor(g))
    # NaN and inf where PyTorch has them; overlapping windows add their shares in another order
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=0)


ACTIVATIONS = {
    "relu": (F.relu, torch.relu), "sigmoid": (F.sigmoid, torch.sigmoid), "tanh": (F.tanh, torch.tanh),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu), "log_sigmoid": (F.log_sigmoid, TF.logsigmoid),
    "softmax": (lambda x: F.softmax(x, axis=1), lambda x: torch.softmax(x, dim=1)),
    "log_softmax": (lambda x: F.log_softmax(x, axis=1), lambda x: torch.log_softmax(x, dim=1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=25)
@given(x=hnp.arrays(np.float32, st.sampled_from([(3, 4), (2, 3, 2, 2)]),
                    elements=st.floats(-30, 30, width=32) | st.sampled_from([0.0, 80.0, -80.0, 3e38, -3e38])))
def test_activations_and_their_gradients(name, x):
    mine_fn, theirs_fn = ACTIVATIONS[name]
    (mx, tx) = pair(x)
    with np.errstate(all="ignore"):
        compare_with_gradients(mine_fn(mx), theirs_fn(tx), [(mx, tx, lambda g: g)], rtol=1e-4, atol=1e-6,
                               what=name)


def test_softmax_of_feature_maps_normalises_the_channels_as_pytorch_picks():
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 5)).astype(np.float32)
    with pytest.warns(UserWarning):                        # PyTorch: "implicit dimension choice"
        theirs = TF.softmax(torch.tensor(x))
    assert_close(F.softmax(mc.tensor(x)), theirs, what="softmax(NCHW) without an axis")


def test_linear_flatten_and_dropout_at_inference():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(4, 2, 3)).astype(np.float32), rng.normal(size=(6, 5)).astype(np.float32), \
        rng.normal(size=5).astype(np.float32)
    (mx, tx), (mw, _), (mb, tb) = pair(x), pair(w), pair(b)
    tw = torch.tensor(w.T.copy(), requires_grad=True)
    mine = F.linear(F.dropout(F.flatten(mx), 0.5, training=False), mw, mb)
    theirs = TF.linear(TF.dropout(torch.flatten(tx, 1), 0.5, training=False), tw, tb)
    compare_with_gradients(mine, theirs, [(mx, tx, lambda g: g), (mw, tw, lambda g: g.T), (mb, tb, lambda g: g)],
                           what="linear(flatten(x))")


def test_dropout_while_training_zeroes_a_share_and_scales_the_rest():
    x = np.ones((200, 50), np.float32)
    mine = F.dropout(mc.tensor(x), 0.3, training=True).numpy()
    theirs = TF.dropout(torch.tensor(x), 0.3, training=True).numpy()
    for out in (mine, theirs):          # the same rule, different random draws
        assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.7)}
        assert abs((out == 0).mean() - 0.3) < 0.03


def test_batch_norm_while_training_as_pytorchs():
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(4, 3, 5, 5)) * 3 + 1).astype(np.float32)
    gamma, beta = rng.normal(size=3).astype(np.float32), rng.normal(size=3).astype(np.float32)
    (mx, tx), (mg, tg), (mb, tb) = pair(x), pair(gamma), pair(beta)
    mine, mean, variance = F.batch_norm(mx, mg, mb, 1e-3)
    theirs = TF.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-3)
    assert_close(mean, x.mean((0, 2, 3)), rtol=1e-5, atol=1e-6, what="batch mean")
    assert_close(variance, x.var((0, 2, 3)), rtol=1e-4, atol=1e-6, what="batch variance (biased)")
    compare_with_gradients(mine, theirs, [(mx, tx, lambda g: g), (mg, tg, lambda g: g), (mb, tb, lambda g: g)],
                           rtol=1e-4, atol=1e-5, what="batch_norm")


LOGITS = hnp.arrays(np.float32, (5, 4), elements=st.floats(-20, 20, width=32)
                    | st.sampled_from([0.0, 3e38, -3e38, -np.inf]))


@settings(max_examples=40)
@given(logits=LOGITS, labels=hnp.arrays(np.int64, (5,), elements=st.integers(0, 3)),
       smoothing=st.sampled_from([0.0, 0.1]))
def test_sparse_categorical_cross_entropy_from_logits_is_cross_entropy(logits, labels, smoothing):
    logits[:, 0] = np.where(np.isinf(logits).all(1), 1.0, logits[:, 0])    # a row of -inf is NaN in both
    (mx, tx) = pair(logits)
    with np.errstate(all="ignore"):
        mine = F.sparse_categorical_cross_entropy(mx, labels, from_logits=True, label_smoothing=smoothing)
        theirs = TF.cross_entropy(tx, torch.tensor(labels), label_smoothing=smoothing)
        if not np.isfinite(theirs.item()):
            assert_close(mine, theirs, what="an infinite loss")
            return
        compare_with_gradients(mine, theirs, [(mx, tx, lambda g: g)], rtol=1e-4, atol=1e-5, what="cross_entropy")


@settings(max_examples=25)
@given(logits=hnp.arrays(np.float32, (5, 3), elements=st.floats(-20, 20, width=32)),
       weights=hnp.arrays(np.float32, (5, 3), elements=st.floats(0.0078125, 1, width=32)))
def test_categorical_cross_entropy_of_soft_targets_is_cross_entropy(logits, weights):
    targets = weights / weights.sum(1, keepdims=True)
    (mx, tx) = pair(logits)
    compare_with_gradients(F.categorical_cross_entropy(mx, targets, from_logits=True),
                           TF.cross_entropy(tx, torch.tensor(targets)), [(mx, tx, lambda g: g)], what="soft targets")


@settings(max_examples=25)
@given(logits=hnp.arrays(np.float32, (6, 1), elements=st.floats(-30, 30, width=32)
                         | st.sampled_from([0.0, 3e38, -3e38])),
       labels=hnp.arrays(np.float32, (6, 1), elements=st.sampled_from([0.0, 1.0, 0.3])))
def test_binary_cross_entropy_from_logits_is_bce_with_logits(logits, labels):
    (mx, tx) = pair(logits)
    compare_with_gradients(F.binary_cross_entropy(mx, labels, from_logits=True),
                           TF.binary_cross_entropy_with_logits(tx, torch.tensor(labels)), [(mx, tx, lambda g: g)],
                           rtol=1e-4, atol=1e-5, what="bce with logits")


@settings(max_examples=25)
@given(p=hnp.arrays(np.float32, (6,), elements=st.floats(0.0009765625, 0.9990234375, width=32)),
       labels=hnp.arrays(np.float32, (6,), elements=st.sampled_from([0.0, 1.0])))
def test_binary_cross_entropy_of_probabilities_inside_the_clip(p, labels):
    # Keras clips p to [1e-7, 1 - 1e-7], PyTorch its logs at -100: equal away from 0 and 1
    (mx, tx) = pair(p)
    compare_with_gradients(F.binary_cross_entropy(mx, labels), TF.binary_cross_entropy(tx, torch.tensor(labels)),
                           [(mx, tx, lambda g: g)], rtol=1e-4, atol=1e-5, what="bce of probabilities")


def test_labels_out_of_range_are_refused_by_both():
    logits = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="label 3 is out of range"):
        F.sparse_categorical_cross_entropy(mc.tensor(logits), [0, 3], from_logits=True)
    with pytest.raises(IndexError):
        TF.cross_entropy(torch.tensor(logits), torch.tensor([0, 3]))


@settings(max_examples=20)
@given(data=st.data(), padding=st.sampled_from([0, 1, 2, "same"]), bias=st.booleans(), relu=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), channels_last=st.booleans())
def test_3x3_conv2d_of_many_channels_is_pytorchs(data, padding, bias, relu, dtype, channels_last):
    """What the CPU computes by Winograd's F(4x4, 3x3) (3x3, stride 1, 16 or more input channels):
    PyTorch's numbers, within 64 roundings of the largest sum of |terms|; odd and even sizes, batch 1,
    float64, the input a channels-last view, the fused ReLU."""
    from minicnn.ops.conv import conv2d_relu
    n, c, f = data.draw(st.integers(1, 2)), data.draw(st.integers(16, 20)), data.draw(st.integers(1, 4))
    h, w = data.draw(st.integers(3, 9)), data.draw(st.integers(3, 9))
    x = data.draw(hnp.arrays(dtype, (n, h, w, c), elements=finite))
    x = x.transpose(0, 3, 1, 2) if channels_last else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    k = data.draw(hnp.arrays(dtype, (f, c, 3, 3), elements=finite))
    b = data.draw(hnp.arrays(dtype, (f,), elements=finite)) if bias else None
    def both(array, flip=False):
        return (mc.tensor(array, dtype=dtype, requires_grad=True),
                torch.tensor(flipped(array) if flip else array, requires_grad=True))
    (mx, tx), (mk, tk) = both(x), both(k, flip=True)
    mb, tb = both(b) if bias else (None, None)
    before_relu = TF.conv2d(tx, tk, tb, padding=padding)
    theirs = TF.relu(before_relu) if relu else before_relu
    mine = (conv2d_relu if relu else F.conv2d)(mx, mk, mb, padding=padding)
    assert mine.dtype == dtype
    # Winograd's error follows its tile's largest terms: within 64 roundings of the largest sum of |terms|
    magnitude = TF.conv2d(tx.detach().abs(), tk.detach().abs(), None if b is None else tb.detach().abs(),
                          padding=padding)
    tolerance = 64 * np.finfo(dtype).eps * (float(magnitude.max()) + 1.0)
    assert_close(mine, theirs, rtol=1e-5, atol=tolerance, what="forward")
    g = np.cos(np.arange(mine.size)).reshape(mine.shape).astype(dtype)
    if relu:        # where an output is within rounding of 0, either side of the ReLU's kink is right
        g[np.abs(before_relu.detach().numpy()) <= tolerance] = 0.0
    (mine * mc.tensor(g, dtype=dtype)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for m, t, transform in [(mx, tx, lambda a: a), (mk, tk, flipped)] + ([(mb, tb, lambda a: a)] if bias else []):
        reference = transform(t.grad.numpy())
        assert m.grad.dtype == dtype
        assert_close(m.grad, reference, rtol=1e-5, atol=2e-6 * (np.abs(reference).max() + 1.0) * 16, what="gradient")


@pytest.mark.parametrize("special", [np.inf, -np.inf, np.nan])
def test_3x3_conv2d_of_many_channels_with_an_infinite_input_is_pytorchs(special):
    """inf and NaN go where PyTorch puts them (inf - inf in Winograd's transforms would spread NaN)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 16, 6, 7)).astype(np.float32)
    x[1, 3, 2, 4] = special
    k = rng.normal(size=(3, 16, 3, 3)).astype(np.float32)
    mine = F.conv2d(mc.tensor(x), mc.tensor(k), padding=1).numpy()
    theirs = TF.conv2d(torch.tensor(x), torch.tensor(flipped(k)), padding=1).numpy()
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
    np.testing.assert_array_equal(np.isinf(mine) & (mine > 0), np.isinf(theirs) & (theirs > 0))
    finite_part = np.isfinite(theirs)
    np.testing.assert_allclose(mine[finite_part], theirs[finite_part], rtol=1e-4, atol=1e-4)
