"""Evaluation helpers that work on plain NumPy arrays of labels."""

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes=None):
    """counts[i, j]: how many images of class i were predicted as class j."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape}, y_pred {y_pred.shape}; they must match")
    n = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def predicted_classes(outputs):
    """Class indices from model outputs: argmax over classes, or > 0.5 / > 0 for one binary unit."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    outputs = outputs.reshape(-1)
    threshold = 0.5 if outputs.min(initial=0) >= 0 and outputs.max(initial=0) <= 1 else 0.0
    return (outputs > threshold).astype(np.int64)
