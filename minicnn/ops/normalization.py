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
    count = x.size // x.shape[1]
    mean, variance = backend.zeros(stat_shape, x.dtype), backend.zeros(stat_shape, x.dtype)
    inv_std = backend.zeros(stat_shape, x.dtype)
    x_hat, out = backend.empty_like(x.data), backend.empty_like(x.data)
    g_shape, b_shape = xp.reshape(gamma.data, stat_shape), xp.reshape(beta.data, stat_shape)

    def forward(a, b):          # channels a..b: each channel's statistics are its own (Backend.split_work)
        xs = x.data[:, a:b, ...]
        mean[:, a:b, ...] = xp.mean(xs, axis=axes, keepdims=True)
        centred = xs - mean[:, a:b, ...]
        variance[:, a:b, ...] = xp.mean(centred * centred, axis=axes, keepdims=True)
        inv_std[:, a:b, ...] = 1.0 / xp.sqrt(variance[:, a:b, ...] + epsilon)
        backend.into(x_hat[:, a:b, ...], "multiply", centred, inv_std[:, a:b, ...])
        backend.into(out[:, a:b, ...], "multiply", x_hat[:, a:b, ...], g_shape[:, a:b, ...])
        backend.into(out[:, a:b, ...], "add", out[:, a:b, ...], b_shape[:, a:b, ...])

    def backward(g):
        g_beta, g_gamma = backend.zeros(stat_shape, x.dtype), backend.zeros(stat_shape, x.dtype)
        g_x = backend.empty_like(g)

        def channels(a, b):
            gs, hs = g[:, a:b, ...], x_hat[:, a:b, ...]
            g_beta[:, a:b, ...] = xp.sum(gs, axis=axes, keepdims=True)
            g_gamma[:, a:b, ...] = xp.sum(gs * hs, axis=axes, keepdims=True)
            step = gs - g_beta[:, a:b, ...] / count - hs * (g_gamma[:, a:b, ...] / count)
            backend.into(g_x[:, a:b, ...], "multiply", step, g_shape[:, a:b, ...] * inv_std[:, a:b, ...])
        backend.split_work(channels, x.shape[1], g.size * 4)
        return g_x, xp.reshape(g_gamma, (-1,)), xp.reshape(g_beta, (-1,))

    backend.split_work(forward, x.shape[1], x.size * 4)
    y = autograd.record(Tensor(out, backend), (x, gamma, beta), backward)
    return y, Tensor(xp.reshape(mean, (-1,)), backend), Tensor(xp.reshape(variance, (-1,)), backend)
