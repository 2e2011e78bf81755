"""The CNN operations, one concept per module; `minicnn.functional` gathers them.

Here too, Keras' keras.ops for the few a tutorial calls (`import minicnn as keras`, then
keras.ops.expand_dims, sigmoid, softmax, argmax, ones, zeros): they take arrays or tensors
and give tensors. softmax's axis is -1 by default, as in Keras.
"""

import numpy as np

from ..tensor import Tensor, ones as _ones, tensor, zeros as _zeros
from . import activation


def _as_tensor(x):
    return x if isinstance(x, Tensor) else tensor(np.asarray(x))


def expand_dims(x, axis):
    return _as_tensor(x).unsqueeze(axis)


def sigmoid(x):
    return activation.sigmoid(_as_tensor(x))


def softmax(x, axis=-1):
    return activation.softmax(_as_tensor(x), axis)


def argmax(x, axis=None, keepdims=False):
    return _as_tensor(x).argmax(axis, keepdims)


def ones(shape, dtype=None):
    return _ones(*shape, dtype=dtype)


def zeros(shape, dtype=None):
    return _zeros(*shape, dtype=dtype)
