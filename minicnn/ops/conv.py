"""Convolution, as the lecture teaches it: flip the kernel, slide it, sum the products.

    Y[i, j] = sum_{k1, k2} X[i - k1, j - k2] W[k1, k2]

Flipping ("rotating") W turns the sum into a plain dot product of each input
window with the flipped kernel. All windows are gathered by im2col, so every
output value of every filter comes from one matrix product:

    (F, C*KH*KW) @ (C*KH*KW, OH*OW*N) -> (F, OH*OW*N)

For one channel and one filter, conv2d(x, w) == scipy.signal.convolve2d(x, w, "valid");
with several input channels the per-channel results are summed.

The windows and the product are the backend's conv2d: backend/base.py copies
the windows plainly (im2col, one strided slice per kernel offset) and makes the
one product; the gradient sends window values back with col2im, its adjoint
(conv2d_grads). backend/cpu.py gives the same numbers faster: the windows laid
out for speed, and for 3x3 kernels over many channels Winograd's F(4x4, 3x3)
(backend/winograd.py), 4 times fewer multiplications.
"""

import numbers

import numpy as np

from .. import autograd
from ..tensor import Tensor
from .im2col import output_size, padding_amounts, pair, unpad2d


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution of x (N, C, H, W) with weight (F, C, KH, KW) and bias (F,).

    stride: int or pair. padding: int, pair, "valid" or "same" (Keras).
    Returns (N, F, OH, OW) with OH = floor((H + pad_top + pad_bottom - KH) / SH) + 1.
    """
    return _conv2d(x, weight, bias, stride, padding, relu=False)


def conv2d_relu(x, weight, bias=None, stride=1, padding=0):
    """relu(conv2d(...)) as one op, what Conv2D(activation="relu") computes: the backend adds the bias
    and clips each block of the product while it is in the cache, rather than in two more passes over
    the output; the gradient passes the ReLU first (where the output is > 0), then the convolution's."""
    return _conv2d(x, weight, bias, stride, padding, relu=True)


def _conv2d(x, weight, bias, stride, padding, relu):
    _check_conv_args(x, weight, bias, ndim=4, layout="(N, C, H, W)", kernel_layout="(F, C, KH, KW)")
    x = x if x.dtype == weight.dtype else x.astype(weight.dtype)   # e.g. uint8 images
    backend, xp = x.backend, x.xp
    h, w = x.shape[2:]
    kh, kw = weight.shape[2:]
    stride = pair(stride, "stride")
    if min(stride) < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    pads = padding_amounts(padding, (h, w), (kh, kw), stride)
    output_size((h, w), (kh, kw), stride, pads, "conv2d")      # refuses a kernel that leaves no output

    kernel = xp.flip(weight.data, axis=(2, 3))      # flipped once: then each window times the kernel, summed
    out, saved = backend.conv2d(x.data, kernel, stride, pads, None if bias is None else bias.data, relu)

    def backward(g):
        g_x, g_kernel, g_bias = backend.conv2d_grads(
            saved, g, x_grad=x.requires_grad,       # not for the input images: skips the costliest step
            kernel_grad=weight.requires_grad, bias_grad=bias is not None and bias.requires_grad)
        return g_x, None if g_kernel is None else xp.flip(g_kernel, axis=(2, 3)), g_bias

    parents = (x, weight) if bias is None else (x, weight, bias)
    return autograd.record(Tensor(out, backend), parents, backward)


