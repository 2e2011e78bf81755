"""Initial weights, drawn on the host from minicnn's seeded generator in float32.

Glorot (Xavier) keeps the variance of activations and gradients steady for
symmetric activations; He doubles it for ReLU, which zeroes half its inputs.
"""

import numpy as np

from .. import random


def glorot_uniform(shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(shape, limit)


def glorot_normal(shape, fan_in, fan_out):
    return random.normal(shape) * np.float32(np.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(shape, fan_in, fan_out):
    return _uniform(shape, np.sqrt(6.0 / fan_in))


def he_normal(shape, fan_in, fan_out):
    return random.normal(shape) * np.float32(np.sqrt(2.0 / fan_in))


def _uniform(shape, limit):
    return (random.uniform(shape) * 2 - 1) * np.float32(limit)


INITIALIZERS = {f.__name__: f for f in (glorot_uniform, glorot_normal, he_uniform, he_normal)}


def initial_weights(name, shape, fan_in, fan_out):
    if name not in INITIALIZERS:
        raise ValueError(f"kernel_initializer must be one of {sorted(INITIALIZERS)}, got {name!r}")
    return INITIALIZERS[name](shape, fan_in, fan_out).astype(np.float32)
