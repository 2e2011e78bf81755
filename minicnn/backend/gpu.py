"""An NVIDIA GPU: CuPy, whose namespace mirrors NumPy 2's and so follows the Array API.

The ops run on CuPy unchanged; this class adds only what the standard leaves
out, in CuPy's own words: which arrays are its own, copies to the host and
scatter-add. The heavy steps (im2col, ReLU, batch norm, pooling) are base.py's
whole-array versions: a GPU computes a whole array in one kernel, and needs
neither the CPU's thread pool nor its memory layout.
"""

from .base import Backend

INSTALL = ("pip install 'minicnn[gpu]' (CuPy for CUDA 12 with its toolkit libraries, on any CUDA 12 or newer "
           "driver) or pip install 'minicnn[gpu-cuda13]'")


class CupyBackend(Backend):
    def __init__(self, cupy, index=None):
        super().__init__("gpu", cupy)
        if index is not None:
            self.use(index)

    def use(self, index):
        """Compute on GPU `index` (modulo the GPUs CUDA sees): CuPy's current device from here on."""
        self.xp.cuda.Device(index % self.xp.cuda.runtime.getDeviceCount()).use()

    def owns(self, array):
        return isinstance(array, self.xp.ndarray)

    def to_host(self, array):
        return self.xp.asnumpy(array)

    def relu(self, a, out=None):
        """base.py's ReLU, written into `out` by the kernel itself (the standard has no out=): relu_ then
        allocates nothing. (`out` is `a` itself there: a ufunc copies an input that only overlaps out.)"""
        return self.xp.maximum(a, 0.0, out=out)

    def index_add(self, target, index, values):
        self.xp.add.at(target, index, values)       # CuPy 14 deprecates cupyx.scatter_add for this


def prove(cupy):
    """One elementwise kernel and one matrix product, checked: CuPy compiles its kernels with NVRTC and
    multiplies with cuBLAS, libraries of the CUDA toolkit that a machine with only a driver lacks (and
    CuPy finds them only when the first kernel runs). Returns None, or what failed and why."""
    try:
        a = cupy.arange(4, dtype=cupy.float32) * 2 + 1     # [1, 3, 5, 7]
        values = cupy.asnumpy(a).tolist()
    except Exception as err:
        return f"its first kernel failed ({type(err).__name__}: {err}): CuPy compiles kernels with NVRTC"
    if values != [1.0, 3.0, 5.0, 7.0]:
        return f"its first kernel computed {values} instead of [1, 3, 5, 7]"
    try:
        product = cupy.asnumpy(cupy.matmul(cupy.reshape(a, (2, 2)), cupy.reshape(a, (2, 2)))).tolist()
    except Exception as err:
        return f"its first matrix product failed ({type(err).__name__}: {err}): CuPy multiplies with cuBLAS"
    if product != [[16.0, 24.0], [40.0, 64.0]]:
        return f"its first matrix product computed {product} instead of [[16, 24], [40, 64]]"
    return None


def make_gpu_backend(index=None):
    """The "gpu" device: CuPy on GPU `index` (None: its current GPU), proved by one kernel and one
    matrix product, or an error that says what is missing."""
    try:
        import cupy
    except ModuleNotFoundError as err:
        if err.name != "cupy":
            raise RuntimeError(f"device 'gpu': CuPy is installed but could not be imported ({err})") from None
        raise RuntimeError(f"device 'gpu' needs CuPy, which is not installed. Install it with {INSTALL}.") from None
    except ImportError as err:      # CuPy's own text names broken or duplicate installs: keep it
        raise RuntimeError(f"device 'gpu': CuPy is installed but could not be imported:\n{err}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise RuntimeError(f"device 'gpu': CuPy is installed but CUDA is not usable ({err})") from None
    if count == 0:
        raise RuntimeError("device 'gpu': CuPy is installed but no GPU was found")
    backend = CupyBackend(cupy, index)
    failure = prove(cupy)
    if failure:
        raise RuntimeError(f"device 'gpu': CuPy sees {count} GPU(s), but {failure}. The CUDA toolkit's "
                           f"libraries are probably missing: install CuPy with them, {INSTALL}.")
    return backend
