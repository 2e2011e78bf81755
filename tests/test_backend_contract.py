"""Every fast path of the CPU backend against the plain version it overrides (backend/base.py).

The plain versions are the textbook's: whole arrays in (N, C, H, W), one loop over kernel offsets.
The CPU's lay memory out batch-last and share channels between threads; they must give the same
numbers: copies and maxima bit for bit, sums within float32 rounding. Shapes and values are drawn by
hypothesis, inputs come both C-ordered and batch-last (as the CPU's own ops hand them on), and the
work is cut into several shares on several threads however small it is.
"""

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minicnn as mc
from minicnn.backend import Backend

cpu = mc.get_backend("cpu")
plain = Backend("plain", np)          # base.py's versions, computing with NumPy


@contextlib.contextmanager
def shared_between_threads(threads):
    """Even tiny arrays are cut into shares run on `threads` threads (the defaults wait for 2**16 elements)."""
    saved = cpu.threads, cpu.min_parallel_size, cpu.max_share
    cpu.threads, cpu.min_parallel_size, cpu.max_share = threads, 1, 64
    try:
        yield
    finally:
        cpu.threads, cpu.min_parallel_size, cpu.max_share = saved


def laid_out(x, batch_last):
    """x as it is, or the same values laid out (C, H, W, N) in memory, as the CPU's convolutions leave them."""
    if not batch_last or x.ndim != 4:
        return x
    return np.ascontiguousarray(np.transpose(x, (1, 2, 3, 0))).transpose(3, 0, 1, 2)


def same_layout(a, b):
    """The same memory order (strides of the axes longer than 1: the others are never stepped along)."""
    return [s for s, n in zip(a.strides, a.shape) if n > 1] == [s for s, n in zip(b.strides, b.shape) if n > 1]


values = st.floats(-4, 4, width=32)
dtypes = st.sampled_from([np.float32, np.float64])      # what the ops compute in (float16 is cast)


@st.composite
def windows_case(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    kh, kw, sh, sw = (draw(st.integers(1, 3)) for _ in range(4))
    pads = tuple((draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))) for k in (kh, kw))
    h, w = draw(st.integers(max(1, kh - sum(pads[0])), 8)), draw(st.integers(max(1, kw - sum(pads[1])), 8))
    oh, ow = (h + sum(pads[0]) - kh) // sh + 1, (w + sum(pads[1]) - kw) // sw + 1
    x = draw(arrays(draw(dtypes), (n, c, h, w), elements=values))
    return x, (kh, kw), (sh, sw), (oh, ow), pads


@given(case=windows_case(), pad_value=st.sampled_from([0.0, -np.inf]), batch_last=st.booleans(),
       threads=st.integers(1, 3))
def test_im2col_copies_the_same_windows(case, pad_value, batch_last, threads):
    x, kernel, stride, out_size, pads = case
    x = laid_out(x, batch_last)
    before = x.copy()
    with shared_between_threads(threads):
        fast = cpu.im2col(x, kernel, stride, out_size, pads, pad_value)
    expected = plain.im2col(x, kernel, stride, out_size, pads, pad_value)
    assert fast.shape == expected.shape
    np.testing.assert_array_equal(fast, expected)
    assert fast.dtype == expected.dtype == x.dtype
    np.testing.assert_array_equal(x, before)            # the input is read, never written


@given(case=windows_case(), threads=st.integers(1, 3), data=st.data())
def test_col2im_adds_the_same_values_back(case, threads, data):
    x, kernel, stride, out_size, pads = case
    padded_shape = (x.shape[0], x.shape[1], x.shape[2] + sum(pads[0]), x.shape[3] + sum(pads[1]))
    cols_shape = (x.shape[1],) + kernel + out_size + (x.shape[0],)
    cols = data.draw(arrays(x.dtype, cols_shape, elements=values))
    with shared_between_threads(threads):
        fast = cpu.col2im(cols, padded_shape, stride)
    expected = plain.col2im(cols, padded_shape, stride)
    assert fast.shape == expected.shape == padded_shape
    np.testing.assert_array_equal(fast, expected)        # the same additions in the same order


