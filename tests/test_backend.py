"""The CPU backend's sharing of work between threads (NumpyBackend.split_work), its memory arena, and
what importing minicnn leaves as it was."""

import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn as mc
from minicnn.backend.cpu import _Arena
from helpers import on

cpu = mc.get_backend("cpu")


@given(n=st.integers(0, 40), threads=st.integers(1, 6), size=st.sampled_from([10, 2 ** 20, 10 ** 8]))
def test_split_work_covers_every_index_once(n, threads, size):
    cpu.threads = threads
    seen, lock = [], threading.Lock()

    def record(start, stop):
        with lock:
            seen.append((start, stop, threading.current_thread()))
    cpu.split_work(record, n, size)
    assert sorted(i for start, stop, _ in seen for i in range(start, stop)) == list(range(n))
    assert len({thread for _, _, thread in seen}) <= max(1, min(threads, n))      # at most one per core
    # one share per thread, or more for large work (each op's temporaries stay small), and as many
    # for every thread unless there are fewer indices than that
    used = max(1, min(threads, n)) if size >= cpu.min_parallel_size else 1
    wanted = max(used, -(-size // cpu.max_share))
    assert len(seen) == max(1, n) or (len(seen) % used == 0 and wanted <= len(seen) < wanted + used)


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


LEAVES_NO_TRACE = """
import os, sys
if sys.argv[1] == "numpy-first":
    import numpy
snapshot = dict(os.environ)
import numpy as np
blas = None
if sys.argv[2] == "blas-read-first":
    from threadpoolctl import threadpool_info
    os.environ.clear()
    os.environ.update(snapshot)      # threadpoolctl 3.8 sets KMP_DUPLICATE_LIB_OK: this script's own import, undone
    blas = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
random_state = np.random.get_state()[1].copy()
import minicnn as mc
L = mc.layers
model = mc.Sequential([L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5), L.Dense(2)],
                      input_shape=(3, 34, 34))
model.compile("adam", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(np.zeros((64, 3, 34, 34), np.float32), np.arange(64) % 2, batch_size=32, verbose=0)
model.predict(np.zeros((4, 3, 34, 34), np.float32))

def resident():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
big = np.ones(2 ** 26, np.float32)           # 256 MiB of the user's own
with_big = resident()
del big
assert with_big - resident() > 200 * 2 ** 20, "the user's freed array stayed resident"
assert dict(os.environ) == snapshot, set(os.environ.items()) ^ set(snapshot.items())
assert {"threadpoolctl", "numba"} <= set(sys.modules)      # imported by minicnn itself, if not before
assert np.array_equal(np.random.get_state()[1], random_state), "NumPy's global random state changed"
if blas is not None:        # (numba imports SciPy where it is installed: its BLAS comes too, as it would)
    now = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert {path: now[path] for path in blas} == blas, (now, blas)
assert "matplotlib" not in sys.modules
print(mc.get_num_threads(), len(os.sched_getaffinity(0)))
"""


@pytest.mark.parametrize("order", ["minicnn-first", "numpy-first"])
@pytest.mark.parametrize("blas", ["blas-read-first", "threadpoolctl-left-to-minicnn"])
def test_importing_and_training_leave_the_process_as_they_found_it(order, blas):
    """No environment variable, allocator setting, BLAS thread count or global random state changed,
    also by the helpers minicnn imports when it needs them (threadpoolctl, numba); minicnn uses every
    core in either import order."""
    out = subprocess.run([sys.executable, "-c", LEAVES_NO_TRACE, order, blas], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    threads, cores = out.stdout.split()
    assert threads == cores


@settings(max_examples=30)
@given(rows=st.integers(1, 9), inner=st.integers(1, 40), columns=st.integers(1, 40), threads=st.integers(2, 4))
def test_matrix_products_in_blocks_match_numpy_and_not_the_thread_count(rows, inner, columns, threads):
    rng = np.random.default_rng(rows * 10000 + inner * 100 + columns)
    a = rng.standard_normal((rows, inner)).astype(np.float32)
    b = rng.standard_normal((inner, columns)).astype(np.float32)
    saved = cpu.block, cpu.blocked_work, cpu.threads
    try:
        cpu.block, cpu.blocked_work = 3, 0           # every product in blocks of 3 columns or 3 summed terms
        results = []
        for cpu.threads in (1, threads):
            results.append(cpu.matmul(a, b))
    finally:
        cpu.block, cpu.blocked_work, cpu.threads = saved
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[0], a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5)
    assert results[0].dtype == np.float32 and results[0].shape == (rows, columns)


@settings(max_examples=20)
@given(sizes=st.lists(st.integers(1, 600_000), min_size=1, max_size=30), keep=st.lists(st.booleans(), min_size=30,
                                                                                    max_size=30))
def test_the_arena_never_hands_out_memory_in_use_and_reuses_what_is_free(sizes, keep):
    arena = _Arena()
    arena.chunk_bytes = 2 ** 20
    live = []
    for size, kept in zip(sizes, keep):
        block = arena.take(size)
        assert block.size == size and block.ctypes.data % arena.align == 0
        block[:] = len(live) % 251                     # each live block holds its own mark
        if kept:
            live.append(block[::3] if size > 3 else block)   # a view keeps its block in use, too
    assert all((view == mark % 251).all() for mark, view in enumerate(live)), "a block in use was handed out again"
    chunks = len(arena.chunks)
    live.clear()
    del block
    for _ in range(20):                                # all free now: the same memory serves again
        arena.take(max(sizes))
    assert len(arena.chunks) <= chunks + 1


def test_large_arrays_come_from_the_arena_and_small_ones_do_not():
    big, small = cpu.empty((cpu.keep_bytes // 4,), np.float32), cpu.empty((10,), np.float32)
    assert big.base is not None and small.base is None
    assert cpu.zeros(big.shape, np.float32).sum() == 0 and (cpu.full(big.shape, 2, np.float32) == 2).all()
