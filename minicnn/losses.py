"""Keras-style loss objects for model.compile: loss(y_true, y_pred) -> scalar tensor.

They wrap the functional losses and add what a training loop needs: a check
that probabilities really are probabilities, and counting correct predictions
for the "accuracy" metric in the label format the loss expects. Both stay on
the tensors' device: the count is a device array that fit reads together with
the loss, in one copy to the host per batch.
"""

from . import functional as F
from .ops.loss import check_class_labels, check_label_smoothing


class Loss:
    name = None
    activation = None       # the last-layer activation that produces probabilities for this loss

    def __init__(self, from_logits=False, label_smoothing=0.0):
        check_label_smoothing(label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.from_logits:
            self.check_range(*y_pred.backend.to_host(self._range(y_pred)).tolist())
        return self.function(y_pred, y_true, from_logits=self.from_logits, sample_weight=sample_weight,
                             label_smoothing=self.label_smoothing)

    def with_range(self, y_true, y_pred, sample_weight=None):
        """The loss, and for a loss of probabilities (from_logits=False) on a device other than the CPU
        the array [min, max] of y_pred, not yet read: fit reads it with the loss, in the batch's one
        copy from the device, and then calls check_range (a second read per batch would be a second
        wait for a GPU). On the CPU reading is free: the range is checked first, as __call__ does."""
        if self.from_logits or y_pred.device == "cpu":
            return self(y_true, y_pred, sample_weight), None
        return self.function(y_pred, y_true, from_logits=False, sample_weight=sample_weight,
                             label_smoothing=self.label_smoothing), self._range(y_pred)

    @staticmethod
    def _range(y_pred):
        xp = y_pred.xp
        return xp.stack([xp.min(y_pred.data), xp.max(y_pred.data)])

    def check_labels(self, labels, output_shape):
        """Refuse a dataset's host labels that can't match outputs of `output_shape` (fit calls this once)."""

    def check_range(self, low, high):
        """Refuse predictions outside [0, 1] for a loss of probabilities: they look like logits."""
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"{type(self).__name__}(from_logits=False) got predictions in [{low:.3g}, {high:.3g}], "
                f"outside [0, 1]: these look like logits. Use {type(self).__name__}(from_logits=True), "
                f"or end the model with activation='{self.activation}'.")

    def __repr__(self):
        smoothing = f", label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        return f"{type(self).__name__}(from_logits={self.from_logits}{smoothing})"


class BinaryCrossentropy(Loss):
    name, activation = "binary_crossentropy", "sigmoid"
    function = staticmethod(F.binary_cross_entropy)

    def count_correct(self, y_true, y_pred):
        xp = y_pred.xp
        threshold = 0.0 if self.from_logits else 0.5
        predicted = xp.reshape(y_pred.data, (len(y_pred), -1)) > threshold
        labels = xp.astype(xp.reshape(y_true.data, predicted.shape), xp.float32)    # 0/1 ints, or blends
        # Keras' binary accuracy: each image scores the share of its units right (multi-label: 2 of 3
        # right is 2/3), so the count over a batch is at most the number of images
        return xp.sum(xp.mean(xp.astype(predicted == (labels > 0.5), xp.float32), axis=1))


class CategoricalCrossentropy(Loss):
    name, activation = "categorical_crossentropy", "softmax"
    function = staticmethod(F.categorical_cross_entropy)

    def count_correct(self, y_true, y_pred):
        xp = y_pred.xp
        return _count(xp, xp.argmax(y_pred.data, axis=-1) == xp.argmax(y_true.data, axis=-1))


class SparseCategoricalCrossentropy(Loss):
    name, activation = "sparse_categorical_crossentropy", "softmax"
    function = staticmethod(F.sparse_categorical_cross_entropy)

    def check_labels(self, labels, output_shape):
        check_class_labels(labels, output_shape[-1], "the dataset's labels")

    def count_correct(self, y_true, y_pred):
        xp = y_pred.xp
        return _count(xp, xp.argmax(y_pred.data, axis=-1) == xp.reshape(y_true.data, (-1,)))


def _count(xp, hits):
    """The number of True values, as a 0-d float32 array on the device (exact up to 2**24)."""
    return xp.sum(xp.astype(hits, xp.float32))


# the registry: compile's names ("sparse_categorical_crossentropy") and a saved model's class names
LOSS_TYPES = {cls.__name__: cls for cls in (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)}


def get_loss(loss):
    """A Loss from a Loss object or a Keras name such as "sparse_categorical_crossentropy"."""
    if isinstance(loss, Loss):
        return loss
    for cls in LOSS_TYPES.values():
        if loss == cls.name:
            return cls()
    raise ValueError(f"loss must be a mc.losses.Loss or one of {sorted(c.name for c in LOSS_TYPES.values())}, "
                     f"got {loss!r}")
