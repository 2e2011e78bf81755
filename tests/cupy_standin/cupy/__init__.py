"""A stand-in for CuPy, for machines without a GPU: NumPy underneath, CuPy's rules on top.

The tests put this folder first on sys.path (conftest.py) when no real CuPy
sees a GPU, so `import cupy` inside minicnn's own factory
(minicnn/backend/gpu.py) finds it and the library's CupyBackend runs on it.
What it enforces is what breaks on a real GPU:

- its arrays are not numpy.ndarray, and NumPy can't read them: np.asarray and
  np.array raise TypeError, and so do NumPy functions given one;
- its functions and operators refuse numpy.ndarray operands (TypeError);
- data crosses only through cupy.asarray (to the device), cupy.asnumpy and
  .get() (to the host); each crossing is logged in `transfers`, and so is each
  read of a value by the host (float(), int(), bool(), .item(), .tolist()),
  which on a GPU waits for the device: a test can count them in a training step.
"""

import os
import types

import numpy as _np

__version__ = "14.0.0-standin"

# ("to_device" | "to_host" | "sync", dtype, shape), in order
transfers = []


def _log(kind, array):
    transfers.append((kind, _np.dtype(array.dtype), tuple(_np.shape(array))))


def _refuse_numpy(value):
    if isinstance(value, _np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}: a numpy.ndarray is not a CuPy array "
                        f"(copy it with cupy.asarray first)")


def _unwrap(value):
    """NumPy's view of an argument: stand-in arrays opened, host arrays refused, containers walked."""
    if isinstance(value, ndarray):
        return value._array
    _refuse_numpy(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _wrap(value):
    """A result back as stand-in arrays; NumPy's scalars become 0-d arrays, as CuPy returns."""
    if isinstance(value, (_np.ndarray, _np.generic)):
        return ndarray(_np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _on_device(function):
    """function run on the arrays inside stand-in arrays; out= writes into a stand-in array."""
    def wrapper(*args, **kwargs):
        out = kwargs.get("out")
        args = _unwrap(args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        result = function(*args, **kwargs)
        return out if out is not None else _wrap(result)
    wrapper.__name__ = getattr(function, "__name__", "function")
    return wrapper


class ndarray:
    """A device array: a NumPy array that only the stand-in's functions may touch."""

    __slots__ = ("_array", "_device")
    __array_ufunc__ = None      # NumPy's ufuncs refuse it, and `numpy_array + this` comes here

    def __init__(self, array):
        self._array = array
        self._device = _current_device      # CuPy allocates on the current device

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented   # np.concatenate(...) and friends raise TypeError

    # --- leaving the device ---
    def get(self):
        _log("to_host", self._array)
        return self._array.copy()

    def item(self):
        _log("sync", self._array)
        return self._array.item()

    def tolist(self):
        _log("sync", self._array)
        return self._array.tolist()

    def __float__(self):
        _log("sync", self._array)
        return float(self._array)

    def __int__(self):
        _log("sync", self._array)
        return int(self._array)

    def __bool__(self):
        _log("sync", self._array)
        return bool(self._array)

    # --- what it is ---
    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    strides = property(lambda self: self._array.strides)
    nbytes = property(lambda self: self._array.nbytes)
    T = property(lambda self: ndarray(self._array.T))
    mT = property(lambda self: ndarray(self._array.mT))
    device = property(lambda self: cuda.Device(self._device))
    # a MemoryPointer: .ptr is the address of the first element (here the host's memory, for NCCL's double)
    data = property(lambda self: types.SimpleNamespace(ptr=self._array.ctypes.data))

    def __len__(self):
        return len(self._array)

    def __repr__(self):
        return "array(" + _np.array2string(self._array, separator=", ") + ")"

    def __getattr__(self, name):            # methods: astype, reshape, sum, copy, ...
        if name.startswith("__"):           # NumPy's protocols (__array_interface__, ...) stay closed
            raise AttributeError(name)
        attribute = getattr(self._array, name)
        return _on_device(attribute) if callable(attribute) else _wrap(attribute)

    def __getitem__(self, index):
        return _wrap(self._array[_unwrap(index)])

    def __setitem__(self, index, value):
        self._array[_unwrap(index)] = _unwrap(value)

    def __iter__(self):
        return (ndarray(_np.asarray(row)) for row in self._array)


def _operator(name):
    def method(self, *other):
        return _wrap(getattr(self._array, name)(*_unwrap(other)))
    method.__name__ = name
    return method


def _in_place(name):
    def method(self, other):
        getattr(self._array, name)(_unwrap(other))
        return self
    method.__name__ = name
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
    setattr(ndarray, f"__r{_name}__", _operator(f"__r{_name}__"))
    setattr(ndarray, f"__i{_name}__", _in_place(f"__i{_name}__"))
for _name in ("eq", "ne", "lt", "le", "gt", "ge", "neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
ndarray.__hash__ = None


# --- the module's functions: NumPy's, run on the device arrays ---
for _name in dir(_np):
    _value = getattr(_np, _name)
    if _name.startswith("_") or _name == "ndarray" or isinstance(_value, types.ModuleType):
        continue
    if isinstance(_value, type) or not callable(_value):
        globals()[_name] = _value           # dtypes, scalar types, constants: CuPy uses NumPy's
    else:
        globals()[_name] = _on_device(_value)
ndarray.__module__ = "cupy"


def asarray(a, dtype=None):
    """A device array from a device array (no copy when the dtype matches) or host data (a copy)."""
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    host = _np.array(a, dtype=dtype, copy=True)
    _log("to_device", host)
    return ndarray(host)


def array(a, dtype=None, copy=True):
    if isinstance(a, ndarray):
        return ndarray(a._array.astype(dtype or a.dtype, copy=copy))
    return asarray(a, dtype)


def asnumpy(a):
    """A host copy of a device array."""
    if not isinstance(a, ndarray):
        return _np.asarray(a)
    return a.get()


_current_device = 0
# how many GPUs the stand-in shows: CUPY_STANDIN_GPUS in a test's subprocess (one by default)
_device_count = int(os.environ.get("CUPY_STANDIN_GPUS", "1"))


class _Device:
    """cupy.cuda.Device: Device() is the current device; use() makes this one current (cupy/cuda/device.pyx)."""

    def __init__(self, id=None):
        self.id = _current_device if id is None else int(id)
        if not 0 <= self.id < _device_count:
            raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def use(self):
        global _current_device
        _current_device = self.id

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    def synchronize(self):
        pass


cuda = types.SimpleNamespace(
    Device=_Device,
    get_current_stream=lambda: types.SimpleNamespace(ptr=0),     # the null stream
    runtime=types.SimpleNamespace(getDeviceCount=lambda: _device_count, getDevice=lambda: _current_device,
                                  runtimeGetVersion=lambda: 0,
                                  getDeviceProperties=lambda device: {"name": b"CuPy stand-in (NumPy)"}),
)


class _MemoryPool:
    """CuPy's default memory pool, as far as benchmarks/gpu_check.py asks: it holds nothing here."""

    def free_all_blocks(self):
        pass

    def total_bytes(self):
        return 0


_pool = _MemoryPool()


def get_default_memory_pool():
    return _pool
