"""Sliding windows as a matrix (im2col), its adjoint (col2im), padding and output sizes.

Convolution and pooling both look at every KH x KW window of the input.
im2col copies those windows side by side, so a convolution becomes one
matrix product and a pooling one reduction. The copy is a loop over the
KH * KW kernel offsets (not over pixels): for offset (i, j) the values seen
by all windows form one strided slice of the input.

Layout: the padded input is laid out as (C, H, W, N), the batch innermost,
and windows are returned as (C, KH, KW, OH, OW, N). Reshaping them to
(C*KH*KW, OH*OW*N) gives the matrix the convolution multiplies, and each
offset's copy moves runs of OW*N neighbouring numbers rather than rows of OW:
NumPy pays a little for every run, which for a 16-pixel-wide map costs more
than the copying. The convolution's output then comes out as (F, OH, OW, N)
in memory too, so the next layer reads its input in this order. Tensors
still show (N, C, H, W); only the memory order differs.

Both loops run once for each share of the channels (Backend.split_work): on
a CPU, each core copies the windows of its own channels.
"""

import numbers


def pair(value, name):
    """An int or a pair of ints (NumPy's included, bools not) as a pair of Python ints."""
    def whole(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if whole(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(whole(v) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def padding_amounts(padding, in_size, kernel, stride):
    """Zero padding as ((top, bottom), (left, right)).

    `padding` is an int, a pair (rows, cols), "valid" (none) or "same"
    (Keras: output size ceil(n / stride); an odd total puts the extra row or
    column at the bottom or right).
    """
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        amounts = []
        for n, k, s in zip(in_size, kernel, stride):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            amounts.append((total // 2, total - total // 2))
        return tuple(amounts)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must not be negative, got {padding!r}")
    return ((ph, ph), (pw, pw))


def output_size(in_size, kernel, stride, pads, what):
    """floor((n + p_before + p_after - k) / s) + 1 for each spatial axis; an error below 1."""
    sizes = tuple((n + p0 + p1 - k) // s + 1 for n, k, s, (p0, p1) in zip(in_size, kernel, stride, pads))
    if min(sizes) < 1:
        raise ValueError(f"{what}: input of spatial size {tuple(in_size)} with kernel {tuple(kernel)}, "
                         f"padding {tuple(pads)} and stride {tuple(stride)} leaves an output of size "
                         f"{sizes}; use a smaller kernel or stride, or more padding")
    return sizes


def batch_last(backend, x, pads, value):
    """x (N, C, H, W) framed by `value` ((top, bottom), (left, right) rows and columns), as a new
    array laid out (C, H, W, N)."""
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    out = backend.full((c, h + top + bottom, w + left + right, n), value, x.dtype)
    out[:, top:top + h, left:left + w, :] = backend.xp.permute_dims(x, (1, 2, 3, 0))
    return out


def unpad2d(x, pads):
    """The inverse of padding by `pads`: the centre of x."""
    (top, bottom), (left, right) = pads
    h, w = x.shape[2], x.shape[3]
    return x[:, :, top:h - bottom, left:w - right]


def offset_slices(i, j, stride, out_size):
    """Where offset (i, j) of every window lies: rows i, i + SH, ..., columns j, j + SW, ..."""
    (sh, sw), (oh, ow) = stride, out_size
    return slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)


def im2col(backend, x, kernel, stride, out_size, pads=((0, 0), (0, 0)), pad_value=0.0):
    """Every (KH, KW) window of x (N, C, H, W) framed by `pads`, as an array (C, KH, KW, OH, OW, N).

    cols[c, i, j, y, z, n] = padded_x[n, c, y * SH + i, z * SW + j]
    """
    n, c = x.shape[0], x.shape[1]
    (kh, kw), (oh, ow) = kernel, out_size
    cols = backend.empty((c, kh, kw, oh, ow, n), x.dtype)

    def fill(start, stop):      # channels start..stop-1, padded one share at a time
        images = batch_last(backend, x[:, start:stop, ...], pads, pad_value)
        for i in range(kh):
            for j in range(kw):
                rows, columns = offset_slices(i, j, stride, out_size)
                cols[start:stop, i, j, ...] = images[:, rows, columns, :]
    backend.split_work(fill, c, cols.size)
    return cols


def col2im(backend, cols, x_shape, stride):
    """The adjoint of im2col: each window value added back where it came from.

    Returns an array of shape `x_shape` (N, C, H, W), laid out (C, H, W, N) in
    memory; overlapping windows add up.
    """
    n, c, h, w = x_shape
    _, kh, kw, oh, ow, _ = cols.shape
    x = backend.zeros((c, h, w, n), cols.dtype)

    def fill(start, stop):
        for i in range(kh):
            for j in range(kw):
                rows, columns = offset_slices(i, j, stride, (oh, ow))
                x[start:stop, rows, columns, :] += cols[start:stop, i, j, ...]
    backend.split_work(fill, c, cols.size)
    return backend.xp.permute_dims(x, (3, 0, 1, 2))
