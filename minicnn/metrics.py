"""Evaluation helpers that work on plain NumPy arrays of labels."""

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes=None):
    """counts[i, j]: how many images of class i were predicted as class j."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape}, y_pred {y_pred.shape}; they must match")
    if num_classes is not None and (not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool)
                                    or num_classes < 1):
        raise ValueError(f"confusion_matrix: num_classes must be a positive int or None, got {num_classes!r}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.dtype.kind not in "biu" and not (labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
            raise ValueError(f"confusion_matrix: {name} must hold class indices (integers), got dtype {labels.dtype}")
        if labels.size and labels.min() < 0:
            raise ValueError(f"confusion_matrix: {name} holds the label {int(labels.min())}; class indices are >= 0")
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    n = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if max(y_true.max(initial=0), y_pred.max(initial=0)) >= n:
        raise ValueError(f"confusion_matrix: a label is >= num_classes={num_classes} "
                         f"(largest: {int(max(y_true.max(initial=0), y_pred.max(initial=0)))})")
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def predicted_classes(outputs, from_logits=None):
    """Class indices from model outputs (N, classes): the argmax.

    For one binary unit, (N,) or (N, 1), say what the outputs are: logits (from_logits=True:
    class 1 where the logit is > 0) or probabilities (from_logits=False: where it is > 0.5).
    Guessing from the values would make one image's class depend on the rest of the batch.
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    if from_logits is None:
        raise ValueError("predicted_classes: the outputs have one unit, so say what they are: "
                         "from_logits=True (logits, threshold 0) or from_logits=False (probabilities, threshold 0.5)")
    return (outputs.reshape(-1) > (0.0 if from_logits else 0.5)).astype(np.int64)
