"""minicnn.nn.functional: PyTorch's torch.nn.functional, by its names, arguments and defaults.

`import minicnn.nn.functional as F` runs a PyTorch tutorial's F.relu, F.max_pool2d,
F.cross_entropy... The maths is minicnn's own ops (minicnn/ops/); this module only
speaks PyTorch's dialect where it differs from mc.functional's Keras-leaning one:
Linear weights are (out_features, in_features), softmax takes dim=, dropout p=,
average pooling counts the zero padding (count_include_pad=True), and the losses take
(input, target) with PyTorch's weight, ignore_index, reduction and label_smoothing.

minicnn's own convention stays: conv2d is the lecture's true convolution (the kernel
flipped), so weights copied from PyTorch must be flipped to give the same outputs.
"""

import numbers

import numpy as np

from ..caller import warn_at_caller
from ..ops import activation, conv, dropout as dropout_op, pool
from ..ops.im2col import pair
from ..tensor import Tensor, tensor

REDUCTIONS = ("mean", "sum", "none")


def _check_tensor(x, who, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: {name} must be a minicnn Tensor, got {type(x).__name__}; "
                        f"wrap data with minicnn.tensor(...)")


def _unsupported(who, **settings):
    """PyTorch options minicnn does not have: refused by name unless at PyTorch's default."""
    for name, (value, default) in settings.items():
        if value != default:
            raise NotImplementedError(f"{who}: {name}={value!r} is not supported by minicnn "
                                      f"(only the default {name}={default!r})")


# --- activations ---
def relu(input, inplace=False):
    _check_tensor(input, "relu")
    return activation.relu_(input) if inplace else activation.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_tensor(input, "leaky_relu")
    _unsupported("leaky_relu", inplace=(inplace, False))
    return activation.leaky_relu(input, negative_slope)


def sigmoid(input):
    _check_tensor(input, "sigmoid")
    return activation.sigmoid(input)


def tanh(input):
    _check_tensor(input, "tanh")
    return activation.tanh(input)


def _softmax_dim(input, dim, who):
    """dim, or PyTorch's implicit choice (0 for 0-, 1- and 3-d inputs, else 1) with its warning."""
    _check_tensor(input, who)
    if dim is None:
        warn_at_caller(f"Implicit dimension choice for {who} has been deprecated. Change the call to include "
                       f"dim=X as an argument.", UserWarning)
        return 0 if input.ndim in (0, 1, 3) else 1
    if not isinstance(dim, numbers.Integral) or not -input.ndim <= dim < max(input.ndim, 1):
        raise IndexError(f"{who}: dim {dim!r} is out of range for a {input.ndim}-d input")
    return dim % max(input.ndim, 1)


