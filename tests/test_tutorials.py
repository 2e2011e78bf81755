"""The tutorials students arrive with, run as written (tests/tutorials/: only the imports changed).

Each runs in a fresh interpreter in an empty folder, to its last line, and must learn: its
printed test accuracy well above chance. PyTorch is not needed: `torch` is minicnn there.
"""

import os
import re
import subprocess
import sys

import pytest

TUTORIALS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tutorials")


def run_tutorial(name, folder, **settings):
    environment = dict(os.environ, MPLBACKEND="Agg", **settings, PYTHONPATH=os.pathsep.join(
        [TUTORIALS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run([sys.executable, os.path.join(TUTORIALS, name)], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_pytorch_training_a_classifier(tmp_path):
    out = run_tutorial("pytorch_cifar10_tutorial.py", tmp_path)
    accuracy = int(re.search(r"Accuracy of the network on the 10000 test images: (\d+) %", out).group(1))
    assert accuracy >= 40, out               # 10 classes: chance is 10%
    assert (tmp_path / "cifar_net.pth").is_file()
    per_class = [float(a) for a in re.findall(r"Accuracy for class: .* is ([\d.]+) %", out)]
    assert len(per_class) == 10 and "Finished Training" in out and out.strip().endswith("cpu")


def test_keras_simple_mnist_convnet(tmp_path):
    sys.path.insert(0, TUTORIALS)
    try:
        import local_mnist
    finally:
        sys.path.remove(TUTORIALS)
    (tmp_path / "cache").mkdir()
    local_mnist.write(tmp_path / "cache" / "mnist.npz")     # in place of the download
    out = run_tutorial("keras_mnist_convnet.py", tmp_path, MINICNN_DATA=str(tmp_path / "cache"))
    assert "x_train shape: (1500, 1, 28, 28)" in out and "Total params: 34,826" in out
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)", out).group(1))
    assert accuracy >= 0.6, out              # 10 classes: chance is 0.1


def test_keras_image_classification_from_scratch(tmp_path):
    """Keras' Cats vs Dogs tutorial on a small PetImages folder, at 32 px instead of 180 (the one line
    changed: the Xception-like network at 180 px takes 6 GB and half a minute per 16 images here)."""
    sys.path.insert(0, TUTORIALS)
    try:
        import local_petimages
    finally:
        sys.path.remove(TUTORIALS)
    local_petimages.write(tmp_path / "PetImages")
    source = open(os.path.join(TUTORIALS, "keras_image_classification_from_scratch.py")).read()
    assert source.count("image_size = (180, 180)") == 1
    (tmp_path / "tutorial.py").write_text(source.replace("image_size = (180, 180)", "image_size = (32, 32)"))
    out = run_tutorial(str(tmp_path / "tutorial.py"), tmp_path)
    assert "Deleted 2 images." in out and "Found 80 files belonging to 2 classes." in out
    assert "Using 64 files for training." in out and "Using 16 files for validation." in out
    accuracies = [float(a) for a in re.findall(r" - acc ([\d.]+)", out)]
    losses = [float(a) for a in re.findall(r" - loss ([\d.]+)", out)]
    assert len(accuracies) == 25 and accuracies[-1] >= 0.9 and losses[-1] < losses[0] / 2, out   # chance: 0.5
    cat, dog = (float(p) for p in re.search(r"This image is ([\d.]+)% cat and ([\d.]+)% dog.", out).groups())
    assert abs(cat + dog - 100) < 0.02
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = sorted(p.name for p in tmp_path.glob("save_at_*.keras"))
    assert saved == sorted(f"save_at_{epoch}.keras" for epoch in range(1, 26))
    assert not (tmp_path / "PetImages" / "Cat" / "corrupt.jpg").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