@contextlib.contextmanager
def winograd_from(channels):
    saved, cpu.winograd_channels = cpu.winograd_channels, channels
    try:
        yield
    finally:
        cpu.winograd_channels = saved


@st.composite
def conv_case(draw):
    """A 3x3 convolution of stride 1, odd and even output sizes, each side padded 0 to 2."""
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    h, w = (draw(st.integers(max(1, 3 - sum(p)), 9)) for p in pads)
    dtype = draw(dtypes)
    x = draw(arrays(dtype, (n, c, h, w), elements=values))
    kernel = draw(arrays(dtype, (f, c, 3, 3), elements=values))
    oh, ow = h + sum(pads[0]) - 2, w + sum(pads[1]) - 2
    g = draw(arrays(dtype, (n, f, oh, ow), elements=values))
    bias = draw(st.none() | arrays(dtype, (f,), elements=values))
    return x, kernel, pads, g, bias


def close(fast, exact, magnitude, dtype):
    """fast in `dtype`, within 64 roundings of the largest sum of |terms| (magnitude) of the float64 exact
    values: Winograd's transforms mix the 36 values of a tile, so a value's error follows its tile's
    largest terms (an exact 0 beside large values comes out a few roundings of them off 0)."""
    assert fast.shape == exact.shape and fast.dtype == dtype
    error, bound = np.abs(fast.astype(np.float64) - exact), 64 * np.finfo(dtype).eps * (magnitude.max() + 1)
    assert np.all(error <= bound), f"max error {error.max():.3g}"


@given(case=conv_case(), relu=st.booleans(), batch_last=st.booleans(), threads=st.integers(1, 3))
def test_winograd_convolution_and_its_gradients(case, relu, batch_last, threads):
    """The CPU's Winograd F(4x4, 3x3) against base.py's im2col convolution: forward (bias and ReLU
    included) and the three gradients (the ReLU's taken first), odd sizes and every padding."""
    x, kernel, pads, g, bias = case
    x, g = laid_out(x, batch_last), laid_out(g, batch_last)
    inputs = (x, kernel, g)
    before = [a.copy() for a in inputs]
    with winograd_from(1), shared_between_threads(threads):
        assert cpu._winograd_suits(x, kernel, (1, 1))       # the fast path is what is tested
        out, saved = cpu.conv2d(x, kernel, (1, 1), pads, bias, relu)
        grads = cpu.conv2d_grads(saved, g)
    wide = [None if a is None else a.astype(np.float64) for a in (x, kernel, bias, g)]
    expected, exact_saved = plain.conv2d(*wide[:2], (1, 1), pads, wide[2], relu)
    magnitude, _ = plain.conv2d(np.abs(wide[0]), np.abs(wide[1]), (1, 1), pads,
                                None if bias is None else np.abs(wide[2]))
    close(out, expected, magnitude, x.dtype)
    if relu:        # the ReLU's gradient where both are > 0 (at an output near 0 rounding may differ)
        wide[3] = np.where((out > 0) == (expected > 0), wide[3], 0.0)
        g = wide[3].astype(x.dtype)
        with winograd_from(1), shared_between_threads(threads):
            grads = cpu.conv2d_grads(saved, g)
    exact_grads = plain.conv2d_grads(exact_saved, wide[3])
    _, magnitude_saved = plain.conv2d(np.abs(wide[0]), np.abs(wide[1]), (1, 1), pads)
    magnitudes = plain.conv2d_grads(magnitude_saved, np.abs(wide[3]))
    for fast, exact, magnitude in zip(grads, exact_grads, magnitudes):
        close(fast, exact, magnitude, x.dtype)
    for a, b in zip(inputs, before):
        np.testing.assert_array_equal(a, b)             # inputs read, never written


