"""A stand-in for CuPy, for machines without a GPU: NumPy underneath, CuPy's rules on top.

The tests put this folder first on sys.path (conftest.py) when no real CuPy
sees a GPU, so `import cupy` inside minicnn's own factory
(minicnn/backend/gpu.py) finds it and the library's CupyBackend runs on it.
What it enforces is what breaks on a real GPU, or costs there:

- its arrays are not numpy.ndarray, and NumPy can't read them: np.asarray and
  np.array raise TypeError, and so do NumPy functions given one;
- its functions and operators refuse numpy.ndarray operands (TypeError);
- data crosses only through cupy.asarray (to the device), cupy.asnumpy and
  .get() (to the host); each crossing is logged in `transfers`, and so is each
  read of a value by the host (float(), int(), bool(), .item(), .tolist(), and
  the count a boolean mask needs), which on a GPU waits for the device: a test
  can count them in a training step;
- CuPy 14.2's own rules, each beside the line of CuPy's source it mirrors (tag
  v14.2.0 of github.com/cupy/cupy), and tests/test_gpu.py holds this module's
  names and signatures to the real wheel's where that is installed:
  what CuPy lacks is absent; no function takes device=; cuda.Device is
  unhashable; integer indices out of range wrap; cupyx.scatter_add warns; a
  ufunc whose `out` overlaps an input that is another array object copies that
  input first (logged in `copies`, the temporaries a step allocates).

CUPY_STANDIN_MISSING=nvrtc (or cublas) in a child's environment plays a machine
with the driver but without that CUDA library: the GPU is seen, and the first
kernel (or matrix product) fails with CuPy's error.
"""

import builtins
import os
import types

import numpy as _np

__version__ = "14.0.0-standin"

# ("to_device" | "to_host" | "sync", dtype, shape), in order
transfers = []
# ("overlap", dtype, shape): an input a ufunc copied because `out` overlaps it (cupy/_core/_kernel.pyx:673-683)
copies = []
# (dtype, shape) of every array given memory of its own on the device (views are not), in order
allocations = []

# NumPy 2.4's public names that CuPy 14.2 does not have (from the real wheel, without a GPU:
# sorted(n for n in dir(numpy) if not n.startswith("_") and not hasattr(cupy, n))); absent here too
_CUPY_LACKS = frozenset("""
    False_ ScalarType True_ asmatrix block bmat busday_count busday_offset busdaycalendar bytes_ char character
    clongdouble complex256 core ctypeslib datetime64 datetime_as_string datetime_data dtypes einsum_path emath
    errstate f2py flexible float128 frompyfunc fromregex geomspace get_include getbufsize geterr geterrcall
    histogram_bin_edges info insert is_busday isnat little_endian longdouble ma matrix matvec memmap
    nanpercentile nanquantile ndenumerate nditer nested_iters object_ polyder polydiv polyint rec recarray record
    sctypeDict setbufsize seterr seterrcall show_runtime spacing str_ strings test timedelta64 typecodes unstack
    vecdot vecmat void""".split())
# numpy.ndarray's attributes that cupy.ndarray lacks (the same comparison)
_NDARRAY_LACKS = frozenset("ctypes getfield resize setfield setflags to_device".split())
_MISSING = os.environ.get("CUPY_STANDIN_MISSING", "")       # "nvrtc" or "cublas": that library is absent


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


def _kernel(name):
    """Where NVRTC is absent, every kernel fails to compile, as CuPy's first kernel does there
    (cupy_backends/cuda/_softlink.pyx:46-49, raised on the first nvrtc call)."""
    if _MISSING == "nvrtc":
        raise RuntimeError("CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: cannot open shared "
                           "object file: No such file or directory")
    if _MISSING == "cublas" and name in ("matmul", "dot", "tensordot", "einsum", "inner", "vdot"):
        raise ImportError("libcublas.so.12: cannot open shared object file: No such file or directory")


