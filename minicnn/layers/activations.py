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
    """max(x, 0); with Keras' options: outputs capped at max_value (ReLU(max_value=6) is ReLU6), zero
    below threshold instead of 0, and negative_slope * (x - threshold) added below it (keras.ops.relu's
    formula, step by step)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, name=None):
        super().__init__(name)
        for argument, value in (("max_value", max_value), ("negative_slope", negative_slope),
                                ("threshold", threshold)):
            if (value is None and argument != "max_value") or value is not None and (
                    isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):   # as Keras
                raise ValueError(f"ReLU: {argument} must be a non-negative number"
                                 f"{' or None' if argument == 'max_value' else ''}, got {value!r}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x):
        slope, threshold, cap = self.negative_slope, self.threshold, self.max_value
        if slope and cap is None and not threshold:
            return F.leaky_relu(x, slope)
        below = F.relu(threshold - x) if slope else None
        x = x * (x > threshold).astype(x.dtype) if threshold else F.relu(x)
        if cap is not None:
            x = x.clip(0.0, cap)
        return x - slope * below if slope else x

    def get_config(self):
        return {"max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}


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