@given(case=conv_case(), relu=st.booleans(), data=st.data())
def test_winograd_leaves_infinite_and_nan_inputs_to_im2col(case, relu, data):
    """inf - inf in Winograd's transforms would give NaN where the plain convolution gives +-inf: an
    infinite or NaN x, kernel or g (past the ReLU) is convolved by im2col, as base.py does."""
    x, kernel, pads, g, bias = (a.copy() if isinstance(a, np.ndarray) else a for a in case)
    special = data.draw(st.sampled_from([np.inf, -np.inf, np.nan]))
    target = data.draw(st.sampled_from(["x", "kernel", "g"]))
    array = {"x": x, "kernel": kernel, "g": g}[target]
    array.flat[data.draw(st.integers(0, array.size - 1))] = special
    with winograd_from(1), np.errstate(invalid="ignore"):          # inf * 0 in the products, as in NumPy's
        out, saved = cpu.conv2d(x, kernel, (1, 1), pads, bias, relu)
        grads = cpu.conv2d_grads(saved, g)
        expected, expected_saved = plain.conv2d(x, kernel, (1, 1), pads, bias, relu)
        if relu:        # the ReLU's gradient through the same outputs (one exactly 0 may round to +-1e-8)
            expected_saved["relu_out"] = out
        expected_grads = plain.conv2d_grads(expected_saved, g)
    finite = [np.nan_to_num(np.abs(a), nan=0.0, posinf=0.0) for a in (x, kernel, g)]
    magnitude, magnitude_saved = plain.conv2d(finite[0], finite[1], (1, 1), pads)
    same_specials_and_close(out, expected, magnitude)
    for fast, exact, magnitude in zip(grads, expected_grads, plain.conv2d_grads(magnitude_saved, finite[2])):
        same_specials_and_close(fast, exact, magnitude)


def same_specials_and_close(fast, exact, magnitude):
    """inf, -inf and NaN where exact has them; the finite values as close() holds them."""
    for special in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(special(fast), special(exact))
    finite = np.isfinite(exact)
    if finite.any():
        close(fast[finite], exact[finite].astype(np.float64), magnitude[finite], fast.dtype)


@pytest.mark.filterwarnings("ignore:(invalid value|overflow) encountered:RuntimeWarning")   # (the threads)
def test_winograd_leaves_overflowing_inputs_to_im2col():
    """Winograd's transforms grow values (up to 49 times in B^T d B, 225 in A g A^T): finite inputs or
    gradients near float32's largest overflow inside them where im2col's sums do not; such a convolution
    (or gradient) is im2col's. (A checkerboard g grows 225 times in A g A^T, its sum staying 0.)"""
    rng = np.random.default_rng(0)
    pads = ((1, 1), (1, 1))
    x = rng.choice([-2e37, 2e37], size=(2, 16, 6, 6)).astype(np.float32)
    kernel = rng.uniform(-1e-3, 1e-3, (3, 16, 3, 3)).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        out, _ = cpu.conv2d(x, kernel, (1, 1), pads, None, False)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, plain.conv2d(x, kernel, (1, 1), pads)[0], rtol=1e-5)
    x = rng.standard_normal((2, 16, 6, 6)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (3, 16, 3, 3)).astype(np.float32)
    g = np.broadcast_to(3e36 * (-1.0) ** np.add.outer(np.arange(6), np.arange(6)), (2, 3, 6, 6)).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        _, saved = cpu.conv2d(x, kernel, (1, 1), pads, None, False)
        _, expected_saved = plain.conv2d(x, kernel, (1, 1), pads)
        for wanted in ({"kernel_grad": False}, {"x_grad": False}):
            grads = cpu.conv2d_grads(saved, g, **wanted)
            for fast, exact in zip(grads, plain.conv2d_grads(expected_saved, g, **wanted)):
                if exact is not None:
                    assert np.isfinite(exact).all() and np.isfinite(fast).all()
                    np.testing.assert_allclose(fast, exact, rtol=1e-5, atol=1e-5 * np.abs(exact).max())


@given(case=conv_case(), channels=st.sampled_from([1, 10 ** 6]))
def test_convolution_gradients_come_in_the_inputs_dtype(case, channels):
    """A gradient g of another dtype (float64 from a float32 layer, say): every gradient in x's dtype,
    by Winograd (channels = 1) and by im2col alike."""
    x, kernel, pads, g, bias = case
    g = g.astype(np.float64 if x.dtype == np.float32 else np.float32)
    with winograd_from(channels):
        for backend in (cpu, plain):
            _, saved = backend.conv2d(x, kernel, (1, 1), pads, bias, True)
            assert all(grad.dtype == x.dtype for grad in backend.conv2d_grads(saved, g))


