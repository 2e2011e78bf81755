"""Corners of mc.data that the mutation run (docs/mutation.md) found untested: an empty subset,
image_folder's default size, floating-point images with values in [0, 1], MixUp of (N, 1) labels,
and the missing groups grouped_split names whatever their types."""

import numpy as np
import pytest
from PIL import Image

import minicnn as mc


def test_a_subset_of_no_indices_is_empty_and_a_list_of_indices_picks_those():
    images = np.arange(3 * 4, dtype=np.uint8).reshape(3, 1, 2, 2)
    dataset = mc.data.ImageDataset(images, np.array([0, 1, 0]), ["a", "b"], ["x.png", "y.png", "z.png"])
    empty = dataset.subset([])
    assert len(empty) == 0 and empty.images.shape == (0, 1, 2, 2) and empty.file_paths == []
    picked = dataset.subset([2, 0])
    np.testing.assert_array_equal(picked.images, images[[2, 0]])
    assert picked.labels.tolist() == [0, 0] and picked.file_paths == ["z.png", "x.png"]


def _two_classes(root, make):
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        make(root / name / "0.tif")
    return root


def test_image_folder_resizes_to_64_by_64_by_default(tmp_path):
    root = _two_classes(tmp_path, lambda path: Image.new("RGB", (20, 10), (10, 20, 30)).save(path))
    dataset = mc.data.image_folder(root)
    assert dataset.images.shape == (2, 3, 64, 64)


def test_floating_point_images_in_0_1_are_scaled_to_0_255(tmp_path):
    """Mode F: the values are divided by max(their maximum, 1), so 0.5 everywhere is mid-grey (128)."""
    root = _two_classes(tmp_path, lambda path: Image.fromarray(np.full((4, 4), 0.5, np.float32), "F").save(path))
    dataset = mc.data.image_folder(root, image_size=4, color_mode="grayscale")
    np.testing.assert_array_equal(dataset.images, np.full((2, 1, 4, 4), 128, np.uint8))


def test_mixup_takes_binary_labels_shaped_n_by_1():
    dataset = mc.data.ImageDataset(np.zeros((4, 1, 2, 2), np.float32), np.array([[0], [1], [1], [0]]))
    mixed = mc.data.MixUp(dataset, alpha=0.4)
    assert mixed.labels.shape == (4, 1) and mixed.labels.dtype == np.float32


def test_grouped_split_names_missing_groups_of_mixed_types():
    dataset = mc.data.ImageDataset(np.zeros((3, 1, 2, 2), np.uint8), np.array([0, 1, 0]),
                                   file_paths=["a/1.png", "b/x.png", "c/2.png"])
    group = {"a/1.png": 1, "b/x.png": "x", "c/2.png": 2}.get
    with pytest.raises(ValueError, match="are in no part") as refused:      # not a TypeError from sorting them
        mc.data.grouped_split(dataset, group, [[1]])
    assert "['x', 2]" in str(refused.value) or "[2, 'x']" in str(refused.value)


@pytest.mark.parametrize("share", [1.0, 1.5, -0.2])
def test_image_folder_refuses_a_validation_split_outside_0_1_as_keras(tmp_path, share):
    """Keras: "`validation_split` must be between 0 and 1" (1 refused too; 0 means no split)."""
    root = _two_classes(tmp_path, lambda path: Image.new("RGB", (4, 4)).save(path))
    with pytest.raises(ValueError, match=r"validation_split must be in \(0, 1\)"):
        mc.data.image_folder(root, image_size=4, validation_split=share, subset="both", seed=0)
