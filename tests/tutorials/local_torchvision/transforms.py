"""transforms.Compose, ToTensor and Normalize, as torchvision documents them, on minicnn tensors."""

import numpy as np

import minicnn as mc


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, image):
        for t in self.transforms:
            image = t(image)
        return image


class ToTensor:
    """HWC uint8 in [0, 255] -> CHW float32 in [0, 1]."""

    def __call__(self, image):
        return mc.tensor(np.ascontiguousarray(np.transpose(image, (2, 0, 1))).astype(np.float32) / 255)


class Normalize:
    """(image - mean) / std, channel by channel."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(-1, 1, 1)

    def __call__(self, image):
        return (image - mc.tensor(self.mean)) / mc.tensor(self.std)
