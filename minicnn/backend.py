"""Backends: where a tensor's numbers live, and which array module computes on them.

The ops never import NumPy for tensor data. They ask the tensor for its
backend and use `backend.xp`, an array module that follows the Python Array
API standard: NumPy 2 on "cpu", CuPy on "gpu" (Chainer's Device idea). Only
standard functions are called through `xp`, so the same op code runs on both.

The few things the standard leaves out (creating arrays on a device, copying
to and from the host, scatter-add) are methods of the backend itself.
"""

import ctypes
import os
import sys

import numpy as np

_DTYPE_NAMES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8",
                "uint8", "uint16", "uint32", "uint64", "bool")


class Backend:
    """A device plus the Array-API module that computes on it."""

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


class CupyBackend(Backend):
    def index_add(self, target, index, values):
        import cupyx
        cupyx.scatter_add(target, index, values)

    def to_host(self, array):
        return self.xp.asnumpy(array)

    def from_host(self, array):
        return self.xp.asarray(np.asarray(array))


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

_backends = {"cpu": Backend("cpu", np)}
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
