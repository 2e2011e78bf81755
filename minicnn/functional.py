"""mc.functional (also mc.F): every operation a CNN needs, as plain functions of tensors.

Where to read each one:
    convolution ........ ops/conv.py     (the lecture's flipped-kernel convolution)
    windows ............ backend/base.py (im2col / col2im; ops/im2col.py: padding, output sizes)
    pooling ............ ops/pool.py
    activations ........ ops/activation.py
    dense, flatten ..... ops/linear.py
    dropout ............ ops/dropout.py
    batch norm ......... ops/normalization.py
    losses ............. ops/loss.py
"""

import functools

from .ops.activation import leaky_relu, log_sigmoid, log_softmax, relu, relu_, sigmoid, softmax, tanh
from .ops.concat import concatenate
from .ops.conv import conv1d, conv2d, depthwise_conv2d
from .ops.dropout import dropout
from .ops.linear import flatten, linear
from .ops.loss import binary_cross_entropy, categorical_cross_entropy, sparse_categorical_cross_entropy
from .ops.normalization import batch_norm
from .ops.pool import avg_pool2d, max_pool2d
from .tensor import Tensor


def _takes_a_tensor(function):
    """The op, refusing a first argument that is not a mc.Tensor (a NumPy array, a list) by name."""
    @functools.wraps(function)
    def op(x, *args, **kwargs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{function.__name__}: x must be a mc.Tensor, got {type(x).__name__}; "
                            f"wrap data with mc.tensor(...)")
        return function(x, *args, **kwargs)
    return op


# as in PyTorch, the ops take tensors (the losses also take label arrays)
(conv2d, conv1d, depthwise_conv2d, max_pool2d, avg_pool2d, dropout, linear, flatten, batch_norm, relu, relu_,
 leaky_relu, sigmoid, log_sigmoid, tanh, softmax, log_softmax) = (_takes_a_tensor(f) for f in (
    conv2d, conv1d, depthwise_conv2d, max_pool2d, avg_pool2d, dropout, linear, flatten, batch_norm, relu, relu_,
    leaky_relu, sigmoid, log_sigmoid, tanh, softmax, log_softmax))

__all__ = [
    "conv2d", "conv1d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "dropout", "linear", "flatten", "batch_norm",
    "relu", "relu_", "leaky_relu", "sigmoid", "log_sigmoid", "tanh", "softmax", "log_softmax",
    "binary_cross_entropy", "categorical_cross_entropy", "sparse_categorical_cross_entropy", "concatenate",
]
