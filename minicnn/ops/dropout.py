"""Inverted dropout: zero a random share of the values while training, scale the rest up."""

from .. import random
from ..tensor import Tensor, floating


def dropout(x, rate, training=True):
    """Each value is kept with probability 1 - rate and then divided by 1 - rate,
    so the expected output equals x and nothing changes at inference.

    Masks come from minicnn's seeded counter-based generator (mc.manual_seed), computed on x's
    device: the same masks on every device for a seed, and nothing copied from the host.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate!r}")
    if not training or rate == 0.0:
        return x
    x = floating(x)
    keep = random.at_least_on(x.backend, x.shape, rate)      # = random.uniform_on(...) >= rate
    scale = x.xp.astype(keep, x.backend.dtype(x.dtype)) / (1.0 - rate)     # a Python float keeps x's dtype
    return x * Tensor(scale, x.backend)
