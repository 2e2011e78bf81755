"""mc.data.image_folder, splits, batches, mc.datasets (digits and the tested download path)."""

import hashlib
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minicnn as mc
from minicnn.datasets.download import Archive

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_images(folder, count, size=(20, 30), mode="RGB", ext=".png"):
    """`count` random images of `size` (width, height) in mode L, RGB or RGBA."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    for i in range(count):
        array = rng.integers(0, 256, (size[1], size[0]) + channels, dtype=np.uint8)
        Image.fromarray(array).save(folder / f"{i}{ext}")


@pytest.fixture
def image_tree(tmp_path):
    root = tmp_path / "images"
    write_images(root / "dogs", 3, mode="RGB", ext=".jpg")
    write_images(root / "dogs", 2, mode="RGBA", ext=".png")
    write_images(root / "cats", 2, mode="L", ext=".bmp", size=(50, 10))
    write_images(root / "cats" / "more", 2, mode="RGB", ext=".tif")
    cmyk = Image.new("CMYK", (16, 16), (0, 0, 0, 0))
    cmyk.save(root / "cats" / "cmyk.jpg")
    Image.fromarray(np.full((12, 12), 65535, np.uint16)).save(root / "cats" / "deep.png")   # 16-bit grey
    (root / "cats" / "empty.jpg").write_bytes(b"")
    (root / "cats" / "noise.png").write_bytes(b"not an image at all")
    good = root / "dogs" / "0.jpg"
    (root / "dogs" / "truncated.jpg").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (root / "dogs" / "notes.txt").write_text("ignored")
    return root


def test_image_folder_reads_every_mode_and_skips_bad_files(image_tree):
    with pytest.warns(UserWarning, match=r"skipped 3 unreadable image\(s\)") as record:
        data = mc.data.image_folder(image_tree, image_size=(8, 12), shuffle=False)
    message = str(record[0].message)
    assert "empty.jpg" in message and "noise.png" in message and "truncated.jpg" in message
    assert record[0].filename == __file__           # the warning points at the user's line, not minicnn's
    assert data.class_names == ["cats", "dogs"]            # sorted, as Keras
    assert len(data) == 6 + 5 and data.images.shape == (11, 3, 8, 12) and data.images.dtype == np.uint8
    assert list(data.labels) == [0] * 6 + [1] * 5
    deep = data.images[[p.endswith("deep.png") for p in data.file_paths].index(True)]
    assert deep.min() == 255                                # 16-bit white stays white, not clipped garbage
    cmyk = data.images[[p.endswith("cmyk.jpg") for p in data.file_paths].index(True)]
    assert cmyk.min() > 240                                 # CMYK (0, 0, 0, 0) is white


def test_image_folder_shuffles_by_seed_as_keras_does(image_tree):
    with pytest.warns(UserWarning):
        ordered = mc.data.image_folder(image_tree, 8, shuffle=False)
        first, again, other = (mc.data.image_folder(image_tree, 8, seed=s) for s in (3, 3, 4))
    assert first.file_paths == again.file_paths != other.file_paths
    assert sorted(first.file_paths) == sorted(ordered.file_paths) and first.file_paths != ordered.file_paths
    for data in (first, other):                       # each image keeps its own label
        for path, label, image in zip(data.file_paths, data.labels, data.images):
            i = ordered.file_paths.index(path)
            assert label == ordered.labels[i] and np.array_equal(image, ordered.images[i])
    mc.manual_seed(5)                                  # seed=None: the order follows mc.manual_seed
    with pytest.warns(UserWarning):
        a = mc.data.image_folder(image_tree, 8)
    mc.manual_seed(5)
    with pytest.warns(UserWarning):
        b = mc.data.image_folder(image_tree, 8)
    assert a.file_paths == b.file_paths


@pytest.mark.parametrize("size", [0, -3, (8, 0), (8,), (8, 8, 8), 2.5, "64", (8, True)])
def test_image_folder_refuses_a_size_that_is_no_size(image_tree, size):
    with pytest.raises(ValueError, match=r"image_size must be a positive int or a \(height, width\) pair"):
        mc.data.image_folder(image_tree, size)


def test_grayscale_and_rgba_modes(image_tree):
    with pytest.warns(UserWarning):
        grey = mc.data.image_folder(image_tree, image_size=6, color_mode="grayscale")
    assert grey.images.shape[1:] == (1, 6, 6)
    with pytest.warns(UserWarning):
        assert mc.data.image_folder(image_tree, 6, color_mode="rgba").images.shape[1] == 4


def test_validation_split_is_disjoint_and_complete(image_tree):
    with pytest.warns(UserWarning):
        train, val = mc.data.image_folder(image_tree, 8, validation_split=0.3, subset="both", seed=1)
    # 14 files are split (int(0.3 * 14) = 4 to validation) before the 3 unreadable ones are dropped
    assert len(train) + len(val) == 11 and 1 <= len(val) <= 4
    assert not set(train.file_paths) & set(val.file_paths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # the bad files may all be on the training side
        again = mc.data.image_folder(image_tree, 8, validation_split=0.3, subset="validation", seed=1)
    assert again.file_paths == val.file_paths
    with pytest.raises(ValueError, match="needs a seed"):
        mc.data.image_folder(image_tree, 8, validation_split=0.3, subset="both")


def test_empty_and_single_class_folders_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class subfolders"):
        mc.data.image_folder(tmp_path / "empty")
    write_images(tmp_path / "one" / "cats", 2)
    with pytest.raises(ValueError, match="one class subfolder"):
        mc.data.image_folder(tmp_path / "one")
    (tmp_path / "blank" / "a").mkdir(parents=True)
    (tmp_path / "blank" / "b").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        mc.data.image_folder(tmp_path / "blank")
    with pytest.raises(FileNotFoundError):
        mc.data.image_folder(tmp_path / "missing")


def test_fit_accepts_a_folder_dataset(image_tree):
    with pytest.warns(UserWarning):
        data = mc.data.image_folder(image_tree, image_size=(8, 8))
    L = mc.layers
    model = mc.Sequential([L.Rescaling(1 / 255), L.Conv2D(2, 3), L.Flatten(), L.Dense(1)], input_shape=(3, 8, 8))
    model.compile("adam", mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(data, epochs=2, batch_size=4, validation_data=data, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    assert model.predict(data).shape == (11, 1)


def test_batches_are_float32_on_the_device_and_shuffled_by_seed():
    data = mc.data.ImageDataset(np.arange(10 * 3, dtype=np.uint8).reshape(10, 3, 1, 1), np.arange(10))
    mc.manual_seed(2)
    first = [y.numpy().tolist() for _, y in mc.data.batches(data, 4, "strict", shuffle=True)]
    mc.manual_seed(2)
    again = [(x, y) for x, y in mc.data.batches(data, 4, "strict", shuffle=True)]
    assert first == [y.numpy().tolist() for _, y in again] and sorted(sum(first, [])) == list(range(10))
    x, y = again[0]
    assert x.device == "strict" and x.dtype == np.float32 and y.dtype == np.int64 and len(x) == 4


def test_stratified_split_keeps_class_proportions():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    data = mc.data.ImageDataset(np.zeros((100, 1, 2, 2), np.uint8), labels)
    parts = mc.data.stratified_split(data, (0.6, 0.2, 0.2), seed=0)
    assert [len(p) for p in parts] == [60, 20, 20]
    for part, share in zip(parts, (0.6, 0.2, 0.2)):
        assert np.bincount(part.labels, minlength=3).tolist() == [round(50 * share), round(30 * share),
                                                                  round(20 * share)]


def test_digits_ship_with_the_package():
    images, labels = mc.datasets.digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert images.min() == 0 and images.max() == 1
    assert labels.dtype == np.int64 and np.bincount(labels).tolist()[:3] == [178, 182, 177]


# --- download: a small archive the test builds and serves from a local path ---

def make_archive(tmp_path):
    tree = tmp_path / "src" / "cats_and_dogs_filtered"
    for part in ("train", "validation"):
        for name in ("cats", "dogs"):
            write_images(tree / part / name, 2, ext=".jpg")
    archive = tmp_path / "cats_and_dogs_filtered.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in tree.rglob("*.jpg"):
            zipped.write(file, file.relative_to(tmp_path / "src"))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return archive, digest


def test_cats_and_dogs_download_checks_unpacks_and_caches(tmp_path, monkeypatch):
    archive, digest = make_archive(tmp_path)
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setitem(mc.datasets.ARCHIVES, "cats_and_dogs",
                        Archive(str(archive), f"sha256:{digest}", archive.stat().st_size, "cats_and_dogs_filtered"))
    train, validation = mc.datasets.cats_and_dogs(image_size=(16, 16))
    assert len(train) == len(validation) == 4 and train.class_names == ["cats", "dogs"]
    archive.unlink()                                   # the second call uses the cache only
    assert len(mc.datasets.cats_and_dogs(image_size=(16, 16))[0]) == 4


def test_download_with_wrong_checksum_or_size_fails(tmp_path, monkeypatch):
    archive, digest = make_archive(tmp_path)
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setitem(mc.datasets.ARCHIVES, "cats_and_dogs",
                        Archive(str(archive), "sha256:" + "0" * 64, None, "cats_and_dogs_filtered"))
    with pytest.raises(ValueError, match="(?i)hash"):
        mc.datasets.cats_and_dogs()
    monkeypatch.setitem(mc.datasets.ARCHIVES, "cats_and_dogs",
                        Archive(str(archive), f"sha256:{digest}", 123, "cats_and_dogs_filtered"))
    with pytest.raises(OSError, match="expected 123"):
        mc.datasets.cats_and_dogs()
    assert not (tmp_path / "cache" / "cats_and_dogs_filtered").exists()
    with pytest.raises(FileNotFoundError, match="download=True"):
        mc.datasets.cats_and_dogs(download=False)


@pytest.mark.skipif(not (SHARED / "ucmerced-tif").is_dir(), reason="../shared/data is not here")
def test_real_uc_merced_tiffs_of_odd_sizes():
    data = mc.datasets.uc_merced(root=SHARED / "ucmerced-tif", image_size=(32, 32))
    assert len(data) == 102 and len(data.class_names) == 21 and data.images.shape[1:] == (3, 32, 32)
    assert data.images.std() > 10


def test_a_damaged_archive_is_removed_and_offline_says_root(tmp_path, monkeypatch):
    archive = tmp_path / "cats_and_dogs_filtered.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setitem(mc.datasets.ARCHIVES, "cats_and_dogs",
                        Archive(str(archive), None, None, "cats_and_dogs_filtered"))
    with pytest.raises(OSError, match="is damaged .* it was removed, so the next call downloads it again"):
        mc.datasets.cats_and_dogs()
    assert not (tmp_path / "cache" / "cats_and_dogs_filtered.zip").exists()

    import pooch
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Name or service not known")
    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(OSError, match=r"could not download .* Offline\? Pass root= a local copy"):
        mc.datasets.cats_and_dogs()


def test_image_folder_reads_regular_files_only(image_tree):
    """A FIFO named .jpg would block the reader forever: it is not listed. (Run in a child with a
    timeout, so that a regression fails instead of hanging the suite.)"""
    os.mkfifo(image_tree / "cats" / "pipe.jpg")
    code = ("import warnings, minicnn as mc\nwarnings.simplefilter('ignore')\n"
            f"data = mc.data.image_folder({str(image_tree)!r}, 8, shuffle=False)\n"
            "print(len(data), any(p.endswith('pipe.jpg') for p in data.file_paths))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["11", "False"]
