"""Data augmentation as layers: random changes to the training images, none at inference.

Each image of a batch gets its own random flip, rotation, zoom, contrast or shift, drawn on the
images' device by minicnn's seeded counter-based generator (minicnn/random.py: the same draws on
every device, and nothing copied from the host at each step). The lecture's "invariance to translation" is
learnt from shifted copies; aerial scenes, which have no "up", also from
flips and 90-degree rotations. These layers act on input images: nothing
before them is trained, so they pass no gradient.
"""

import numpy as np

from .. import random
from ..ops.sampling import FILL_MODES, sample
from ..tensor import Tensor, floating
from .base import Layer


def _draw(x, shape=None):
    """Uniform numbers in [0, 1) on x's device, one per image by default: (N,)."""
    return random.uniform_on(x.backend, (x.shape[0],) if shape is None else shape)


def _per_image(x, values):
    """(N,) device values shaped (N, 1, 1, 1), to broadcast over the images (N, C, H, W)."""
    return x.xp.reshape(values, (-1, 1, 1, 1))


class RandomFlip(Layer):
    """Mirror each training image with probability 1/2 ("horizontal", "vertical" or both; Keras' default
    is both). With "horizontal_and_vertical" each axis is flipped on its own draw (Keras 2's rule: all
    four mirror images), where Keras 3 flips both axes or neither."""

    def __init__(self, mode="horizontal_and_vertical", name=None):
        super().__init__(name)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip: mode must be 'horizontal', 'vertical' or "
                             f"'horizontal_and_vertical', got {mode!r}")
        self.mode = mode

    def forward(self, x):
        if not self.training:
            return x
        x = floating(x)
        xp, data = x.xp, x.data
        for axis, name in ((3, "horizontal"), (2, "vertical")):
            if name in self.mode:
                flip = _per_image(x, _draw(x) < 0.5)
                data = xp.where(flip, xp.flip(data, axis=axis), data)
        return Tensor(data, x.backend)

    def get_config(self):
        return {"mode": self.mode}


class RandomRotate90(Layer):
    """Rotate each training image by a random multiple of 90 degrees (square images)."""

    def forward(self, x):
        if not self.training:
            return x
        if x.shape[2] != x.shape[3]:
            raise ValueError(f"RandomRotate90 needs square images, got shape {x.shape}")
        x = floating(x)
        xp, data = x.xp, x.data
        turns = xp.floor(_draw(x) * 4)     # 0, 1, 2 or 3 quarter turns
        out = data
        rotated = data
        for k in (1, 2, 3):
            # a quarter turn counter-clockwise: transpose the image, then flip it upside down
            rotated = xp.flip(xp.permute_dims(rotated, (0, 1, 3, 2)), axis=2)
            out = xp.where(_per_image(x, turns == k), rotated, out)
        return Tensor(out, x.backend)


class RandomTranslation(Layer):
    """Shift each training image by up to height_factor * H rows and width_factor * W columns,
    filling the uncovered border with zeros.
    """

    def __init__(self, height_factor=0.1, width_factor=0.1, name=None):
        super().__init__(name)
        self.height_factor, self.width_factor = height_factor, width_factor

    def forward(self, x):
        if not self.training:
            return x
        x = floating(x)
        n, _, h, w = x.shape
        max_dy, max_dx = int(self.height_factor * h), int(self.width_factor * w)
        xp = x.xp
        dys = xp.astype(xp.floor(_draw(x) * (2 * max_dy + 1)), xp.int64) - max_dy
        dxs = xp.astype(xp.floor(_draw(x) * (2 * max_dx + 1)), xp.int64) - max_dx
        return Tensor(x.backend.shift_images(x.data, dys, dxs), x.backend)

    def get_config(self):
        return {"height_factor": self.height_factor, "width_factor": self.width_factor}


def _range(factor, name, low=None):
    """Keras' factor: a number f means (-f, f); a pair (lower, upper) is taken as it is."""
    lower, upper = (-factor, factor) if isinstance(factor, (int, float)) else tuple(factor)
    if not lower <= upper or (low is not None and lower < low):
        raise ValueError(f"{name}: factor {factor!r} does not give a range (lower <= upper"
                         + ("" if low is None else f", lower >= {low}") + ")")
    return float(lower), float(upper)


def _grid(x, out_hw):
    """Output pixel centres relative to the image centre, as device arrays (1, OH, 1) and (1, 1, OW)."""
    xp, backend = x.xp, x.backend
    oh, ow = out_hw
    ys = xp.astype(backend.arange(oh), backend.dtype("float32")) - (oh - 1) / 2
    xs = xp.astype(backend.arange(ow), backend.dtype("float32")) - (ow - 1) / 2
    return xp.reshape(ys, (1, oh, 1)), xp.reshape(xs, (1, 1, ow))


def _per_image_numbers(x, values):
    """(N,) device numbers shaped (N, 1, 1), to broadcast over (N, OH, OW) points."""
    return x.xp.reshape(values, (-1, 1, 1))


