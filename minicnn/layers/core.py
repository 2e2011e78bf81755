"""Dense, Flatten, Dropout and Rescaling layers."""

import numbers

import numpy as np

from .. import functional as F
from ..ops.sampling import sample
from ..tensor import Tensor, floating
from .activations import activation_function, activation_name
from .base import Layer, check_positive
from .initializers import initial_weights


class Dense(Layer):
    """Fully connected: y = activation(x @ kernel + bias), kernel (in_features, units)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform", name=None):
        super().__init__(name)
        check_positive("Dense", units=units)
        self.units, self.activation, self.use_bias = units, activation_name(activation), use_bias
        self.kernel_initializer = kernel_initializer
        self.function = activation_function(self.activation, in_place=True)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Dense expects input of shape (N, features), got shape {tuple(input_shape)}; "
                             f"add a Flatten() layer before it")
        features = input_shape[1]
        self.add_param("kernel", initial_weights(self.kernel_initializer, (features, self.units),
                                                 fan_in=features, fan_out=self.units))
        if self.use_bias:
            self.add_param("bias", np.zeros(self.units, np.float32))

    def forward(self, x):
        y = F.linear(x, self.params["kernel"], self.params.get("bias"))
        return y if self.function is None else self.function(y)

    def get_config(self):
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer}


class Flatten(Layer):
    def forward(self, x):
        return F.flatten(x)


class Dropout(Layer):
    """Zeroes a share `rate` of its inputs while training (inverted dropout); identity in eval."""

    def __init__(self, rate, name=None):
        super().__init__(name)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = rate

    def forward(self, x):
        return F.dropout(x, self.rate, training=self.training)

    def get_config(self):
        return {"rate": self.rate}


class Rescaling(Layer):
    """x * scale + offset, e.g. Rescaling(1 / 255) for uint8 images."""

    def __init__(self, scale, offset=0.0, name=None):
        super().__init__(name)
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return floating(x) * self.scale + self.offset

    def get_config(self):
        return {"scale": self.scale, "offset": self.offset}


class Resizing(Layer):
    """Images resized to (height, width), bilinear with half-pixel centres (Keras' Resizing); no gradient
    passes, as for the augmentation layers: it is meant for a model's input images."""

    def __init__(self, height, width, name=None):
        super().__init__(name)
        check_positive("Resizing", height=height, width=width)
        self.height, self.width = height, width

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"Resizing expects images (N, C, H, W), got shape {x.shape}")
        x = floating(x)
        xp, backend, n, (h, w) = x.xp, x.backend, x.shape[0], x.shape[2:]
        if (h, w) == (self.height, self.width):
            return x
        f32 = backend.dtype("float32")
        ys = (xp.astype(backend.arange(self.height), f32) + 0.5) * (h / self.height) - 0.5
        xs = (xp.astype(backend.arange(self.width), f32) + 0.5) * (w / self.width) - 0.5
        ys = xp.broadcast_to(xp.reshape(ys, (1, -1, 1)), (n, self.height, self.width))
        xs = xp.broadcast_to(xp.reshape(xs, (1, 1, -1)), (n, self.height, self.width))
        return Tensor(sample(backend, x.data, ys, xs, "nearest"), backend)

    def get_config(self):
        return {"height": self.height, "width": self.width}