@given(case=conv_case(), relu=st.booleans(), threads=st.integers(1, 3))
def test_convolution_below_winograd_channels_is_im2col(case, relu, threads):
    """Fewer channels than winograd_channels: base.py's steps (the CPU's im2col, col2im and product)."""
    x, kernel, pads, g, bias = case
    with winograd_from(x.shape[1] + 1), shared_between_threads(threads):
        assert not cpu._winograd_suits(x, kernel, (1, 1))
        out, saved = cpu.conv2d(x, kernel, (1, 1), pads, bias, relu)
        grads = cpu.conv2d_grads(saved, g)
    expected, expected_saved = plain.conv2d(x, kernel, (1, 1), pads, bias, relu)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    for fast, exact in zip(grads, plain.conv2d_grads(expected_saved, g)):
        np.testing.assert_allclose(fast, exact, rtol=1e-5, atol=1e-4)


images = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5))


@given(shape=st.one_of(images, st.tuples(st.integers(1, 9), st.integers(1, 9)), st.tuples(st.integers(1, 9))),
       batch_last=st.booleans(), threads=st.integers(1, 3), in_place=st.booleans(), data=st.data())
def test_relu_and_its_gradient(shape, batch_last, threads, in_place, data):
    special = st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf])
    dtype = data.draw(dtypes)
    x = laid_out(data.draw(arrays(dtype, shape, elements=values | special)), batch_last)
    g = data.draw(arrays(dtype, shape, elements=values | special))
    g = laid_out(g, batch_last if data.draw(st.booleans()) else not batch_last)     # alike, or not
    expected = plain.relu(x)
    with shared_between_threads(threads):
        target = x.copy() if in_place else None
        fast = cpu.relu(x if target is None else target, target)
        fast_grad = cpu.relu_grad(fast, g)
    assert fast is target if in_place else same_layout(fast, x)        # in place, or laid out as x
    np.testing.assert_array_equal(fast, expected)          # NaN stays NaN, -0 as max(-0, 0) gives
    assert in_place or not (np.shares_memory(fast, x) or np.shares_memory(expected, x))
    np.testing.assert_array_equal(fast_grad, plain.relu_grad(expected, g))
    np.testing.assert_array_equal(fast_grad, np.where(x > 0, g, 0.0))        # 0 where x <= 0, even for g = inf
    assert not np.signbit(fast_grad[~(x > 0)]).any()                           # +0, never -0 (any layout)


@given(shape=st.one_of(images, st.tuples(st.integers(2, 9), st.integers(1, 6))), batch_last=st.booleans(),
       threads=st.integers(1, 3), epsilon=st.sampled_from([1e-3, 1e-5]), data=st.data())
def test_batch_norm_and_its_gradient(shape, batch_last, threads, epsilon, data):
    c = shape[1]
    x = laid_out(data.draw(arrays(np.float32, shape, elements=values)), batch_last)
    g = laid_out(data.draw(arrays(np.float32, shape, elements=values)), batch_last)
    gamma = data.draw(arrays(np.float32, (c,), elements=st.floats(0.25, 2, width=32)))
    beta = data.draw(arrays(np.float32, (c,), elements=values))
    with shared_between_threads(threads):
        fast = cpu.batch_norm(x, gamma, beta, epsilon)
        fast_grads = cpu.batch_norm_grad(g, fast[1], gamma, fast[4])
    expected = plain.batch_norm(x, gamma, beta, epsilon)
    for mine, theirs in zip(fast, expected):       # y, x_hat, mean, variance, 1 / sqrt(variance + eps)
        assert mine.shape == theirs.shape and mine.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(mine, theirs, rtol=2e-5, atol=2e-5 / np.sqrt(epsilon))
    for mine, theirs in zip(fast_grads, plain.batch_norm_grad(g, expected[1], gamma, expected[4])):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4 / np.sqrt(epsilon))


