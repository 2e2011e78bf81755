"""minicnn.utils: minicnn.utils.data, PyTorch's Dataset, DataLoader and random_split."""

from . import data

__all__ = ["data"]
