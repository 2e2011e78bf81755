"""conv2d / conv1d: the lecture's examples, scipy.signal, a naive loop, gradients, errors."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import signal

import minicnn as mc
from helpers import arrays, float32_close, on
from minicnn.ops.conv import conv2d_relu
from reference import conv2d_loop, conv2d_scipy

F = mc.F


# --- the lecture's worked examples, exactly ---

def test_lecture_1d_example_stride_2(device):
    x = on(device, [[[3, 2, 1, 7, 1, 2, 5, 4]]], dtype="float32")
    w = on(device, [[[1 / 2, 3 / 4, 1, 1 / 4]]])
    y = F.conv1d(x, w, stride=2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [[[7, 9, 8]]])


def test_lecture_2d_example_padding_1_stride_2(device):
    x = on(device, [[[[2, 1, 2], [5, 0, 1], [1, 7, 3]]]], dtype="float32")
    w = on(device, [[[[0.5, 0.7, 0.4], [0.3, 0.4, 0.1], [0.5, 1, 0.5]]]])
    y = F.conv2d(x, w, padding=1, stride=2)
    np.testing.assert_allclose(y.numpy(), [[[[4.6, 1.6], [7.5, 2.9]]]], rtol=1e-6)


def test_the_kernel_is_flipped_not_correlated():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    y = F.conv2d(mc.tensor(x), mc.tensor(w)).numpy()
    np.testing.assert_array_equal(y[0, 0], signal.convolve2d(x[0, 0], w[0, 0], mode="valid"))
    assert not np.array_equal(y[0, 0], signal.correlate2d(x[0, 0], w[0, 0], mode="valid"))


# --- hypothesis-drawn shapes against independent references ---

def expected_pads(padding, size, kernel, stride):
    """Padding per side, written independently of minicnn's code."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        pads = []
        for n, k, s in zip(size, kernel, stride):
            out = math.ceil(n / s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return ((ph, ph), (pw, pw))


@st.composite
def conv_cases(draw, max_side=7, channels=(1, 3), winograd=False):
    """winograd: 3x3 kernels of stride 1 over `channels` channels, what the CPU computes by Winograd's
    F(4x4, 3x3) from backend.NumpyBackend.winograd_channels input channels on."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(*channels)), draw(st.integers(1, 3))
    kh, kw = (3, 3) if winograd else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = 1 if winograd else draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]) | st.integers(0, 2)
                   | st.tuples(st.integers(0, 2), st.integers(0, 2)))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    s2 = (stride, stride) if isinstance(stride, int) else stride
    pads = expected_pads(padding, (h, w), (kh, kw), s2)
    out = ((h + sum(pads[0]) - kh) // s2[0] + 1, (w + sum(pads[1]) - kw) // s2[1] + 1)
    assume(min(out) >= 1)
    x = draw(arrays((n, c, h, w)))
    weight = draw(arrays((f, c, kh, kw)))
    bias = draw(st.none() | arrays((f,)))
    return x, weight, bias, stride, padding, s2, pads, out


WINOGRAD_CHANNELS = (mc.get_backend("cpu").winograd_channels, mc.get_backend("cpu").winograd_channels + 2)
winograd_cases = conv_cases(channels=WINOGRAD_CHANNELS, winograd=True)


@given(case=conv_cases() | winograd_cases)
def test_conv2d_matches_scipy_and_a_naive_loop(device, case):
    x, w, b, stride, padding, s2, pads, out_hw = case
    tx, tw = on(device, x, requires_grad=True), on(device, w, requires_grad=True)
    tb = None if b is None else on(device, b, requires_grad=True)
    y = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    assert y.dtype == np.float32
    assert y.shape == (x.shape[0], w.shape[0]) + out_hw
    magnitude = conv2d_loop(np.abs(x), np.abs(w), None if b is None else np.abs(b), s2, pads)
    if device == "cpu" and x.shape[1] >= WINOGRAD_CHANNELS[0] and w.shape[2:] == (3, 3) and s2 == (1, 1):
        magnitude = np.full_like(magnitude, magnitude.max())    # Winograd's error follows a tile's largest terms
    float32_close(y.numpy(), conv2d_scipy(x, w, b, s2, pads), magnitude)
    float32_close(y.numpy(), conv2d_loop(x, w, b, s2, pads), magnitude)
    # inputs are not mutated, forward or backward
    y.sum().backward()
    np.testing.assert_array_equal(tx.numpy(), x)
    np.testing.assert_array_equal(tw.numpy(), w)


def test_same_padding_puts_the_odd_row_at_the_bottom_right():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
    same = F.conv2d(mc.tensor(x), mc.tensor(w), padding="same").numpy()
    explicit = F.conv2d(mc.tensor(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))), mc.tensor(w)).numpy()
    np.testing.assert_array_equal(same, explicit)
    assert F.conv2d(mc.tensor(np.zeros((1, 1, 7, 5), np.float32)), mc.tensor(np.ones((1, 1, 3, 3), np.float32)),
                    stride=2, padding="same").shape == (1, 1, 4, 3)


@given(data=st.data())
def test_conv1d_matches_scipy(device, data):
    c, f, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)), data.draw(st.integers(1, 5))
    length = data.draw(st.integers(k, 12))
    stride = data.draw(st.integers(1, 3))
    padding = data.draw(st.sampled_from(["valid", "same"]) | st.integers(0, 2))
    x = data.draw(arrays((2, c, length)))
    w = data.draw(arrays((f, c, k)))
    y = F.conv1d(on(device, x), on(device, w), stride=stride, padding=padding)
    ((_, _), (left, right)) = expected_pads(padding, (1, length), (1, k), (1, stride))
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (left, right)))
    expected = np.array([[sum(signal.convolve(xp[n, ch], w[o, ch].astype(np.float64), mode="valid")
                              for ch in range(c))[::stride] for o in range(f)] for n in range(2)])
    magnitude = np.array([[sum(signal.convolve(np.abs(xp[n, ch]), np.abs(w[o, ch].astype(np.float64)), mode="valid")
                               for ch in range(c))[::stride] for o in range(f)] for n in range(2)])
    assert y.dtype == np.float32
    float32_close(y.numpy(), expected, magnitude)


@given(case=conv_cases() | winograd_cases, with_nan=st.booleans())
def test_conv2d_relu_is_relu_of_conv2d_bit_for_bit(device, case, with_nan):
    """What Conv2D(activation="relu") runs: the fused op, against the two ops it replaces, in values
    and in every gradient (also with a NaN in the input, which both keep)."""
    x, w, b, stride, padding, *_ = case
    if with_nan:
        x = x.copy()
        x.flat[0] = np.nan
    results = []
    for fused in (True, False):
        inputs = [on(device, x, requires_grad=True), on(device, w, requires_grad=True)]
        inputs.append(None if b is None else on(device, b, requires_grad=True))
        y = conv2d_relu(*inputs, stride, padding) if fused else F.relu(F.conv2d(*inputs, stride, padding))
        g = np.arange(y.size, dtype=np.float32).reshape(y.shape) % 5 - 2
        y.backward(on(device, g))
        results.append([y.numpy()] + [t.grad.numpy() for t in inputs if t is not None])
    for fused, plain in zip(*results):
        np.testing.assert_array_equal(fused, plain)


def test_conv2d_layer_with_relu_runs_the_fused_op():
    x = mc.tensor(np.random.default_rng(0).normal(size=(1, 1, 5, 5)).astype(np.float32))
    layer = mc.layers.Conv2D(2, 3, activation="relu")
    out = layer(x)
    assert out._parents[0] is x          # one op from the input to the ReLU's output, not two
    np.testing.assert_array_equal(out.numpy(), F.relu(F.conv2d(x, layer.kernel, layer.bias)).numpy())


# --- gradients ---

@settings(max_examples=12)
@given(case=conv_cases(max_side=5))
def test_conv2d_gradients_match_numerical(device, case):
    x, w, b, stride, padding, *_ = case
    inputs = [on(device, x, requires_grad=True), on(device, w, requires_grad=True)]
    if b is not None:
        inputs.append(on(device, b, requires_grad=True))
    assert mc.gradcheck(lambda *t: F.conv2d(*t, stride=stride, padding=padding), *inputs)


@settings(max_examples=6)
@given(case=conv_cases(max_side=4, channels=WINOGRAD_CHANNELS, winograd=True))
def test_winograd_gradients_match_numerical(device, case):
    """The CPU's Winograd convolution (many channels, 3x3, stride 1): float64 finite differences. The
    convolution is linear in each input, so a wide step (1e-3) costs no truncation error, and amplifies
    the transforms' float64 rounding (1e-14 of the output) 1000 times less than the default step 1e-6."""
    x, w, b, stride, padding, *_ = case
    inputs = [on(device, a, requires_grad=True) for a in (x, w) + (() if b is None else (b,))]
    assert mc.gradcheck(lambda *t: F.conv2d(*t, stride=stride, padding=padding), *inputs, eps=1e-3)


def test_conv1d_gradients_match_numerical(device):
    mc.manual_seed(3)
    x, w, b = mc.randn(2, 3, 9, device=device), mc.randn(4, 3, 3, device=device), mc.randn(4, device=device)
    for stride, padding in ((1, "same"), (2, 1), (3, "valid")):
        assert mc.gradcheck(lambda *t, s=stride, p=padding: F.conv1d(*t, stride=s, padding=p), x, w, b)


# --- im2col and col2im are adjoints: <im2col(x), c> == <x, col2im(c)> ---

@given(data=st.data())
def test_im2col_and_col2im_are_exact_adjoints(device, data):
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    kh, kw, sh, sw = (data.draw(st.integers(1, 3)) for _ in range(4))
    h, w = data.draw(st.integers(kh, 7)), data.draw(st.integers(kw, 7))
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    ints = st.integers(-50, 50).map(float)
    x = data.draw(arrays((n, c, h, w), ints, np.float64))
    cols = data.draw(arrays((c, kh, kw, oh, ow, n), ints, np.float64))
    backend = mc.get_backend(device)
    forward = backend.to_host(backend.im2col(backend.from_host(x), (kh, kw), (sh, sw), (oh, ow)))
    adjoint = backend.to_host(backend.col2im(backend.from_host(cols), x.shape, (sh, sw)))
    assert np.sum(forward * cols) == np.sum(x * adjoint)   # integers: exact in float64
    assert forward[0, kh - 1, kw - 1, oh - 1, ow - 1, 0] == x[0, 0, (oh - 1) * sh + kh - 1, (ow - 1) * sw + kw - 1]


# --- clear errors ---

def test_output_smaller_than_one_names_input_kernel_padding_and_stride():
    with pytest.raises(ValueError, match=r"conv2d: input .*\(3, 3\).*kernel \(5, 5\).*padding.*stride \(1, 1\)"):
        F.conv2d(mc.zeros(1, 1, 3, 3), mc.zeros(2, 1, 5, 5))


@pytest.mark.parametrize("x_shape, w_shape, b_shape, message", [
    ((1, 3, 8), (2, 3, 3, 3), None, r"x must have shape \(N, C, H, W\), got shape \(1, 3, 8\)"),
    ((1, 3, 8, 8), (2, 3, 3), None, r"weight must have shape \(F, C, KH, KW\), got shape \(2, 3, 3\)"),
    ((1, 3, 8, 8), (2, 1, 3, 3), None, r"weight has shape \(2, 1, 3, 3\), wanted 2 filters of 3 channels"),
    ((1, 3, 8, 8), (2, 3, 3, 3), (3,), r"bias has shape \(3,\), wanted \(2,\)"),
])
def test_bad_shapes_are_named(x_shape, w_shape, b_shape, message):
    b = None if b_shape is None else mc.zeros(*b_shape)
    with pytest.raises(ValueError, match=message):
        F.conv2d(mc.zeros(*x_shape), mc.zeros(*w_shape), b)


def test_bad_stride_and_padding_are_named():
    x, w = mc.zeros(1, 1, 5, 5), mc.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="stride must be"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="padding must not be negative"):
        F.conv2d(x, w, padding=-1)


