"""mc.data: images from folders, datasets in memory, honest splits, mixup, batches on a device."""

from .batched import Batches
from .dataset import ImageDataset, as_dataset, batches
from .folder import image_folder, load_image
from .mixup import MixUp
from .split import file_number, grouped_kfold, grouped_split, stratified_split

AUTOTUNE = -1       # tf.data.AUTOTUNE, for map(num_parallel_calls=) and prefetch(): minicnn makes batches when asked

__all__ = ["AUTOTUNE", "Batches", "ImageDataset", "MixUp", "as_dataset", "batches", "file_number", "grouped_kfold",
           "grouped_split", "stratified_split", "image_folder", "load_image"]
