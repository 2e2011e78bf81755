"""Max and average pooling: one value per window, each channel on its own.

Windows come from im2col as (C, KH*KW, OH, OW, N); pooling reduces the
window axis. The gradient goes back through col2im, the adjoint of im2col.
"""

from .. import autograd
from ..tensor import Tensor, floating
from .im2col import output_size, padding_amounts, pair, unpad2d


def _windows(x, pool_size, stride, padding, fill, name):
    """Padded windows of x as (C, K, OH, OW, N), plus what backward needs."""
    if not isinstance(x, Tensor) or x.ndim != 4:
        shape = getattr(x, "shape", None)
        raise ValueError(f"{name}: x must be a mc.Tensor of shape (N, C, H, W), got shape {shape}")
    kernel = pair(pool_size, "pool_size")
    stride = kernel if stride is None else pair(stride, "stride")
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"{name}: pool_size and stride must be at least 1, got {kernel} and {stride}")
    n, c, h, w = x.shape
    pads = padding_amounts(padding, (h, w), kernel, stride)
    if any(p >= k for k, side in zip(kernel, pads) for p in side):
        raise ValueError(f"{name}: padding {pads} must be smaller than pool_size {kernel} on every side, "
                         f"or a window could hold padding only")
    out_hw = output_size((h, w), kernel, stride, pads, name)
    backend = x.backend
    cols = backend.im2col(x.data, kernel, stride, out_hw, pads, fill)
    cols = backend.xp.reshape(cols, (c, kernel[0] * kernel[1]) + tuple(out_hw) + (n,))
    padded_shape = (n, c, h + sum(pads[0]), w + sum(pads[1]))
    return cols, kernel, stride, pads, padded_shape


def _to_nchw(xp, a):
    return xp.permute_dims(a, (3, 0, 1, 2))      # (C, OH, OW, N) -> (N, C, OH, OW)


def _from_nchw(xp, a):
    return xp.permute_dims(a, (1, 2, 3, 0))      # (N, C, OH, OW) -> (C, OH, OW, N)


def _back_to_input(backend, g_cols, kernel, stride, pads, padded_shape):
    c, _, oh, ow, n = g_cols.shape
    g_cols = backend.xp.reshape(g_cols, (c, kernel[0], kernel[1], oh, ow, n))
    return unpad2d(backend.col2im(g_cols, padded_shape, stride), pads)


def max_pool2d(x, pool_size=2, stride=None, padding=0):
    """Largest value of each window. stride defaults to pool_size; padded cells never win.

    In a tie the whole gradient goes to the first maximum (row by row).
    """
    x = floating(x)
    if _tiles_exactly(x, pool_size, stride, padding):
        return _max_pool_tiles(x, pool_size)
    backend, xp = x.backend, x.xp
    cols, kernel, stride, pads, padded_shape = _windows(x, pool_size, stride, padding,
                                                        -float("inf"), "max_pool2d")
    winner = xp.argmax(cols, axis=1)           # first maximum of each window
    out = _to_nchw(xp, xp.max(cols, axis=1))

    def backward(g):
        offsets = xp.reshape(backend.arange(cols.shape[1]), (1, -1, 1, 1, 1))
        won = xp.expand_dims(winner, axis=1) == offsets
        g_cols = xp.where(won, xp.expand_dims(_from_nchw(xp, g), axis=1), 0.0)     # an infinite g: its cell only
        return (_back_to_input(backend, g_cols, kernel, stride, pads, padded_shape),)
    return autograd.record(Tensor(out, backend), (x,), backward)


def _tiles_exactly(x, pool_size, stride, padding):
    """The common case: square windows that tile the image without overlap, gap or padding."""
    return (isinstance(pool_size, int) and pool_size >= 1 and stride in (None, pool_size) and padding in (0, "valid")
            and isinstance(x, Tensor) and x.ndim == 4 and x.shape[2] % pool_size == 0
            and x.shape[3] % pool_size == 0)


def _max_pool_tiles(x, k):
    """Fast path of max_pool2d for windows that tile the image: no im2col copy, the k*k strided views
    of the backend's max_pool_tiles. The general path above gives the same values and gradients
    (tests compare them)."""
    backend = x.backend
    out = backend.max_pool_tiles(x.data, k)
    return autograd.record(Tensor(out, backend), (x,), lambda g: (backend.max_pool_tiles_grad(x.data, out, g, k),))


def avg_pool2d(x, pool_size=2, stride=None, padding=0):
    """Mean of each window over its real cells: padded cells are not counted."""
    x = floating(x)
    backend, xp = x.backend, x.xp
    cols, kernel, stride, pads, padded_shape = _windows(x, pool_size, stride, padding, 0.0, "avg_pool2d")
    counts = _real_cells(backend, x, kernel, stride, pads, cols.shape[2:4])  # (OH, OW, 1)
    out = _to_nchw(xp, xp.sum(cols, axis=1) / counts)

    def backward(g):
        share = xp.expand_dims(_from_nchw(xp, g) / counts, axis=1)
        g_cols = xp.broadcast_to(share, cols.shape)
        return (_back_to_input(backend, g_cols, kernel, stride, pads, padded_shape),)
    return autograd.record(Tensor(out, backend), (x,), backward)


def _real_cells(backend, x, kernel, stride, pads, out_hw):
    """How many non-padding cells each window holds, as (OH, OW, 1)."""
    ones = backend.full((1, 1) + x.shape[2:], 1, x.dtype)
    cols = backend.im2col(ones, kernel, stride, out_hw, pads)
    return backend.xp.sum(backend.xp.reshape(cols, (kernel[0] * kernel[1],) + tuple(out_hw) + (1,)), axis=0)
