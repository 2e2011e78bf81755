"""cupyx for the CuPy stand-in (tests/cupy_standin/cupy): scatter_add, on device arrays only."""

import numpy as np

from cupy import _unwrap, ndarray


def scatter_add(a, slices, value):
    """a[slices] += value, repeated indices added once per occurrence (CuPy's cupyx.scatter_add)."""
    if not isinstance(a, ndarray):
        raise TypeError(f"scatter_add: a must be a cupy.ndarray, got {type(a)}")
    np.add.at(a._array, _unwrap(slices), _unwrap(value))
