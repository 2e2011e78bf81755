"""The backend contract: a device plus the Array-API module that computes on it.

The ops never import NumPy for tensor data. They ask a tensor for its backend
and call only standard functions through `backend.xp`, so the same op code
runs on NumPy ("cpu"), CuPy ("gpu") or any Array API module (the tests'
array-api-strict device). What the standard leaves out is a method here,
written once with standard calls; a backend whose module does better (NumPy,
CuPy) overrides just that method (MiniTorch's idea: a handful of primitives
behind one contract).
"""

import numpy as np

_DTYPE_NAMES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8",
                "uint8", "uint16", "uint32", "uint64", "bool")


class Backend:
    """Any Array API module on one of its devices, e.g. Backend("strict", array_api_strict, Device("device1"))."""

    def __init__(self, name, xp, device=None):
        self.name = name        # what Tensor.device reports: "cpu", "gpu", ...
        self.xp = xp            # the array module
        self.device = device    # passed to xp's creation functions; None = xp's default
        self._numpy_dtypes = None

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

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

    def empty_like(self, array):
        return self.xp.empty_like(array)

    def arange(self, n, dtype="int64"):
        return self.xp.arange(n, dtype=self.dtype(dtype), **self._device_kw())

    # --- explicit copies between host and device (never implicit) ---
    def from_host(self, array):
        """Copy a host NumPy array onto this device."""
        return self.xp.asarray(np.asarray(array), **self._device_kw())

    def to_host(self, array):
        """Copy an array of this device into a new host NumPy array (DLPack, the standard's exchange)."""
        return np.from_dlpack(array, device="cpu", copy=True)

    def owns(self, array):
        """Whether `array` belongs to this backend: an array of its module, on its device if it names one.
        (Standard arrays say both themselves: __array_namespace__() and .device.)"""
        namespace = getattr(array, "__array_namespace__", None)
        return (namespace is not None and namespace() is self.xp
                and (self.device is None or array.device == self.device))

    # --- what the standard has no function for ---
    def index_add(self, target, index, values):
        """target[index] += values, adding repeated indices once per occurrence.

        The standard has no scatter-add, so this copies to the host, adds there
        and copies back: correct anywhere, and only used by the gradient of
        indexing with integer arrays. NumPy and CuPy override it.
        """
        parts = index if isinstance(index, tuple) else (index,)
        host_parts = tuple(self.to_host(p) if self.owns(p) else p for p in parts)
        result = self.to_host(target)
        np.add.at(result, host_parts if isinstance(index, tuple) else host_parts[0], self.to_host(values))
        target[...] = self.from_host(result)

    def into(self, out, name, *args):
        """out[...] = xp.<name>(*args) for an elementwise function such as "multiply".
        The standard has no out=; NumPy and CuPy override this to write straight into `out`."""
        out[...] = getattr(self.xp, name)(*args)

    def matmul(self, a, b):
        """a @ b. (The CPU backend shares large products between its threads.)"""
        return self.xp.matmul(a, b)

    def split_work(self, fn, n, size):
        """Call fn(start, stop) on consecutive shares of range(n) that together cover it.

        Ops hand their per-channel loops to this. A device computes a whole array
        in one call, so here it is one share; the CPU backend shares the work
        between threads (minicnn/backend/cpu.py).
        """
        fn(0, n)
