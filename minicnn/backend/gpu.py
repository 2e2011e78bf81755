"""An NVIDIA GPU: CuPy, whose namespace mirrors NumPy 2's and so follows the Array API.

The ops run on CuPy unchanged; this class adds only what the standard leaves
out, in CuPy's own words: which arrays are its own, copies to the host and
scatter-add. The heavy steps (im2col, ReLU, batch norm, pooling) are base.py's
whole-array versions: a GPU computes a whole array in one kernel, and needs
neither the CPU's thread pool nor its memory layout.
"""

from .base import Backend


class CupyBackend(Backend):
    def __init__(self, cupy, cupyx, index=None):
        super().__init__("gpu", cupy)
        self.cupyx = cupyx
        if index is not None:
            self.use(index)

    def use(self, index):
        """Compute on GPU `index` (modulo the GPUs CUDA sees): CuPy's current device from here on."""
        self.xp.cuda.Device(index % self.xp.cuda.runtime.getDeviceCount()).use()

    def owns(self, array):
        return isinstance(array, self.xp.ndarray)

    def to_host(self, array):
        return self.xp.asnumpy(array)

    def index_add(self, target, index, values):
        self.cupyx.scatter_add(target, index, values)


def make_gpu_backend(index=None):
    """The "gpu" device: CuPy on GPU `index` (None: its current GPU), or an error that says what is missing."""
    try:
        import cupy
        import cupyx
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
    return CupyBackend(cupy, cupyx, index)
