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
    max_share = 2 ** 21          # elements of work per call of an op's loop (split_work)
    block = 4096                 # columns (or summed terms) of a matrix product per task
    blocked_work = 2 ** 22       # multiply-adds; smaller products are one BLAS call

    keep_bytes = 2 ** 17         # arrays this large come from the arena (glibc would map each one afresh)

    def __init__(self):
        super().__init__("cpu", np)
        self.threads = _cores()
        self._arena = _Arena()

    # --- large arrays come from the arena: reused, not faulted in afresh each step ---
    def _buffer(self, shape, dtype):
        """An uninitialised array of `shape`; a large one is carved from minicnn's arena (_Arena)."""
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes < self.keep_bytes:
            return np.empty(shape, dtype)
        return self._arena.take(nbytes).view(dtype).reshape(shape)

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
        threads = min(self.threads, n) if size >= self.min_parallel_size else 1
        # Large work is cut finer than one share per thread: an op's temporaries then stay small
        # enough for glibc to reuse their memory instead of mapping it afresh every step.
        shares = max(1, min(n, max(threads, -(-size // self.max_share))))
        bounds = [n * k // shares for k in range(shares + 1)]
        if threads <= 1:
            for start, stop in zip(bounds[:-1], bounds[1:]):
                fn(start, stop)
            return

        def every(worker):                      # the shares worker, worker + threads, ... in turn
            for k in range(worker, shares, threads):
                fn(bounds[k], bounds[k + 1])
        futures = [_pool(threads - 1).submit(every, worker) for worker in range(1, threads)]
        every(0)                                # this thread's shares
        for future in futures:
            future.result()                     # waits, and re-raises a worker's error


class _Arena:
    """Memory for minicnn's large arrays: a few big chunks, carved into blocks, carved again once free.

    A training step makes the same large arrays again and again. Fresh memory
    from the system costs a page fault per page (a sixth of a small CNN's
    step), so minicnn keeps what it took and hands it out again, as PyTorch's
    caching allocator does; blocks are split to fit and merged with free
    neighbours, so arrays of every size share the memory. A block is free once
    nothing uses its array: no view of it is left (its reference count says so).
    Only minicnn's own arrays live here; the memory of yours is yours.
    """

    chunk_bytes = 2 ** 30       # the least the arena asks the system for; untouched pages cost nothing
    align = 64                  # bytes: blocks start on cache lines

    def __init__(self):
        self.chunks = []        # uint8 arrays from the system
        self.free = []          # (chunk, offset, size) of free blocks
        self.used = {}          # id(array) -> (array, chunk, offset, size) of blocks handed out
        self.lock = threading.Lock()

    def take(self, nbytes):
        """A uint8 array of at least `nbytes`, uninitialised."""
        size = -(-nbytes // self.align) * self.align
        with self.lock:
            self._collect()
            block = self._best_fit(size)
            if block is None:
                try:
                    chunk = np.empty(max(size, self.chunk_bytes) + self.align, np.uint8)
                except MemoryError:             # a system that won't promise that much untouched memory
                    chunk = np.empty(size + self.align, np.uint8)
                start = -chunk.ctypes.data % self.align
                self.chunks.append(chunk)
                block = (len(self.chunks) - 1, start, len(chunk) - start)
                self.free.append(block)
            self.free.remove(block)
            chunk, offset, space = block
            if space > size:
                self.free.append((chunk, offset + size, space - size))
            array = np.frombuffer(memoryview(self.chunks[chunk])[offset:offset + size], np.uint8)
            self.used[id(array)] = (array, chunk, offset, size)
            return array[:nbytes]

    def _best_fit(self, size):
        fits = [block for block in self.free if block[2] >= size]
        return min(fits, key=lambda block: block[2]) if fits else None

    def _collect(self):
        """Blocks whose arrays nothing uses any more become free; free neighbours merge."""
        for key, (array, chunk, offset, size) in list(self.used.items()):
            if sys.getrefcount(array) == 3:     # held by `used`, by `array` and by getrefcount only
                del self.used[key]
                self.free.append((chunk, offset, size))
        merged = []
        for block in sorted(self.free):
            if merged and merged[-1][0] == block[0] and merged[-1][1] + merged[-1][2] == block[1]:
                merged[-1] = (block[0], merged[-1][1], merged[-1][2] + block[2])
            else:
                merged.append(block)
        self.free = merged


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
