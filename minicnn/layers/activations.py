"""Activation layers, and the names Conv2D(..., activation="relu") and Dense accept."""

import functools

from .. import functional as F
from .base import Layer

ACTIVATIONS = {
    "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh, "softmax": F.softmax,
    # by name, Keras' slope 0.2 (keras.activations.leaky_relu); F.leaky_relu itself has PyTorch's 0.01
    "leaky_relu": functools.partial(F.leaky_relu, negative_slope=0.2), "linear": None, None: None,
}


# Conv2D and Dense apply their activation to an output no one else has seen, so these may
# overwrite it rather than keep both (see F.relu_).
IN_PLACE = {"relu": F.relu_}


def activation_name(activation):
    """A layer's activation argument as it is saved: mc.F.relu given as a function becomes "relu"."""
    if callable(activation):
        for name, function in ACTIVATIONS.items():
            if function is activation and name is not None:
                return name
    return activation


def activation_function(name, in_place=False):
    if callable(name):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(k for k in ACTIVATIONS if k)} or None, got {name!r}")
    return IN_PLACE[name] if in_place and name in IN_PLACE else ACTIVATIONS[name]


class Activation(Layer):
    """Applies an activation by name: Activation("relu")."""

    def __init__(self, activation, name=None):
        super().__init__(name)
        self.activation = activation_name(activation)
        self.function = activation_function(self.activation)

    def forward(self, x):
        return x if self.function is None else self.function(x)

    def get_config(self):
        return {"activation": self.activation}


class ReLU(Layer):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Layer):
    """Keras' default slope, 0.3."""

    def __init__(self, negative_slope=0.3, name=None):
        super().__init__(name)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class Sigmoid(Layer):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Layer):
    def forward(self, x):
        return F.tanh(x)


class Softmax(Layer):
    """Softmax over the channels by default (axis 1 of NCHW: what Keras' axis=-1 is in channels-last)."""

    def __init__(self, axis=1, name=None):
        super().__init__(name)
        self.axis = axis

    def forward(self, x):
        return F.softmax(x, self.axis)

    def get_config(self):
        return {"axis": self.axis}
