"""mc.data.image_folder: a folder of class subfolders, decoded once into uint8 arrays.

    root/
      cats/  cat.0.jpg  cat.1.jpg ...
      dogs/  dog.0.jpg ...

Semantics of Keras' image_dataset_from_directory: one class per subfolder,
classes in sorted order, images resized (bilinear) to image_size,
validation_split with subset "training" / "validation" / "both" and a seed,
and the images shuffled (shuffle=True), so that a share cut from the end
(fit's validation_split) holds every class. The same seed gives the same
order; with seed=None the order follows mc.manual_seed.
Any Pillow-readable JPEG, PNG, TIFF or BMP in any mode is converted to the
requested colours; files that can't be read are skipped with one warning.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from .. import random
from ..caller import warn_at_caller
from .dataset import ImageDataset

EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
COLOR_MODES = {"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}


def image_folder(root, image_size=(64, 64), color_mode="rgb", validation_split=None, subset=None, seed=None,
                 shuffle=True):
    """An ImageDataset of every image under root/<class>/ (or two, for subset="both")."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    image_size = _check_size(image_size)
    class_names, all_paths, all_labels = _list_files(root)
    if validation_split:
        # shuffled with the seed, or in sorted order with shuffle=False: the last share validates (Keras)
        parts = _split(len(all_paths), validation_split, subset, seed, shuffle)
    else:
        if subset is not None:
            raise ValueError("subset needs validation_split")
        seed = seed if seed is not None else random.generator().integers(2 ** 63)
        parts = [np.random.default_rng(seed).permutation(len(all_paths))]
    if not shuffle:
        parts = [np.sort(part) for part in parts]

    datasets = []
    for part in parts:
        part_paths, part_labels = [all_paths[i] for i in part], [all_labels[i] for i in part]
        images, keep = _decode_all(part_paths, image_size, COLOR_MODES[color_mode])
        datasets.append(ImageDataset(images, np.asarray(part_labels, np.int64)[keep], class_names,
                                     [p for p, k in zip(part_paths, keep) if k]))
    return tuple(datasets) if len(datasets) == 2 else datasets[0]


def _check_size(image_size):
    """(height, width) from an int or a pair, each a positive int."""
    size = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else image_size
    if not (isinstance(size, (tuple, list)) and len(size) == 2
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in size)):
        raise ValueError(f"image_size must be a positive int or a (height, width) pair of them, got {image_size!r}")
    return tuple(int(n) for n in size)


def _list_files(root):
    if not os.path.isdir(root):
        raise FileNotFoundError(f"image_folder: {root!r} is not a folder")
    # hidden folders (.ipynb_checkpoints, .git) are no classes, as Keras skips them
    class_names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    if not class_names:
        raise ValueError(f"image_folder: {root!r} holds no class subfolders; expected root/<class>/<image> files")
    if len(class_names) == 1:
        raise ValueError(f"image_folder: {root!r} holds one class subfolder ({class_names[0]!r}); "
                         f"a classifier needs at least two")
    paths, labels = [], []
    for label, name in enumerate(class_names):
        for folder, _, files in sorted(os.walk(os.path.join(root, name))):
            for file in sorted(files):
                # regular files only: opening a FIFO or a device named .jpg would wait forever
                if file.lower().endswith(EXTENSIONS) and os.path.isfile(os.path.join(folder, file)):
                    paths.append(os.path.join(folder, file))
                    labels.append(label)
    if not paths:
        raise ValueError(f"image_folder: no images ({', '.join(EXTENSIONS)}) under {root!r}")
    return class_names, paths, labels


def _split(count, validation_split, subset, seed, shuffle=True):
    """The file indices of the training and/or validation part: the last share of the files in the
    seed's random order (or in sorted order, unshuffled) validates."""
    if subset not in ("training", "validation", "both"):
        raise ValueError(f"with validation_split, subset must be 'training', 'validation' or 'both', got {subset!r}")
    if seed is None and shuffle:
        raise ValueError("validation_split needs a seed, so that training and validation never overlap")
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}")
    order = np.random.default_rng(seed).permutation(count) if shuffle else np.arange(count)
    n_val = int(validation_split * count)
    train, val = order[:count - n_val], order[count - n_val:]
    return {"training": [train], "validation": [val], "both": [train, val]}[subset]


def load_image(path, image_size, mode):
    """One image as a uint8 array (C, H, W) of the requested size and mode ("RGB", "L" or "RGBA")."""
    image_size = _check_size(image_size)
    if mode not in COLOR_MODES.values():
        raise ValueError(f"load_image: mode must be one of {sorted(COLOR_MODES.values())}, got {mode!r}")
    if not os.path.isfile(path):        # a FIFO or a device would block or never end; a folder is no image
        raise ValueError(f"load_image: {path!r} is not a regular file")
    try:
        return _decode(path, image_size, mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:  # Pillow's ways to fail
        raise ValueError(f"load_image: can't read {path!r} as an image ({type(error).__name__}: {error})") from None


def _decode(path, image_size, mode):
    with Image.open(path) as image:
        if image.format == "JPEG":
            image.draft(mode, (image_size[1] * 2, image_size[0] * 2))   # decode at reduced size: much faster
        image.load()
        image = _to_8_bit(image)
        image = image.convert(mode).resize((image_size[1], image_size[0]), Image.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _to_8_bit(image):
    """16-bit and 32-bit images scaled into 0..255 (Pillow's convert would clip them)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(array.max(), 1.0)
        return Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return image


def _decode_all(paths, image_size, mode):
    channels = len(mode)
    images = np.zeros((len(paths), channels) + image_size, np.uint8)
    keep = np.ones(len(paths), bool)
    failed = []

    def decode(i):
        try:
            images[i] = load_image(paths[i], image_size, mode)
        except Exception as error:     # unreadable, truncated, empty: skip, never crash mid-epoch
            keep[i] = False
            failed.append(f"{paths[i]} ({type(error).__name__}: {error})")

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:   # Pillow decodes outside the GIL
        list(pool.map(decode, range(len(paths))))
    if failed:
        warn_at_caller(f"image_folder skipped {len(failed)} unreadable image(s): " + "; ".join(sorted(failed)))
    return images[keep], keep
