"""Keras' image utilities: image_dataset_from_directory, load_img and img_to_array, channels first.

    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        "PetImages", validation_split=0.2, subset="both", seed=1337, image_size=(180, 180), batch_size=128)

The images are decoded once, into memory (minicnn's data sets are arrays), and served in batches
(mc.data.Batches): float32 (N, C, H, W) in [0, 255], labels int64 (label_mode="int"), one-hot
float32 ("categorical") or (N, 1) float32 ("binary"). The split is Keras' rule: the files in the
seed's order, the last validation_split of them validate.
"""

import os

import numpy as np
from PIL import Image

from ..data import Batches, image_folder
from ..data.folder import COLOR_MODES, _check_size, _list_files, _to_8_bit

LABEL_MODES = ("int", "categorical", "binary", None)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                                 subset=None, interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """Batches of the images under directory/<class>/ (two of them for subset="both"), as Keras'."""
    unsupported = {"labels": (labels, "inferred"), "interpolation": (interpolation, "bilinear"),
                   "crop_to_aspect_ratio": (crop_to_aspect_ratio, False), "pad_to_aspect_ratio":
                   (pad_to_aspect_ratio, False), "follow_links": (follow_links, False)}
    for name, (value, default) in unsupported.items():
        if value != default:
            raise NotImplementedError(f"image_dataset_from_directory: {name}={value!r} is not supported by minicnn "
                                      f"(only {name}={default!r})")
    if data_format not in (None, "channels_first"):
        raise ValueError(f"image_dataset_from_directory: minicnn's images are channels-first (N, C, H, W), so "
                         f"data_format must be None or 'channels_first', got {data_format!r}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
    if batch_size is None:
        raise NotImplementedError("image_dataset_from_directory: batch_size=None (single images) is not supported "
                                  "by minicnn; give a batch size")
    parts = image_folder(directory, image_size, color_mode, validation_split, subset, seed, shuffle)
    parts = parts if isinstance(parts, tuple) else (parts,)
    if class_names is not None and list(class_names) != parts[0].class_names:
        raise ValueError(f"class_names must be the class folders {parts[0].class_names} (in this order: minicnn "
                         f"takes them sorted), got {list(class_names)}")
    if label_mode == "binary" and len(parts[0].class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, found {len(parts[0].class_names)}: "
                         f"{parts[0].class_names}")
    if verbose:
        print(f"Found {len(_list_files(directory)[1])} files belonging to {len(parts[0].class_names)} classes.")
        for part, use in zip(parts, ("training", "validation") if subset == "both" else (subset,)):
            if use is not None:
                print(f"Using {len(part)} files for {use}.")
    batched = tuple(Batches(part, batch_size, shuffle=shuffle and use != "validation", seed=seed,
                            label_mode=label_mode)
                    for part, use in zip(parts, ("training", "validation") if subset == "both" else (subset,)))
    return batched if len(batched) == 2 else batched[0]


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """The image at path as a PIL image, in color_mode, resized to target_size (height, width) if given."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    if keep_aspect_ratio:
        raise NotImplementedError("load_img: keep_aspect_ratio=True is not supported by minicnn")
    if not os.path.isfile(path):
        raise ValueError(f"load_img: {path!r} is not a regular file")
    methods = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
    if interpolation not in methods:
        raise ValueError(f"load_img: interpolation must be one of {sorted(methods)}, got {interpolation!r}")
    with Image.open(path) as image:
        image.load()
        image = _to_8_bit(image).convert(COLOR_MODES[color_mode])
    if target_size is not None:
        height, width = _check_size(target_size)
        if image.size != (width, height):
            image = image.resize((width, height), methods[interpolation])
    return image


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or array) as float32 (C, H, W): channels first, minicnn's layout (Keras' default is last)."""
    if data_format not in (None, "channels_first", "channels_last"):
        raise ValueError(f"data_format must be 'channels_first' or 'channels_last', got {data_format!r}")
    array = np.asarray(img, dtype=dtype or np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"img_to_array: expected an image (H, W) or (H, W, C), got shape {array.shape}")
    return array if data_format == "channels_last" else np.ascontiguousarray(array.transpose(2, 0, 1))
