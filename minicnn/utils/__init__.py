"""minicnn.utils: PyTorch's torch.utils.data, and Keras' keras.utils (to_categorical, load_img,
img_to_array, image_dataset_from_directory)."""

from . import data
from .images import image_dataset_from_directory, img_to_array, load_img
from .labels import to_categorical

__all__ = ["data", "to_categorical", "image_dataset_from_directory", "load_img", "img_to_array"]
