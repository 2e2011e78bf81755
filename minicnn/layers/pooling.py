"""Pooling layers: max, average, and global average (one number per channel)."""

from .. import functional as F
from .base import Layer, check_positive


class MaxPooling2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", name=None):
        super().__init__(name)
        check_positive(type(self).__name__, pool_size=pool_size, **({} if strides is None else {"strides": strides}))
        self.pool_size, self.strides, self.padding = pool_size, strides, padding

    def forward(self, x):
        return F.max_pool2d(x, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}


class AveragePooling2D(MaxPooling2D):
    def forward(self, x):
        return F.avg_pool2d(x, self.pool_size, self.strides, self.padding)


class GlobalAveragePooling2D(Layer):
    """(N, C, H, W) -> (N, C): the mean of each feature map."""

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"GlobalAveragePooling2D expects (N, C, H, W), got shape {x.shape}")
        return x.mean(axis=(2, 3))


class GlobalMaxPooling2D(Layer):
    """(N, C, H, W) -> (N, C): the largest value of each feature map."""

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"GlobalMaxPooling2D expects (N, C, H, W), got shape {x.shape}")
        return x.max(axis=(2, 3))
