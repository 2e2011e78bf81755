"""Cross-entropy losses with Keras' semantics, averaged over the batch.

from_logits=True: the raw scores go through log_sigmoid / log_softmax, which
stay finite however large the logits (the lecture's "numerical stability").
from_logits=False: the predictions are probabilities, clipped to
[1e-7, 1 - 1e-7] before the log, as Keras does.
"""

import numpy as np

from .. import autograd
from ..tensor import Tensor, tensor
from .activation import log_sigmoid, log_softmax

EPSILON = 1e-7


def binary_cross_entropy(y_pred, y_true, from_logits=False, sample_weight=None, label_smoothing=0.0):
    """-[y log p + (1 - y) log(1 - p)] averaged; y_pred and y_true shaped alike ((N,) or (N, 1)).

    sample_weight (N,): each sample's loss is multiplied by its weight before the mean over the
    batch (Keras' "sum over batch size"); fit's class_weight comes this way.
    label_smoothing e: the targets become y (1 - e) + e / 2 (Keras), so the model is not pushed
    towards infinite logits on training images it already classifies right.
    """
    y_pred = _check_pred(y_pred, "binary_cross_entropy")
    y_true = _labels(y_true, y_pred, "y_true", float_labels=True)
    if y_true.shape != y_pred.shape:
        if y_true.size == y_pred.size and y_pred.ndim <= 2 and y_true.ndim <= 2 and y_pred.shape[0] == y_true.shape[0]:
            y_true = y_true.reshape(y_pred.shape)      # (N,) against (N, 1), as Keras allows
        else:
            raise ValueError(f"binary_cross_entropy: y_true has shape {y_true.shape}, wanted {y_pred.shape} "
                             f"like y_pred")
    if check_label_smoothing(label_smoothing):
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        # with s = log_sigmoid(z): log(1 - sigmoid(z)) = s - z, so the loss is (1 - y) z - s
        losses = (1.0 - y_true) * y_pred - log_sigmoid(y_pred)
    else:
        p = y_pred.clip(EPSILON, 1.0 - EPSILON)
        losses = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
    if sample_weight is None:
        return losses.mean()
    return _weighted_mean(losses.mean(axis=-1) if losses.ndim == 2 else losses, sample_weight)


def categorical_cross_entropy(y_pred, y_true_onehot, from_logits=False, sample_weight=None, label_smoothing=0.0):
    """-sum(y log p) per sample, averaged; y_pred and y_true_onehot both (N, classes).
    label_smoothing e: the targets become y (1 - e) + e / classes (Keras)."""
    y_pred = _check_pred(y_pred, "categorical_cross_entropy", ndim=2)
    y_true = _labels(y_true_onehot, y_pred, "y_true_onehot", float_labels=True)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"categorical_cross_entropy: y_true_onehot has shape {y_true.shape}, "
                         f"wanted {y_pred.shape} like y_pred")
    return _cross_entropy(y_pred, _smoothed(y_true, label_smoothing), from_logits, sample_weight)


def sparse_categorical_cross_entropy(y_pred, y_true_int, from_logits=False, sample_weight=None, label_smoothing=0.0):
    """categorical_cross_entropy with integer labels (N,) or (N, 1) in [0, classes)
    (label_smoothing as there, and as PyTorch's cross_entropy with class indices)."""
    y_pred = _check_pred(y_pred, "sparse_categorical_cross_entropy", ndim=2)
    labels = _labels(y_true_int, y_pred, "y_true_int", float_labels=False)
    n, classes = y_pred.shape
    if labels.shape not in ((n,), (n, 1)):
        raise ValueError(f"sparse_categorical_cross_entropy: y_true_int has shape {labels.shape}, "
                         f"wanted ({n},) or ({n}, 1) for y_pred of shape {y_pred.shape}")
    xp, backend = y_pred.xp, y_pred.backend
    hits = xp.reshape(labels.data, (n, 1)) == xp.reshape(backend.arange(classes, labels.dtype), (1, classes))
    onehot = _smoothed(Tensor(xp.astype(hits, y_pred.data.dtype), backend), label_smoothing)
    return _refuse_out_of_range(_cross_entropy(y_pred, onehot, from_logits, sample_weight), labels, classes)


def check_label_smoothing(label_smoothing):
    """True when targets are to be smoothed; an error for anything but a number in [0, 1]."""
    if not (isinstance(label_smoothing, (int, float)) and not isinstance(label_smoothing, bool)
            and 0 <= label_smoothing <= 1):
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return label_smoothing > 0


