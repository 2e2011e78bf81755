"""minicnn.utils: PyTorch's torch.utils.data, and Keras' keras.utils (to_categorical, load_img,
img_to_array, image_dataset_from_directory, plot_model)."""

from . import data
from .images import image_dataset_from_directory, img_to_array, load_img
from .labels import to_categorical
from ..plots import plot_model

__all__ = ["data", "to_categorical", "image_dataset_from_directory", "load_img", "img_to_array", "plot_model"]
