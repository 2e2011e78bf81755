"""Backends: where a tensor's numbers live, and which array module computes on them.

The ops never import NumPy for tensor data. They ask the tensor for its
backend and use `backend.xp`, an array module that follows the Python Array
API standard: NumPy 2 on "cpu", CuPy on "gpu" (Chainer's Device idea). Only
standard functions are called through `xp`, so the same op code runs on both.

The few things the standard leaves out (creating arrays on a device, copying
to and from the host, scatter-add, writing a result into an existing array)
are methods of the backend itself, and so is sharing work between CPU
threads (split_work).
"""

import ctypes
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._openblas import THREADS_SLEEP

_DTYPE_NAMES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8",
                "uint8", "uint16", "uint32", "uint64", "bool")


class Backend:
    """A device plus the Array-API module that computes on it."""

    threads = 1                 # see split_work
    min_parallel_size = 2 ** 16  # elements; below this a thread costs more than it saves

    def __init__(self, name, xp, device=None):
        self.name = name        # what Tensor.device reports: "cpu", "gpu", ...
        self.xp = xp            # the array module
        self.device = device    # passed to xp's creation functions; None = xp's default
        self._numpy_dtypes = None

    def __repr__(self):
        return f"Backend({self.name!r})"

    # --- dtypes: users and tests see NumPy dtypes, the array module its own ---
    def dtype(self, dtype):
        """The array module's dtype for a NumPy dtype, a name, a type, or the module's own dtype."""
        try:
            return getattr(self.xp, np.dtype(dtype).name)
        except TypeError:
            return dtype        # already one of the module's dtypes

    def numpy_dtype(self, xp_dtype):
        """The NumPy dtype for one of the module's dtypes (what Tensor.dtype shows)."""
        if self._numpy_dtypes is None:
            names = [n for n in _DTYPE_NAMES if hasattr(self.xp, n)]
            # NumPy and CuPy arrays report np.dtype objects; array-api-strict its own dtype objects
            numpy_like = isinstance(self.xp.float32, type)
            self._numpy_dtypes = {np.dtype(n) if numpy_like else getattr(self.xp, n): np.dtype(n) for n in names}
        try:
            return self._numpy_dtypes[xp_dtype]
        except (KeyError, TypeError):
            raise TypeError(f"unsupported dtype {xp_dtype!r}") from None

    # --- creating arrays on this device ---
    def _device_kw(self):
        return {} if self.device is None else {"device": self.device}

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=self.dtype(dtype), **self._device_kw())

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=self.dtype(dtype), **self._device_kw())

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype=self.dtype(dtype), **self._device_kw())

    def arange(self, n, dtype="int64"):
        return self.xp.arange(n, dtype=self.dtype(dtype), **self._device_kw())

    # --- explicit copies between host and device (never implicit) ---
    def from_host(self, array):
        """Copy a host NumPy array onto this device."""
        return self.xp.asarray(np.asarray(array), **self._device_kw())

    def to_host(self, array):
        """Copy an array of this device into a new host NumPy array."""
        return np.array(array, copy=True)

    def owns(self, array):
        """Whether `array` is an array of this backend's module."""
        return type(array).__module__.split(".")[0] == self.xp.__name__.split(".")[0]

    def index_add(self, target, index, values):
        """target[index] += values, adding repeated indices once per occurrence."""
        self.xp.add.at(target, index, values)

    # --- sharing work between cores ---
    def split_work(self, fn, n, size):
        """Call fn(start, stop) on consecutive shares of range(n) that together cover it.

        The channels of a layer (or the images of a batch) are independent, so an
        op can fill its output one share of them at a time. NumPy runs each call on one core (only the
        matrix product uses several), but it lets go of Python's lock inside its
        loops: with `threads` > 1 and at least `min_parallel_size` elements of
        work, the shares run on that many threads at once. Each element is
        computed the same way whatever the split, so results do not depend on it.
        fn must not call split_work itself: a worker would wait for its own pool.
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

    def into(self, out, name, *args):
        """out[...] = xp.<name>(*args) for an elementwise function such as "multiply".
        NumPy and CuPy write straight into `out` (no temporary array); the standard has no out=."""
        out[...] = getattr(self.xp, name)(*args)


class NumpyBackend(Backend):
    """The CPU: NumPy, with elementwise work shared between the cores (split_work)."""

    def __init__(self):
        super().__init__("cpu", np)
        # One thread when OpenBLAS's threads would be spinning on the other cores
        # (minicnn/_openblas.py): sharing the cores with them is slower than not sharing.
        self.threads = _cores() if THREADS_SLEEP else 1

    def into(self, out, name, *args):
        getattr(self.xp, name)(*args, out=out)


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


def set_num_threads(n):
    """How many threads minicnn's CPU ops share their work between (like torch.set_num_threads).

    The matrix products use the BLAS's own threads: set OPENBLAS_NUM_THREADS
    (or OMP_NUM_THREADS) before starting Python to change those.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    get_backend("cpu").threads = n


def get_num_threads():
    """The number of threads minicnn's CPU ops use (set_num_threads)."""
    return get_backend("cpu").threads


def _make_gpu_backend():
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "device 'gpu' needs CuPy, which is not installed. Install it with "
            "pip install 'minicnn[gpu]' (CUDA 12 or newer driver) or "
            "pip install 'minicnn[gpu-cuda13]'.") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise RuntimeError(f"device 'gpu': CuPy is installed but CUDA is not usable ({err})") from None
    if count == 0:
        raise RuntimeError("device 'gpu': CuPy is installed but no GPU was found")
    return CupyBackend("gpu", cupy)


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


keep_freed_memory()

_backends = {"cpu": NumpyBackend()}
_factories = {"gpu": _make_gpu_backend}
_ALIASES = {"cuda": "gpu"}


def register_backend(name, factory):
    """Make `name` a device: `factory()` returns its Backend on first use."""
    _factories[name] = factory
    _backends.pop(name, None)


def get_backend(device):
    """The Backend for a device name ("cpu", "gpu") or a Backend itself."""
    if isinstance(device, Backend):
        return device
    name = _ALIASES.get(device, device)
    if name not in _backends:
        if name not in _factories:
            known = sorted(set(_backends) | set(_factories))
            raise ValueError(f"device must be one of {known}, got {device!r}")
        _backends[name] = _factories[name]()
    return _backends[name]


def gpu_available():
    """True when CuPy is installed and sees a GPU."""
    try:
        get_backend("gpu")
        return True
    except RuntimeError:
        return False


def backend_of(array):
    """The backend whose module created `array` (NumPy arrays: "cpu", CuPy arrays: "gpu")."""
    for backend in _backends.values():
        if backend.owns(array):
            return backend
    if type(array).__module__.startswith("cupy"):
        return get_backend("gpu")
    return None
