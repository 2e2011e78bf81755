"""A labelled set of images in memory, and the batches that fit/evaluate/predict draw from it."""

import numpy as np

from .. import random
from ..backend import get_backend
from ..tensor import Tensor


class ImageDataset:
    """images (N, C, H, W), usually uint8; labels (N,) ints; class_names[label] is a label's name."""

    def __init__(self, images, labels, class_names=None, file_paths=None):
        images = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
        labels = None if labels is None else (labels.numpy() if isinstance(labels, Tensor) else np.asarray(labels))
        if labels is not None and labels.dtype.kind not in "biuf":
            raise ValueError(f"labels must be numbers (class indices, 0/1, or one-hot rows), got dtype "
                             f"{labels.dtype} (e.g. {labels.reshape(-1)[:3].tolist()}); turn names into indices "
                             f"first, e.g. [class_names.index(name) for name in labels]")
        if images.dtype.kind not in "biuf":
            raise ValueError(f"images must be numbers (uint8 or float), got dtype {images.dtype}")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"images and labels differ in length: {len(images)} images, {len(labels)} labels")
        self.images, self.labels = images, labels
        self.class_names = list(class_names) if class_names is not None else None
        self.file_paths = file_paths

    def __len__(self):
        return len(self.images)

    @property
    def image_count(self):
        return len(self.images)

    def __repr__(self):
        classes = "" if self.class_names is None else f", {len(self.class_names)} classes"
        return f"ImageDataset({len(self)} images of shape {self.images.shape[1:]}, {self.images.dtype}{classes})"

    def subset(self, indices):
        """The images at `indices` (a new dataset sharing class names)."""
        indices = np.asarray(indices, dtype=np.int64)
        paths = None if self.file_paths is None else [self.file_paths[i] for i in indices]
        labels = None if self.labels is None else self.labels[indices]
        return ImageDataset(self.images[indices], labels, self.class_names, paths)


def in_batches(data):
    """Whether data already comes in batches (mc.data.Batches, defined after this module, which it uses)."""
    return hasattr(data, "on") and hasattr(data, "image_count")


def as_dataset(x, y=None, name="x"):
    """Arrays, tensors or a dataset, as an ImageDataset (a data set in batches, mc.data.Batches, as it is)."""
    if isinstance(x, ImageDataset) or in_batches(x):
        if y is not None:
            raise ValueError(f"{name} is a dataset, which holds its labels: do not pass y as well")
        return x
    if isinstance(x, (tuple, list)) and y is None and len(x) == 2:
        x, y = x
    return ImageDataset(x, y)


def batches(dataset, batch_size, device, shuffle=False, order=None, part=(0, 1)):
    """(x, y) tensor pairs of up to batch_size images on `device`; x float32, y as labelled.

    Shuffling uses minicnn's seeded generator, unless `order` gives the images' order. uint8 images
    cross to the device as uint8 (4x less to copy) and become float32 there. A data set already in
    batches (mc.data.Batches, Keras' datasets) gives its own, whatever batch_size and shuffle say.
    part=(rank, ranks): only share `rank` of `ranks` of each batch (mc.distributed; maybe empty).
    """
    if in_batches(dataset):
        yield from dataset.on(device, part)
        return
    backend = get_backend(device)
    order = epoch_order(dataset, shuffle) if order is None else order
    for start in range(0, len(dataset), batch_size):
        index = order[start:start + batch_size][share(min(batch_size, len(dataset) - start), *part)]
        x = Tensor(backend.from_host(dataset.images[index]), backend)
        x = x if x.dtype == np.float32 else x.astype(np.float32)
        y = None
        if dataset.labels is not None:
            labels = dataset.labels[index]
            labels = labels.astype(np.float32) if labels.dtype.kind == "f" else labels.astype(np.int64)
            y = Tensor(backend.from_host(labels), backend)
        yield x, y


def epoch_order(dataset, shuffle):
    """The order of one pass over the images: a permutation from minicnn's seeded generator, or as stored."""
    return random.generator().permutation(len(dataset)) if shuffle else np.arange(len(dataset))


def share(count, rank, ranks):
    """The slice of range(count) that `rank` of `ranks` takes: shares that differ by one at most, the
    first ranks the larger (NumPy's array_split)."""
    size, extra = divmod(count, ranks)
    start = rank * size + min(rank, extra)
    return slice(start, start + size + (rank < extra))
