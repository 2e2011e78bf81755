"""Conv2D and Conv1D layers: the lecture's convolution with learnable filters and bias."""

import numpy as np

from .. import functional as F
from ..ops.im2col import pair
from .activations import activation_function, activation_name
from .base import Layer, check_positive
from .initializers import initial_weights


def check_channels_first(layer, input_shape):
    """Refuse (N, H, W, C) images with a message that says how to fix them.

    Inside a network only the unmistakable case: square maps with 1, 3 or 4 "pixels" on the last
    axis ((N, 256, 4, 4) after four poolings is fine). A model's input check is stricter
    (models/inputs.py).
    """
    if len(input_shape) != 4:
        raise ValueError(f"{layer} expects images of shape (N, C, H, W), got shape {tuple(input_shape)}")
    n, a, b, c = input_shape
    if c in (1, 3, 4) and a == b > 4:     # (N, 64, 64, 3): square images with few channels last
        raise channels_last_error(layer, input_shape)


def channels_last_error(where, input_shape):
    return ValueError(
        f"{where} got input of shape {tuple(input_shape)}, which looks channels-last (N, H, W, C). "
        f"minicnn uses (N, C, H, W): transpose with x.transpose(0, 3, 1, 2) "
        f"(NumPy: np.transpose(x, (0, 3, 1, 2))).")


class Conv2D(Layer):
    """`filters` kernels of `kernel_size`, sliding over (N, C, H, W) inputs.

    Weights: kernel (filters, C, KH, KW) and bias (filters,). C is learnt on the first call.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", name=None):
        super().__init__(name)
        check_positive("Conv2D", filters=filters, kernel_size=kernel_size, strides=strides)
        self.filters, self.strides, self.padding = filters, strides, padding
        self.kernel_size = pair(kernel_size, "Conv2D: kernel_size")
        self.activation, self.use_bias = activation_name(activation), use_bias
        self.kernel_initializer = kernel_initializer
        self.function = activation_function(self.activation, in_place=True)

    def build(self, input_shape):
        check_channels_first("Conv2D", input_shape)
        channels = input_shape[1]
        kh, kw = self.kernel_size
        shape = (self.filters, channels, kh, kw)
        self.add_param("kernel", initial_weights(self.kernel_initializer, shape,
                                                 fan_in=channels * kh * kw, fan_out=self.filters * kh * kw))
        if self.use_bias:
            self.add_param("bias", np.zeros(self.filters, np.float32))

    def forward(self, x):
        kernel = self.params["kernel"]
        if x.ndim != 4 or x.shape[1] != kernel.shape[1]:
            check_channels_first("Conv2D", x.shape)
            raise ValueError(f"Conv2D was built for {kernel.shape[1]} input channels, got input of shape {x.shape}")
        y = F.conv2d(x, kernel, self.params.get("bias"), self.strides, self.padding)
        return y if self.function is None else self.function(y)

    def get_config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": self.strides,
                "padding": self.padding, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer}


class Conv1D(Layer):
    """`filters` kernels of length `kernel_size` over (N, C, L) sequences."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", name=None):
        super().__init__(name)
        check_positive("Conv1D", filters=filters, kernel_size=kernel_size, strides=strides)
        self.filters, self.kernel_size, self.strides, self.padding = filters, kernel_size, strides, padding
        self.activation, self.use_bias = activation_name(activation), use_bias
        self.kernel_initializer = kernel_initializer
        self.function = activation_function(self.activation, in_place=True)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Conv1D expects input of shape (N, C, L), got shape {tuple(input_shape)}")
        channels, k = input_shape[1], self.kernel_size
        self.add_param("kernel", initial_weights(self.kernel_initializer, (self.filters, channels, k),
                                                 fan_in=channels * k, fan_out=self.filters * k))
        if self.use_bias:
            self.add_param("bias", np.zeros(self.filters, np.float32))

    def forward(self, x):
        y = F.conv1d(x, self.params["kernel"], self.params.get("bias"), self.strides, self.padding)
        return y if self.function is None else self.function(y)

    def get_config(self):
        return {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer}
