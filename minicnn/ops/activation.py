"""Activation functions and (log-)softmax, each with its derivative.

The exponentials are written so they never overflow: sigmoid uses exp(-|x|),
softmax and log_softmax subtract each row's maximum first.
"""

from .. import autograd
from ..tensor import Tensor, floating


def _unary(x, out, backward):
    return autograd.record(Tensor(out, x.backend), (x,), lambda g: (backward(g),))


def relu(x):
    """max(x, 0); the derivative at 0 is taken as 0."""
    x = floating(x)
    out = x.xp.empty_like(x.data)
    return _relu(x, out)


def relu_(x):
    """relu(x), written over x's own array: the pre-activation values are not kept.

    Only for an x that no other op has used or will use, such as the fresh output
    of a convolution inside Conv2D (which applies its activation this way).
    That output is then never stored next to its ReLU: a third less memory for
    a CNN's activations. x's own backward must not need x's values (conv2d's
    and linear's do not).
    """
    if x.ndim == 0:
        return relu(x)          # NumPy may hold a 0-d result as a scalar, which can't be written into
    return _relu(x, x.data)


def _relu(x, out):
    """ReLU of x into `out`, its channels (or rows) shared between threads (Backend.split_work)."""
    backend, xp = x.backend, x.xp
    n = out.shape[1] if out.ndim > 1 else 1

    def part(a, start, stop):
        # axis 1: the channels of an image batch, outermost in memory (see ops/im2col.py)
        return a[:, start:stop, ...] if a.ndim > 1 else a

    def forward(start, stop):
        backend.into(part(out, start, stop), "maximum", part(x.data, start, stop), 0.0)   # keeps NaN as NaN

    def backward(g):
        # the mask of positive inputs is rebuilt from the output, not kept: less memory
        g_x = xp.empty_like(g)

        def mask(start, stop):
            positive = xp.astype(part(out, start, stop) > 0, g.dtype)
            backend.into(part(g_x, start, stop), "multiply", part(g, start, stop), positive)
        backend.split_work(mask, n, g.size)
        return g_x
    backend.split_work(forward, n, out.size)
    return _unary(x, out, backward)


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise (PyTorch's default slope)."""
    xp = x.xp
    positive = xp.astype(x.data > 0, x.data.dtype)
    slope = positive + negative_slope * (1.0 - positive)     # 1 where x > 0, negative_slope elsewhere
    return _unary(x, x.data * slope, lambda g: g * slope)


def _sigmoid(xp, z):
    e = xp.exp(-xp.abs(z))              # in (0, 1]: no overflow for any z
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid(x):
    x = floating(x)
    out = _sigmoid(x.xp, x.data)
    return _unary(x, out, lambda g: g * out * (1.0 - out))


def log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), finite for any x."""
    x = floating(x)
    xp, z = x.xp, x.data
    out = xp.minimum(z, 0.0) - xp.log1p(xp.exp(-xp.abs(z)))
    return _unary(x, out, lambda g: g * _sigmoid(xp, -z))


def tanh(x):
    x = floating(x)
    out = x.xp.tanh(x.data)
    return _unary(x, out, lambda g: g * (1.0 - out * out))


def softmax(x, axis=-1):
    x = floating(x)
    xp = x.xp
    e = xp.exp(x.data - xp.max(x.data, axis=axis, keepdims=True))
    out = e / xp.sum(e, axis=axis, keepdims=True)
    return _unary(x, out, lambda g: out * (g - xp.sum(g * out, axis=axis, keepdims=True)))


def log_softmax(x, axis=-1):
    x = floating(x)
    xp = x.xp
    shifted = x.data - xp.max(x.data, axis=axis, keepdims=True)
    out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    return _unary(x, out, lambda g: g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True))
