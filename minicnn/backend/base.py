"""The backend contract: a device plus the Array-API module that computes on it.

The ops never import NumPy for tensor data. They ask a tensor for its backend
and call only standard functions through `backend.xp`, so the same op code
runs on NumPy ("cpu"), CuPy ("gpu") or any Array API module (the tests'
array-api-strict device). What the standard leaves out is a method here,
written once with standard calls; a backend whose module does better (NumPy,
CuPy) overrides just that method (MiniTorch's idea: a handful of primitives
behind one contract).

The heavy steps of a CNN are methods here too, written as the textbook
writes them: the convolution (im2col, then one matrix product) and its
gradients (col2im), ReLU, batch normalisation, max pooling of tiling windows,
the matrix product. The CPU backend (cpu.py) overrides them with versions that
lay memory out for speed, share the work between the cores and, for 3x3
convolutions, use Winograd's algorithm (winograd.py); the numbers are the same,
to float32 rounding (tests/test_backend_contract.py).
"""

import numpy as np

_DTYPE_NAMES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8",
                "uint8", "uint16", "uint32", "uint64", "bool")


class Backend:
    """Any Array API module on one of its devices, e.g. Backend("strict", array_api_strict, Device("device1"))."""

    def __init__(self, name, xp, device=None):
        self.name = name        # what Tensor.device reports: "cpu", "gpu", ...
        self.xp = xp            # the array module
        self.device = device    # passed to xp's creation functions; None = xp's default
        self._numpy_dtypes = None

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

    # --- dtypes: users and tests see NumPy dtypes, the array module its own ---
    def dtype(self, dtype):
        """The array module's dtype for a NumPy dtype, a name, a type, or the module's own dtype."""
        try:
            return getattr(self.xp, np.dtype(dtype).name)
        except TypeError:
            return dtype        # already one of the module's dtypes

    def numpy_dtype(self, xp_dtype):
        """The NumPy dtype for one of the module's dtypes (what Tensor.dtype shows)."""
        if self._numpy_dtypes is None:
            names = [n for n in _DTYPE_NAMES if hasattr(self.xp, n)]
            # NumPy and CuPy arrays report np.dtype objects; array-api-strict its own dtype objects
            numpy_like = isinstance(self.xp.float32, type)
            self._numpy_dtypes = {np.dtype(n) if numpy_like else getattr(self.xp, n): np.dtype(n) for n in names}
        try:
            return self._numpy_dtypes[xp_dtype]
        except (KeyError, TypeError):
            raise TypeError(f"unsupported dtype {xp_dtype!r}") from None

    # --- creating arrays on this device ---
    def _device_kw(self):
        return {} if self.device is None else {"device": self.device}

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=self.dtype(dtype), **self._device_kw())

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=self.dtype(dtype), **self._device_kw())

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype=self.dtype(dtype), **self._device_kw())

    def empty_like(self, array):
        return self.xp.empty_like(array)

    def arange(self, n, dtype="int64"):
        return self.xp.arange(n, dtype=self.dtype(dtype), **self._device_kw())

    # --- explicit copies between host and device (never implicit) ---
    def from_host(self, array):
        """Copy a host NumPy array onto this device."""
        return self.xp.asarray(np.asarray(array), **self._device_kw())

    def to_host(self, array):
        """Copy an array of this device into a new host NumPy array (DLPack, the standard's exchange)."""
        return np.from_dlpack(array, device="cpu", copy=True)

    def owns(self, array):
        """Whether `array` belongs to this backend: an array of its module, on its device if it names one.
        (Standard arrays say both themselves: __array_namespace__() and .device.)"""
        namespace = getattr(array, "__array_namespace__", None)
        return (namespace is not None and namespace() is self.xp
                and (self.device is None or array.device == self.device))

    # --- what the standard has no function for ---
    def index_add(self, target, index, values):
        """target[index] += values, adding repeated indices once per occurrence.

        The standard has no scatter-add, so this copies to the host, adds there
        and copies back: correct anywhere, and only used by the gradient of
        indexing with integer arrays. NumPy and CuPy override it.
        """
        parts = index if isinstance(index, tuple) else (index,)
        host_parts = tuple(self.to_host(p) if self.owns(p) else p for p in parts)
        result = self.to_host(target)
        np.add.at(result, host_parts if isinstance(index, tuple) else host_parts[0], self.to_host(values))
        target[...] = self.from_host(result)

    def random_bits(self, key, start, n):
        """n random 64-bit numbers, uint64 (n,): number i is SplitMix64's output for the counter
        start + i under `key` (minicnn/random.py keeps the key and the counter):

            z = key + (start + i) * golden;   z ^= z >> 30;   z *= m1;   z ^= z >> 27;   z *= m2;   z ^= z >> 31

        (Steele, Lea and Flood, OOPSLA 2014; uint64 products wrap round 2**64.) Integer arithmetic is
        exact, so every device computes the same bits: a seed gives the same draws on every device."""
        xp = self.xp
        z = self.arange(n, dtype="uint64")
        z += start
        z *= 0x9E3779B97F4A7C15         # 2**64 / the golden ratio: the counter's step
        z += key
        z ^= z >> 30
        z *= 0xBF58476D1CE4E5B9
        z ^= z >> 27
        z *= 0x94D049BB133111EB
        z ^= z >> 31
        return xp.reshape(z, (n,))

    def index_in_range(self, index, shape):
        """Refuse, as NumPy does (IndexError), integer-array indices outside their axis of an array of
        `shape`: the standard leaves them undefined and CuPy wraps them round the axis, which would pick
        the wrong values silently. The check costs one read by the host per integer-array part; NumPy's
        backend skips it (NumPy raises by itself)."""
        xp = self.xp
        parts = index if isinstance(index, tuple) else (index,)
        # masks take as many axes as they have; a Python or NumPy bool is a 0-d mask, taking none
        is_mask = [isinstance(p, (bool, np.bool_)) or (self.owns(p) and p.dtype == xp.bool) for p in parts]
        taken = sum(getattr(p, "ndim", 0) if mask else 1 for p, mask in zip(parts, is_mask)
                    if p is not None and p is not Ellipsis)
        axis = 0
        for part, mask in zip(parts, is_mask):
            if part is Ellipsis:
                axis += len(shape) - taken
            elif mask:
                axis += getattr(part, "ndim", 0)
            elif part is not None:
                if self.owns(part) and axis < len(shape) and part.size:
                    size = shape[axis]
                    outside = (part < -size) | (part >= size)
                    if bool(xp.any(outside)):
                        bad = int(self.to_host(part)[self.to_host(outside)][0])
                        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")
                axis += 1

    def matmul(self, a, b, bias=None, relu=False):
        """a @ b, plus `bias` (one value per row of the product) if given, then its ReLU if `relu`: a
        layer's whole output in one call, so that a backend can add and clip each block of the product
        while it is still in the cache. (The CPU backend does, and shares large products between its
        threads.)"""
        out = self.xp.matmul(a, b)
        if bias is not None:
            out += self.xp.reshape(bias, (-1, 1))
        return self.relu(out, out) if relu else out

    # --- the heavy steps of a CNN, written plainly: the maths on whole arrays, once ---
    # The CPU backend overrides each with a faster version that gives the same numbers
    # (tests/test_backend_contract.py holds every override to the version here).
    def conv2d(self, x, kernel, stride, pads, bias=None, relu=False):
        """Every window of x (N, C, H, W) (framed by `pads`, stepped by `stride`) times kernel (F, C, KH, KW),
        summed: (N, F, OH, OW), plus `bias` (F,) and its ReLU if asked. (ops/conv.py passes the flipped
        kernel: the lecture's convolution.) The windows side by side (im2col), then one matrix product:

            (F, C*KH*KW) @ (C*KH*KW, OH*OW*N) -> (F, OH*OW*N)

        Returns the output and what conv2d_grads needs, `saved` (a dict).
        """
        xp, (f, c, kh, kw), n = self.xp, kernel.shape, x.shape[0]
        oh, ow = _conv_output_size(x.shape, kernel.shape, stride, pads)
        windows = xp.reshape(self.im2col(x, (kh, kw), stride, (oh, ow), pads), (c * kh * kw, oh * ow * n))
        out = self.matmul(xp.reshape(kernel, (f, c * kh * kw)), windows, bias, relu)
        out = xp.permute_dims(xp.reshape(out, (f, oh, ow, n)), (3, 0, 1, 2))
        # the windows are C*KH*KW times the size of the input, often the largest arrays of a training
        # step: kept for the gradient only where they are no larger than the output (an RGB stem's),
        # else rebuilt there
        kept = windows if c * kh * kw <= f else None
        return out, {"x": x, "kernel": kernel, "stride": stride, "pads": pads, "relu_out": out if relu else None,
                     "windows": kept}

    def conv2d_grads(self, saved, g, x_grad=True, kernel_grad=True, bias_grad=True):
        """The gradients of conv2d for the gradient g (N, F, OH, OW) of its output: (g_x, g_kernel, g_bias),
        None for those not asked for. Through the ReLU first (if there was one); then the kernel's is
        g @ windows^T (the windows kept, or rebuilt), the input's kernel^T @ g with each window's values
        added back where they came from (col2im), the bias's the sum of g over the images and pixels. Each
        in x's dtype, as every gradient is in its tensor's."""
        xp, x, kernel, stride, pads = self.xp, saved["x"], saved["kernel"], saved["stride"], saved["pads"]
        (f, c, kh, kw), (n, _, h, w), (oh, ow) = kernel.shape, x.shape, g.shape[2:]
        g = xp.astype(g, x.dtype, copy=False)
        if saved["relu_out"] is not None:
            g = self.relu_grad(saved["relu_out"], g)
        g = xp.reshape(xp.permute_dims(g, (1, 2, 3, 0)), (f, oh * ow * n))
        g_bias = xp.sum(g, axis=1) if bias_grad else None
        g_x = g_kernel = None
        if kernel_grad:
            windows = saved["windows"]
            if windows is None:
                windows = xp.reshape(self.im2col(x, (kh, kw), stride, (oh, ow), pads), (c * kh * kw, oh * ow * n))
            # (windows @ g.T).T is g @ windows.T, but this orientation of the long sum over
            # pixels runs up to 1.5x faster in OpenBLAS
            g_kernel = xp.reshape(self.matmul(windows, g.T).T, kernel.shape)
            del windows         # (rebuilt ones: not held while col2im's windows are made)
        if x_grad:
            g_windows = xp.reshape(self.matmul(xp.reshape(kernel, (f, c * kh * kw)).T, g), (c, kh, kw, oh, ow, n))
            (top, bottom), (left, right) = pads
            g_padded = self.col2im(g_windows, (n, c, h + top + bottom, w + left + right), stride)
            g_x = g_padded[:, :, top:top + h, left:left + w]
        return g_x, g_kernel, g_bias

    def im2col(self, x, kernel, stride, out_size, pads=((0, 0), (0, 0)), pad_value=0.0):
        """Every (KH, KW) window of x (N, C, H, W) framed by `pads` ((top, bottom), (left, right)) cells of
        `pad_value`, as an array (C, KH, KW, OH, OW, N):

            cols[c, i, j, y, z, n] = padded_x[n, c, y * SH + i, z * SW + j]

        A loop over the KH * KW kernel offsets, not over pixels: for offset (i, j) the values that all
        windows see there form one strided slice of the input. The batch comes last so that
        cols.reshape(C*KH*KW, OH*OW*N) is the matrix a convolution multiplies (ops/conv.py), without
        another copy.
        """
        (top, bottom), (left, right) = pads
        (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_size
        n, c, h, w = x.shape
        padded = self.full((n, c, h + top + bottom, w + left + right), pad_value, x.dtype)
        padded[:, :, top:top + h, left:left + w] = x
        cols = self.empty((c, kh, kw, oh, ow, n), x.dtype)
        for i in range(kh):
            for j in range(kw):     # rows i, i + SH, ..., i + SH * (OH - 1); columns likewise
                seen = padded[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]     # (N, C, OH, OW)
                cols[:, i, j, ...] = self.xp.permute_dims(seen, (1, 2, 3, 0))
        return cols

    def col2im(self, cols, x_shape, stride):
        """The adjoint of im2col: each window value of cols (C, KH, KW, OH, OW, N) added back where it came
        from, in an array of `x_shape` (N, C, H, W) (the padded shape); overlapping windows add up."""
        _, kh, kw, oh, ow, _ = cols.shape
        sh, sw = stride
        x = self.zeros(x_shape, cols.dtype)
        for i in range(kh):
            for j in range(kw):
                window_values = self.xp.permute_dims(cols[:, i, j, ...], (3, 0, 1, 2))     # (N, C, OH, OW)
                x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += window_values
        return x

    def relu(self, a, out=None):
        """max(a, 0), NaN kept as NaN; written into `out` (a itself, for F.relu_) when given."""
        result = self.xp.maximum(a, 0.0)
        if out is None:
            return result
        out[...] = result
        return out

    def relu_grad(self, out, g):
        """The gradient through a ReLU whose output is `out`: g where out > 0, else 0 (also at 0, and for an
        infinite or NaN g, as in PyTorch: a choice, where multiplying by a mask would give NaN)."""
        return self.xp.where(out > 0, g, 0.0)

    def batch_norm(self, x, gamma, beta, epsilon):
        """Batch normalisation of x (N, C, ...) per channel, with gamma and beta (C,):

            x_hat = (x - mean) / sqrt(var + eps),   y = gamma * x_hat + beta

        mean and var over every axis but the channels (biased var). Returns y, x_hat, and the
        statistics mean, var and 1 / sqrt(var + eps), each (1, C, 1, ...)."""
        xp = self.xp
        axes = tuple(i for i in range(x.ndim) if i != 1)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        gamma, beta = (xp.astype(xp.reshape(p, shape), x.dtype) for p in (gamma, beta))     # computed in x's dtype
        mean = xp.mean(x, axis=axes, keepdims=True)
        x_hat = x - mean                # centred: then scaled in place into x_hat (one array, not two)
        variance = xp.mean(x_hat * x_hat, axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(variance + epsilon)
        x_hat *= inv_std
        y = x_hat * gamma
        y += beta
        return y, x_hat, mean, variance, inv_std

    def batch_norm_grad(self, g, x_hat, gamma, inv_std):
        """Gradients of batch_norm for the gradient g of y; per channel, over its M values:

            dx = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))
            dgamma = sum(g * x_hat),   dbeta = sum(g)

        Returns dx, dgamma and dbeta, the last two of shape (C,)."""
        xp = self.xp
        axes = tuple(i for i in range(g.ndim) if i != 1)
        shape = (1, g.shape[1]) + (1,) * (g.ndim - 2)
        count = g.size // g.shape[1]
        g_beta = xp.sum(g, axis=axes, keepdims=True)
        g_gamma = xp.sum(g * x_hat, axis=axes, keepdims=True)
        g_x = x_hat * (-g_gamma / count)     # the formula's terms added into one array, in place
        g_x += g
        g_x -= g_beta / count
        g_x *= xp.reshape(gamma, shape) * inv_std
        return g_x, xp.reshape(g_gamma, (-1,)), xp.reshape(g_beta, (-1,))

    def shift_images(self, x, dys, dxs):
        """Each image of x (N, C, H, W) moved down by dys[n] rows and right by dxs[n] columns (int
        arrays (N,), negative: up or left), the uncovered border zero:

            out[n, c, y, z] = x[n, c, y - dys[n], z - dxs[n]]   where that lies inside the image, else 0

        One gather for the whole batch, with the shifts left on the device. (The CPU backend copies
        each image's overlap as a slice instead: ten times faster there, where reading the shifts is free.)"""
        xp = self.xp
        n, c, h, w = x.shape
        rows = xp.reshape(self.arange(h), (1, h)) - xp.reshape(dys, (n, 1))        # (N, H) source rows
        cols = xp.reshape(self.arange(w), (1, w)) - xp.reshape(dxs, (n, 1))        # (N, W) source columns
        inside = xp.reshape((rows >= 0) & (rows < h), (n, 1, h, 1)) & xp.reshape((cols >= 0) & (cols < w),
                                                                                 (n, 1, 1, w))
        index = xp.reshape(xp.clip(rows, 0, h - 1), (n, h, 1)) * w + xp.reshape(xp.clip(cols, 0, w - 1), (n, 1, w))
        index = xp.broadcast_to(xp.reshape(index, (n, 1, h * w)), (n, c, h * w))
        values = xp.reshape(xp.take_along_axis(xp.reshape(x, (n, c, h * w)), index, axis=2), (n, c, h, w))
        return xp.where(inside, values, 0.0)       # (not values * inside: an inf edge pixel would give NaN)

    def max_pool_tiles(self, x, k):
        """Max pooling of x (N, C, H, W) by k x k windows that tile it (H and W multiples of k):
        offset (i, j) of every window is the view x[:, :, i::k, j::k], and the pooled map is the
        elementwise maximum of the k * k views."""
        views = [x[:, :, i::k, j::k] for i in range(k) for j in range(k)]
        out = views[0] * 1.0 if k == 1 else views[0]        # k = 1: a copy, not x itself
        for view in views[1:]:
            out = self.xp.maximum(out, view)
        return out

    def max_pool_tiles_grad(self, x, out, g, k):
        """The gradient of max_pool_tiles: each window's g goes to the first of its cells (row by row)
        that holds the maximum; the others get 0. A window with none (its maximum is NaN) gives g to
        its last cell. (g has x's dtype, as every gradient has its tensor's.)"""
        xp = self.xp
        g_x = self.empty(x.shape, x.dtype)
        taken = self.zeros(out.shape, "bool")      # which windows' maxima an earlier cell held
        for index in range(k * k):
            i, j = divmod(index, k)
            wins = ~taken if index == k * k - 1 else (x[:, :, i::k, j::k] == out) & ~taken
            g_x[:, :, i::k, j::k] = xp.where(wins, g, 0.0)
            taken = taken | wins
        return g_x


def _conv_output_size(x_shape, kernel_shape, stride, pads):
    """(OH, OW) of a convolution: floor((H + pad_top + pad_bottom - KH) / SH) + 1, and so for W."""
    return tuple((size + p0 + p1 - k) // s + 1
                 for size, k, s, (p0, p1) in zip(x_shape[2:], kernel_shape[2:], stride, pads))
