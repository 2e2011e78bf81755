"""mc.datasets: the course's data sets, ready to train on.

digits() ships inside minicnn (no network). cats_and_dogs() and uc_merced()
read a local copy given as root=, or fetch the public archive once into the
cache ($MINICNN_DATA or ~/.cache/minicnn); mnist.load_data() is Keras'.
"""

import gzip
import os

import numpy as np

from ..data import image_folder
from . import mnist  # noqa: F401  (mc.datasets.mnist.load_data(), as keras.datasets.mnist)
from .download import Archive, fetch

ARCHIVES = {
    # Google's "cats_and_dogs_filtered" subset of the Kaggle/Asirra set (2000 train + 1000 validation).
    # No checksum is published for it: the size is checked.
    "cats_and_dogs": Archive("https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
                             known_hash=None, size=68_606_236, folder="cats_and_dogs_filtered"),
    # UC Merced Land Use, 21 classes x 100 TIFFs of 256x256 (md5 as published by torchgeo).
    "uc_merced": Archive("http://weegee.vision.ucmerced.edu/datasets/UCMerced_LandUse.zip",
                         known_hash="md5:5b7ec56793786b6dc8a908e8854ac0e4", size=None, folder="UCMerced_LandUse"),
}


def digits():
    """The 1,797 real 8x8 handwritten digits of UCI's "optdigits" (CC BY 4.0).

    Returns (images, labels): float32 (1797, 1, 8, 8) in [0, 1], int64 labels 0..9.
    """
    with gzip.open(os.path.join(os.path.dirname(__file__), "digits.csv.gz"), "rt") as file:
        table = np.loadtxt(file, delimiter=",", dtype=np.float32)
    images = (table[:, :64] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    return images, table[:, 64].astype(np.int64)


def cats_and_dogs(root=None, download=True, image_size=(64, 64), color_mode="rgb"):
    """(train, validation) ImageDatasets of cats (label 0) and dogs (label 1).

    root: a folder holding train/ and validation/, each with cats/ and dogs/.
    """
    root = root or fetch(ARCHIVES["cats_and_dogs"], download)
    return tuple(image_folder(os.path.join(root, part), image_size, color_mode) for part in ("train", "validation"))


def uc_merced(root=None, download=True, image_size=(64, 64), color_mode="rgb"):
    """One ImageDataset of the 21 UC Merced Land Use classes. root: a folder with one subfolder per class.

    There is no official split, and a random one is leaky: images with neighbouring numbers
    are often neighbouring tiles of one scene. Split by blocks of image numbers, e.g.
    mc.data.grouped_split(scenes, mc.data.file_number, [range(0, 60), range(60, 100)]).
    """
    if root is None:
        root = os.path.join(fetch(ARCHIVES["uc_merced"], download), "Images")
    return image_folder(root, image_size, color_mode)
