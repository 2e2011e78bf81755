"""PyTorch's layers by their names: nn.Conv2d(in_channels, out_channels, kernel_size), nn.Linear(...), ...

Unlike mc.layers (Keras' style, which learn their input size on the first batch),
these are given their input size, as in PyTorch, and hold their weights from
construction: `optim.SGD(net.parameters(), ...)` sees every one at once. Their
weights are named and shaped as PyTorch's (`conv1.weight` (out, in, kH, kW),
`fc.weight` (out_features, in_features), `bn.running_mean`) and start from
PyTorch's default draw, uniform in +-1/sqrt(fan_in). They are mc.layers.Layer
objects underneath, so they also go inside mc.Sequential and mc.Model.
"""

import collections
import math
import numbers

import numpy as np

from .. import random
from ..layers.base import Layer
from ..models import Sequential as KerasSequential
from ..ops.im2col import pair
from . import functional as F


def _count(who, **values):
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{who}: {name} must be a positive int, got {name}={value!r}")


def _uniform(bound, shape):
    """PyTorch's default initial weights: uniform in [-bound, bound)."""
    return ((2 * random.uniform(shape) - 1) * bound).astype(np.float32)


class _Built(Layer):
    """A layer that holds its weights from construction, placed on `device` if one is given."""
    built = True

    def _finish(self, device, dtype):
        if dtype not in (None, np.float32, "float32"):
            raise NotImplementedError(f"{type(self).__name__}: dtype={dtype!r} is not supported: minicnn's "
                                      f"layers work in float32")
        if device is not None:
            self.to(str(device))

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self):
        return ""


class Conv2d(_Built):
    """The lecture's convolution (kernel flipped) with PyTorch's arguments and weight layout."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        _count("Conv2d", in_channels=in_channels, out_channels=out_channels)
        F._unsupported("Conv2d", dilation=(pair(dilation, "dilation"), (1, 1)), groups=(groups, 1),
                       padding_mode=(padding_mode, "zeros"))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        if padding == "same" and self.stride != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions, as in PyTorch")
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        self.add_param("weight", _uniform(1 / math.sqrt(fan_in), (out_channels, in_channels) + self.kernel_size))
        if bias:
            self.add_param("bias", _uniform(1 / math.sqrt(fan_in), (out_channels,)))
        else:
            self.bias = None
        self._finish(device, dtype)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d: expected input of shape (N, {self.in_channels}, H, W) (in_channels="
                             f"{self.in_channels}), got shape {x.shape}")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + ("" if self.padding == (0, 0) else f", padding={self.padding}")
                + ("" if self.bias is not None else ", bias=False"))


class Linear(_Built):
    """y = x @ weight.T + bias, weight (out_features, in_features) as in PyTorch."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _count("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.add_param("weight", _uniform(1 / math.sqrt(in_features), (out_features, in_features)))
        if bias:
            self.add_param("bias", _uniform(1 / math.sqrt(in_features), (out_features,)))
        else:
            self.bias = None
        self._finish(device, dtype)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class BatchNorm2d(_Built):
    """PyTorch's batch norm: eps 1e-5, running = (1 - momentum) * running + momentum * batch (momentum 0.1;
    None: the cumulative average), the running variance unbiased. Keras' momentum is 1 - PyTorch's."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None):
        super().__init__()
        _count("BatchNorm2d", num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.add_param("weight", np.ones(num_features, np.float32))
            self.add_param("bias", np.zeros(num_features, np.float32))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.add_buffer("running_mean", np.zeros(num_features, np.float32))
            self.add_buffer("running_var", np.ones(num_features, np.float32))
            self.add_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.running_mean = self.running_var = None
        self._finish(device, dtype)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected input of shape (N, {self.num_features}, H, W), "
                             f"got shape {x.shape}")
        use_batch = self.training or not self.track_running_stats
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if momentum is None:                        # the cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            momentum or 0.0, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class MaxPool2d(_Built):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        F._unsupported("MaxPool2d", dilation=(dilation, 1), return_indices=(return_indices, False),
                       ceil_mode=(ceil_mode, False))
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_Built):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        F._unsupported("AvgPool2d", ceil_mode=(ceil_mode, False), divisor_override=(divisor_override, None))
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, count_include_pad=self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_Built):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Dropout(_Built):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._unsupported("Dropout", inplace=(inplace, False))
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got p={p!r}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class ReLU(_Built):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, self.inplace)


class LeakyReLU(_Built):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        F._unsupported("LeakyReLU", inplace=(inplace, False))
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class Sigmoid(_Built):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(_Built):
    def forward(self, x):
        return F.tanh(x)


class Softmax(_Built):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Identity(_Built):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(_Built):
    """(N, C, H, W) -> (N, C * H * W): axes start_dim..end_dim become one."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


class Sequential(KerasSequential):
    """nn.Sequential(module, module, ...) or nn.Sequential(OrderedDict(name=module, ...)): each module's
    output is the next one's input. Children are named "0", "1", ... (or by the dict's keys);
    seq[i], seq[a:b], len(seq), iteration and append work as in PyTorch, and, as there, inputs of any
    size are taken (a Keras Sequential fixes its input shape)."""

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            names, modules = list(args[0].keys()), list(args[0].values())
        else:
            names, modules = [str(i) for i in range(len(args))], list(args)
        super().__init__(modules)
        self._names = names

    def append(self, module):
        self.add(module)
        self._names.append(str(len(self._names)))
        return self

    def children(self):
        return zip(self._names, self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(collections.OrderedDict(list(self.children())[index]))
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def _run(self, x):
        if self.input_shape is None:
            self.input_shape = x.shape[1:]
        for layer in self.layers:
            x = layer(x)
        return x

    def __repr__(self):
        inside = "".join(f"\n  ({name}): {layer!r}" for name, layer in self.children())
        return f"Sequential({inside}\n)"

