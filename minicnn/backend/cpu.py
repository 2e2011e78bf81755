"""The CPU: NumPy, with elementwise work shared between the cores.

NumPy runs each elementwise operation on one core (only the matrix product
uses several), but it lets go of Python's lock inside its loops. So an op's
per-channel loop (im2col, col2im, pooling, ReLU) can run its shares of the
channels on several threads at once: split_work below.
"""

import ctypes
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._openblas import THREADS_SLEEP
from .base import Backend


class NumpyBackend(Backend):
    """NumPy on "cpu": the standard's functions, plus host copies, ufunc out=, add.at and a thread pool."""

    min_parallel_size = 2 ** 16  # elements; below this a thread costs more than it saves

    def __init__(self):
        super().__init__("cpu", np)
        # One thread when OpenBLAS's threads would be spinning on the other cores
        # (minicnn/_openblas.py): sharing the cores with them is slower than not sharing.
        self.threads = _cores() if THREADS_SLEEP else 1

    def owns(self, array):
        return isinstance(array, (np.ndarray, np.generic))

    def to_host(self, array):
        return np.array(array, copy=True)      # NumPy's reductions may hand back scalars, which have no DLPack

    def index_add(self, target, index, values):
        np.add.at(target, index, values)

    def into(self, out, name, *args):
        getattr(np, name)(*args, out=out)

    def split_work(self, fn, n, size):
        """Call fn(start, stop) on consecutive shares of range(n) that together cover it.

        The channels of a layer (or the images of a batch) are independent, so an
        op can fill its output one share of them at a time. With `threads` > 1 and
        at least `min_parallel_size` elements of work, the shares run on that many
        threads at once. Each element is computed the same way whatever the split,
        so results do not depend on it. fn must not call split_work itself: a
        worker would wait for its own pool.
        """
        shares = min(self.threads, n) if size >= self.min_parallel_size else 1
        if shares <= 1:
            fn(0, n)
            return
        bounds = [n * k // shares for k in range(shares + 1)]
        futures = [_pool(shares - 1).submit(fn, start, stop) for start, stop in zip(bounds[1:-1], bounds[2:])]
        fn(bounds[0], bounds[1])                # the first share on this thread
        for future in futures:
            future.result()                     # waits, and re-raises a worker's error


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


_executor, _executor_size = None, 0


def _pool(workers):
    """The worker threads of split_work, created on first use and grown when more are asked for."""
    global _executor, _executor_size
    if _executor_size < workers:
        if _executor is not None:
            _executor.shutdown(wait=False)      # its idle threads end; the new pool takes over
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minicnn")
        _executor_size = workers
    return _executor


def _forget_pool():
    global _executor, _executor_size
    _executor, _executor_size = None, 0      # a forked child has none of its parent's threads


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def keep_freed_memory():
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    A training step allocates and frees the same large arrays again and again.
    By default glibc hands each array over 128 KiB straight back to the kernel,
    so the next step's arrays start as fresh pages that fault in one by one:
    about a third of a small CNN's step time on a 2-core laptop. Serving all
    sizes from the heap and never trimming it makes the second step reuse the
    first one's memory, as PyTorch's caching allocator does. The peak memory is
    unchanged; it is just not given back while the process lives.
    Linux with glibc only; MINICNN_KEEP_FREED_MEMORY=0 turns it off.
    """
    if not sys.platform.startswith("linux") or os.environ.get("MINICNN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:            # not glibc (musl, ...): nothing to tune
        return False
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
    return all(libc.mallopt(option, value) for option, value in
               ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2 ** 31 - 1), (M_TOP_PAD, 64 * 2 ** 20)))
