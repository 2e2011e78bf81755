"""PyTorch's functions of tensors by their names: minicnn.flatten(x, 1), minicnn.max(x, 1), from_numpy...

Each is the tensor method of the same name (Tensor.flatten, Tensor.max, ...), as in PyTorch.
Kept apart from tensor.py because their names (max, sum) would hide Python's own there.
"""

import numpy as np

from .backend import get_backend
from .tensor import Tensor

def _a_tensor(x, who):
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: input must be a minicnn Tensor, got {type(x).__name__}")
    return x


def from_numpy(array):
    """A tensor sharing `array`'s memory (writes to one show in the other) and its dtype, as PyTorch's."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert an array of dtype {array.dtype}; numbers or booleans only")
    return Tensor(array, get_backend("cpu"))


def flatten(input, start_dim=0, end_dim=-1):
    return _a_tensor(input, "flatten").flatten(start_dim, end_dim)


def max(input, dim=None, keepdim=False):
    """torch.max: the largest value, or with dim the (values, indices) along it."""
    if isinstance(dim, Tensor):
        raise NotImplementedError("max(a, b), the elementwise maximum of two tensors, is not in minicnn")
    return _a_tensor(input, "max").max(dim, keepdim)


def argmax(input, dim=None, keepdim=False):
    return _a_tensor(input, "argmax").argmax(dim, keepdim)


def sum(input, dim=None, keepdim=False):
    return _a_tensor(input, "sum").sum(dim=dim, keepdim=keepdim)


def mean(input, dim=None, keepdim=False):
    return _a_tensor(input, "mean").mean(dim=dim, keepdim=keepdim)
