"""cupyx for the CuPy stand-in (tests/cupy_standin/cupy): scatter_add, on device arrays only."""

import warnings

import cupy


def scatter_add(a, slices, value):
    """a[slices] += value, repeated indices added once per occurrence, indices out of range wrapped; CuPy 14
    warns on every call (cupy/_core/core.pyx:1929-1932, ndarray.scatter_add) and wants cupy.add.at."""
    warnings.warn("`ndarray.scatter_add` is deprecated. Please use `cupy.add.at` instead.", DeprecationWarning,
                  stacklevel=2)
    cupy.add.at(a, slices, value)
