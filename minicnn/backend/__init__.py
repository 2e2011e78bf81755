"""Backends: where a tensor's numbers live, and which array module computes on them.

    base.py  Backend: the contract, written with Array API calls only
    cpu.py   NumpyBackend ("cpu"): NumPy, work shared between CPU threads
    loops.py the CPU's loops that NumPy cannot run fast (pooling, ReLU's gradient), compiled by numba
    imports.py  the CPU's helpers imported without changing os.environ
    gpu.py   CupyBackend ("gpu"): CuPy on an NVIDIA GPU

This module keeps the devices by name: "cpu" is made at import, "gpu" on first
use (so CuPy is imported only when asked for), and register_backend adds more.
"""

from .base import Backend
from .cpu import NumpyBackend
from .gpu import CupyBackend, make_gpu_backend

__all__ = ["Backend", "device", "CupyBackend", "NumpyBackend", "backend_of", "get_backend", "get_num_threads",
           "gpu_available", "register_backend", "set_num_threads", "use_gpu"]

_backends = {"cpu": NumpyBackend()}
_factories = {"gpu": lambda: make_gpu_backend(_gpu_index)}
_gpu_index = None       # which GPU the gpu device is (use_gpu); None: CuPy's current one
_ALIASES = {"cuda": "gpu", "cuda:0": "gpu", "gpu:0": "gpu", "cpu:0": "cpu"}


class device(str):
    """PyTorch's torch.device("cuda:0" if minicnn.cuda.is_available() else "cpu"): a device's name
    (one GPU: "cuda" and "cuda:0" are the gpu device), with .type and .index as PyTorch's."""

    def __new__(cls, name):
        if isinstance(name, Backend):
            name = name.name
        if not isinstance(name, str) or _ALIASES.get(name, name) not in set(_backends) | set(_factories):
            raise RuntimeError(f"Expected one of cpu, cuda, cuda:0, gpu device type at start of device string: "
                               f"{name!r}")
        return super().__new__(cls, name)

    @property
    def type(self):
        return self.split(":")[0]

    @property
    def index(self):
        return int(self.split(":")[1]) if ":" in self else None

    def __repr__(self):
        return f"device(type={self.type!r}" + ("" if self.index is None else f", index={self.index}") + ")"


def register_backend(name, factory):
    """Make `name` a device: `factory()` returns its Backend on first use."""
    _factories[name] = factory
    _backends.pop(name, None)


def use_gpu(index):
    """Make the gpu device GPU number `index` of those CUDA sees (counted round them: with one GPU
    visible, every index is that one). mc.distributed.init() gives each rank its local rank's. Call it
    before the first tensor goes to the GPU; until it is called the gpu device is CuPy's current GPU."""
    global _gpu_index
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"use_gpu: index must be a non-negative int, got {index!r}")
    _gpu_index = index
    if "gpu" in _backends:
        _backends["gpu"].use(index)


def get_backend(device):
    """The Backend for a device name ("cpu", "gpu") or a Backend itself."""
    if isinstance(device, Backend):
        return device
    name = _ALIASES.get(device, device) if isinstance(device, str) else device
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
    """The backend holding `array` (NumPy arrays: "cpu", CuPy arrays: "gpu"), or None."""
    for backend in _backends.values():
        if backend.owns(array):
            return backend
    if type(array).__module__.split(".")[0] == "cupy":      # before the gpu device was first asked for
        return get_backend("gpu")
    return None


def set_num_threads(n):
    """How many threads minicnn's CPU ops share their work between (like torch.set_num_threads), its
    matrix products included (the BLAS runs each block on one of them). mc.distributed.init() gives
    each of the ranks on a machine its share of the cores."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    get_backend("cpu").threads = n


def get_num_threads():
    """The number of threads minicnn's CPU ops use (set_num_threads)."""
    return get_backend("cpu").threads