def _smoothed(onehot, label_smoothing):
    """One-hot targets moved towards the uniform distribution: y (1 - e) + e / classes."""
    if not check_label_smoothing(label_smoothing):
        return onehot
    return onehot * (1.0 - label_smoothing) + label_smoothing / onehot.shape[-1]


def check_class_labels(host_labels, classes, name="y_true_int"):
    """An error naming the first label outside [0, classes), for labels on the host."""
    host_labels = np.asarray(host_labels)
    bad = host_labels[(host_labels < 0) | (host_labels >= classes)]
    if bad.size:
        raise ValueError(f"sparse_categorical_cross_entropy: label {int(bad[0])} is out of range "
                         f"for {classes} classes (labels must be in [0, {classes - 1}]; {name})")


def _refuse_out_of_range(loss, labels, classes):
    """The loss, if every label is in [0, classes); else an error on the CPU, a NaN loss elsewhere.

    On the CPU the labels are read and the first bad one named. On a GPU that
    read would make the host wait for the device in the middle of every step,
    so the check stays on the device and turns the loss into NaN (like
    PyTorch's device-side assert, it shows up when the loss is read); fit
    checks a dataset's labels on the host before it starts.
    """
    if labels.device == "cpu":
        check_class_labels(labels.numpy(), classes)
        return loss
    xp = loss.xp
    bad = xp.any((labels.data < 0) | (labels.data >= classes))
    # the loss, or NaN where a label is bad (a Python number: no device array is made for it)
    return autograd.record(Tensor(xp.where(bad, float("nan"), loss.data), loss.backend), (loss,), lambda g: (g,))


def _cross_entropy(y_pred, y_true, from_logits, sample_weight=None):
    if from_logits:
        log_p = log_softmax(y_pred, axis=-1)
    else:
        p = y_pred / y_pred.sum(axis=-1, keepdims=True)   # Keras renormalises the rows
        log_p = p.clip(EPSILON, 1.0 - EPSILON).log()
    losses = -_target_terms(y_true, log_p).sum(axis=-1)
    return losses.mean() if sample_weight is None else _weighted_mean(losses, sample_weight)


def _target_terms(y_true, log_p):
    """y log p per class, 0 where y = 0: also where log p is -inf (a -inf logit, or one 1e38 below the
    largest), which a plain product would turn into NaN. The labels need no gradient."""
    xp, y = log_p.xp, y_true.data
    out = y * xp.where(y == 0, xp.zeros_like(log_p.data), log_p.data)
    return autograd.record(Tensor(out, log_p.backend), (log_p,), lambda g: (g * y,))


def _weighted_mean(losses, sample_weight):
    """mean(weight * loss) over the batch; sample_weight is one number per sample."""
    weights = sample_weight if isinstance(sample_weight, Tensor) else tensor(sample_weight, device=losses.device)
    if weights.shape != losses.shape:
        raise ValueError(f"sample_weight has shape {weights.shape}, wanted {losses.shape}: one weight per sample")
    return (losses * weights.astype(losses.dtype)).mean()


def _check_pred(y_pred, name, ndim=None):
    if not isinstance(y_pred, Tensor):
        raise TypeError(f"{name}: y_pred must be a mc.Tensor, got {type(y_pred).__name__}")
    if y_pred.dtype.kind != "f":
        raise TypeError(f"{name}: y_pred must be floating point, got dtype {y_pred.dtype}")
    if ndim is not None and y_pred.ndim != ndim:
        raise ValueError(f"{name}: y_pred must have shape (N, classes), got shape {y_pred.shape}")
    return y_pred


def _labels(y_true, y_pred, name, float_labels):
    """Labels as a tensor on y_pred's device: in y_pred's float dtype, or as integers."""
    if not isinstance(y_true, Tensor):
        y_true = tensor(y_true, device=y_pred.device)
    elif y_true.device != y_pred.device:
        raise ValueError(f"{name} is on {y_true.device} but y_pred on {y_pred.device}")
    if float_labels:
        return y_true.detach().astype(y_pred.dtype)
    if y_true.dtype.kind not in "iu":
        as_int = y_true.numpy().astype(np.int64)
        if not np.array_equal(as_int, y_true.numpy()):
            raise ValueError(f"{name} must hold integer class labels, got dtype {y_true.dtype}")
        y_true = y_true.astype(np.int64)
    return y_true
