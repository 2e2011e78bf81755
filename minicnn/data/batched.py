"""A data set served in batches, as Keras' image_dataset_from_directory serves one (a tf.data.Dataset).

    train_ds, val_ds = mc.utils.image_dataset_from_directory("PetImages", validation_split=0.2,
                                                            subset="both", seed=1337, image_size=(64, 64))
    for images, labels in train_ds.take(1):     # one batch: images (32, 3, 64, 64) float32 in [0, 255]
        ...
    model.fit(train_ds.map(lambda x, y: (augment(x), y)), epochs=5, validation_data=val_ds)

Each pass over it is one epoch: in a new random order with shuffle=True (from `seed`), the last
batch smaller. take(n) keeps the first n batches, map(fn) applies fn(images, labels) to each batch,
prefetch() changes nothing (the batches are made when asked for). fit, evaluate and predict take it
and use its batches, as Keras does with a dataset.
"""

import numpy as np

from .. import random
from ..backend import get_backend
from ..tensor import Tensor
from .dataset import ImageDataset, share


class Batches:
    def __init__(self, dataset, batch_size=32, shuffle=True, seed=None, label_mode="int", _maps=(), _limit=None):
        if not isinstance(dataset, ImageDataset):
            raise TypeError(f"Batches: dataset must be an mc.data.ImageDataset, got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle, self.label_mode = dataset, int(batch_size), shuffle, label_mode
        self._order = np.random.default_rng(random.generator().integers(2 ** 63) if seed is None else seed)
        self._maps, self._limit = tuple(_maps), _limit

    # what fit, evaluate and predict read of a data set
    @property
    def images(self):
        return self.dataset.images

    @property
    def labels(self):
        return self.dataset.labels

    @property
    def class_names(self):
        return self.dataset.class_names

    @property
    def file_paths(self):
        return self.dataset.file_paths

    @property
    def image_count(self):
        """How many images one pass gives (all of them, or take(n)'s n batches' worth)."""
        n = len(self.dataset)
        return n if self._limit is None else min(n, self._limit * self.batch_size)

    def __len__(self):
        """The number of batches in a pass (tf.data's cardinality)."""
        return -(-self.image_count // self.batch_size)

    def __repr__(self):
        return (f"<Batches of {self.batch_size} from {len(self.dataset)} images of shape "
                f"{self.dataset.images.shape[1:]}{', shuffled' if self.shuffle else ''}>")

    def take(self, count):
        """The first `count` batches of each pass."""
        limit = count if self._limit is None else min(count, self._limit)
        return self._with(self._maps, limit)

    def map(self, function, num_parallel_calls=None, deterministic=None):
        """Each batch (images, labels) becomes function(images, labels)."""
        if not callable(function):
            raise TypeError(f"map: function must be callable, got {function!r}")
        return self._with(self._maps + (function,), self._limit)

    def prefetch(self, buffer_size=None):
        return self

    def _with(self, maps, limit):
        twin = Batches.__new__(Batches)
        twin.__dict__.update(self.__dict__, _maps=maps, _limit=limit)
        return twin

    def __iter__(self):
        return self.on("cpu")

    def on(self, device, part=(0, 1)):
        """One pass: (images, labels) tensors on `device`, images float32 (N, C, H, W); part=(rank, ranks):
        only that share of each batch (mc.distributed)."""
        backend = get_backend(device)
        n = len(self.dataset)
        order = self._order.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, self.image_count, self.batch_size):
            index = order[start:min(start + self.batch_size, self.image_count)]
            index = index[share(len(index), *part)]
            x = Tensor(backend.from_host(self.dataset.images[index].astype(np.float32)), backend)
            batch = (x, self._labels(index, backend)) if self.dataset.labels is not None else (x, None)
            for function in self._maps:
                batch = function(*batch) if batch[1] is not None else (function(batch[0]), None)
            yield batch

    def _labels(self, index, backend):
        labels = self.dataset.labels[index]
        if self.label_mode == "categorical":
            labels = np.eye(len(self.dataset.class_names), dtype=np.float32)[labels]
        elif self.label_mode == "binary":
            labels = labels.astype(np.float32)[:, None]
        elif labels.dtype.kind != "f":
            labels = labels.astype(np.int64)
        return Tensor(backend.from_host(labels), backend)