def _no_device_keyword(name, kwargs):
    """None of CuPy 14's functions takes device= (NumPy 2's creation functions do)."""
    if "device" in kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument 'device'")


def _on_device(function):
    """function run on the arrays inside stand-in arrays; out= writes into a stand-in array."""
    name = getattr(function, "__name__", "function")

    def wrapper(*args, **kwargs):
        _no_device_keyword(name, kwargs)
        _kernel(name)
        out = kwargs.get("out")
        args = _unwrap(args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        result = function(*args, **kwargs)
        return out if out is not None else _wrap(result)
    wrapper.__name__ = name
    return wrapper


def _copy_overlapping_inputs(inputs, out):
    """CuPy's ufuncs copy an input that may share memory with `out` unless it is `out` itself
    (cupy/_core/_kernel.pyx:673-683, _copy_in_args_if_needed: `inp is not out and may_share_bounds`)."""
    if not isinstance(out, ndarray):
        return inputs
    kept = []
    for a in inputs:
        if isinstance(a, ndarray) and a is not out and _np.may_share_memory(a._array, out._array):
            copies.append(("overlap", a.dtype, a.shape))
            a = ndarray(a._array.copy())
        kept.append(a)
    return kept


def _wrap_indices(index, shape):
    """Integer-array indices out of range wrap round the axis instead of raising IndexError
    (cupy/_core/_routines_indexing.pyx:1206-1209, "wrap all out-of-bound indices"; the same for
    setitem, scatter and ufunc.at). Works on NumPy's view of the index."""
    parts = list(index) if isinstance(index, tuple) else [index]
    parts = [_np.asarray(p) if isinstance(p, list) else p for p in parts]
    # a Python or NumPy bool is a 0-d mask: it takes no axis (_routines_indexing.pyx:286-289)
    mask = lambda p: isinstance(p, (builtins.bool, _np.bool_)) or (isinstance(p, _np.ndarray) and p.dtype == bool)
    taken = builtins.sum(_np.ndim(p) if mask(p) else 1 for p in parts if p is not None and p is not Ellipsis)
    axis = 0
    for k, part in enumerate(parts):
        if part is Ellipsis:
            axis += len(shape) - taken
        elif mask(part):
            axis += _np.ndim(part)
        elif part is not None:
            if isinstance(part, _np.ndarray) and part.dtype.kind in "iu" and axis < len(shape) and shape[axis]:
                parts[k] = part % shape[axis]
            axis += 1
    return tuple(parts) if isinstance(index, tuple) else parts[0]


def _log_mask_count(index):
    """Indexing with a boolean device array reads its count of True on the host first
    (cupy/_core/_routines_indexing.pyx:802, `n_true = int(mask_scanned[-1])`): a sync."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, ndarray) and part.dtype == bool:
            _log("sync", part._array)


class ufunc:
    """A CuPy ufunc (cupy/_core/_kernel.pyx): called like NumPy's, with CuPy's `out` rule; .at wraps."""

    def __init__(self, numpy_ufunc):
        self._ufunc = numpy_ufunc
        self.__name__ = numpy_ufunc.__name__

    def __call__(self, *inputs, out=None, **kwargs):
        _no_device_keyword(self.__name__, kwargs)
        _kernel(self.__name__)
        inputs = _copy_overlapping_inputs(inputs, out)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        if out is not None:
            kwargs["out"] = _unwrap(out)
        result = self._ufunc(*_unwrap(tuple(inputs)), **kwargs)
        return out if out is not None else _wrap(result)

    def at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise TypeError(f"{self.__name__}.at: a must be a cupy.ndarray, got {type(a)}")
        _kernel(self.__name__)
        args = () if b is None else (_unwrap(b),)
        self._ufunc.at(a._array, _wrap_indices(_unwrap(indices), a.shape), *args)

    def __getattr__(self, name):            # reduce, accumulate, outer, nin, nout, ...
        attribute = getattr(self._ufunc, name)
        return _on_device(attribute) if callable(attribute) else attribute

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


class ndarray:
    """A device array: a NumPy array that only the stand-in's functions may touch."""

    __slots__ = ("_array", "_device")
    __array_ufunc__ = None      # NumPy's ufuncs refuse it, and `numpy_array + this` comes here

    def __init__(self, array):
        self._array = array
        self._device = _current_device      # CuPy allocates on the current device
        if array.base is None:
            allocations.append((array.dtype, array.shape))

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
        return builtins.float(self._array)

    def __int__(self):
        _log("sync", self._array)
        return builtins.int(self._array)

    def __bool__(self):
        _log("sync", self._array)
        return builtins.bool(self._array)     # the module's `bool` is NumPy's dtype

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
        if name.startswith("__") or name in _NDARRAY_LACKS:     # NumPy's protocols stay closed
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        attribute = getattr(self._array, name)
        return _on_device(attribute) if callable(attribute) else _wrap(attribute)

    def __getitem__(self, index):
        _log_mask_count(index)
        return _wrap(self._array[_wrap_indices(_unwrap(index), self.shape)])

    def __setitem__(self, index, value):
        _log_mask_count(index)
        self._array[_wrap_indices(_unwrap(index), self.shape)] = _unwrap(value)

    def __iter__(self):
        return (ndarray(_np.asarray(row)) for row in self._array)


def _operator(name):
    def method(self, *other):
        _kernel(name.strip("_"))
        return _wrap(getattr(self._array, name)(*_unwrap(other)))
    method.__name__ = name
    return method


def _in_place(name):
    def method(self, other):                # CuPy: the ufunc with out=self (cupy/_core/core.pyx, __iadd__ ...)
        _kernel(name)
        other, = _copy_overlapping_inputs([other], self)
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
    if _name.startswith("_") or _name in ("ndarray", "ufunc") or _name in _CUPY_LACKS or \
            isinstance(_value, types.ModuleType):
        continue
    if isinstance(_value, _np.ufunc) and _name != "matmul":     # CuPy's matmul is a generalized ufunc, no .at
        globals()[_name] = ufunc(_value)
    elif isinstance(_value, type) or not callable(_value):
        globals()[_name] = _value           # dtypes, scalar types, constants: CuPy uses NumPy's
    else:
        globals()[_name] = _on_device(_value)
ndarray.__module__ = ufunc.__module__ = "cupy"


def take(a, indices, axis=None, out=None):
    """cupy.take: indices out of range wrap (cupy/_core/_routines_indexing.pyx:1206-1209); no mode=."""
    _kernel("take")
    result = _np.take(_unwrap(a), _unwrap(indices), axis=axis, mode="wrap")
    if out is None:
        return _wrap(result)
    out[...] = _wrap(result)
    return out


def take_along_axis(a, indices, axis):
    """cupy.take_along_axis: fancy indexing underneath (cupy/_indexing/indexing.py), so indices wrap."""
    _kernel("take_along_axis")
    a, indices = _unwrap(a), _unwrap(indices)
    axis = axis % a.ndim
    return _wrap(_np.take_along_axis(a, indices % a.shape[axis] if a.shape[axis] else indices, axis))


def _counts_first(name):
    """nonzero and its kin read the count of non-zeros on the host (_routines_indexing.pyx:123, "synchronize!")."""
    numpy_function = getattr(_np, name)

    def function(a, *args, **kwargs):
        _log("sync", _unwrap(a))
        return _on_device(numpy_function)(a, *args, **kwargs)
    function.__name__ = name
    return function


for _name in ("nonzero", "argwhere", "flatnonzero", "extract", "compress"):
    globals()[_name] = _counts_first(_name)


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """A device array from a device array (no copy when the dtype matches) or host data (a copy)."""
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    host = _np.array(a, dtype=dtype, copy=True)
    _log("to_device", host)
    return ndarray(host)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    a = obj
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

    # unhashable: a Cython class with __richcmp__ and no __hash__ (cupy/cuda/device.pyx:353)
    __hash__ = None

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
