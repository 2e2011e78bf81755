"""Mixup (Zhang et al., 2018): train on blends of two images, labelled with the same blend.

    model.fit(mc.data.MixUp(train, alpha=0.2), ...)

In every training batch, image i becomes  w * x_i + (1 - w) * x_j  and its label
w * y_i + (1 - w) * y_j, with j another image of the batch drawn at random and w
drawn for each image from Beta(alpha, alpha): with a small alpha most blends are
nearly one image with a faint ghost of another. A network can no longer learn
each training photo by heart; it is pushed to change its output gradually
between the classes. Only fit's training batches are blended (after loading,
before the model's augmentation layers); evaluate, predict and validation see
the images as they are, and the training accuracy fit reports is measured on
the blends (against the larger share of each label).

Blended labels are fractions, so they must be 0/1 labels of a one-unit model
(BinaryCrossentropy) or one-hot rows (CategoricalCrossentropy); class indices
of more than two classes are refused, with the one-hot conversion in the error.
"""

import numbers

import numpy as np

from .. import random
from ..tensor import Tensor
from .dataset import ImageDataset


class MixUp(ImageDataset):
    """A dataset whose training batches fit blends pairwise (see the module's docstring)."""

    def __init__(self, dataset, alpha=0.2):
        if not isinstance(dataset, ImageDataset):
            raise TypeError(f"MixUp: dataset must be a mc.data.ImageDataset, got {type(dataset).__name__}")
        if not (isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and alpha > 0):
            raise ValueError(f"MixUp: alpha must be a number > 0, got {alpha!r}")
        labels = dataset.labels
        if labels is None:
            raise ValueError("MixUp: the dataset has no labels to blend")
        # (N,) or (N, 1) of 0/1: a one-unit model's labels; (N, classes > 1): one-hot (or soft) rows
        binary = (labels.ndim == 1 or (labels.ndim == 2 and labels.shape[1] == 1)) and np.isin(labels, (0, 1)).all()
        rows = labels.ndim == 2 and labels.shape[1] > 1 and (labels >= 0).all() and np.allclose(labels.sum(1), 1)
        if not (binary or rows):
            found = np.unique(labels)
            raise ValueError(f"MixUp: labels of shape {labels.shape} with values {found[:5].tolist()}"
                             f"{'...' if len(found) > 5 else ''} can't be blended: wanted 0/1 labels (shape (N,), a "
                             f"one-unit model) or one-hot rows (N, classes). Class indices become one-hot rows with "
                             f"np.eye({int(found.max()) + 1}, dtype='float32')[labels]; compile with "
                             f"CategoricalCrossentropy.")
        super().__init__(dataset.images, labels.astype(np.float32), dataset.class_names, dataset.file_paths)
        self.alpha = alpha

    def __repr__(self):
        return f"MixUp({super().__repr__()}, alpha={self.alpha})"

    def subset(self, indices):
        return MixUp(super().subset(indices), self.alpha)

    def mix(self, x, y):
        """Batch tensors x (N, ...) and y (N,) or (N, classes), blended pairwise on their device."""
        n = x.shape[0]
        weight = random.generator().beta(self.alpha, self.alpha, n).astype(np.float32)
        partner = random.generator().permutation(n)
        return _blend(x, weight, partner), _blend(y, weight, partner)


def _blend(t, weight, partner):
    """w * t[i] + (1 - w) * t[partner[i]] for every row i, as a new tensor."""
    xp, backend = t.xp, t.backend
    w = xp.reshape(backend.from_host(weight), (-1,) + (1,) * (t.ndim - 1))
    others = xp.take(t.data, backend.from_host(partner), axis=0)
    return Tensor(w * t.data + (1 - w) * others, backend)
