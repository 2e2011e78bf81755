"""The backend's sharing of work between threads (Backend.split_work)."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn as mc
from helpers import on

cpu = mc.get_backend("cpu")


@given(n=st.integers(0, 40), threads=st.integers(1, 6))
def test_split_work_covers_every_index_once(n, threads):
    cpu.threads = threads
    seen, lock = [], threading.Lock()

    def record(start, stop):
        with lock:
            seen.append((start, stop))
    cpu.split_work(record, n, size=10 ** 9)
    assert sorted(i for start, stop in seen for i in range(start, stop)) == list(range(n))
    assert len(seen) == max(1, min(threads, n))


def test_split_work_runs_small_work_on_one_thread():
    cpu.threads, cpu.min_parallel_size = 4, 1000
    calls = []
    cpu.split_work(lambda start, stop: calls.append((start, stop, threading.current_thread())), 8, size=999)
    assert calls == [(0, 8, threading.main_thread())]


def test_an_error_in_a_worker_thread_reaches_the_caller():
    cpu.threads = 2

    def fail_on_second_share(start, stop):
        if start > 0:
            raise ValueError("second share")
    with pytest.raises(ValueError, match="second share"):
        cpu.split_work(fail_on_second_share, 4, size=10 ** 9)


def test_set_num_threads():
    mc.set_num_threads(2)
    assert mc.get_num_threads() == 2
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="set_num_threads"):
            mc.set_num_threads(bad)


def _train_steps(threads):
    """Weights after two SGD steps of a small CNN, with the work shared between `threads`."""
    cpu.threads = threads
    mc.manual_seed(0)
    L = mc.layers
    model = mc.Sequential([L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                           L.Conv2D(6, 3, strides=2, activation="relu"), L.AveragePooling2D(2, strides=1),
                           L.Flatten(), L.Dense(3)], input_shape=(2, 12, 12))
    optimizer = mc.optimizers.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(1)
    x = mc.tensor(rng.normal(size=(7, 2, 12, 12)).astype(np.float32))
    y = mc.tensor(rng.integers(0, 3, size=7))
    for _ in range(2):
        mc.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x)).backward()
        optimizer.step()
        optimizer.zero_grad()
    return [p.numpy() for p in model.parameters()]


def test_results_do_not_depend_on_the_number_of_threads():
    one = _train_steps(1)
    for threads in (2, 3, 7):
        for a, b in zip(one, _train_steps(threads)):
            assert a.dtype == np.float32
            np.testing.assert_array_equal(a, b)


def test_relu_in_place_matches_relu_and_overwrites_its_input(device):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3, 4, 4)).astype(np.float32)
    g = rng.normal(size=x.shape).astype(np.float32)
    a = on(device, x, requires_grad=True)
    b = on(device, x, requires_grad=True)
    (mc.F.relu(a) * on(device, g)).sum().backward()
    fresh = b * 1.0                      # an intermediate no one else uses, as inside Conv2D
    out = mc.F.relu_(fresh)
    (out * on(device, g)).sum().backward()
    np.testing.assert_array_equal(out.numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(fresh.numpy(), np.maximum(x, 0))      # overwritten
    np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), g * (x > 0))


@pytest.mark.parametrize("numpy_first, variable, threads", [
    (False, None, "cores"),         # minicnn first: it sets OPENBLAS_THREAD_TIMEOUT itself
    (True, None, 1),                # NumPy first, no variable: OpenBLAS may spin, so one thread
    (True, "4", "cores"),           # NumPy first, variable set before Python started
])
def test_threads_depend_on_whether_openblas_sleeps(numpy_first, variable, threads):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if variable:
        env["OPENBLAS_THREAD_TIMEOUT"] = variable
    code = ("import numpy\n" if numpy_first else "") + (
        "import os, minicnn as mc\n"
        "print(mc.get_num_threads(), len(os.sched_getaffinity(0)), os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    got, cores, timeout = out.stdout.split()
    assert int(got) == (int(cores) if threads == "cores" else threads)
    assert timeout == ("None" if numpy_first and not variable else "4")
