"""The "gpu" device through the library's own factory and CupyBackend.

Where real CuPy sees a GPU these run on it; elsewhere on the CuPy stand-in
(tests/cupy_standin), which refuses everything a GPU would refuse and logs each
copy between host and device. The op tests in the other files run on "gpu" too
(the `device` fixture); this file covers what only a whole device shows:
training, inference, saving, moving models, the examples, and what crosses
between host and device in a training step.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minicnn as mc
from helpers import FLOAT32_UNIT_ROUNDOFF, float32_training_rtol, gamma
from minicnn.backend import CupyBackend

L = mc.layers
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.gpu


def test_the_gpu_device_is_the_library_cupy_backend():
    backend = mc.get_backend("gpu")
    assert type(backend) is CupyBackend and backend.xp.__name__ == "cupy"
    assert mc.gpu_available() and mc.get_backend("cuda") is backend
    x = mc.tensor([1.5, -2.0], device="gpu")
    assert x.device == "gpu" and not isinstance(x.data, np.ndarray)
    assert mc.tensor(x.data).device == "gpu"            # a CuPy array is recognised as the gpu's


def test_the_standin_refuses_what_cupy_refuses(cupy_standin):
    cp = cupy_standin
    a = cp.asarray(np.arange(4, dtype=np.float32))
    assert not isinstance(a, np.ndarray) and cp.cuda.runtime.getDeviceCount() == 1
    host = np.ones(4, np.float32)
    for misuse in (lambda: np.asarray(a), lambda: np.array(a), lambda: a + host, lambda: host * a,
                   lambda: cp.maximum(a, host), lambda: np.exp(a), lambda: np.concatenate([a, a]),
                   lambda: a.__setitem__(slice(None), host)):
        with pytest.raises(TypeError):
            misuse()
    copy = cp.asnumpy(a)
    copy[0] = 99                                         # a copy: the device array keeps its values
    np.testing.assert_array_equal(a.get(), [0, 1, 2, 3])
    assert isinstance(cp.sum(a), cp.ndarray) and cp.sum(a).ndim == 0   # no NumPy scalars either
    float(cp.max(a))
    assert [kind for kind, _, _ in cp.transfers] == ["to_device", "to_host", "to_host", "sync"]


def _augmented_model(seed):
    mc.manual_seed(seed)
    return mc.Sequential([
        L.RandomFlip("horizontal_and_vertical"), L.RandomTranslation(0.2, 0.2), L.Rescaling(1 / 255),
        L.Conv2D(6, 3, padding="same", use_bias=False), L.BatchNormalization(momentum=0.9), L.ReLU(),
        L.MaxPooling2D(2), L.Conv2D(8, 3, strides=2, activation="relu"),
        L.Flatten(), L.Dropout(0.3), L.Dense(3),
    ], input_shape=(3, 12, 12))


def _images(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 120, (n, 3, 12, 12))
    for image, label in zip(images, labels):
        image[label, 3:9, 3:9] += 130                    # the class is the bright channel
    return mc.data.ImageDataset(images.astype(np.uint8), labels, ["r", "g", "b"])


def _train(device, epochs=3):
    model = _augmented_model(seed=7).to(device)
    schedule = mc.schedules.CosineDecay(0.02)
    model.compile(mc.optimizers.Adam(lr=schedule), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    mc.manual_seed(3)                                    # the same shuffles, flips and dropout masks
    history = model.fit(_images(60, seed=1), epochs=epochs, batch_size=16, validation_data=_images(30, seed=2),
                        verbose=0)
    return model, history.history


# the sums in one step of _augmented_model on a batch of 16 (12x12 images): the first convolution's
# 3x3x3 terms, batch norm's mean and variance over 16x12x12 values each, the second convolution's 6x3x3,
# the dense layer's 8x2x2 inputs, the softmax's 3 classes, the loss's mean over 16 images
_SUMS = (27, 16 * 12 * 12, 16 * 12 * 12, 54, 32, 3, 16)


def test_a_model_trains_on_gpu_with_the_same_history_as_on_cpu():
    cpu_model, cpu_history = _train("cpu")
    gpu_model, gpu_history = _train("gpu")
    assert gpu_history.keys() == cpu_history.keys() == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # float32 sums in another order (cuBLAS and CUB, or NumPy on the stand-in) drift by rounding only:
    # the tolerance is that rounding's bound for 12 steps (3 epochs of 4 batches), not what the stand-in
    # happens to give; an accuracy may differ by an image whose two scores are within it
    rtol = float32_training_rtol(_SUMS, steps=12)
    for key, images in (("loss", 60), ("accuracy", 60), ("val_loss", 30), ("val_accuracy", 30)):
        tolerance = dict(rtol=rtol) if "loss" in key else dict(rtol=0, atol=1.01 / images)
        np.testing.assert_allclose(gpu_history[key], cpu_history[key], **tolerance, err_msg=key)
    assert gpu_history["val_accuracy"][-1] > 0.6        # it learnt something, on both
    for p_gpu, p_cpu in zip(gpu_model.parameters(), cpu_model.parameters()):
        assert p_gpu.device == "gpu" and p_cpu.device == "cpu"
        scale = np.abs(p_cpu.numpy()).max()
        np.testing.assert_allclose(p_gpu.numpy(), p_cpu.numpy(), rtol=rtol, atol=rtol * scale)

    test = _images(20, seed=4)
    cpu_scores = cpu_model.predict(test)
    np.testing.assert_allclose(gpu_model.predict(test), cpu_scores, rtol=rtol, atol=rtol * np.abs(cpu_scores).max())
    gpu_scores = gpu_model.evaluate(test, return_dict=True)
    cpu_scores = cpu_model.evaluate(test, return_dict=True)
    assert gpu_scores["accuracy"] == pytest.approx(cpu_scores["accuracy"], abs=1.01 / 20)
    assert gpu_scores["loss"] == pytest.approx(cpu_scores["loss"], rel=rtol)


def test_each_sum_on_the_gpu_is_within_float32_rounding_of_the_cpus():
    """One op at a time, each reduction against its own bound 2 gamma_n sum(|terms|), the terms' sizes
    computed in float64: a convolution and its two gradients, a matrix product, a sum, batch norm."""
    rng = np.random.default_rng(0)
    x64, w64 = rng.normal(size=(4, 3, 9, 9)), rng.normal(size=(5, 3, 3, 3))
    g64 = rng.normal(size=(4, 5, 9, 9))
    results = {}
    for device in ("cpu", "gpu"):
        x, w = (mc.tensor(a.astype(np.float32), device=device, requires_grad=True) for a in (x64, w64))
        y = mc.F.conv2d(x, w, padding=1)
        y.backward(mc.tensor(g64.astype(np.float32), device=device))
        bn = mc.nn.functional.batch_norm(y.detach(), None, None, training=True)
        results[device] = [t.numpy() for t in (y, x.grad, w.grad, x.sum(), x.reshape(4, -1) @ x.reshape(4, -1).T, bn)]
    # the sums of |terms|: the same sums of absolute values, in float64 (the gradients are linear in g)
    x_abs, w_abs = (mc.tensor(np.abs(a), dtype="float64", requires_grad=True) for a in (x64, w64))
    y_abs = mc.F.conv2d(x_abs, w_abs, padding=1)
    y_abs.backward(mc.tensor(np.abs(g64), dtype="float64"))
    y_terms, gx_terms, gw_terms = y_abs.numpy(), x_abs.grad.numpy(), w_abs.grad.numpy()
    flat = np.abs(x64.reshape(4, -1))
    bounds = [2 * gamma(27) * y_terms, 2 * gamma(45) * gx_terms, 2 * gamma(4 * 81) * gw_terms,
              2 * gamma(x64.size) * np.abs(x64).sum(), 2 * gamma(flat.shape[1]) * flat @ flat.T]
    for k, (gpu, cpu, bound) in enumerate(zip(results["gpu"], results["cpu"], bounds)):
        assert np.all(np.abs(gpu - cpu) <= bound + 2 * FLOAT32_UNIT_ROUNDOFF * np.abs(cpu)), k
    # batch norm: (y - mean) / std, with mean and variance sums of 4*9*9 terms per channel; its output
    # has unit scale, so the bound is relative: the sums' rounding, carried through the division
    np.testing.assert_allclose(results["gpu"][5], results["cpu"][5], rtol=0, atol=8 * gamma(4 * 81) * 4)


def test_a_model_trained_on_gpu_saves_loads_and_moves(tmp_path):
    model, _ = _train("gpu", epochs=1)
    test = _images(10, seed=5)
    expected = model.predict(test)
    model.save(tmp_path / "m.npz")
    loaded = mc.load_model(tmp_path / "m.npz")
    assert all(p.device == "cpu" for p in loaded.parameters())
    np.testing.assert_allclose(loaded.predict(test), expected, rtol=1e-4, atol=1e-5)
    loaded.to("gpu")
    assert all(p.device == "gpu" and p.is_leaf for p in loaded.parameters())
    np.testing.assert_allclose(loaded.predict(test), expected, rtol=1e-5, atol=1e-6)
    model.to("cpu").to("gpu").to("cpu")
    np.testing.assert_allclose(model.predict(test), expected, rtol=1e-4, atol=1e-5)


def test_gradients_flow_back_across_a_device_copy():
    x = mc.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    w = mc.tensor([[0.5], [0.25], [2.0]], device="gpu", requires_grad=True)
    y = (x.to("gpu") @ w).sum()
    y.backward()
    assert x.grad.device == "cpu" and w.grad.device == "gpu"
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0.25, 2.0]])
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0], [-2.0], [3.0]])


def test_a_seed_gives_the_same_weights_and_masks_on_every_device():
    cpu = [p.numpy() for p in _augmented_model(seed=11).parameters()]
    gpu = [p.numpy() for p in _augmented_model(seed=11).to("gpu").parameters()]
    for a, b in zip(cpu, gpu):
        np.testing.assert_array_equal(a, b)
    masks = []
    for device in ("cpu", "gpu"):
        mc.manual_seed(2)
        masks.append(mc.F.dropout(mc.ones(50, device=device), 0.5).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])


def test_a_training_step_waits_for_the_device_once_and_copies_no_weights(cupy_standin):
    model = _augmented_model(seed=7).to("gpu")
    model.compile(mc.optimizers.Adam(lr=0.01), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    cupy_standin.transfers.clear()
    model.fit(_images(48, seed=1), epochs=1, batch_size=16, verbose=0)     # 3 batches
    log = cupy_standin.transfers
    to_host = [(dtype, shape) for kind, dtype, shape in log if kind == "to_host"]
    assert to_host == [(np.float32, (2,))] * 3                           # the loss and the hit count, per batch
    assert [entry for entry in log if entry[0] == "sync"] == []         # no other read by the host
    sent = [(dtype, shape) for kind, dtype, shape in log if kind == "to_device"]
    # images cross as uint8, then labels, and nothing else: flips, shifts and dropout masks are drawn on
    # the device (minicnn/random.py), and no float array (a weight or an activation) crosses
    assert sent == [(np.uint8, (16, 3, 12, 12)), (np.int64, (16,))] * 3


def test_a_loss_of_probabilities_is_checked_in_the_steps_one_read(cupy_standin):
    """from_logits=False: the predictions' range crosses with the loss and the hits, in the one copy."""
    mc.manual_seed(0)
    model = mc.Sequential([L.Flatten(), L.Dense(3, activation="softmax")], input_shape=(3, 12, 12)).to("gpu")
    model.compile(mc.optimizers.SGD(lr=0.01), mc.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    cupy_standin.transfers.clear()
    model.fit(_images(32, seed=1), epochs=1, batch_size=16, verbose=0)
    log = cupy_standin.transfers
    assert [(dtype, shape) for kind, dtype, shape in log if kind == "to_host"] == [(np.float32, (4,))] * 2
    assert [entry for entry in log if entry[0] == "sync"] == []
    logits = mc.Sequential([L.Flatten(), L.Dense(3, activation="softmax"), L.Rescaling(3.0)],
                           input_shape=(3, 12, 12)).to("gpu")    # up to 3: not probabilities
    logits.compile(mc.optimizers.SGD(lr=0.01), mc.losses.SparseCategoricalCrossentropy())
    with pytest.raises(ValueError, match=r"from_logits=False\) got predictions in \[.*\], outside \[0, 1\]"):
        logits.fit(_images(16, seed=1), epochs=1, verbose=0)


def test_labels_out_of_range_are_refused_without_reading_them_back(cupy_standin):
    logits = mc.zeros(2, 3, device="gpu")
    assert np.isnan(mc.F.sparse_categorical_cross_entropy(logits, mc.tensor([0, 3], device="gpu"),
                                                           from_logits=True).item())
    assert mc.F.sparse_categorical_cross_entropy(logits, mc.tensor([0, 2], device="gpu"),
                                                 from_logits=True).item() == pytest.approx(np.log(3))
    certain = mc.tensor([[-np.inf, 0.0]], device="gpu")      # label 0 has probability 0: an infinite loss
    assert mc.F.sparse_categorical_cross_entropy(certain, mc.tensor([0], device="gpu"),
                                                 from_logits=True).item() == np.inf     # not NaN
    model = _augmented_model(seed=0).to("gpu")
    model.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    data = _images(8, seed=0)
    data.labels[5] = 7
    cupy_standin.transfers.clear()
    with pytest.raises(ValueError, match=r"label 7 is out of range for 3 classes.*the dataset's labels"):
        model.fit(data, epochs=1, verbose=0)
    assert cupy_standin.transfers == []          # refused on the host, before any batch


def test_convolution_pooling_and_their_gradients_stay_on_the_device(cupy_standin):
    x = mc.randn(2, 3, 9, 9, device="gpu", requires_grad=True)
    w = mc.randn(4, 3, 3, 3, device="gpu", requires_grad=True)
    b = mc.zeros(4, device="gpu", requires_grad=True)
    cupy_standin.transfers.clear()
    windows = mc.get_backend("gpu").im2col(x.data, (3, 3), (2, 2), (5, 5), ((1, 1), (1, 1)))
    y = mc.F.avg_pool2d(mc.F.max_pool2d(mc.F.relu(mc.F.conv2d(x, w, b, stride=2, padding=1)), 2, stride=1), 2)
    y.sum().backward()
    assert cupy_standin.transfers == []                  # nothing crossed, no value was read
    assert all(isinstance(t.data, cupy_standin.ndarray) for t in (y, x.grad, w.grad, b.grad))
    assert isinstance(windows, cupy_standin.ndarray) and windows.shape == (3, 3, 3, 5, 5, 2)


def test_gpu_arrays_never_reach_the_cpu_thread_pool():
    """The GPU runs base.py's whole-array versions of the heavy steps, never the CPU's shares (its ReLU
    only adds CuPy's out=)."""
    from minicnn.backend import Backend
    gpu = mc.get_backend("gpu")
    for step in ("im2col", "col2im", "relu_grad", "batch_norm", "batch_norm_grad", "max_pool_tiles",
                 "max_pool_tiles_grad", "matmul"):
        assert getattr(type(gpu), step) is getattr(Backend, step), step
    assert not hasattr(gpu, "threads") and not hasattr(gpu, "split_work")


def test_an_example_trains_with_device_gpu(tmp_path, gpu_process_env):
    accuracies = []
    for device in ("cpu", "gpu"):
        result = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--device", device,
                                 "--epochs", "2", "--verbose", "0", "--out", str(tmp_path / device)],
                                env=gpu_process_env, capture_output=True, text=True, timeout=300, check=True)
        found = re.search(r"test accuracy: ([\d.]+)% \([\d.]+ s of training on (\w+)\)", result.stdout)
        assert found and found.group(2) == device, result.stdout
        accuracies.append(float(found.group(1)))
        assert (tmp_path / device / "model.npz").exists()
    assert accuracies[1] == pytest.approx(accuracies[0], abs=0.3) and accuracies[1] > 70


