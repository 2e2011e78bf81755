"""mc.data: images from folders, datasets in memory, batches on a device."""

from .dataset import ImageDataset, as_dataset, batches, stratified_split
from .folder import image_folder, load_image

__all__ = ["ImageDataset", "as_dataset", "batches", "stratified_split", "image_folder", "load_image"]