class RandomRotation(Layer):
    """Rotate each training image by a random angle: factor f turns by up to f * 360 degrees either
    way ((lower, upper) for another range); positive is counter-clockwise, as in Keras. The corners
    left uncovered are filled by `fill_mode` (minicnn/ops/sampling.py)."""

    def __init__(self, factor, fill_mode="reflect", fill_value=0.0, name=None):
        super().__init__(name)
        self.factor, self.fill_mode, self.fill_value = factor, fill_mode, fill_value
        self.range = _range(factor, "RandomRotation")
        if fill_mode not in FILL_MODES:
            raise ValueError(f"RandomRotation: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")

    def forward(self, x):
        if not self.training:
            return x
        x = floating(x)
        xp = x.xp
        lower, upper = self.range
        angles = _per_image_numbers(x, 2 * np.pi * (lower + (upper - lower) * _draw(x)))
        cos, sin = xp.cos(angles), xp.sin(angles)
        dy, dx = _grid(x, x.shape[2:])
        h, w = x.shape[2:]
        # the input point each output pixel shows: the pixel turned back by the angle
        ys = (h - 1) / 2 + cos * dy + sin * dx
        xs = (w - 1) / 2 - sin * dy + cos * dx
        ys, xs = xp.broadcast_to(ys, (x.shape[0], h, w)), xp.broadcast_to(xs, (x.shape[0], h, w))
        return Tensor(sample(x.backend, x.data, ys, xs, self.fill_mode, self.fill_value), x.backend)

    def get_config(self):
        return {"factor": self.factor, "fill_mode": self.fill_mode, "fill_value": self.fill_value}


class RandomZoom(Layer):
    """Zoom each training image by a random factor: height_factor f zooms by 1 + u with u in
    (-f, f) (positive zooms out, as in Keras); width_factor=None keeps the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", fill_value=0.0, name=None):
        super().__init__(name)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.ranges = (_range(height_factor, "RandomZoom", low=-1.0),
                       None if width_factor is None else _range(width_factor, "RandomZoom", low=-1.0))
        if fill_mode not in FILL_MODES:
            raise ValueError(f"RandomZoom: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")

    def forward(self, x):
        if not self.training:
            return x
        x = floating(x)
        xp, n, (h, w) = x.xp, x.shape[0], x.shape[2:]
        (low, high), width = self.ranges
        zoom_h = 1 + low + (high - low) * _draw(x)
        zoom_w = zoom_h if width is None else 1 + width[0] + (width[1] - width[0]) * _draw(x)
        dy, dx = _grid(x, (h, w))
        ys = xp.broadcast_to((h - 1) / 2 + _per_image_numbers(x, zoom_h) * dy, (n, h, w))
        xs = xp.broadcast_to((w - 1) / 2 + _per_image_numbers(x, zoom_w) * dx, (n, h, w))
        return Tensor(sample(x.backend, x.data, ys, xs, self.fill_mode, self.fill_value), x.backend)

    def get_config(self):
        return {"height_factor": self.height_factor, "width_factor": self.width_factor,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value}


class RandomContrast(Layer):
    """Scale each training image's deviations from its mean (per channel) by a random factor in
    (1 - f, 1 + f), then clip to value_range, as Keras does."""

    def __init__(self, factor, value_range=(0, 255), name=None):
        super().__init__(name)
        self.factor, self.value_range = factor, tuple(value_range)
        lower, upper = (factor, factor) if isinstance(factor, (int, float)) else tuple(factor)
        self.range = (1 - lower, 1 + upper)             # Keras: contrast in [1 - lower, 1 + upper]
        if not 0 <= self.range[0] <= self.range[1]:
            raise ValueError(f"RandomContrast: factor {factor!r} must give contrasts 0 <= 1 - lower <= 1 + upper")

    def forward(self, x):
        if not self.training:
            return x
        x = floating(x)
        xp = x.xp
        low, high = self.range
        contrast = _per_image(x, low + (high - low) * _draw(x))
        mean = xp.mean(x.data, axis=(2, 3), keepdims=True)
        out = xp.clip((x.data - mean) * contrast + mean, float(self.value_range[0]), float(self.value_range[1]))
        return Tensor(out, x.backend)

    def get_config(self):
        return {"factor": self.factor, "value_range": list(self.value_range)}


class RandomColorBalance(Layer):
    """Photographs of different days, seasons and cameras differ in light and colour: each training image's
    brightness, white balance (a gain per channel) and saturation are scaled by random factors in
    (1 - factor, 1 + factor), drawn in that order, the saturation about the image's grey
    (the mean over its channels). Not clipped. Inference passes images as they are.

    minicnn's own layer (Keras' RandomBrightness adds rather than scales, and has no white balance); on
    UC Merced it is what let a network generalise to scenes far from its training ones (benchmarks/RESULTS.md).
    """

    def __init__(self, factor=0.2, name=None):
        super().__init__(name)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor < 1:
            raise ValueError(f"RandomColorBalance: factor must be a number in [0, 1), got {factor!r}")
        self.factor = factor

    def _scales(self, x, shape):
        return 1 + self.factor * (2 * _draw(x, shape) - 1)

    def forward(self, x):
        if not self.training:
            return x
        x = floating(x)
        n, c = x.shape[:2]
        backend, xp = x.backend, x.xp
        brightness, balance, saturation = (self._scales(x, shape)
                                           for shape in ((n, 1, 1, 1), (n, c, 1, 1), (n, 1, 1, 1)))
        lit = x.data * brightness * balance
        grey = xp.mean(lit, axis=1, keepdims=True)
        return Tensor(grey + (lit - grey) * saturation, backend)

    def get_config(self):
        return {"factor": self.factor}
