"""minicnn.utils: PyTorch's torch.utils.data, and Keras' keras.utils (to_categorical, load_img, ...)."""

from . import data
from .labels import to_categorical

__all__ = ["data", "to_categorical"]
