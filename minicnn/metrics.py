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


# --- Keras' accuracy metrics: compile(metrics=[...]) and fit's logs ---
class Metric:
    """A score kept over batches. fit and evaluate ask each batch's count_correct (summed per image on
    the device, read once with the loss); used alone, Keras' update_state / result / reset_state."""

    def __init__(self, name, dtype=None):
        if not (isinstance(name, str) and name):
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string, got {name!r}")
        self.name, self.dtype = name, dtype
        self.reset_state()

    def count_correct(self, y_true, y_pred):
        """The batch's number of right answers, as a 0-d array on the outputs' device."""
        raise NotImplementedError(f"{type(self).__name__} must define count_correct(y_true, y_pred)")

    def reset_state(self):
        self.total, self.count = 0.0, 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise NotImplementedError(f"{type(self).__name__}.update_state: sample_weight is not supported")
        y_true, y_pred = _Values(y_true), _Values(y_pred)
        self.total += float(self.count_correct(y_true, y_pred))
        self.count += len(y_pred)

    def result(self):
        return self.total / self.count if self.count else 0.0

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class _Values:
    """Arrays (or lists) seen as tensors are (.data, .xp), for metrics used on their own."""

    def __init__(self, values):
        if hasattr(values, "data") and hasattr(values, "xp"):
            self.data, self.xp = values.data, values.xp
        else:
            self.data, self.xp = np.asarray(values), np
        self.shape = tuple(self.data.shape)

    def __len__(self):
        return self.shape[0]


class BinaryAccuracy(Metric):
    """The share of outputs on the right side of `threshold` (0.5, on the outputs as they are: with a
    from_logits loss, Keras' threshold 0.5 is a logit of 0.5). Several units: each image scores the
    share of its units right."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        self.threshold = threshold
        super().__init__(name, dtype)

    def count_correct(self, y_true, y_pred):
        xp = y_pred.xp
        predicted = xp.reshape(y_pred.data, (len(y_pred), -1)) > self.threshold
        labels = xp.reshape(y_true.data, predicted.shape) > 0.5
        return xp.sum(xp.mean(xp.astype(predicted == labels, xp.float32), axis=1))


class CategoricalAccuracy(Metric):
    """Right where the largest output is the one-hot target's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)

    def count_correct(self, y_true, y_pred):
        xp = y_pred.xp
        return xp.sum(xp.astype(xp.argmax(y_pred.data, axis=-1) == xp.argmax(y_true.data, axis=-1), xp.float32))


class SparseCategoricalAccuracy(Metric):
    """Right where the largest output is the class index of the label ((N,) or (N, 1))."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)

    def count_correct(self, y_true, y_pred):
        xp = y_pred.xp
        labels = xp.reshape(y_true.data, (-1,))
        return xp.sum(xp.astype(xp.argmax(y_pred.data, axis=-1) == labels, xp.float32))


class LossAccuracy(Metric):
    """metrics=["accuracy"] (or "acc"): the accuracy that suits the loss, as the loss counts it
    (a binary logit is thresholded at 0, probabilities at 0.5; several classes: the argmax)."""

    def __init__(self, loss, name="accuracy"):
        self.loss = loss
        super().__init__(name)

    def count_correct(self, y_true, y_pred):
        return self.loss.count_correct(y_true, y_pred)


# the registry: compile's metric names ("binary_accuracy") and a saved model's metric classes
METRIC_TYPES = {cls.__name__: cls for cls in (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy)}
_NAMES = {"binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
          "sparse_categorical_accuracy": SparseCategoricalAccuracy}


def get_metric(identifier, loss):
    """A metric object from compile's metrics= entry: "accuracy"/"acc" (the loss's), another name, or a Metric."""
    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc"):
        return LossAccuracy(loss, identifier)
    if identifier in _NAMES:
        return _NAMES[identifier]()
    raise ValueError(f"metrics: each must be 'accuracy' ('acc'), one of {sorted(_NAMES)} or a "
                     f"mc.metrics.Metric, got {identifier!r}")
