"""The CPU: NumPy, with the work shared between the cores by minicnn's own threads.

NumPy runs each elementwise operation on one core, but it lets go of Python's
lock inside its loops. So an op's per-channel loop (im2col, col2im, pooling,
ReLU) can run its shares of the channels on several threads at once:
split_work below. Matrix products are shared the same way, in blocks, with the
BLAS held at one thread while minicnn's product runs (and given back its own
count after): OpenBLAS's own threads keep spinning for a while after each
product, and would take the cores the next elementwise op needs.
"""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from .base import Backend


class NumpyBackend(Backend):
    """NumPy on "cpu": the standard's functions, plus host copies, ufunc out=, add.at and a thread pool."""

    min_parallel_size = 2 ** 16  # elements; below this a thread costs more than it saves
    block = 4096                 # columns (or summed terms) of a matrix product per task
    blocked_work = 2 ** 22       # multiply-adds; smaller products are one BLAS call

    keep_bytes = 2 ** 22         # arrays this large are kept for reuse (_buffer)

    def __init__(self):
        super().__init__("cpu", np)
        self.threads = _cores()
        self._kept = {}                     # (shape, dtype) -> arrays minicnn made and may hand out again
        self._kept_lock = threading.Lock()

    # --- large arrays are reused, not returned to the system and faulted in again each step ---
    def _buffer(self, shape, dtype):
        """An uninitialised array of `shape`. A large one is one minicnn made before and nothing
        uses any longer, when there is one: a training step makes the same large arrays again and
        again, and fresh memory from the system costs a page fault per page (a sixth of a step).
        This is PyTorch's caching allocator in miniature, for minicnn's own arrays only."""
        dtype = np.dtype(dtype)
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize < self.keep_bytes:
            return np.empty(shape, dtype)
        with self._kept_lock:
            kept = self._kept.setdefault((tuple(shape), dtype), [])
            for array in kept:
                if sys.getrefcount(array) == 3:     # held by `kept`, by `array` and by getrefcount only: free
                    return array
            array = np.empty(shape, dtype)
            kept.append(array)
            return array

    def empty(self, shape, dtype):
        return self._buffer(shape, self.dtype(dtype))

    def zeros(self, shape, dtype):
        out = self._buffer(shape, self.dtype(dtype))
        out[...] = 0
        return out

    def full(self, shape, value, dtype):
        out = self._buffer(shape, self.dtype(dtype))
        out[...] = value
        return out

    def empty_like(self, array):
        """An array shaped like `array`, laid out in memory as it is (see ops/im2col.py)."""
        order = np.argsort(array.strides, kind="stable")[::-1]          # outermost axis first
        out = self._buffer(tuple(array.shape[i] for i in order), array.dtype)
        return np.permute_dims(out, tuple(np.argsort(order)))

    def matmul(self, a, b):
        """a @ b for 2-D a and b, in blocks shared between minicnn's threads, the BLAS on one thread.

        A wide product is cut into blocks of `block` columns; a long one (few
        columns, many summed terms: a weight gradient) into blocks of terms,
        whose partial products are then added in order. The blocks do not depend
        on the thread count, so neither does any result, bit for bit.
        """
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] * b.shape[1] * a.shape[1] < self.blocked_work:
            with _blas_on_one_thread():
                return np.matmul(a, b)
        rows, inner, columns = a.shape[0], a.shape[1], b.shape[1]
        with _blas_on_one_thread():
            if columns >= 2 * self.block:
                out = self.empty((rows, columns), np.result_type(a, b))

                def wide(start, stop):
                    for k in range(start, stop):
                        part = slice(k * self.block, (k + 1) * self.block)
                        np.matmul(a, b[:, part], out=out[:, part])
                self.split_work(wide, -(-columns // self.block), out.size * 8)
                return out
            blocks = -(-inner // self.block)
            partials = [None] * blocks

            def long(start, stop):
                for k in range(start, stop):
                    part = slice(k * self.block, (k + 1) * self.block)
                    partials[k] = np.matmul(a[:, part], b[part, :])
            self.split_work(long, blocks, rows * inner * 8)
            out = partials[0]
            for partial in partials[1:]:
                out += partial
            return out

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


_blas = None        # threadpoolctl's controllers of the BLAS libraries NumPy loaded, found on first use


@contextmanager
def _blas_on_one_thread():
    """Within: the BLAS computes each product on the calling thread. After: its own thread count again."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController
        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    saved = [lib.get_num_threads() for lib in _blas]
    for lib in _blas:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(_blas, saved):
            lib.set_num_threads(count)


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