def conv1d(x, weight, bias=None, stride=1, padding=0):
    """1-D convolution of x (N, C, L) with weight (F, C, K): conv2d on a height-1 image."""
    _check_conv_args(x, weight, bias, ndim=3, layout="(N, C, L)", kernel_layout="(F, C, K)")
    if not isinstance(stride, numbers.Integral) or isinstance(stride, bool):
        raise ValueError(f"conv1d: stride must be an int, got {stride!r}")
    if not isinstance(padding, (int, str)):
        raise ValueError(f"conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
    n, c, length = x.shape
    f, _, k = weight.shape
    out = conv2d(x.reshape(n, c, 1, length), weight.reshape(f, c, 1, k), bias,
                 stride=(1, stride), padding=padding if isinstance(padding, str) else (0, padding))
    return out.reshape(n, f, out.shape[-1])


def depthwise_conv2d(x, weight, bias=None, stride=1, padding=0):
    """Each channel of x (N, C, H, W) convolved on its own with M kernels: weight (C * M, 1, KH, KW),
    output channel c * M + m from input channel c (PyTorch's groups=C layout). The same im2col windows
    as conv2d, but one small matrix product per channel instead of one large one."""
    if not all(isinstance(t, Tensor) for t in (x, weight)) or x.ndim != 4 or weight.ndim != 4 \
            or weight.shape[1] != 1 or weight.shape[0] % max(x.shape[1], 1):
        raise ValueError(f"depthwise_conv2d: x must be (N, C, H, W) and weight (C * M, 1, KH, KW), got "
                         f"{getattr(x, 'shape', x)} and {getattr(weight, 'shape', weight)}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"depthwise_conv2d: bias has shape {bias.shape}, wanted ({weight.shape[0]},)")
    x = x if x.dtype == weight.dtype else x.astype(weight.dtype)
    backend, xp = x.backend, x.xp
    n, c, h, w = x.shape
    m, kh, kw = weight.shape[0] // c, weight.shape[2], weight.shape[3]
    stride = pair(stride, "stride")
    pads = padding_amounts(padding, (h, w), (kh, kw), stride)
    oh, ow = output_size((h, w), (kh, kw), stride, pads, "depthwise_conv2d")

    def windows():
        """(C, KH*KW, OH*OW*N): each channel's own im2col matrix."""
        return xp.reshape(backend.im2col(x.data, (kh, kw), stride, (oh, ow), pads), (c, kh * kw, oh * ow * n))

    w_flipped = xp.reshape(xp.flip(weight.data, axis=(2, 3)), (c, m, kh * kw))
    out = xp.matmul(w_flipped, windows())                               # (C, M, OH*OW*N)
    out = xp.reshape(out, (c * m, oh * ow * n))
    if bias is not None:
        out += xp.reshape(bias.data, (c * m, 1))
    out = xp.permute_dims(xp.reshape(out, (c * m, oh, ow, n)), (3, 0, 1, 2))

    def backward(g):
        g = xp.reshape(xp.permute_dims(g, (1, 2, 3, 0)), (c, m, oh * ow * n))
        g_x = g_weight = g_bias = None
        if weight.requires_grad:
            g_weight = xp.reshape(xp.matmul(g, xp.permute_dims(windows(), (0, 2, 1))), (c * m, 1, kh, kw))
            g_weight = xp.flip(g_weight, axis=(2, 3))
        if x.requires_grad:
            g_cols = xp.reshape(xp.matmul(xp.permute_dims(w_flipped, (0, 2, 1)), g), (c, kh, kw, oh, ow, n))
            g_x = unpad2d(backend.col2im(g_cols, (n, c, h + sum(pads[0]), w + sum(pads[1])), stride), pads)
        if bias is not None and bias.requires_grad:
            g_bias = xp.sum(xp.reshape(g, (c * m, -1)), axis=1)
        return g_x, g_weight, g_bias

    parents = (x, weight) if bias is None else (x, weight, bias)
    return autograd.record(Tensor(out, backend), parents, backward)


def _check_conv_args(x, weight, bias, ndim, layout, kernel_layout):
    name = "conv2d" if ndim == 4 else "conv1d"
    for arg, value in (("x", x), ("weight", weight), ("bias", bias)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{name}: {arg} must be a mc.Tensor, got {type(value).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name}: x must have shape {layout}, got shape {x.shape}")
    if weight.ndim != ndim:
        raise ValueError(f"{name}: weight must have shape {kernel_layout}, got shape {weight.shape}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"{name}: weight has shape {weight.shape}, wanted {weight.shape[0]} filters of "
                         f"{x.shape[1]} channels to match x of shape {x.shape}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"{name}: bias has shape {bias.shape}, wanted ({weight.shape[0]},)")
    devices = {t.device for t in (x, weight, bias) if t is not None}
    if len(devices) > 1:
        raise ValueError(f"{name}: x, weight and bias are on different devices {sorted(devices)}")


def cross_correlation_kernel(kernel):
    """The kernel that cross-correlation (PyTorch's, Keras' and ONNX's "convolution") needs to give the
    outputs this convolution gives with `kernel` (F, C, [KH,] KW): turned 180 degrees, a NumPy array.
    Its own inverse: every kernel that crosses between minicnn and those libraries is flipped once."""
    kernel = np.asarray(kernel)
    return np.ascontiguousarray(np.flip(kernel, axis=tuple(range(2, kernel.ndim))))
