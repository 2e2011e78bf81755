"""utils.make_grid: a batch (N, C, H, W) tiled in one image, 8 per row, 2 pixels of border."""

import numpy as np

import minicnn as mc


def make_grid(tensor, nrow=8, padding=2):
    images = tensor.numpy()
    n, c, h, w = images.shape
    columns, rows = min(nrow, n), -(-n // nrow)
    grid = np.zeros((c, rows * (h + padding) + padding, columns * (w + padding) + padding), images.dtype)
    for i, image in enumerate(images):
        top, left = padding + (i // columns) * (h + padding), padding + (i % columns) * (w + padding)
        grid[:, top:top + h, left:left + w] = image
    return mc.tensor(grid)
