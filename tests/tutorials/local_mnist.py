"""A small stand-in for Keras' mnist.npz (the download), made of minicnn's own digits: 8x8 images
blown up 3x and framed to MNIST's 28x28 uint8, the first 1,500 for training, the other 297 for test."""

import numpy as np

import minicnn as mc


def write(path):
    images, labels = mc.datasets.digits()
    big = np.kron(images[:, 0], np.ones((3, 3), np.float32))                 # 24x24
    framed = np.pad(big, ((0, 0), (2, 2), (2, 2)))                           # 28x28, as MNIST's digits sit
    pixels = (framed * 255).round().astype(np.uint8)
    np.savez(path, x_train=pixels[:1500], y_train=labels[:1500].astype(np.uint8),
             x_test=pixels[1500:], y_test=labels[1500:].astype(np.uint8))