@given(k=st.integers(1, 3), n=st.integers(1, 3), c=st.integers(1, 5), tiles=st.tuples(st.integers(1, 4),
       st.integers(1, 4)), ties=st.booleans(), batch_last=st.booleans(), threads=st.integers(1, 3), data=st.data())
def test_max_pool_of_tiling_windows_and_its_gradient(k, n, c, tiles, ties, batch_last, threads, data):
    shape = (n, c, k * tiles[0], k * tiles[1])
    special = st.sampled_from([np.nan, np.inf, -np.inf])     # a NaN window gives g to its last cell
    elements = st.sampled_from([-1.0, 0.0, 2.0]) if ties else values | special    # ties: the first maximum wins
    dtype = data.draw(dtypes)
    x = laid_out(data.draw(arrays(dtype, shape, elements=elements)), batch_last)
    g = laid_out(data.draw(arrays(dtype, (n, c) + tiles, elements=values | special)), batch_last)
    with shared_between_threads(threads):
        fast = cpu.max_pool_tiles(x, k)
        fast_grad = cpu.max_pool_tiles_grad(x, fast, g, k)
    expected = plain.max_pool_tiles(x, k)
    assert not np.shares_memory(fast, x) and not np.shares_memory(expected, x)     # k = 1 too: a new array
    np.testing.assert_array_equal(fast, expected)
    np.testing.assert_array_equal(fast_grad, plain.max_pool_tiles_grad(x, expected, g, k))
    assert fast.dtype == expected.dtype == fast_grad.dtype == x.dtype
    assert np.sum(fast_grad != 0) <= np.sum(g != 0)      # each window's gradient went to one cell
    np.testing.assert_array_equal(np.sort(fast_grad[fast_grad != 0]), np.sort(g[g != 0]))      # whole


@given(rows=st.integers(1, 40), inner=st.integers(1, 300), columns=st.integers(1, 300), threads=st.integers(1, 3),
       data=st.data())
def test_the_blocked_matrix_product(rows, inner, columns, threads, data):
    """Blocks of columns, of rows and of summed terms, each with the bias and ReLU added block by block."""
    a = data.draw(arrays(np.float32, (rows, inner), elements=values))
    b = data.draw(arrays(np.float32, (inner, columns), elements=values))
    bias = data.draw(st.none() | arrays(np.float32, (rows,), elements=values))
    relu = data.draw(st.booleans())
    saved = cpu.block, cpu.blocked_work
    cpu.block, cpu.blocked_work = 16, 1            # blocks of 16 columns or terms, even for small products
    try:
        with shared_between_threads(threads):
            fast = cpu.matmul(a, b, bias, relu)
    finally:
        cpu.block, cpu.blocked_work = saved
    expected = plain.matmul(a, b, bias, relu)
    np.testing.assert_allclose(fast, expected, rtol=1e-4, atol=1e-4 * np.sqrt(inner) * 16)


@given(n=st.integers(1, 4), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7), data=st.data())
def test_shifting_images_by_slices_and_by_one_gather(n, c, h, w, data):
    """RandomTranslation's step: the CPU's slice per image and base.py's one gather, against a loop over
    pixels; shifts as far as the whole image and past it (nothing left but zeros)."""
    x = data.draw(arrays(np.float32, (n, c, h, w), elements=values))
    dys = np.array(data.draw(st.lists(st.integers(-h - 1, h + 1), min_size=n, max_size=n)), np.int64)
    dxs = np.array(data.draw(st.lists(st.integers(-w - 1, w + 1), min_size=n, max_size=n)), np.int64)
    expected = np.zeros_like(x)
    for i in range(n):
        for y in range(h):
            for z in range(w):
                if 0 <= y - dys[i] < h and 0 <= z - dxs[i] < w:
                    expected[i, :, y, z] = x[i, :, y - dys[i], z - dxs[i]]
    np.testing.assert_array_equal(cpu.shift_images(x, dys, dxs), expected)
    np.testing.assert_array_equal(plain.shift_images(x, dys, dxs), expected)
    x[:, :, 0, 0] = np.inf                      # an edge pixel the gather reads for the border: still 0
    assert not np.isnan(plain.shift_images(x, dys, dxs)).any()
