"""BatchNormalization (statistics of each batch) and Normalization (statistics of the data set)."""

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..tensor import Tensor, floating
from .base import Layer


def _stat_shape(ndim, channels):
    """(1, C, 1, 1) for images, (1, C) for features: broadcasts over all but the channel axis."""
    return (1, channels) + (1,) * (ndim - 2)


class BatchNormalization(Layer):
    """Normalise each channel by the batch's mean and variance while training, then scale
    by gamma and shift by beta; at inference use the moving averages gathered in training.

    Keras' defaults: momentum 0.99, epsilon 1e-3; the channel axis is 1 (NCHW).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None):
        super().__init__(name)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"BatchNormalization expects (N, C, ...), got shape {tuple(input_shape)}")
        channels = input_shape[1]
        self.add_param("gamma", np.ones(channels, np.float32))
        self.add_param("beta", np.zeros(channels, np.float32))
        self.add_buffer("moving_mean", np.zeros(channels, np.float32))
        self.add_buffer("moving_variance", np.ones(channels, np.float32))

    def forward(self, x):
        if self.training and self.trainable:        # frozen (trainable=False): inference, as in Keras
            y, mean, variance = F.batch_norm(x, self.params["gamma"], self.params["beta"], self.epsilon)
            self._update_moving_averages(mean, variance)
            return y
        shape = _stat_shape(x.ndim, x.shape[1])
        scale = self.params["gamma"] / (self.buffers["moving_variance"] + self.epsilon) ** 0.5
        shift = self.params["beta"] - self.buffers["moving_mean"] * scale
        return floating(x) * scale.reshape(shape) + shift.reshape(shape)

    def _update_moving_averages(self, mean, variance):
        m = self.momentum
        with no_grad():
            for name, batch_value in (("moving_mean", mean), ("moving_variance", variance)):
                self.buffers[name].data = (self.buffers[name] * m + batch_value * (1 - m)).data

    def get_config(self):
        return {"momentum": self.momentum, "epsilon": self.epsilon}


class Normalization(Layer):
    """(x - mean) / sqrt(variance) per channel, with mean and variance learnt by `adapt(data)`
    (or given). Scales images to zero mean and unit variance per channel.
    """

    def __init__(self, mean=None, variance=None, name=None):
        super().__init__(name)
        self.mean = None if mean is None else np.asarray(mean, np.float32).reshape(-1)
        self.variance = None if variance is None else np.asarray(variance, np.float32).reshape(-1)

    def adapt(self, data, batch_size=256):
        """Measure per-channel mean and variance of `data` (array (N, C, ...) or image dataset)."""
        images = getattr(data, "images", data)
        images = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
        channels = images.shape[1]
        total, total_sq, count = np.zeros(channels), np.zeros(channels), 0
        for start in range(0, len(images), batch_size):     # in chunks: uint8 data sets can be large
            chunk = images[start:start + batch_size].astype(np.float64)
            axes = tuple(i for i in range(chunk.ndim) if i != 1)
            total += chunk.sum(axis=axes)
            total_sq += (chunk * chunk).sum(axis=axes)
            count += chunk.size // channels
        mean = total / count
        self.mean = mean.astype(np.float32)
        self.variance = np.maximum(total_sq / count - mean * mean, 0).astype(np.float32)
        self.built = False
        return self

    def build(self, input_shape):
        if self.mean is None:
            raise ValueError("Normalization needs mean and variance: call layer.adapt(train_images) first")
        if self.mean.size != input_shape[1]:
            raise ValueError(f"Normalization was adapted to {self.mean.size} channels, "
                             f"got input of shape {tuple(input_shape)}")
        self.add_buffer("mean", self.mean)
        self.add_buffer("variance", self.variance)

    def forward(self, x):
        shape = _stat_shape(x.ndim, x.shape[1])
        std = self.buffers["variance"].clip(0.0) ** 0.5
        std = std.clip(1e-7)           # Keras: divide by max(sqrt(variance), 1e-7)
        return (floating(x) - self.buffers["mean"].reshape(shape)) / std.reshape(shape)

    def get_config(self):
        return {"mean": None if self.mean is None else self.mean.tolist(),
                "variance": None if self.variance is None else self.variance.tolist()}
