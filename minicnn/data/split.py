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


class Split(tuple):
    """The parts of a grouped split (unpack it as a tuple), with what the buffer dropped:
    dropped[i] is the number of images taken out of part i, dropped_groups[i] their groups."""

    def __new__(cls, parts, dropped_groups, counts):
        split = super().__new__(cls, parts)
        split.dropped_groups, split.dropped = dropped_groups, counts
        return split


def grouped_split(dataset, group, parts, gap=0):
    """Split so that the images of one group are all in the same part.

    group: a function of an image's file path giving its group, e.g. mc.data.file_number
        (or lambda path: file_number(path) // 10 for blocks of ten).
    parts: one collection of groups per part; every group must be in exactly one.
    gap: the buffer. Neighbouring groups are alike too (tile 59 and tile 60 may show
        one field), so a group is dropped from its part when a group of a later part
        lies within `gap` of it (|a - b| <= gap): the parts that are scored come last
        and stay whole, what trains gives way, as in buffered spatial cross-validation.
        Make it wider than the leak you measured (benchmarks/leak.py for UC Merced).

        train, test = grouped_split(scenes, mc.data.file_number, [range(0, 60), range(60, 80)], gap=10)
        # train: images 00-49 (50-59 dropped), test: 60-79

    The result unpacks as a tuple of datasets; its .dropped counts the images the
    buffer took out of each part and .dropped_groups names their groups.
    """
    if dataset.file_paths is None:
        raise ValueError("grouped_split needs the images' file paths (dataset.file_paths is None)")
    if isinstance(gap, bool) or not isinstance(gap, (int, float, np.integer, np.floating)) or not gap >= 0:
        raise ValueError(f"grouped_split: gap must be a number >= 0 (how far apart, in groups, the parts must "
                         f"stay), got gap={gap!r}")
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
    keep = np.ones(len(groups), bool)
    dropped_groups = [[] for _ in parts]
    if gap:
        later = _groups_of_later_parts(part_of, len(parts))
        for g in sorted(set(groups)):           # numbers: checked above
            index = part_of[g]
            if np.any(np.abs(later[index] - g) <= gap):
                dropped_groups[index].append(g)
        dropped = {g for part in dropped_groups for g in part}
        keep = np.array([g not in dropped for g in groups], bool)
    counts = tuple(int(np.sum((where == index) & ~keep)) for index in range(len(parts)))
    return Split((dataset.subset(np.flatnonzero((where == index) & keep)) for index in range(len(parts))),
                 tuple(dropped_groups), counts)


def _groups_of_later_parts(part_of, n_parts):
    """For each part, the groups of the parts after it, as numbers (a gap needs a distance)."""
    for g in part_of:
        if isinstance(g, bool) or not isinstance(g, (int, float, np.integer, np.floating)):
            raise ValueError(f"grouped_split: a gap needs groups that are numbers (a distance between them), "
                             f"got group {g!r}; give gap=0 or a group function returning numbers")
    later = [[] for _ in range(n_parts)]
    for g, index in part_of.items():
        for earlier in range(index):
            later[earlier].append(g)
    return [np.array(sorted(part)) for part in later]


def grouped_kfold(dataset, group, k, gap=0):
    """k (train, test) pairs for cross-validation: the sorted groups cut into k consecutive
    blocks, each block the test part once. Consecutive groups (neighbouring image numbers)
    stay together, so no test image has a near-twin in its training part; with gap > 0 the
    training groups within `gap` of the test block, on both sides of it, are dropped too
    (see grouped_split; each fold's .dropped says how many images)."""
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
        fold = grouped_split(dataset, group, [train, test], gap=gap)
        if len(fold[0]) == 0:
            raise ValueError(f"grouped_kfold: gap={gap} leaves the fold testing groups {test[0]}-{test[-1]} "
                             f"no training images; give a smaller gap or a smaller k")
        folds.append(fold)
    return folds
