"""max_pool2d / avg_pool2d against naive loops, the lecture's slide, ties and padding."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minicnn as mc
from helpers import arrays, distinct_arrays, on
from reference import max_pool2d_grad_loop, pool2d_loop
from test_conv import expected_pads

F = mc.F

X1 = [[10, 255, 125, 0, 170, 100], [70, 255, 105, 25, 25, 70], [255, 0, 150, 0, 10, 10],
      [0, 255, 10, 10, 150, 20], [70, 15, 200, 100, 95, 0], [35, 25, 100, 20, 0, 60]]
X2 = [[100, 100, 100, 50, 100, 50], [95, 255, 100, 125, 125, 170], [80, 40, 10, 10, 125, 150],
      [255, 30, 150, 20, 120, 125], [30, 30, 150, 100, 70, 70], [70, 30, 100, 200, 70, 95]]


def test_lecture_max_pooling_slide(device):
    x = on(device, [[X1], [X2]], dtype="float32")
    y = F.max_pool2d(x, 2)
    expected = [[255, 125, 170], [255, 150, 150], [70, 200, 95]]
    np.testing.assert_array_equal(y.numpy(), [[expected], [expected]])


@st.composite
def pool_cases(draw, values=None):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.none() | st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    s2 = (kh, kw) if stride is None else (stride, stride) if isinstance(stride, int) else stride
    padding = draw(st.sampled_from(["valid", "same"]) | st.integers(0, 1))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    pads = expected_pads(padding, (h, w), (kh, kw), s2)
    assume(all(p < k for k, side in zip((kh, kw), pads) for p in side))
    assume((h + sum(pads[0]) - kh) // s2[0] >= 0 and (w + sum(pads[1]) - kw) // s2[1] >= 0)
    x = draw(values((n, c, h, w))) if values else draw(arrays((n, c, h, w)))
    return x, (kh, kw), stride, padding, s2, pads


small_ints = lambda shape: arrays(shape, st.integers(-3, 3).map(float))   # many ties


@given(case=pool_cases(values=small_ints))
def test_max_pool_matches_a_naive_loop_and_routes_ties_to_the_first_maximum(device, case):
    x, kernel, stride, padding, s2, pads = case
    tx = on(device, x, requires_grad=True)
    y = F.max_pool2d(tx, kernel, stride, padding)
    expected, first_max = pool2d_loop(x, kernel, s2, pads, "max")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), expected)
    g = np.arange(1.0, 1.0 + y.size, dtype=np.float32).reshape(y.shape)
    y.backward(on(device, g))
    np.testing.assert_array_equal(tx.grad.numpy(), max_pool2d_grad_loop(x.shape, g, first_max, pads))
    np.testing.assert_array_equal(tx.numpy(), x)


@given(case=pool_cases())
def test_avg_pool_matches_a_naive_loop_without_counting_padding(device, case):
    x, kernel, stride, padding, s2, pads = case
    y = F.avg_pool2d(on(device, x), kernel, stride, padding)
    expected, _ = pool2d_loop(x, kernel, s2, pads, "mean")
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=12)
@given(case=pool_cases(values=distinct_arrays))
def test_pool_gradients_match_numerical(device, case):
    x, kernel, stride, padding, *_ = case
    tx = on(device, x, requires_grad=True)
    assert mc.gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding), tx)
    assert mc.gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding), tx)


def test_padded_cells_never_win_a_max():
    x = mc.tensor(-np.ones((1, 1, 3, 3), np.float32) * 5)
    y = F.max_pool2d(x, 2, stride=2, padding=1)
    np.testing.assert_array_equal(y.numpy(), np.full((1, 1, 2, 2), -5.0))


def test_average_excludes_padding():
    x = mc.ones(1, 1, 3, 3)
    np.testing.assert_array_equal(F.avg_pool2d(x, 3, stride=1, padding="same").numpy(), np.ones((1, 1, 3, 3)))


def test_pool_errors_are_clear():
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\), got shape \(4, 4\)"):
        F.max_pool2d(mc.zeros(4, 4))
    with pytest.raises(ValueError, match="padding .* must be smaller than pool_size"):
        F.max_pool2d(mc.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="max_pool2d: input"):
        F.max_pool2d(mc.zeros(1, 1, 1, 1), 2)


@given(data=st.data())
def test_max_pool_fast_path_equals_the_im2col_path(device, data):
    from minicnn.ops import pool
    k = data.draw(st.integers(1, 3))
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    h, w = k * data.draw(st.integers(1, 4)), k * data.draw(st.integers(1, 4))
    x = data.draw(arrays((n, c, h, w), st.integers(-2, 2).map(float)))   # ties included
    fast_in, slow_in = on(device, x, requires_grad=True), on(device, x, requires_grad=True)
    assert pool._tiles_exactly(fast_in, k, None, "valid")
    fast = F.max_pool2d(fast_in, k)
    slow = F.max_pool2d(slow_in, (k, k))          # a pair takes the general im2col path
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())
    g = on(device, np.arange(fast.size, dtype=np.float32).reshape(fast.shape))
    fast.backward(g)
    slow.backward(g)
    np.testing.assert_array_equal(fast_in.grad.numpy(), slow_in.grad.numpy())
