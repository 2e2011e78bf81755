"""A stand-in for torchvision, so the tutorials run offline on small local images.

torchvision lies outside minicnn; this double keeps only what the PyTorch tutorial calls, with
torchvision's documented behaviour: datasets.CIFAR10(root, train, download, transform) gives
(image, label) pairs, the image HWC uint8 as a PIL image converts to; transforms.ToTensor makes
it CHW float32 in [0, 1]; transforms.Normalize subtracts the mean and divides by the std of each
channel; utils.make_grid tiles a batch with a 2-pixel border. The images are the 10 classes of
handwritten digits that ship with minicnn, blown up to 32x32 colour pictures (CIFAR-10's size).
"""

from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
