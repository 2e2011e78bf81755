"""minicnn.cuda: PyTorch's torch.cuda.is_available(), for `device = "cuda" if ... else "cpu"`."""

from .backend import gpu_available


def is_available():
    """True where the gpu device works (CuPy installed and a GPU seen)."""
    return gpu_available()


def device_count():
    return 1 if gpu_available() else 0
