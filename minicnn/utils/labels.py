"""Keras' keras.utils.to_categorical: class indices as one-hot rows."""

import numpy as np


def to_categorical(x, num_classes=None):
    """(N,) class indices -> (N, num_classes) float32 one-hot rows (Keras: float64; minicnn keeps float32).
    A trailing axis of 1 ((N, 1) labels) is dropped first, as Keras does."""
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if x.dtype.kind == "f" and np.all(x == np.round(x)):
        x = x.astype(np.int64)
    if x.dtype.kind not in "iu":
        raise TypeError(f"to_categorical: x must hold class indices (integers), got dtype {x.dtype}")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    classes = int(x.max()) + 1 if num_classes is None and x.size else num_classes or 0
    if x.size and (x.min() < 0 or x.max() >= classes):
        raise ValueError(f"to_categorical: class indices must be in [0, {classes}), got {x.min()}..{x.max()} "
                         f"(num_classes={num_classes})")
    return np.eye(classes, dtype=np.float32)[x]