def test_integer_images_are_convolved_in_float32():
    x = mc.tensor(np.full((1, 1, 4, 4), 200, dtype=np.uint8))
    y = F.conv2d(x, mc.ones(1, 1, 2, 2))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), np.full((1, 1, 3, 3), 800.0))


# --- depthwise convolution: each channel alone, against conv2d channel by channel ---

@settings(max_examples=25, deadline=None)
@given(data=st.data(), stride=st.integers(1, 3), padding=st.sampled_from([0, 1, "same", "valid"]),
       multiplier=st.integers(1, 3), bias=st.booleans())
def test_depthwise_conv2d_is_conv2d_per_channel(data, stride, padding, multiplier, bias):
    n, c, k = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(k, 7)), data.draw(st.integers(k, 7))
    x = data.draw(arrays((n, c, h, w)))
    weight = data.draw(arrays((c * multiplier, 1, k, k)))
    b = data.draw(arrays((c * multiplier,))) if bias else None
    got = F.depthwise_conv2d(mc.tensor(x), mc.tensor(weight), None if b is None else mc.tensor(b), stride, padding)
    for channel in range(c):                   # a naive reference: one conv2d per input channel
        rows = slice(channel * multiplier, (channel + 1) * multiplier)
        want = F.conv2d(mc.tensor(x[:, channel:channel + 1]), mc.tensor(weight[rows]),
                        None if b is None else mc.tensor(b[rows]), stride, padding)
        np.testing.assert_allclose(got.numpy()[:, rows], want.numpy(), rtol=1e-5, atol=1e-4)
    inputs = [mc.tensor(x, dtype="float64", requires_grad=True), mc.tensor(weight, dtype="float64",
                                                                           requires_grad=True)]
    inputs += [mc.tensor(b, dtype="float64", requires_grad=True)] if bias else []
    assert mc.gradcheck(lambda *t: F.depthwise_conv2d(*t, stride=stride, padding=padding), *inputs)
