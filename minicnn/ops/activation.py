"""Activation functions and (log-)softmax, each with its derivative.

The exponentials are written so they never overflow: sigmoid uses exp(-|x|),
softmax and log_softmax subtract each row's maximum first.
"""

from .. import autograd
from ..tensor import Tensor, floating


def _unary(x, out, backward):
    return autograd.record(Tensor(out, x.backend), (x,), lambda g: (backward(g),))


def relu(x):
    """max(x, 0); the derivative at 0 is taken as 0. Integers stay integers, as in PyTorch."""
    if x.dtype.kind in "iu":
        return Tensor(x.xp.maximum(x.data, x.xp.zeros_like(x.data)), x.backend)
    if x.dtype.kind == "b":
        raise TypeError("relu of a boolean tensor: convert it first, x.astype('float32')")
    return _relu(x)


def relu_(x):
    """relu(x) written over x itself, as PyTorch's relu_: x becomes its ReLU, in value and in the graph.

    Conv2D and Dense apply their ReLU this way to their fresh output, which is
    then never stored next to its ReLU: a third less memory for a CNN's
    activations. Overwriting values that a gradient still needs would give a
    wrong gradient, so that is an error: x may not be a parameter (a leaf
    that requires grad), nor already read by an op that records a gradient.
    Ops that use x afterwards see its ReLU, and their gradients pass through it.
    """
    if x.requires_grad and x.is_leaf:
        raise RuntimeError("relu_: x is a leaf tensor that requires grad (a parameter, say); writing over it "
                           "would change it behind autograd's back. Use F.relu(x), which returns a new tensor.")
    if x._read_by_graph:
        raise RuntimeError("relu_: x was already read by an operation whose gradient needs its values; writing "
                           "over them would make that gradient wrong. Use F.relu(x), which returns a new tensor.")
    # NumPy may hold a 0-d value as a scalar, which can't be written into
    out = x.data if x.ndim else None
    # `before` takes x's place in the graph; x becomes the ReLU of it, over the same array
    before = Tensor(x.data, x.backend, x.requires_grad)
    before._parents, before._backward = x._parents, x._backward
    before._versions = getattr(x, "_versions", ())
    after = _relu(before, out)
    x.data, x._parents, x._backward, x.requires_grad = after.data, after._parents, after._backward, after.requires_grad
    x._versions = getattr(after, "_versions", ())
    return x


def _relu(x, out=None):
    """max(x, 0) (into `out` when given); its gradient passes g where the output is positive. The mask
    of positive inputs is read again from the output, not kept: less memory."""
    backend = x.backend
    out = backend.relu(x.data, out)
    return _unary(x, out, lambda g: backend.relu_grad(out, g))


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


def channel_axis(x, axis):
    """`axis`, or by default the channels: axis 1 of (N, classes) and (N, C, H, W), as PyTorch
    picks for them and as Keras' softmax on its channels-last layout means (axis 0 of a vector)."""
    return (1 if x.ndim > 1 else 0) if axis is None else axis


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along `axis` (default: the channels, see channel_axis)."""
    x = floating(x)
    xp, axis = x.xp, channel_axis(x, axis)
    e = xp.exp(x.data - xp.max(x.data, axis=axis, keepdims=True))
    out = e / xp.sum(e, axis=axis, keepdims=True)
    return _unary(x, out, lambda g: out * (g - xp.sum(g * out, axis=axis, keepdims=True)))


def log_softmax(x, axis=None):
    x = floating(x)
    xp, axis = x.xp, channel_axis(x, axis)
    shifted = x.data - xp.max(x.data, axis=axis, keepdims=True)
    out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    return _unary(x, out, lambda g: g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True))
