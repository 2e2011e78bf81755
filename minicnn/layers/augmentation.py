"""Data augmentation as layers: random changes to the training images, none at inference.

Each image of a batch gets its own random flip, rotation or shift, drawn from
minicnn's seeded generator. The lecture's "invariance to translation" is
learnt from shifted copies; aerial scenes, which have no "up", also from
flips and 90-degree rotations. These layers act on input images: nothing
before them is trained, so they pass no gradient.
"""

import numpy as np

from .. import random
from ..tensor import Tensor, floating
from .base import Layer


def _per_image(x, chosen):
    """`chosen` (N,) host booleans as a device mask broadcasting over (N, C, H, W)."""
    return x.backend.from_host(np.asarray(chosen).reshape(-1, 1, 1, 1))


class RandomFlip(Layer):
    """Mirror each training image with probability 1/2 ("horizontal", "vertical" or both)."""

    def __init__(self, mode="horizontal", name=None):
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
                flip = _per_image(x, random.uniform(x.shape[0]) < 0.5)
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
        turns = np.floor(random.uniform(x.shape[0]) * 4).astype(int)
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
        dys = np.floor(random.uniform(n) * (2 * max_dy + 1)).astype(int) - max_dy
        dxs = np.floor(random.uniform(n) * (2 * max_dx + 1)).astype(int) - max_dx
        out = x.backend.zeros(x.shape, x.dtype)
        for i, (dy, dx) in enumerate(zip(dys, dxs)):
            out[i, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                x.data[i, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        return Tensor(out, x.backend)

    def get_config(self):
        return {"height_factor": self.height_factor, "width_factor": self.width_factor}
