"""The CPU: NumPy, with the work shared between the cores by minicnn's own threads.

NumPy runs each elementwise operation on one core, but it lets go of Python's
lock inside its loops. So the heavy steps that base.py writes plainly (im2col,
col2im, pooling, batch norm, ReLU) run here one share of the channels at a
time, the shares on several threads at once: split_work below. Matrix products
are shared the same way, in blocks, with the BLAS held at one thread while
minicnn's product runs (and given back its own count after): OpenBLAS's own
threads keep spinning for a while after each product, and would take the cores
the next elementwise op needs. Pooling and ReLU's gradient are not NumPy passes
at all here but loops compiled by numba (loops.py), which the threads run on
their shares likewise. A 3x3 convolution of stride 1 over 16 channels or more
is Winograd's F(4x4, 3x3) (winograd.py): its transforms are compiled loops, its
36 products shared between the threads.
"""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from . import loops, winograd
from .base import Backend
from .imports import import_leaving_environ


class NumpyBackend(Backend):
    """NumPy on "cpu": the standard's functions, plus host copies, ufunc out=, add.at and a thread pool."""

    min_parallel_size = 2 ** 16  # elements; below this a thread costs more than it saves
    max_share = 2 ** 21          # elements of work per call of an op's loop (split_work)
    block = 4096                 # columns (or summed terms) of a matrix product per task
    blocked_work = 2 ** 22       # multiply-adds; smaller products are one BLAS call

    keep_bytes = 2 ** 17         # arrays this large come from the arena (glibc would map each one afresh)

    def __init__(self):
        super().__init__("cpu", np)
        self.threads = _cores()
        self._arena = _Arena()

    # --- large arrays come from the arena: reused, not faulted in afresh each step ---
    def _buffer(self, shape, dtype):
        """An uninitialised array of `shape`; a large one is carved from minicnn's arena (_Arena)."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes < self.keep_bytes:
            return np.empty(shape, dtype)
        return self._arena.take(nbytes).view(dtype).reshape(shape)

    def empty(self, shape, dtype):
        return self._buffer(shape, self.dtype(dtype))

    def zeros(self, shape, dtype):
        out = self._buffer(shape, self.dtype(dtype))
        out[...] = 0
        return out

    def full(self, shape, value, dtype):
        out = self._buffer(shape, self.dtype(dtype))
        out[...] = value
        return out

    def empty_like(self, array):
        """An array shaped like `array`, laid out in memory as it is (the batch last: see im2col below)."""
        order = np.argsort(array.strides, kind="stable")[::-1]          # outermost axis first
        out = self._buffer(tuple(array.shape[i] for i in order), array.dtype)
        return np.permute_dims(out, tuple(np.argsort(order)))

    def matmul(self, a, b, bias=None, relu=False):
        """base.py's matmul for 2-D a and b, in blocks shared between minicnn's threads, the BLAS on one
        thread; bias and ReLU applied to each block as soon as it is computed, while it is in the cache.

        A wide product is cut into blocks of `block` columns, a tall one into
        blocks of rows; a long one (few columns, many summed terms: a weight
        gradient) into blocks of terms, whose partial products are then added
        in order. The blocks do not depend on the thread count, so neither does
        any result, bit for bit.
        """
        bias = None if bias is None else np.reshape(bias, (-1, 1))

        def finish(block, rows=slice(None)):        # block: rows `rows` of the product, computed
            if bias is not None:
                block += bias[rows]
            if relu:
                np.maximum(block, 0.0, out=block)   # keeps NaN as NaN, as relu does
            return block
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] * b.shape[1] * a.shape[1] < self.blocked_work:
            with _blas_on_one_thread():
                return finish(np.matmul(a, b))
        rows, inner, columns = a.shape[0], a.shape[1], b.shape[1]
        with _blas_on_one_thread():
            if columns >= 2 * self.block or rows >= 2 * self.block:
                out = self.empty((rows, columns), np.result_type(a, b))
                by_columns = columns >= 2 * self.block

                def wide(start, stop):
                    for k in range(start, stop):
                        part = slice(k * self.block, (k + 1) * self.block)
                        if by_columns:
                            finish(np.matmul(a, b[:, part], out=out[:, part]))
                        else:
                            finish(np.matmul(a[part], b, out=out[part]), part)
                self.split_work(wide, -(-(columns if by_columns else rows) // self.block), out.size * 8)
                return out
            blocks = -(-inner // self.block)
            partials = [None] * blocks

            def long(start, stop):
                for k in range(start, stop):
                    part = slice(k * self.block, (k + 1) * self.block)
                    partials[k] = np.matmul(a[:, part], b[part, :])
            self.split_work(long, blocks, rows * inner * 8)
            out = partials[0]
            for partial in partials[1:]:
                out += partial
            return finish(out)

    # --- the heavy steps, overriding base.py's plain versions: the same numbers (to rounding), on every core ---
    winograd_channels = 16       # fewer input channels: im2col's one product beats Winograd's 36 thin ones

    def conv2d(self, x, kernel, stride, pads, bias=None, relu=False):
        """base.py's conv2d; a 3x3 one of stride 1 by Winograd's F(4x4, 3x3) (winograd.py), its 36 products
        and its transforms shared between the threads. It keeps the transformed patches V for the
        gradient (about 2.25 times the size of x where 4 divides the output's sides: a quarter of im2col's
        windows)."""
        if not self._winograd_suits(x, kernel, stride):
            return super().conv2d(x, kernel, stride, pads, bias, relu)
        n, f = x.shape[0], kernel.shape[0]
        (oh, ow), frame = self._winograd_frame(x.shape, pads)
        v, finite = self._winograd_patches(x, frame)
        if not (finite and np.isfinite(kernel).all()):         # inf - inf: see winograd.py
            return super().conv2d(x, kernel, stride, pads, bias, relu)
        u = self._kernel_transform(kernel)
        m = self._products(u, v)
        out = self.empty((f, oh, ow, n), x.dtype)
        shift = np.zeros(f, x.dtype) if bias is None else bias.astype(x.dtype, copy=False)
        transform, at = loops.compiled(winograd.output_transform), winograd.AT.astype(x.dtype)
        finite = np.empty(f, x.dtype)
        self.split_work(lambda start, stop: transform(m, at, shift, relu, out, finite, start, stop), f, m.size)
        if np.isnan(finite).any():      # a huge input overflowed inside the transforms: see winograd.py
            return super().conv2d(x, kernel, stride, pads, bias, relu)
        out = np.permute_dims(out, (3, 0, 1, 2))
        return out, {"x": x, "kernel": kernel, "stride": stride, "pads": pads, "relu_out": out if relu else None,
                     "windows": None, "patches": v, "u": u}

    def conv2d_grads(self, saved, g, x_grad=True, kernel_grad=True, bias_grad=True):
        """base.py's conv2d_grads; for what conv2d computed by Winograd, that computation's transpose, the
        ReLU's gradient and the bias's sum taken in its first pass over g."""
        if "patches" not in saved:
            return super().conv2d_grads(saved, g, x_grad, kernel_grad, bias_grad)
        x, kernel, pads, v, u = saved["x"], saved["kernel"], saved["pads"], saved["patches"], saved["u"]
        (n, c, h, w), f = x.shape, kernel.shape[0]
        (oh, ow), frame = self._winograd_frame(x.shape, pads)
        tiles_h, tiles_w = winograd.tiles(oh), winograd.tiles(ow)
        grads = _as_batch_last(g.astype(x.dtype, copy=False))
        relu = saved["relu_out"] is not None
        relu_out = _as_batch_last(saved["relu_out"]) if relu else grads
        g_m = self.empty((winograd.POSITIONS, f, tiles_h * tiles_w * n), x.dtype)
        g_bias, at, bt = np.empty(f, x.dtype), winograd.AT.astype(x.dtype), winograd.BT.astype(x.dtype)
        transform = loops.compiled(winograd.output_transform_grad)

        def share(start, stop):
            transform(grads, relu_out, relu, at, g_m, g_bias, start, stop)
        self.split_work(share, f, g_m.size)
        if not np.isfinite(g_bias).all():           # an infinite or NaN g (past the ReLU): inf - inf again
            return super().conv2d_grads(saved, g, x_grad, kernel_grad, bias_grad)
        g_x = g_kernel = None
        if kernel_grad:
            g_u = self._products(g_m, np.permute_dims(v, (0, 2, 1)))
            with _blas_on_one_thread():       # (OpenBLAS's own threads would spin on after it)
                g_kernel = winograd.kernel_transform_grad(g_u)
            if not np.isfinite(g_kernel).all():         # overflow inside the transforms
                return super().conv2d_grads(saved, g, x_grad, kernel_grad, bias_grad)
        if x_grad:
            g_v = self._products(np.permute_dims(u, (0, 2, 1)), g_m)
            (top, _), (left, _) = frame
            g_x, finite = self.zeros((c, h, w, n), x.dtype), np.empty(c, x.dtype)
            spread = loops.compiled(winograd.input_transform_grad)
            self.split_work(lambda start, stop: spread(g_v, bt, tiles_w, top, left, g_x, finite, start, stop),
                            c, g_v.size)
            if np.isnan(finite).any():
                return super().conv2d_grads(saved, g, x_grad, kernel_grad, bias_grad)
            g_x = np.permute_dims(g_x, (3, 0, 1, 2))
        return g_x, g_kernel, g_bias if bias_grad else None

    def _winograd_suits(self, x, kernel, stride):
        return (tuple(kernel.shape[2:]) == (3, 3) and tuple(stride) == (1, 1) and x.dtype == kernel.dtype
                and x.dtype in _COMPILED_DTYPES and x.shape[1] >= self.winograd_channels and x.size > 0)

    @staticmethod
    def _winograd_frame(x_shape, pads):
        """A 3x3 convolution's output size, and the frame round x that makes whole 6x6 patches for all its 4x4 tiles:
        `pads`, with up to 3 rows or columns more at the bottom or right where 4 does not divide the output's size."""
        (top, bottom), (left, right) = pads
        oh, ow = x_shape[2] + top + bottom - 2, x_shape[3] + left + right - 2
        tiles_h, tiles_w = winograd.tiles(oh), winograd.tiles(ow)
        t = winograd.TILE
        return (oh, ow), ((top, t * tiles_h + 2 - x_shape[2] - top), (left, t * tiles_w + 2 - x_shape[3] - left))

    def _winograd_patches(self, x, frame):
        """V (36, C, tiles * N): B^T d B of every 6x6 patch of x framed by `frame`, one share of channels a
        thread; and whether x is finite."""
        padded = _batch_last(self, x, frame, 0.0)
        c, hp, wp, n = padded.shape
        t = winograd.TILE
        v = self.empty((winograd.POSITIONS, c, (hp - 2) // t * ((wp - 2) // t) * n), x.dtype)
        finite, bt = np.empty(c, x.dtype), winograd.BT.astype(x.dtype)
        transform = loops.compiled(winograd.input_transform)
        self.split_work(lambda start, stop: transform(padded, bt, v, finite, start, stop), c, v.size)
        return v, not np.isnan(finite).any()

    @staticmethod
    def _kernel_transform(kernel):
        with _blas_on_one_thread():       # a small product: OpenBLAS's own threads would spin on after it
            return winograd.kernel_transform(kernel)

    def _products(self, a, b):
        """a[k] @ b[k] for Winograd's 36 positions k (a (36, M, K), b (36, K, N)), the positions shared
        between the threads."""
        out = self.empty((a.shape[0], a.shape[1], b.shape[2]), np.result_type(a, b))

        def share(start, stop):
            for k in range(start, stop):
                np.matmul(a[k], b[k], out=out[k])
        with _blas_on_one_thread():
            self.split_work(share, a.shape[0], out.size * a.shape[2])
        return out

    def im2col(self, x, kernel, stride, out_size, pads=((0, 0), (0, 0)), pad_value=0.0):
        """base.py's im2col, with the padded input laid out (C, H, W, N) in memory: each kernel offset's
        copy then moves runs of OW*N neighbouring numbers rather than rows of OW (NumPy pays for every
        run, and for a 16-pixel-wide map that costs more than the copying), and the convolution's output
        comes out (F, OH, OW, N) in memory, the order the next layer reads. Tensors still show
        (N, C, H, W). The threads pad shares of the channels, then copy shares of the (channel, kernel
        offset) pairs: an RGB image has only 3 channels, but 27 such pairs."""
        n, c = x.shape[0], x.shape[1]
        (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_size
        images = _batch_last(self, x, pads, pad_value)
        cols = self.empty((c, kh, kw, oh, ow, n), x.dtype)

        def fill(start, stop):      # pairs start..stop-1, numbered offset by offset: pair = offset * C + channel
            for offset in range(start // c, -(-stop // c)):
                first, last = max(start - offset * c, 0), min(stop - offset * c, c)
                (i, j) = divmod(offset, kw)
                rows, columns = slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)
                cols[first:last, i, j, ...] = images[first:last, rows, columns, :]
        self.split_work(fill, c * kh * kw, cols.size)
        return cols

    def col2im(self, cols, x_shape, stride):
        """base.py's col2im, summed into an array laid out (C, H, W, N), one share of channels a thread."""
        n, c, h, w = x_shape
        _, kh, kw, oh, ow, _ = cols.shape
        sh, sw = stride
        x = self.zeros((c, h, w, n), cols.dtype)

        def fill(start, stop):
            for i in range(kh):
                for j in range(kw):
                    rows, columns = slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)
                    x[start:stop, rows, columns, :] += cols[start:stop, i, j, ...]
        self.split_work(fill, c, cols.size)
        return np.permute_dims(x, (3, 0, 1, 2))

    def relu(self, a, out=None):
        """base.py's relu, into `out` (or a new array laid out as a), the channels shared between threads."""
        out = self.empty_like(a) if out is None else out

        def forward(start, stop):
            np.maximum(_channels(a, start, stop), 0.0, out=_channels(out, start, stop))     # keeps NaN as NaN
        self.split_work(forward, _channel_count(out), out.size)
        return out

    def relu_grad(self, out, g):
        """base.py's relu_grad in shares between the threads: one compiled loop (loops.py) over the memory of
        out and g where the two are laid out alike; else NumPy, one share of channels a thread."""
        if out.dtype != g.dtype or g.dtype not in _COMPILED_DTYPES:
            return super().relu_grad(out, g)
        g_x = self.empty_like(g)
        flat = [_memory(a) for a in (out, g, g_x)]
        if out.strides == g.strides and all(a is not None for a in flat):
            block, loop = 2 ** 16, loops.compiled(loops.relu_grad)

            def share(start, stop):
                loop(*(a[start * block:stop * block] for a in flat))
            self.split_work(share, -(-g.size // block), g.size)
        else:       # NumPy, one share of channels a thread: g times the mask (np.where and copyto's where=
            def share(start, stop):     # are ten times slower), then an infinite or NaN g's NaNs put back to 0
                part, positive = _channels(g_x, start, stop), _channels(out, start, stop) > 0
                with np.errstate(invalid="ignore"):         # inf * False: its NaN is put back below
                    np.multiply(_channels(g, start, stop), positive, out=part)
                part += 0.0         # -0.0 (a negative g times False) becomes 0.0, as base.py's where gives
                if np.isnan(part).any():
                    part[~positive] = 0.0
            self.split_work(share, _channel_count(g), g.size)
        return g_x

    def batch_norm(self, x, gamma, beta, epsilon):
        """base.py's batch_norm one share of channels at a time (each channel's statistics are its own),
        written into arrays made once: no full-size temporaries beyond a share's."""
        axes = tuple(i for i in range(x.ndim) if i != 1)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        mean, variance, inv_std = (self.zeros(shape, x.dtype) for _ in range(3))
        x_hat, out = self.empty_like(x), self.empty_like(x)
        gamma, beta = np.reshape(gamma, shape), np.reshape(beta, shape)

        def forward(a, b):
            xs = x[:, a:b, ...]
            mean[:, a:b, ...] = np.mean(xs, axis=axes, keepdims=True)
            centred = xs - mean[:, a:b, ...]
            variance[:, a:b, ...] = np.mean(centred * centred, axis=axes, keepdims=True)
            inv_std[:, a:b, ...] = 1.0 / np.sqrt(variance[:, a:b, ...] + epsilon)
            np.multiply(centred, inv_std[:, a:b, ...], out=x_hat[:, a:b, ...])
            np.multiply(x_hat[:, a:b, ...], gamma[:, a:b, ...], out=out[:, a:b, ...])
            np.add(out[:, a:b, ...], beta[:, a:b, ...], out=out[:, a:b, ...])
        self.split_work(forward, x.shape[1], x.size * 4)
        return out, x_hat, mean, variance, inv_std

    def batch_norm_grad(self, g, x_hat, gamma, inv_std):
        axes = tuple(i for i in range(g.ndim) if i != 1)
        shape = (1, g.shape[1]) + (1,) * (g.ndim - 2)
        count = g.size // g.shape[1]
        g_beta, g_gamma = self.zeros(shape, g.dtype), self.zeros(shape, g.dtype)
        g_x = self.empty_like(g)
        scale = np.reshape(gamma, shape) * inv_std

        def channels(a, b):
            gs, hs = g[:, a:b, ...], x_hat[:, a:b, ...]
            g_beta[:, a:b, ...] = np.sum(gs, axis=axes, keepdims=True)
            g_gamma[:, a:b, ...] = np.sum(gs * hs, axis=axes, keepdims=True)
            step = gs - g_beta[:, a:b, ...] / count - hs * (g_gamma[:, a:b, ...] / count)
            np.multiply(step, scale[:, a:b, ...], out=g_x[:, a:b, ...])
        self.split_work(channels, g.shape[1], g.size * 4)
        return g_x, np.reshape(g_gamma, (-1,)), np.reshape(g_beta, (-1,))

    def max_pool_tiles(self, x, k):
        """base.py's max_pool_tiles as one compiled loop (loops.max_pool), into an array laid out (C, H, W, N),
        one share of channels a thread."""
        if x.dtype not in _COMPILED_DTYPES:
            return super().max_pool_tiles(x, k)
        maps = _as_batch_last(x)
        c, h, w, n = maps.shape
        out = self.empty((c, h // k, w // k, n), x.dtype)
        pool = loops.compiled(loops.max_pool)
        self.split_work(lambda start, stop: pool(maps[start:stop], out[start:stop], k), c, x.size)
        return np.permute_dims(out, (3, 0, 1, 2))

    def max_pool_tiles_grad(self, x, out, g, k):
        """base.py's max_pool_tiles_grad as one compiled loop (loops.max_pool_grad), laid out as
        max_pool_tiles lays out its output: the next backward reads it in order."""
        if x.dtype not in _COMPILED_DTYPES or g.dtype != x.dtype:
            return super().max_pool_tiles_grad(x, out, g, k)
        maps, pooled, grads = _as_batch_last(x), _as_batch_last(out), _as_batch_last(g)
        g_x = self.empty(maps.shape, x.dtype)
        route = loops.compiled(loops.max_pool_grad)

        def share(start, stop):
            route(maps[start:stop], pooled[start:stop], grads[start:stop], g_x[start:stop], k)
        self.split_work(share, maps.shape[0], x.size)
        return np.permute_dims(g_x, (3, 0, 1, 2))

    def owns(self, array):
        return isinstance(array, (np.ndarray, np.generic))

    def to_host(self, array):
        return np.array(array, copy=True)      # NumPy's reductions may hand back scalars, which have no DLPack

    def index_add(self, target, index, values):
        np.add.at(target, index, values)

    def index_in_range(self, index, shape):
        pass            # NumPy raises IndexError itself

    def random_bits(self, key, start, n):
        """base.py's random_bits, the same steps in place on cache-sized shares, shared between the
        threads: four times faster than whole-array temporaries."""
        out = np.empty(n, np.uint64)
        share = 1 << 15

        def compute(first, stop):
            for lo in range(first * share, min(stop * share, n), share):
                z = out[lo:min(lo + share, n)]
                spare = np.empty_like(z)
                np.add(np.arange(len(z), dtype=np.uint64), (start + lo) & 0xFFFFFFFFFFFFFFFF, out=z)
                z *= 0x9E3779B97F4A7C15
                z += key
                for shift, multiplier in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, None)):
                    np.right_shift(z, shift, out=spare)
                    z ^= spare
                    if multiplier:
                        z *= multiplier
        self.split_work(compute, -(-n // share), n)
        return out

    def shift_images(self, x, dys, dxs):
        """base.py's shift_images, each image's overlap copied as a slice: ten times faster than a gather."""
        out = np.zeros_like(x)
        h, w = x.shape[2:]
        for i, (dy, dx) in enumerate(zip(dys.tolist(), dxs.tolist())):
            if abs(dy) >= h or abs(dx) >= w:
                continue                # moved out of the frame: all zeros
            out[i, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                x[i, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        return out

    def split_work(self, fn, n, size):
        """Call fn(start, stop) on consecutive shares of range(n) that together cover it.

        The channels of a layer (or the images of a batch) are independent, so an
        op can fill its output one share of them at a time. With `threads` > 1 and
        at least `min_parallel_size` elements of work, the shares run on that many
        threads at once. Each element is computed the same way whatever the split,
        so results do not depend on it. fn must not call split_work itself: a
        worker would wait for its own pool.
        """
        threads = max(1, min(self.threads, n)) if size >= self.min_parallel_size else 1
        # Large work is cut finer than one share per thread: an op's temporaries then stay small
        # enough for glibc to reuse their memory instead of mapping it afresh every step. The
        # shares are a multiple of the threads, so that each thread gets as many.
        rounds = max(1, -(-size // (self.max_share * threads)))
        shares = max(1, min(n, threads * rounds))
        bounds = [n * k // shares for k in range(shares + 1)]
        if threads <= 1:
            for start, stop in zip(bounds[:-1], bounds[1:]):
                fn(start, stop)
            return

        def every(worker):                      # the shares worker, worker + threads, ... in turn
            for k in range(worker, shares, threads):
                fn(bounds[k], bounds[k + 1])
        futures = [_pool(threads - 1).submit(every, worker) for worker in range(1, threads)]
        every(0)                                # this thread's shares
        for future in futures:
            future.result()                     # waits, and re-raises a worker's error


def _batch_last(backend, x, pads, value):
    """x (N, C, H, W) framed by `value` ((top, bottom), (left, right) rows and columns), as a new
    array laid out (C, H, W, N), one share of the channels a thread."""
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    out = backend.empty((c, h + top + bottom, w + left + right, n), x.dtype)

    def frame(start, stop):
        part = out[start:stop]
        if top or bottom or left or right:
            part[:, :top], part[:, top + h:], part[:, :, :left], part[:, :, left + w:] = value, value, value, value
        part[:, top:top + h, left:left + w, :] = np.permute_dims(x[:, start:stop], (1, 2, 3, 0))
    backend.split_work(frame, c, out.size)
    return out


_COMPILED_DTYPES = (np.float32, np.float64)     # what loops.py's loops are compiled for; others: base.py


def _as_batch_last(a):
    """a (N, C, H, W) as a C-ordered (C, H, W, N) array: a view where the memory is laid out so, else a copy."""
    a = np.permute_dims(a, (1, 2, 3, 0))
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _memory(a):
    """a's numbers as a 1-D view, in the order they lie in memory; None if they do not lie in one block."""
    order = sorted(range(a.ndim), key=lambda axis: -a.strides[axis])
    in_order = np.permute_dims(a, order)
    return np.reshape(in_order, (-1,)) if in_order.flags.c_contiguous else None


def _channels(a, start, stop):
    """Channels start..stop-1 of a: axis 1 of an image batch, outermost in memory (im2col above)."""
    return a[:, start:stop, ...] if a.ndim > 1 else a


def _channel_count(a):
    return a.shape[1] if a.ndim > 1 else 1


class _Arena:
    """Memory for minicnn's large arrays: a few big chunks, carved into blocks, carved again once free.

    A training step makes the same large arrays again and again. Fresh memory
    from the system costs a page fault per page (a sixth of a small CNN's
    step), so minicnn keeps what it took and hands it out again, as PyTorch's
    caching allocator does; blocks are split to fit and merged with free
    neighbours, so arrays of every size share the memory. A block is free once
    nothing uses its array: no view of it is left (its reference count says so).
    Only minicnn's own arrays live here; the memory of yours is yours.
    """

    chunk_bytes = 2 ** 30       # the least the arena asks the system for; untouched pages cost nothing
    align = 64                  # bytes: blocks start on cache lines

    def __init__(self):
        self.chunks = []        # uint8 arrays from the system
        self.free = []          # (chunk, offset, size) of free blocks
        self.used = {}          # id(array) -> (array, chunk, offset, size) of blocks handed out
        self.lock = threading.Lock()

    def take(self, nbytes):
        """A uint8 array of at least `nbytes`, uninitialised."""
        size = -(-nbytes // self.align) * self.align
        with self.lock:
            self._collect()
            block = self._best_fit(size)
            if block is None:
                try:
                    chunk = np.empty(max(size, self.chunk_bytes) + self.align, np.uint8)
                except MemoryError:             # a system that won't promise that much untouched memory
                    chunk = np.empty(size + self.align, np.uint8)
                start = -chunk.ctypes.data % self.align
                self.chunks.append(chunk)
                block = (len(self.chunks) - 1, start, len(chunk) - start)
                self.free.append(block)
            self.free.remove(block)
            chunk, offset, space = block
            if space > size:
                self.free.append((chunk, offset + size, space - size))
            array = np.frombuffer(memoryview(self.chunks[chunk])[offset:offset + size], np.uint8)
            self.used[id(array)] = (array, chunk, offset, size)
            return array[:nbytes]

    def _best_fit(self, size):
        fits = [block for block in self.free if block[2] >= size]
        return min(fits, key=lambda block: block[2]) if fits else None

    def _collect(self):
        """Blocks whose arrays nothing uses any more become free; free neighbours merge."""
        for key, (array, chunk, offset, size) in list(self.used.items()):
            if sys.getrefcount(array) == 3:     # held by `used`, by `array` and by getrefcount only
                del self.used[key]
                self.free.append((chunk, offset, size))
        merged = []
        for block in sorted(self.free):
            if merged and merged[-1][0] == block[0] and merged[-1][1] + merged[-1][2] == block[1]:
                merged[-1] = (block[0], merged[-1][1], merged[-1][2] + block[2])
            else:
                merged.append(block)
        self.free = merged


_blas = None        # threadpoolctl's controllers of the BLAS libraries NumPy loaded, found on first use


@contextmanager
def _blas_on_one_thread():
    """Within: the BLAS computes each product on the calling thread. After: its own thread count again."""
    global _blas
    if _blas is None:
        threadpoolctl = import_leaving_environ("threadpoolctl")
        _blas = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    saved = [lib.get_num_threads() for lib in _blas]
    for lib in _blas:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(_blas, saved):
            lib.set_num_threads(count)


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


_executor, _executor_size = None, 0


def _pool(workers):
    """The worker threads of split_work, created on first use and grown when more are asked for."""
    global _executor, _executor_size
    if _executor_size < workers:
        if _executor is not None:
            _executor.shutdown(wait=False)      # its idle threads end; the new pool takes over
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minicnn")
        _executor_size = workers
    return _executor


def _forget_pool():
    global _executor, _executor_size
    _executor, _executor_size = None, 0      # a forked child has none of its parent's threads


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
