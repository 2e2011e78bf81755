"""MNIST, as Keras serves it: keras.datasets.mnist.load_data() with `import minicnn as keras`.

The file is Keras' own mnist.npz (70,000 handwritten digits, 28x28 uint8), downloaded once
into minicnn's cache ($MINICNN_DATA or ~/.cache/minicnn) with its published SHA-256 checked.
A file already in the cache is used as it is (as the other data sets' folders are).
"""

import os

import numpy as np

from .download import cache_dir

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """((x_train, y_train), (x_test, y_test)): images (N, 28, 28) uint8, labels (N,) uint8, as Keras.
    Add the channel axis yourself, in minicnn's place: np.expand_dims(x, 1) -> (N, 1, 28, 28)."""
    target = path if os.path.isabs(path) else os.path.join(cache_dir(), path)
    if not os.path.isfile(target):
        import pooch
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            pooch.retrieve(URL, known_hash=f"sha256:{SHA256}", fname=os.path.basename(target),
                           path=os.path.dirname(target))
        except ValueError:
            raise                               # the checksum's error, as pooch words it
        except Exception as error:
            raise OSError(f"could not download {URL} ({type(error).__name__}: {error}). Offline? Put a copy "
                          f"of mnist.npz at {target}") from error
    with np.load(target, allow_pickle=False) as arrays:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays.files)
        if missing:
            raise ValueError(f"{target}: not Keras' mnist.npz (no {sorted(missing)})")
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
