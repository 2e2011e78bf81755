"""The training examples end to end on small made-up folders: the split they print, and a saved
model that anyone can score from raw uint8 images (issue 11's promise to teachers)."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minicnn as mc
from helpers import assert_onnx_export_agrees

ROOT = Path(__file__).resolve().parent.parent


def write_class(folder, prefix, numbers, colour):
    """Images whose colour tells the class, with noise, named <prefix>NN.png."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(prefix))
    for n in numbers:
        pixels = np.clip(rng.normal(colour, 30, (24, 24, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{prefix}{n:02d}.png")


def run_example(name, *args):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"), "--verbose", "0", *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def score_saved_model(path, folder):
    """What a teacher does: load the model, feed it uint8 images of its input size, read logits."""
    model = mc.load_model(path)
    side = model.input_shape[-1]
    images = np.stack([mc.data.load_image(p, (side, side), "RGB") for p in sorted(folder.glob("*.png"))])
    assert images.dtype == np.uint8 and images.shape[1:] == (3, side, side)
    assert_onnx_export_agrees(model, images.astype(np.float32), Path(path).parent)     # and it travels
    return model.predict(images)


def test_aerial_scenes_splits_by_blocks_of_numbers_and_saves_a_model_that_scores_raw_images(tmp_path):
    colours = {"beach": (200, 180, 120), "forest": (40, 120, 40), "river": (60, 80, 160)}
    for name, colour in colours.items():
        write_class(tmp_path / "data" / name, name, range(0, 80, 4), colour)
    out = run_example("aerial_scenes", "--data", str(tmp_path / "data"), "--epochs", "2", "--image-size", "128",
                      "--out", str(tmp_path / "run"))
    assert "split: blocks of image numbers: 00-36 training, 40-56 dropped (15 images: the buffer" in out
    assert "), 60-76 test" in out
    assert "30 training, 15 test images; the test images are scored once, at the end" in out
    logits = score_saved_model(tmp_path / "run" / "model.npz", tmp_path / "data" / "forest")
    assert logits.shape == (20, 3) and logits.dtype == np.float32 and np.isfinite(logits).all()
    for picture in ("learning_curves", "confusion_matrix", "filters", "feature_maps", "saliency", "gradcam",
                    "misclassified"):
        assert (tmp_path / "run" / f"{picture}.png").read_bytes()[:4] == b"\x89PNG", picture

    random_split = run_example("aerial_scenes", "--data", str(tmp_path / "data"), "--epochs", "1",
                               "--image-size", "32", "--split", "random", "--out", str(tmp_path / "random"))
    assert "split: random (stratified" in random_split


def cats_and_dogs(root, count):
    """root/{train,validation}/{cats,dogs}/ with `count` images each: orange cats, blue dogs."""
    for part in ("train", "validation"):
        write_class(root / part / "cats", "cat", range(count), (200, 120, 60))
        write_class(root / part / "dogs", "dog", range(count), (60, 120, 200))


def test_cats_dogs_saves_a_model_that_scores_raw_images(tmp_path):
    cats_and_dogs(tmp_path, 12)
    out = run_example("cats_dogs", "--data", str(tmp_path), "--epochs", "2", "--image-size", "32",
                      "--out", str(tmp_path / "run"))
    assert "validation accuracy" in out
    logits = score_saved_model(tmp_path / "run" / "model.npz", tmp_path / "validation" / "dogs")
    assert logits.shape == (12, 1) and np.isfinite(logits).all()


def test_residual_trains_both_networks_and_saves_the_residual_one_that_travels(tmp_path):
    cats_and_dogs(tmp_path, 8)
    out = run_example("residual", "--data", str(tmp_path), "--epochs", "1", "--image-size", "24",
                      "--out", str(tmp_path / "run"))
    assert "sequential: validation accuracy" in out and "residual: validation accuracy" in out
    logits = score_saved_model(tmp_path / "run" / "model.npz", tmp_path / "validation" / "cats")
    assert logits.shape == (8, 1) and np.isfinite(logits).all()
    assert any(type(layer).__name__ == "Add" for layer in mc.load_model(tmp_path / "run" / "model.npz").layers)


def test_cats_dogs_runs_unchanged_on_two_mpi_ranks_with_distributed(tmp_path):
    pytest.importorskip("mpi4py")
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    if not Path(mpiexec).exists():
        pytest.skip("no mpiexec (pip install '.[test]')")
    cats_and_dogs(tmp_path, 12)
    example = str(ROOT / "examples" / "cats_dogs.py")
    command = [mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", example, "--distributed", "--verbose", "2",
               "--data", str(tmp_path), "--epochs", "2", "--image-size", "32", "--out", str(tmp_path / "run")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert out.count("validation accuracy") == 1 and "min of training on cpu, 2 ranks" in out, out
    assert out.count("Epoch 2/2") == 1 and out.count("Total params") == 1       # rank 0 alone reports
    logits = score_saved_model(tmp_path / "run" / "model.npz", tmp_path / "validation" / "dogs")
    assert logits.shape == (12, 1) and np.isfinite(logits).all()


def test_dnn_vs_cnn_measures_both_networks_in_grey_and_colour(tmp_path):
    cats_and_dogs(tmp_path, 8)
    out = run_example("dnn_vs_cnn", "--data", str(tmp_path), "--epochs", "1", "--image-size", "16",
                      "--out", str(tmp_path / "run"))
    rows = [line for line in out.splitlines() if line.startswith("| dense") or line.startswith("| CNN")]
    assert [row.split(" | ")[1] for row in rows] == ["grayscale 16px", "grayscale 16px", "rgb 16px", "rgb 16px"]
    # 16x16 grey: 256 x 500 + 500 in the hidden layer, + 501 in the output layer
    assert rows[0].split(" | ")[2:4] == ["129,001", "128,500"] and rows[2].split(" | ")[3] == "384,500"
    assert "64x64: 2,048,500 / 6,144,500 parameters" in out and "256x256: 32,768,500" in out
    assert (tmp_path / "run" / "dnn_vs_cnn.png").read_bytes()[:4] == b"\x89PNG"
