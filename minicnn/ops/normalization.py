"""Batch normalisation: each channel scaled to zero mean and unit variance over the batch.

    x_hat = (x - mean) / sqrt(var + eps),   y = gamma * x_hat + beta

Written as one op with its own backward (instead of composing mean, sub, pow,
div...) because it runs after every convolution and the composed graph keeps
several full-size intermediates. The gradient, per channel over M values:

    dx = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))
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
    xp, backend = x.xp, x.backend
    axes = tuple(i for i in range(x.ndim) if i != 1)
    stat_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mean = xp.mean(x.data, axis=axes, keepdims=True)
    centred = x.data - mean
    variance = xp.mean(centred * centred, axis=axes, keepdims=True)
    inv_std = 1.0 / xp.sqrt(variance + epsilon)
    x_hat = centred * inv_std
    g_shape = xp.reshape(gamma.data, stat_shape)
    out = x_hat * g_shape + xp.reshape(beta.data, stat_shape)

    def backward(g):
        g_beta = xp.sum(g, axis=axes)
        g_gamma = xp.sum(g * x_hat, axis=axes)
        count = x.size // x.shape[1]
        g_mean = xp.reshape(g_beta, stat_shape) / count
        g_x_hat_mean = xp.reshape(g_gamma, stat_shape) / count
        g_x = (g_shape * inv_std) * (g - g_mean - x_hat * g_x_hat_mean)
        return g_x, g_gamma, g_beta

    y = autograd.record(Tensor(out, backend), (x, gamma, beta), backward)
    return y, Tensor(xp.reshape(mean, (-1,)), backend), Tensor(xp.reshape(variance, (-1,)), backend)
