"""Conv2D and Conv1D layers: the lecture's convolution with learnable filters and bias."""

import numpy as np

from .. import functional as F
from ..ops.conv import conv2d_relu
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
        if self.activation == "relu":       # one op: bias and ReLU on each block of the product
            return conv2d_relu(x, kernel, self.params.get("bias"), self.strides, self.padding)
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


class DepthwiseConv2D(Layer):
    """Each input channel filtered on its own by depth_multiplier kernels (no mixing between channels).

    Weights: depthwise_kernel (C * depth_multiplier, 1, KH, KW), output channel c * M + m from channel c,
    and bias (C * depth_multiplier,).
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", name=None):
        super().__init__(name)
        check_positive("DepthwiseConv2D", kernel_size=kernel_size, strides=strides, depth_multiplier=depth_multiplier)
        self.kernel_size, self.strides, self.padding = pair(kernel_size, "kernel_size"), strides, padding
        self.depth_multiplier, self.use_bias = depth_multiplier, use_bias
        self.activation, self.depthwise_initializer = activation_name(activation), depthwise_initializer
        self.function = activation_function(self.activation, in_place=True)

    def build(self, input_shape):
        check_channels_first(type(self).__name__, input_shape)
        self.add_param("depthwise_kernel", _depthwise_weights(self.depthwise_initializer, input_shape[1],
                                                              self.depth_multiplier, self.kernel_size))
        if self.use_bias:
            self.add_param("bias", np.zeros(input_shape[1] * self.depth_multiplier, np.float32))

    def forward(self, x):
        y = F.depthwise_conv2d(x, self.params["depthwise_kernel"], self.params.get("bias"), self.strides,
                               self.padding)
        return y if self.function is None else self.function(y)

    def get_config(self):
        return {"kernel_size": list(self.kernel_size), "strides": self.strides, "padding": self.padding,
                "depth_multiplier": self.depth_multiplier, "activation": self.activation, "use_bias": self.use_bias,
                "depthwise_initializer": self.depthwise_initializer}


class SeparableConv2D(Layer):
    """A depthwise convolution (each channel on its own), then a 1x1 convolution mixing the channels
    into `filters`: far fewer weights than a full Conv2D of the same size (Xception's building block).

    Weights: depthwise_kernel (C * depth_multiplier, 1, KH, KW), pointwise_kernel (filters,
    C * depth_multiplier, 1, 1) and bias (filters,).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 name=None):
        super().__init__(name)
        check_positive("SeparableConv2D", filters=filters, kernel_size=kernel_size, strides=strides,
                       depth_multiplier=depth_multiplier)
        self.filters, self.kernel_size = filters, pair(kernel_size, "kernel_size")
        self.strides, self.padding, self.depth_multiplier, self.use_bias = strides, padding, depth_multiplier, use_bias
        self.activation = activation_name(activation)
        self.depthwise_initializer, self.pointwise_initializer = depthwise_initializer, pointwise_initializer
        self.function = activation_function(self.activation, in_place=True)

    def build(self, input_shape):
        check_channels_first(type(self).__name__, input_shape)
        channels = input_shape[1] * self.depth_multiplier
        self.add_param("depthwise_kernel", _depthwise_weights(self.depthwise_initializer, input_shape[1],
                                                              self.depth_multiplier, self.kernel_size))
        self.add_param("pointwise_kernel", initial_weights(self.pointwise_initializer, (self.filters, channels, 1, 1),
                                                           fan_in=channels, fan_out=self.filters))
        if self.use_bias:
            self.add_param("bias", np.zeros(self.filters, np.float32))

    def forward(self, x):
        y = F.depthwise_conv2d(x, self.params["depthwise_kernel"], None, self.strides, self.padding)
        y = F.conv2d(y, self.params["pointwise_kernel"], self.params.get("bias"))
        return y if self.function is None else self.function(y)

    def get_config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": self.strides,
                "padding": self.padding, "depth_multiplier": self.depth_multiplier, "activation": self.activation,
                "use_bias": self.use_bias, "depthwise_initializer": self.depthwise_initializer,
                "pointwise_initializer": self.pointwise_initializer}


def _depthwise_weights(initializer, channels, multiplier, kernel_size):
    """(C * M, 1, KH, KW), drawn with Keras' fans for its (KH, KW, C, M) kernel."""
    kh, kw = kernel_size
    return initial_weights(initializer, (channels * multiplier, 1, kh, kw), fan_in=channels * kh * kw,
                           fan_out=multiplier * kh * kw)