def test_the_gpu_check_command_runs(cupy_standin, tmp_path):
    """benchmarks/gpu_check.py, shortened, on the stand-in: it must not rot between GPU sessions."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "cupy_standin"), str(ROOT)]))
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--train-steps", "3", "--batches", "4",
               "--warmup", "1", "--steps", "1", "--no-tests", "--no-append"]
    results = (ROOT / "benchmarks" / "RESULTS.md").read_bytes()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr          # 1: three steps need not halve the loss
    assert result.stderr == "" and "(0) device proved in" in result.stdout
    for name in ("CATSDOGS-64", "UCMERCED-64"):
        assert re.search(rf"\(b\) {name}: first step [\d.]+ s \(kernels compiled\), then 3 steps .* "
                         rf"to device: 2\.0 copies, .* to host: 1\.0 copies, 8 bytes per batch", result.stdout)
        assert f"| {name} | train | 4 |" in result.stdout and f"| {name} | infer | 4 |" in result.stdout
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert all(" -> " in line for line in failures) and (result.returncode == 1) == bool(failures)

    # a GPU seen without the toolkit: one line, what to do, and nothing else attempted
    broken = subprocess.run(command, env=dict(env, CUPY_STANDIN_MISSING="nvrtc"), capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert broken.returncode == 1 and broken.stderr == ""
    first = broken.stdout.splitlines()[0]
    assert first.startswith("FAILED (0) the gpu device: RuntimeError: device 'gpu': CuPy sees 1 GPU(s), but its "
                            "first kernel failed") and "pip install 'minicnn[gpu]'" in first
    assert "(b)" not in broken.stdout and (tmp_path / "gpu_check_failures.log").exists()

    # past the time budget, each part says it was skipped
    late = subprocess.run(command + ["--budget-minutes", "0"], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert late.returncode == 0 and "(0) device proved" in late.stdout       # (0) always runs
    assert "skipped (b) training CATSDOGS-64: past the time budget" in late.stdout
    assert "part(s) skipped for time; no failures" in late.stdout
    assert (ROOT / "benchmarks" / "RESULTS.md").read_bytes() == results       # --no-append: nothing written