def softmax(input, dim=None, dtype=None):
    _unsupported("softmax", dtype=(dtype, None))
    return activation.softmax(input, _softmax_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    _unsupported("log_softmax", dtype=(dtype, None))
    return activation.log_softmax(input, _softmax_dim(input, dim, "log_softmax"))


# --- layers' maths ---
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The lecture's convolution (kernel flipped) with PyTorch's arguments: weight (out, in, kH, kW)."""
    _check_tensor(input, "conv2d")
    _unsupported("conv2d", dilation=(dilation if isinstance(dilation, str) else pair(dilation, "dilation"),
                                     (1, 1)), groups=(groups, 1))
    if padding == "same" and pair(stride, "stride") != (1, 1):
        raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                         f"(stride={stride!r}), as in PyTorch; give the padding as a number")
    if isinstance(padding, str) and padding not in ("same", "valid"):
        raise ValueError(f"conv2d: padding must be 'same', 'valid', an int or a pair, got {padding!r}")
    return conv.conv2d(input, weight, bias, stride, padding)


def linear(input, weight, bias=None):
    """input (*, in_features) @ weight.T + bias, weight (out_features, in_features) as in PyTorch."""
    _check_tensor(input, "linear")
    if weight.ndim != 2 or input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has shape {input.shape} and weight {weight.shape}; wanted input "
                         f"(*, in_features) and weight (out_features, in_features)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, wanted ({weight.shape[0]},)")
    y = input @ weight.T
    return y if bias is None else y + bias


def _pool_padding(who, kernel_size, padding):
    kernel, pads = pair(kernel_size, "kernel_size"), pair(padding, "padding")
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{who}: pad should be at most half of effective kernel size, but got "
                         f"padding={padding!r} and kernel_size={kernel_size!r}")
    return pads


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    _check_tensor(input, "max_pool2d")
    _unsupported("max_pool2d", dilation=(pair(dilation, "dilation"), (1, 1)), ceil_mode=(ceil_mode, False),
                 return_indices=(return_indices, False))
    pads = _pool_padding("max_pool2d", kernel_size, padding)
    return pool.max_pool2d(input, kernel_size, stride, pads if any(pads) else 0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean of each window; with padding, PyTorch's default divides by the whole window
    (count_include_pad=True: the zeros count), mc.functional's by its real cells only."""
    _check_tensor(input, "avg_pool2d")
    _unsupported("avg_pool2d", ceil_mode=(ceil_mode, False), divisor_override=(divisor_override, None))
    pads = _pool_padding("avg_pool2d", kernel_size, padding)
    out = pool.avg_pool2d(input, kernel_size, stride, pads)
    if count_include_pad and any(pads):
        kernel = pair(kernel_size, "kernel_size")
        step = kernel if stride is None else pair(stride, "stride")
        amounts = ((pads[0], pads[0]), (pads[1], pads[1]))
        real = pool._real_cells(input.backend, input, kernel, step, amounts, out.shape[2:])    # (OH, OW, 1)
        out = out * Tensor(input.xp.reshape(real, (1, 1) + out.shape[2:]) / (kernel[0] * kernel[1]), input.backend)
    return out


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive windows: output cell i covers rows floor(i H / out) to ceil((i + 1) H / out)."""
    _check_tensor(input, "adaptive_avg_pool2d")
    if input.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: input must be (N, C, H, W), got shape {input.shape}")
    h, w = input.shape[2:]
    oh, ow = (h if s is None else s for s in (output_size if isinstance(output_size, (tuple, list))
                                              else (output_size, output_size)))
    pair((oh, ow), "output_size")
    if (oh, ow) == (1, 1):
        return input.mean(axis=(2, 3), keepdims=True)
    rows = [input[:, :, (i * h) // oh:-(-(i + 1) * h // oh), :] for i in range(oh)]
    cells = [[r[:, :, :, (j * w) // ow:-(-(j + 1) * w // ow)].mean(axis=(2, 3), keepdims=True) for j in range(ow)]
             for r in rows]
    from ..ops.concat import concatenate
    return concatenate([concatenate(row, axis=3) for row in cells], axis=2)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout; note PyTorch's default training=True, even for a model in eval mode."""
    _check_tensor(input, "dropout")
    _unsupported("dropout", inplace=(inplace, False))
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got p={p!r}")
    if training and p == 1.0:
        return input * 0.0
    return dropout_op.dropout(input, float(p), training)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """PyTorch's batch norm: batch statistics in training (running_mean and running_var updated in place,
    the variance unbiased: times M / (M - 1) for M values per channel), the running ones otherwise."""
    _check_tensor(input, "batch_norm")
    from ..ops.normalization import batch_norm as batch_statistics_norm
    channels = input.shape[1]
    shape = (1, channels) + (1,) * (input.ndim - 2)
    gamma = weight if weight is not None else tensor(np.ones(channels, np.float32), device=input.device)
    beta = bias if bias is not None else tensor(np.zeros(channels, np.float32), device=input.device)
    if training:
        count = input.size // channels
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        y, mean, variance = batch_statistics_norm(input, gamma, beta, eps)
        if running_mean is not None:
            running_mean.data = running_mean.data * (1 - momentum) + mean.data * momentum
        if running_var is not None:
            running_var.data = running_var.data * (1 - momentum) + variance.data * (momentum * count / (count - 1))
        return y
    scale = gamma / (running_var + eps) ** 0.5
    return input * scale.reshape(shape) + (beta - running_mean * scale).reshape(shape)


# --- losses: (input, target), PyTorch's reductions ---
def _reduce(losses, reduction, who, total=None):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean() if total is None else losses.sum() / total
    raise ValueError(f"{who}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _class_axis_last(x):
    """(N, C, d1, ...) as (N * d1 * ..., C): the class axis last, one row per prediction."""
    if x.ndim == 2:
        return x
    axes = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(*axes).reshape(-1, x.shape[1])


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[target] per prediction, input holding log-probabilities (N, C) or (N, C, d1, ...)."""
    return _class_index_loss(input, target, weight, ignore_index, reduction, 0.0, "nll_loss")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax then nll_loss, from logits input (N, C) or (N, C, d1, ...).

    target: class indices (N,) / (N, d1, ...), or class probabilities shaped like input.
    weight (C,) rescales each class; with class indices and reduction="mean" the sum is divided
    by the weights of the targets (PyTorch's weighted mean). label_smoothing e mixes the target
    with the uniform distribution: (1 - e) * target + e / C.
    """
    _check_tensor(input, "cross_entropy")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")
    log_p = activation.log_softmax(input, 1 if input.ndim > 1 else 0)
    if _holds_probabilities(target, input):
        return _probability_loss(log_p, target, weight, reduction, label_smoothing)
    return _class_index_loss(log_p, target, weight, ignore_index, reduction, label_smoothing, "cross_entropy")


def _holds_probabilities(target, input):
    dtype = target.dtype if isinstance(target, (Tensor, np.ndarray)) else None
    return dtype is not None and np.dtype(dtype).kind == "f" and tuple(target.shape) == input.shape


def _probability_loss(log_p, target, weight, reduction, smoothing):
    classes = log_p.shape[1] if log_p.ndim > 1 else log_p.shape[0]
    target = target if isinstance(target, Tensor) else tensor(target, device=log_p.device)
    if smoothing:
        target = target * (1.0 - smoothing) + smoothing / classes
    terms = log_p * target
    if weight is not None:
        terms = terms * _class_weights(weight, classes, log_p).reshape((1, classes) + (1,) * (log_p.ndim - 2))
    losses = -terms.sum(axis=1 if log_p.ndim > 1 else 0)
    return _reduce(losses, reduction, "cross_entropy")


def _class_weights(weight, classes, like):
    weight = weight if isinstance(weight, Tensor) else tensor(np.asarray(weight, np.float32), device=like.device)
    if weight.shape != (classes,):
        raise ValueError(f"weight must hold one number per class, shape ({classes},), got shape {weight.shape}")
    return weight


def _class_index_loss(log_p, target, weight, ignore_index, reduction, smoothing, who):
    _check_tensor(log_p, who)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    labels = np.asarray(target.numpy() if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: target must hold class indices (an integer tensor), or class probabilities "
                        f"shaped like input {log_p.shape}; got dtype {labels.dtype} and shape {labels.shape}")
    if log_p.ndim < 1 or labels.shape != (log_p.shape[:1] + log_p.shape[2:] if log_p.ndim > 1 else ()):
        raise ValueError(f"{who}: input of shape {log_p.shape} wants target of shape "
                         f"{log_p.shape[:1] + log_p.shape[2:] if log_p.ndim > 1 else ()}, got {labels.shape}")
    rows = _class_axis_last(log_p if log_p.ndim > 1 else log_p.reshape(1, -1))
    classes = rows.shape[1]
    flat = labels.reshape(-1).astype(np.int64)
    kept = flat != ignore_index
    wrong = flat[kept & ((flat < 0) | (flat >= classes))]
    if wrong.size:
        raise IndexError(f"{who}: Target {int(wrong[0])} is out of bounds: classes are 0..{classes - 1}")
    picked = np.zeros((flat.size, classes), np.float32)
    picked[np.flatnonzero(kept), flat[kept]] = 1.0
    w = None if weight is None else _class_weights(weight, classes, log_p)
    pick = tensor(picked, device=log_p.device)
    if w is not None:
        pick = pick * w.reshape(1, classes)             # each row: the target's weight at the target
    nll = -(rows * pick).sum(axis=1)
    losses = nll
    if smoothing:
        every = tensor(kept.astype(np.float32).reshape(-1, 1), device=log_p.device)
        every = every * (w.reshape(1, classes) if w is not None else 1.0)
        losses = nll * (1.0 - smoothing) - (rows * every).sum(axis=1) * (smoothing / classes)
    total = pick.sum() if reduction == "mean" else None
    return _reduce(losses.reshape(labels.shape) if reduction == "none" else losses, reduction, who, total)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """-[pos_weight * y * log sigmoid(x) + (1 - y) * log(1 - sigmoid(x))], times weight, from logits x."""
    _check_tensor(input, "binary_cross_entropy_with_logits")
    target = _same_shape_target(input, target, "binary_cross_entropy_with_logits")
    positive = activation.log_sigmoid(input)
    negative = positive - input                         # log(1 - sigmoid(x)) = log sigmoid(x) - x
    if pos_weight is not None:
        pos_weight = pos_weight if isinstance(pos_weight, Tensor) else tensor(pos_weight, device=input.device)
        positive = positive * pos_weight
    losses = -(target * positive + (1.0 - target) * negative)
    if weight is not None:
        losses = losses * (weight if isinstance(weight, Tensor) else tensor(weight, device=input.device))
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-[y log p + (1 - y) log(1 - p)] from probabilities p, each log clamped at -100 as in PyTorch."""
    _check_tensor(input, "binary_cross_entropy")
    target = _same_shape_target(input, target, "binary_cross_entropy")
    losses = -(target * input.log().clip(-100.0) + (1.0 - target) * (1.0 - input).log().clip(-100.0))
    if weight is not None:
        losses = losses * (weight if isinstance(weight, Tensor) else tensor(weight, device=input.device))
    return _reduce(losses, reduction, "binary_cross_entropy")


def mse_loss(input, target, reduction="mean"):
    _check_tensor(input, "mse_loss")
    target = _same_shape_target(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction, "mse_loss")


def _same_shape_target(input, target, who):
    """target as a float tensor of input's shape. PyTorch broadcasts other shapes with a warning,
    which turns (N, 1) against (N,) into an (N, N) loss: refused here instead."""
    target = target if isinstance(target, Tensor) else tensor(np.asarray(target, np.float32), device=input.device)
    if target.shape != input.shape:
        raise ValueError(f"{who}: target has shape {target.shape}, wanted input's shape {input.shape} "
                         f"(reshape one of them: target.view(-1, 1) or input.squeeze(1))")
    return target if target.dtype.kind == "f" else target.astype(input.dtype)


def one_hot(tensor_, num_classes=-1):
    """(..., ) class indices -> (..., num_classes) int64 zeros and ones."""
    labels = np.asarray(tensor_.numpy() if isinstance(tensor_, Tensor) else tensor_)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class values must be integers, got dtype {labels.dtype}")
    classes = int(labels.max()) + 1 if num_classes == -1 else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"one_hot: class values must be in [0, {classes}), got {labels.min()}..{labels.max()}")
    return tensor(np.eye(classes, dtype=np.int64)[labels])


__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "conv2d", "linear", "max_pool2d",
           "avg_pool2d", "adaptive_avg_pool2d", "dropout", "batch_norm", "nll_loss", "cross_entropy",
           "binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "one_hot"]
