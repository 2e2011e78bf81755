"""The README's promises: its example runs, and CI runs its test command."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import minicnn as mc
from helpers import assert_onnx_export_agrees

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_example_runs_and_fills_gradients():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["w1"].grad.shape == (4, 1, 3, 3)
    assert 0 < namespace["loss"].item() < 10


def test_readme_model_styles_run():
    code = next(block for block in re.findall(r"```python\n(.*?)```", README, re.S) if "mc.Model" in block)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["Net"]()(namespace["mc"].zeros(2, 3, 16, 16)).shape == (2, 2)
    assert namespace["functional"].count_params() == (8 * 3 * 9 + 8) + (8 * 8 * 9 + 8) + (8 * 16 * 16 * 2 + 2)


def test_ci_runs_the_readme_test_command():
    commands = [line.strip() for line in README.splitlines() if line.startswith("    python3 -m venv")]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci and "\nruff check ." in ci


def test_tiny_cnn_example_trains():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "tiny_cnn.py"), "--steps", "40"],
                            capture_output=True, text=True, timeout=120, check=True)
    accuracy = float(re.search(r"test accuracy on 500 new images: ([\d.]+)%", result.stdout).group(1))
    assert accuracy > 80


def test_digits_main_job_reaches_95_percent(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--verbose", "0",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, check=True)
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", result.stdout).group(1))
    assert accuracy >= 95
    model = mc.load_model(tmp_path / "model.npz")        # the trained model travels: ONNX gives its outputs
    assert_onnx_export_agrees(model, mc.datasets.digits()[0][:64].astype(np.float32), tmp_path)


def test_examples_answer_help():
    for name in ("digits", "cats_dogs", "aerial_scenes", "tiny_cnn", "residual"):
        result = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"), "--help"],
                                capture_output=True, text=True, timeout=60, check=True)
        assert "usage" in result.stdout
