"""The loops of the CPU backend that NumPy cannot run fast, compiled by numba: ReLU's gradient, max pooling
and its gradient.

NumPy makes every operation its own pass over memory, and over the CPU's
batch-last layout (cpu.py: a map is (C, H, W, N) in memory) a pooling window's
cells are N numbers apart: each pass steps through runs of only N numbers, and
NumPy pays for every run (five times the cost of a contiguous pass at N = 32).
Pooling's gradient took a dozen such passes. A loop compiled by numba reads each
window once and writes each cell of the gradient once, with the batch as its
innermost, contiguous loop.

The functions below are plain Python: numba compiles each the first time it is
called with arrays of a new dtype (a second or two, once a process), and they
let go of Python's lock, so cpu.py runs shares of the channels on its threads.
Each gives the numbers of base.py's version of the step (tests/test_backend_contract.py).
"""

import functools

import numpy as np

from .imports import import_leaving_environ


@functools.cache
def compiled(loop):
    """`loop` compiled by numba (imported on first use), without Python's lock while it runs."""
    numba = import_leaving_environ("numba")
    return numba.njit(nogil=True, error_model="numpy")(loop)


def relu_grad(out, g, g_x):
    """g_x = g where out > 0, else 0 (also where g is infinite or NaN), over 1-D arrays: one pass, where NumPy
    makes the mask first."""
    for i in range(out.size):
        g_x[i] = g[i] if out[i] > 0 else 0.0


def max_pool(x, out, k):
    """out[c, i, j, n] = the largest of x[c, k*i:k*i+k, k*j:k*j+k, n], x (C, H, W, N). A NaN wins, as it
    does in np.maximum; of equal cells the first (row by row) is kept."""
    channels, rows, columns, batch = out.shape
    for c in range(channels):
        for i in range(rows):
            for j in range(columns):
                for n in range(batch):
                    out[c, i, j, n] = x[c, k * i, k * j, n]
                for cell in range(1, k * k):
                    y, z = k * i + cell // k, k * j + cell % k
                    for n in range(batch):
                        best, value = out[c, i, j, n], x[c, y, z, n]
                        out[c, i, j, n] = value if (value > best) | (value != value) else best


def max_pool_grad(x, out, g, g_x, k):
    """g_x (C, H, W, N): each window's g[c, i, j, n] at the first of its cells (row by row) that holds the
    maximum out[c, i, j, n], 0 at the others; a window without one (a NaN window) gives it to its last cell."""
    channels, rows, columns, batch = out.shape
    open_ = np.empty(batch, np.bool_)       # for each image: no cell of this window has taken g yet
    for c in range(channels):
        for i in range(rows):
            for j in range(columns):
                open_[:] = True
                for cell in range(k * k):
                    y, z = k * i + cell // k, k * j + cell % k
                    last = cell == k * k - 1
                    for n in range(batch):
                        wins = open_[n] & ((x[c, y, z, n] == out[c, i, j, n]) | last)
                        g_x[c, y, z, n] = g[c, i, j, n] if wins else 0.0
                        open_[n] ^= wins        # closed where it won (& and ^: no branches, so SIMD)
