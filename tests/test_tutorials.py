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


def run_tutorial(name, folder):
    environment = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
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


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
