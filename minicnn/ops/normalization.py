"""Batch normalisation: each channel scaled to zero mean and unit variance over the batch.

    x_hat = (x - mean) / sqrt(var + eps),   y = gamma * x_hat + beta

Written as one op with its own backward (instead of composing mean, sub, pow,
div...) because it runs after every convolution and the composed graph keeps
several full-size intermediates. The gradient, per channel over M values:

    dx = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))

Both directions are the backend's batch_norm and batch_norm_grad: the maths on
whole arrays in backend/base.py, one share of channels per core in backend/cpu.py.
"""

from .. import autograd
from ..tensor import Tensor, floating


def batch_norm(x, gamma, beta, epsilon=1e-3):
    """Normalise x (N, C, ...) per channel with the batch's own statistics.

    Returns (y, mean, variance): mean and variance (C,) are the batch's
    statistics (biased variance), outside the graph, for moving averages.
    """
    x = floating(x)
    if x.ndim < 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError(f"batch_norm: x has shape {x.shape}, gamma {gamma.shape}, beta {beta.shape}; "
                         f"wanted x (N, C, ...) with gamma and beta of shape (C,)")
    backend, xp = x.backend, x.xp
    out, x_hat, mean, variance, inv_std = backend.batch_norm(x.data, gamma.data, beta.data, epsilon)

    def backward(g):
        return backend.batch_norm_grad(g, x_hat, gamma.data, inv_std)

    y = autograd.record(Tensor(out, backend), (x, gamma, beta), backward)
    return y, Tensor(xp.reshape(mean, (-1,)), backend), Tensor(xp.reshape(variance, (-1,)), backend)
