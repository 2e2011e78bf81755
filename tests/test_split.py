"""mc.data's splits: grouped ones keep related images (UC Merced's neighbouring tiles) on one side."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import minicnn as mc

CLASSES = ("beach", "forest", "river")


def scenes(tmp_path, numbers):
    """A UC Merced-like folder: <class>/<class>NN.png, every image's pixels holding its number."""
    for name in CLASSES:
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        for n in numbers:
            Image.fromarray(np.full((4, 4, 3), n, np.uint8)).save(tmp_path / name / f"{name}{n:02d}.png")
    return mc.data.image_folder(tmp_path, image_size=4, seed=0)


def numbers_of(part):
    return sorted(mc.data.file_number(p) for p in part.file_paths)


def test_file_number_reads_the_number_that_ends_a_name():
    assert mc.data.file_number("/data/ucmerced/beach/beach07.jpg") == 7
    assert mc.data.file_number("tenniscourt79.tif") == 79
    with pytest.raises(ValueError, match="cat.jpg.* has no number at the end"):
        mc.data.file_number("cat.jpg")


def test_grouped_split_keeps_each_block_of_numbers_on_one_side(tmp_path):
    data = scenes(tmp_path, range(20))
    train, val, test = mc.data.grouped_split(data, lambda p: mc.data.file_number(p) // 5,
                                             [[0, 1], [2], [3]])
    assert numbers_of(train) == sorted(list(range(10)) * 3)
    assert numbers_of(val) == sorted(list(range(10, 15)) * 3) and numbers_of(test) == sorted(list(range(15, 20)) * 3)
    for part in (train, val, test):     # labels and pixels travel with their file
        for image, label, path in zip(part.images, part.labels, part.file_paths):
            assert CLASSES[label] in path and image.max() == image.min() == mc.data.file_number(path)
        assert np.bincount(part.labels).tolist() == [len(part) // 3] * 3


def test_grouped_split_refuses_a_group_on_two_sides_or_on_none(tmp_path):
    data = scenes(tmp_path, range(6))
    with pytest.raises(ValueError, match="group 3 is in part 0 and in part 1"):
        mc.data.grouped_split(data, mc.data.file_number, [range(0, 4), range(3, 6)])
    with pytest.raises(ValueError, match=r"groups \[5\] are in no part"):
        mc.data.grouped_split(data, mc.data.file_number, [range(0, 3), range(3, 5)])
    no_paths = mc.data.ImageDataset(data.images, data.labels)
    with pytest.raises(ValueError, match="file paths"):
        mc.data.grouped_split(no_paths, mc.data.file_number, [range(6)])


@given(numbers=st.sets(st.integers(0, 99), min_size=2, max_size=12), k=st.integers(2, 12))
def test_grouped_kfold_tests_every_image_once_and_never_trains_on_a_test_group(numbers, k):
    k = min(k, len(numbers))
    paths = [f"{name}{n:02d}.jpg" for name in CLASSES for n in sorted(numbers)]
    data = mc.data.ImageDataset(np.arange(len(paths), dtype=np.uint8).reshape(-1, 1, 1, 1),
                                np.repeat(np.arange(3), len(numbers)), CLASSES, paths)
    folds = mc.data.grouped_kfold(data, mc.data.file_number, k)
    assert len(folds) == k
    tested = []
    for train, test in folds:
        assert not ({mc.data.file_number(p) for p in train.file_paths}
                    & {mc.data.file_number(p) for p in test.file_paths})
        assert len(train) + len(test) == len(data)
        tested += numbers_of(test)
        test_numbers = sorted(set(numbers_of(test)))     # a fold's test groups are consecutive
        ordered = sorted(numbers)
        start = ordered.index(test_numbers[0])
        assert ordered[start:start + len(test_numbers)] == test_numbers
    assert sorted(tested) == sorted(list(numbers) * 3)
    with pytest.raises(ValueError, match="k must be an int from 2"):
        mc.data.grouped_kfold(data, mc.data.file_number, len(numbers) + 1)


def numbered(numbers):
    """A dataset of 3 classes whose images are numbered `numbers` (no files needed: paths only)."""
    paths = [f"{name}{n:02d}.jpg" for name in CLASSES for n in sorted(numbers)]
    return mc.data.ImageDataset(np.arange(len(paths), dtype=np.uint8).reshape(-1, 1, 1, 1),
                                np.repeat(np.arange(3), len(numbers)), CLASSES, paths)


def test_a_gap_drops_the_training_groups_next_to_the_test_block():
    """The issue's example: train 00-59 and test 60-79 with gap=10 give train 00-49, test 60-79."""
    split = mc.data.grouped_split(numbered(range(80)), mc.data.file_number, [range(0, 60), range(60, 80)], gap=10)
    train, test = split
    assert numbers_of(train) == sorted(list(range(50)) * 3)
    assert numbers_of(test) == sorted(list(range(60, 80)) * 3)
    assert split.dropped == (30, 0) and split.dropped_groups == (list(range(50, 60)), [])


@given(numbers=st.sets(st.integers(0, 60), min_size=3, max_size=25), cuts=st.lists(st.integers(0, 60), max_size=3),
       gap=st.sampled_from([0, 1, 2.5, 5, 20]))
def test_a_gap_keeps_later_parts_whole_and_earlier_ones_at_a_distance(numbers, cuts, gap):
    """Against the rule written out: a group leaves its part exactly when a group of a later part is
    within gap; every group of a later part stays; counts are of images."""
    cuts = sorted(set(cuts))
    part_index = {n: sum(n >= c for c in cuts) for n in numbers}
    parts = [[n for n in numbers if part_index[n] == i] for i in range(len(cuts) + 1)]
    split = mc.data.grouped_split(numbered(numbers), mc.data.file_number, parts, gap=gap)
    assert len(split) == len(parts)
    for i, (members, kept) in enumerate(zip(parts, split)):
        later = [n for n in numbers if part_index[n] > i]
        expected = [n for n in members if not any(abs(n - m) <= gap for m in later)]
        assert numbers_of(kept) == sorted(expected * 3)
        assert split.dropped[i] == 3 * (len(members) - len(expected))
        assert split.dropped_groups[i] == sorted(set(members) - set(expected))
    assert len(split[-1]) == 3 * len(parts[-1])


def test_kfold_with_a_gap_drops_training_groups_on_both_sides_of_each_test_block():
    folds = mc.data.grouped_kfold(numbered(range(40)), mc.data.file_number, 4, gap=3)
    for block, (fold, (train, test)) in enumerate(zip(folds, folds)):
        tested = set(range(10 * block, 10 * block + 10))
        assert set(numbers_of(test)) == tested
        kept = set(range(40)) - tested - set(range(10 * block - 3, 10 * block + 13))
        assert set(numbers_of(train)) == kept
        assert fold.dropped == (3 * (40 - 10 - len(kept)), 0)


def test_a_bad_gap_is_refused_naming_it():
    data = numbered(range(10))
    for gap in (-1, True, "3", float("nan"), None):
        with pytest.raises(ValueError, match="gap must be a number >= 0.*got gap="):
            mc.data.grouped_split(data, mc.data.file_number, [range(5), range(5, 10)], gap=gap)
    with pytest.raises(ValueError, match="a gap needs groups that are numbers.*'beach'"):
        mc.data.grouped_split(data, lambda p: p[:-6], [["beach", "forest"], ["river"]], gap=1)
    with pytest.raises(ValueError, match="gap=9 leaves the fold testing groups 0-4 no training images"):
        mc.data.grouped_kfold(data, mc.data.file_number, 2, gap=9)
