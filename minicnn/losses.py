"""Keras-style loss objects for model.compile: loss(y_true, y_pred) -> scalar tensor.

They wrap the functional losses and add what a training loop needs: a check
that probabilities really are probabilities, and counting correct predictions
for the "accuracy" metric in the label format the loss expects.
"""

from . import functional as F
from .tensor import Tensor


class Loss:
    name = None
    activation = None       # the last-layer activation that produces probabilities for this loss

    def __init__(self, from_logits=False):
        self.from_logits = from_logits

    def __call__(self, y_true, y_pred):
        if not self.from_logits:
            self._check_probabilities(y_pred)
        return self.function(y_pred, y_true, from_logits=self.from_logits)

    def _check_probabilities(self, y_pred):
        xp = y_pred.xp
        low, high = float(xp.min(y_pred.data)), float(xp.max(y_pred.data))   # two numbers back from the device
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"{type(self).__name__}(from_logits=False) got predictions in [{low:.3g}, {high:.3g}], "
                f"outside [0, 1]: these look like logits. Use {type(self).__name__}(from_logits=True), "
                f"or end the model with activation='{self.activation}'.")

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class BinaryCrossentropy(Loss):
    name, activation = "binary_crossentropy", "sigmoid"
    function = staticmethod(F.binary_cross_entropy)

    def count_correct(self, y_true, y_pred):
        threshold = 0.0 if self.from_logits else 0.5
        predicted = y_pred.numpy().reshape(len(y_pred), -1) > threshold
        return int((predicted == (_host(y_true).reshape(predicted.shape) > 0.5)).sum())


class CategoricalCrossentropy(Loss):
    name, activation = "categorical_crossentropy", "softmax"
    function = staticmethod(F.categorical_cross_entropy)

    def count_correct(self, y_true, y_pred):
        return int((y_pred.numpy().argmax(axis=-1) == _host(y_true).argmax(axis=-1)).sum())


class SparseCategoricalCrossentropy(Loss):
    name, activation = "sparse_categorical_crossentropy", "softmax"
    function = staticmethod(F.sparse_categorical_cross_entropy)

    def count_correct(self, y_true, y_pred):
        return int((y_pred.numpy().argmax(axis=-1) == _host(y_true).reshape(-1)).sum())


def _host(y):
    return y.numpy() if isinstance(y, Tensor) else y


LOSSES = {cls.name: cls for cls in (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)}


def get_loss(loss):
    """A Loss from a Loss object or a Keras name such as "sparse_categorical_crossentropy"."""
    if isinstance(loss, Loss):
        return loss
    if loss in LOSSES:
        return LOSSES[loss]()
    raise ValueError(f"loss must be a mc.losses.Loss or one of {sorted(LOSSES)}, got {loss!r}")
