"""Joining tensors along an axis, and the gradient that splits back along it."""

from .. import autograd
from ..tensor import Tensor, _coerce


def concatenate(tensors, axis=1):
    """The tensors side by side along `axis`; each gets back its own slice of the gradient."""
    tensors = list(tensors)
    tensors = [tensors[0]] + [_coerce(tensors[0], t)[1] for t in tensors[1:]]
    xp = tensors[0].xp
    axis = axis % tensors[0].ndim
    out = xp.concat([t.data for t in tensors], axis=axis)
    bounds = [0]
    for t in tensors:
        bounds.append(bounds[-1] + t.shape[axis])

    def backward(g):
        index = [slice(None)] * g.ndim
        parts = []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            index[axis] = slice(start, stop)
            parts.append(g[tuple(index)])
        return tuple(parts)
    return autograd.record(Tensor(out, tensors[0].backend), tuple(tensors), backward)
