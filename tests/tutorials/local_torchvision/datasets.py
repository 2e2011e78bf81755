"""datasets.CIFAR10 with the same arguments, on minicnn's own digits (10 classes, 32x32 RGB)."""

import numpy as np

import minicnn as mc

TRAIN = 1500        # the first 1,500 digits train, the other 297 test


class CIFAR10:
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        images, labels = mc.datasets.digits()
        part = slice(0, TRAIN) if train else slice(TRAIN, None)
        big = np.kron(images[part, 0], np.ones((4, 4), np.float32))                 # 8x8 -> 32x32
        tint = np.array([1.0, 0.8, 0.6], np.float32)                               # three unequal channels
        self.data = (big[..., None] * tint * 255).round().astype(np.uint8)          # (N, 32, 32, 3), HWC
        self.targets = labels[part].tolist()
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index], self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
