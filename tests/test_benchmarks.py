"""The benchmark scripts still run against the library (they are not tests of speed: nothing here is timed)."""

import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(BENCHMARKS, script), *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("model", ["catsdogs", "aerial", "cats96"])
def test_profile_step_accounts_for_the_whole_step(model):
    done = run("profile_step.py", "--model", model, "--batch", "2", "--steps", "2", "--skip", "1")
    assert done.returncode == 0, done.stderr
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| ") and "ms" not in line
            and "---" not in line]
    shares = [float(row[3].strip().rstrip("%")) for row in rows]
    assert {row[1].strip() for row in rows} >= {"matrix products", "im2col / col2im", "pooling"}
    assert abs(sum(shares) - 100) <= len(shares)          # the parts add up to the step (each share rounded)
    assert "sgemm peak" in done.stdout


def test_step_time_runs():
    done = run("step_time.py", "--batch", "2", "--steps", "3", "--skip", "1")
    assert done.returncode == 0, done.stderr
    assert "median" in done.stdout


def test_distributed_benchmark_runs_on_one_to_three_ranks_and_models_more():
    pytest.importorskip("mpi4py")
    done = run("distributed.py", "--steps", "6", "--batches", "4", "--networks", "catsdogs")
    assert done.returncode == 0, done.stderr
    assert "| 4 | 3 |" in done.stdout and "ms per MB" in done.stdout
    assert "| CATSDOGS-64 (" in done.stdout and "one rank's step, ms, at 1-4 images" in done.stdout


def test_onnx_speed_compares_a_saved_model_with_its_export(tmp_path):
    pytest.importorskip("onnxruntime")
    import minicnn as mc
    model = mc.Sequential([mc.layers.Conv2D(2, 3, activation="relu"), mc.layers.Flatten(), mc.layers.Dense(2)],
                          input_shape=(1, 6, 6))
    model.save(tmp_path / "model.npz")
    done = run("onnx_speed.py", str(tmp_path / "model.npz"), "--repeats", "1")
    assert done.returncode == 0, done.stderr
    row = [line for line in done.stdout.splitlines() if "model.npz |" in line][-1]
    assert float(row.split("|")[2]) < 1e-4


def test_random_draws_times_both_generators():
    done = run("random_draws.py", "--batches", "2", "--features", "16", "--repeats", "1")
    assert done.returncode == 0, done.stderr
    row = [line for line in done.stdout.splitlines() if line.startswith("| cpu | 2 |")]
    assert len(row) == 1 and len(row[0].split("|")) == 8
