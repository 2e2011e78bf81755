"""Splitting a data set into training, validation and test parts.

A random split is honest only when images are independent. UC Merced's are
not: images with neighbouring numbers in a class are often neighbouring tiles
of one aerial photograph, near-twins. Split at random, a near-twin of almost
every test image was trained on, and the score measures memory rather than
skill (a 4-block CNN: 86% on a random split, 57% on images 60-79 when trained
on 00-59). grouped_split keeps each group of related images (here a block of
image numbers) on one side.
"""

import os
import re

import numpy as np


def stratified_split(dataset, fractions, seed=0):
    """Split at random into parts holding the given fractions of every class, e.g. (0.6, 0.2, 0.2).

    Images of each class are shuffled with `seed` (NumPy's generator, not minicnn's),
    then cut at the same fractions, so every part sees every class in proportion.
    Only for independent images: related images need grouped_split.
    """
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must add up to 1, got {fractions} (sum {sum(fractions)})")
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fractions]
    for label in np.unique(dataset.labels):
        members = rng.permutation(np.flatnonzero(dataset.labels == label))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, cuts)):
            part.extend(chunk.tolist())
    return tuple(dataset.subset(np.sort(part)) for part in parts)


def file_number(path):
    """The number that ends a file's name: "beach07.jpg" -> 7 (UC Merced's image number)."""
    match = re.search(r"(\d+)$", os.path.splitext(os.path.basename(path))[0])
    if match is None:
        raise ValueError(f"file_number: {path!r} has no number at the end of its name")
    return int(match.group(1))


def grouped_split(dataset, group, parts):
    """Split so that the images of one group are all in the same part.

    group: a function of an image's file path giving its group, e.g. mc.data.file_number
        (or lambda path: file_number(path) // 10 for blocks of ten).
    parts: one collection of groups per part; every group must be in exactly one.

        train, val, test = grouped_split(scenes, mc.data.file_number,
                                         [range(0, 50), range(50, 60), range(60, 80)])
    """
    if dataset.file_paths is None:
        raise ValueError("grouped_split needs the images' file paths (dataset.file_paths is None)")
    groups = [group(path) for path in dataset.file_paths]
    part_of = {}
    for index, members in enumerate(parts):
        for g in members:
            if g in part_of:
                raise ValueError(f"grouped_split: group {g!r} is in part {part_of[g]} and in part {index}; "
                                 f"a group must be on one side only")
            part_of[g] = index
    missing = sorted({g for g in groups if g not in part_of}, key=repr)
    if missing:
        raise ValueError(f"grouped_split: groups {missing[:10]}{' ...' if len(missing) > 10 else ''} "
                         f"are in no part; give every group of the data set a part (or take a subset first)")
    where = np.array([part_of[g] for g in groups])
    return tuple(dataset.subset(np.flatnonzero(where == index)) for index in range(len(parts)))


def grouped_kfold(dataset, group, k):
    """k (train, test) pairs for cross-validation: the sorted groups cut into k consecutive
    blocks, each block the test part once. Consecutive groups (neighbouring image numbers)
    stay together, so no test image has a near-twin in its training part."""
    if dataset.file_paths is None:
        raise ValueError("grouped_kfold needs the images' file paths (dataset.file_paths is None)")
    groups = sorted({group(path) for path in dataset.file_paths})
    if not isinstance(k, (int, np.integer)) or not 2 <= k <= len(groups):
        raise ValueError(f"grouped_kfold: k must be an int from 2 to the number of groups ({len(groups)}), got {k!r}")
    blocks = np.array_split(np.arange(len(groups)), k)
    folds = []
    for block in blocks:
        test = [groups[i] for i in block]
        train = [g for g in groups if g not in set(test)]
        folds.append(grouped_split(dataset, group, [train, test]))
    return folds
