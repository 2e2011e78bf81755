"""mc.distributed: fit on several MPI ranks (mpiexec, mpi4py and the mpich wheel) equals fit in one process.

Each test launches the real thing: `mpiexec -n N python -m mpi4py` runs tests/mpi/train.py on N ranks
(`-m mpi4py`: an error on one rank ends them all), and the same script runs alone for the reference.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minicnn as mc

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi", "train.py")
needs_mpiexec = pytest.mark.skipif(not os.path.exists(MPIEXEC), reason="no mpiexec (pip install '.[test]')")


def train(tmp_path, ranks, *flags, env=None):
    out = tmp_path / f"{ranks}{''.join(flags)}.npz"
    command = [sys.executable, SCRIPT, str(out), *flags]
    if ranks > 1:
        command = [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "mpi4py", SCRIPT, str(out), *flags]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    with np.load(out) as saved:
        return dict(saved)


@needs_mpiexec
@pytest.mark.parametrize("ranks", [2, 3])
def test_fit_on_several_ranks_reaches_the_weights_of_one_process(tmp_path, ranks):
    alone, together = train(tmp_path, 1), train(tmp_path, ranks)
    assert alone["ranks"] == 1 and together["ranks"] == ranks
    assert together["spread"] == 0           # every rank holds the same weights, bit for bit
    assert together["draws_differ"] and not alone["draws_differ"]     # and its own random numbers
    # the ranks shared the images: 5 epochs of 82 in all, rank 0 its share of each batch of 10 (and 2)
    assert alone["trained"] == together["trained"] == 5 * 82
    assert together["trained_by_rank_0"] == 5 * (8 * -(-10 // ranks) + -(-2 // ranks))
    # validation sharded too, each image once (and each rank's one image of the pass that builds the model)
    assert together["validated"] - ranks == alone["validated"] - 1 == 5 * 23
    weights = [k for k in alone if k.startswith("w.")]
    assert weights and set(weights) == {k for k in together if k.startswith("w.")}
    for name in weights:        # 45 steps of SGD with momentum; sums over ranks round differently
        np.testing.assert_allclose(together[name], alone[name], rtol=2e-4, atol=2e-5, err_msg=name)
    for name in ("h.loss", "h.accuracy", "h.val_loss", "h.val_accuracy"):
        np.testing.assert_allclose(together[name], alone[name], rtol=1e-4, atol=1e-5, err_msg=name)
    assert not np.allclose(alone["h.loss"][0], alone["h.loss"][-1])       # it trained


@needs_mpiexec
def test_fit_with_batchnorm_dropout_and_augmentation_on_several_ranks_follows_one_process(tmp_path):
    alone, together = train(tmp_path, 1, "--batchnorm"), train(tmp_path, 2, "--batchnorm")
    (tmp_path / "again").mkdir()
    reseeded = train(tmp_path / "again", 1, "--batchnorm", "--seed", "10")
    # each rank normalises by its own share's statistics (PyTorch's DDP without SyncBatchNorm does too),
    # and draws its own flips and dropout masks: the curves differ as much as two seeds' in one process
    seeds_apart = np.abs(reseeded["h.loss"] - alone["h.loss"]).max()
    assert np.abs(together["h.loss"] - alone["h.loss"]).max() <= 2 * seeds_apart + 0.05
    assert together["h.loss"][-1] < together["h.loss"][0] / 2 and alone["h.loss"][-1] < alone["h.loss"][0] / 2
    assert together["spread"] == 0           # the moving statistics averaged: the same on every rank


@needs_mpiexec
@pytest.mark.gpu
@pytest.mark.parametrize("path", ["staged", "nccl"])
def test_fit_on_gpus_each_rank_its_own_the_gradients_through_nccl_or_the_host(tmp_path, path, gpu_process_env):
    """Each rank computes on the GPU of its local rank; the gradients cross through NCCL (here its double,
    tests/mpi/nccl_double.py) or, where CuPy has no NCCL, through the host. Either way: one process's weights."""
    real_gpu = "cupy_standin" not in gpu_process_env.get("PYTHONPATH", "")     # conftest's choice
    if real_gpu and path == "nccl":
        pytest.skip("on a real GPU the gradients go through the real NCCL, where CuPy has it (the staged case)")
    gpu_process_env["CUPY_STANDIN_GPUS"] = "2"           # the stand-in shows two GPUs (real CuPy ignores it)
    alone = train(tmp_path, 1)
    together = train(tmp_path, 2, "--device", "gpu", *(["--nccl"] if path == "nccl" else []), env=gpu_process_env)
    gpus = 2 if not real_gpu else __import__("cupy").cuda.runtime.getDeviceCount()
    assert together["gpus"].tolist() == [0, 1 % gpus]
    assert together["nccl_calls"] == (45 if path == "nccl" else 0)        # every step's allreduce
    assert together["spread"] == 0
    for name in [k for k in alone if k.startswith("w.")]:
        np.testing.assert_allclose(together[name], alone[name], rtol=2e-4, atol=2e-5, err_msg=name)


def test_a_world_of_one_without_a_launcher():
    assert mc.distributed.init() == 1 and mc.distributed.world_size() == 1 and mc.distributed.rank() == 0
    assert mc.distributed.is_main() and not mc.distributed.is_initialized()
    x = mc.tensor(np.arange(3, dtype=np.float32))
    assert mc.distributed.all_reduce(x, op="mean") is x and np.array_equal(x.numpy(), [0, 1, 2])
    assert mc.distributed.broadcast({"a": 1}) == {"a": 1}
    assert mc.distributed.part(7) == slice(0, 7)
    mc.distributed.barrier()
    with pytest.raises(ValueError, match="op must be 'sum' or 'mean', got 'max'"):
        mc.distributed.all_reduce(x, op="max")
    assert mc.distributed.local_rank() == 0 and mc.distributed.local_size() == 1
    with pytest.raises(ValueError, match="use_gpu: index must be a non-negative int, got -1"):
        mc.backend.use_gpu(-1)


def test_a_rank_follows_rank_0s_generator_on_its_own_stream():
    mc.manual_seed(3)
    cpu = mc.get_backend("cpu")
    state = mc.random.state()
    first = mc.random.uniform((5,)), mc.random.uniform_on(cpu, 5)
    mc.random.follow(state)                 # stream 0: rank 0's own, where it was
    assert np.array_equal(mc.random.uniform((5,)), first[0])
    assert np.array_equal(mc.random.uniform_on(cpu, 5), first[1])
    mc.random.follow(state, 1)
    assert not np.allclose(mc.random.uniform((5,)), first[0])
    assert not np.allclose(mc.random.uniform_on(cpu, 5), first[1])
    mc.manual_seed(0)


def test_distributed_sampler_gives_each_rank_its_strided_share_of_one_order_per_epoch():
    """PyTorch's DistributedSampler: the same shuffled order on every rank, padded to divide evenly."""
    samplers = [mc.distributed.DistributedSampler(range(10), num_replicas=3, rank=r, seed=5) for r in range(3)]
    for epoch in (0, 1):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shares = [list(sampler) for sampler in samplers]
        assert [len(share) for share in shares] == [4, 4, 4] == [len(s) for s in samplers]
        together = [i for group in zip(*shares) for i in group]
        assert sorted(together[:10]) == list(range(10)) and together[10:] == together[:2]    # padded from the start
    first = list(samplers[0])
    samplers[0].set_epoch(2)
    assert list(samplers[0]) != first                      # a new order each epoch
    dropping = mc.distributed.DistributedSampler(range(10), num_replicas=3, rank=2, drop_last=True, shuffle=False)
    assert list(dropping) == [2, 5, 8]
    loader = mc.utils.data.DataLoader(mc.utils.data.TensorDataset(mc.tensor(np.arange(10.0))), batch_size=2,
                                      sampler=dropping)
    assert len(loader) == 2 and [b[0].numpy().tolist() for b in loader] == [[2.0, 5.0], [8.0]]
    with pytest.raises(ValueError, match="rank must be in"):
        mc.distributed.DistributedSampler(range(4), num_replicas=2, rank=2)


@needs_mpiexec
def test_a_hand_written_loop_with_the_sampler_and_average_gradients_equals_one_process(tmp_path):
    script = os.path.join(os.path.dirname(SCRIPT), "loop.py")
    results = []
    for command in ([sys.executable, script], [MPIEXEC, "-n", "2", sys.executable, "-m", "mpi4py", script]):
        out = tmp_path / f"{len(command)}.npz"
        done = subprocess.run(command + [str(out)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        with np.load(out) as saved:
            results.append(dict(saved))
    alone, together = results
    assert set(alone) == set(together) and alone
    for name in alone:
        np.testing.assert_allclose(together[name], alone[name], rtol=1e-4, atol=1e-5, err_msg=name)


@needs_mpiexec
def test_the_primitives_on_three_ranks():
    script = os.path.join(os.path.dirname(SCRIPT), "primitives.py")
    done = subprocess.run([MPIEXEC, "-n", "3", sys.executable, "-m", "mpi4py", script], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "primitives ok on 3 ranks" in done.stdout, done.stdout + done.stderr


FAULT = os.path.join(os.path.dirname(SCRIPT), "fault.py")


def run_fault(tmp_path, mode):
    """tests/mpi/fault.py MODE on 2 ranks: (the finished process, seconds from fit's start to the job's end)."""
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "mpi4py", FAULT, mode, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    return done, time.time() - float((tmp_path / "started").read_text())


@needs_mpiexec
@pytest.mark.parametrize("mode, error", [
    ("nan", "FloatingPointError: the loss became nan at epoch 1, batch 1"),
    ("labels", "ValueError: "),
    ("checkpoint", "RuntimeError: rank 1 fails while rank 0 saves"),
    ("crash", None)])       # rank 1 calls MPI_Abort: no Python error to show
def test_an_error_on_one_rank_ends_every_rank_within_seconds_shown_once(tmp_path, mode, error):
    done, seconds = run_fault(tmp_path, mode)
    assert done.returncode != 0 and "after fit" not in done.stdout, done.stdout + done.stderr
    assert done.stderr.count("Traceback") == (error is not None), done.stderr
    assert error is None or done.stderr.count(error) == 1, done.stderr
    assert seconds < 15, seconds         # rank 0 is not left waiting in an allreduce
    if mode in ("checkpoint", "crash"):     # written atomically: complete (it loads and predicts) or absent
        saved = tmp_path / "model.npz"
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) in (
            ["started"], ["model.npz", "started"])
        if saved.exists():
            assert mc.models.load_model(saved).predict(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 2)
        model = mc.Sequential([mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 8, 8))
        model.save(saved)               # the next save of it clears what a killed one left
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "started"]


def after_fit(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("after fit: ")]
    assert len(lines) == 1, stdout
    return lines[0]


@needs_mpiexec
def test_ctrl_c_on_one_rank_stops_every_rank_after_the_same_batch(tmp_path):
    done, _ = run_fault(tmp_path, "interrupt")
    assert done.returncode == 0, done.stdout + done.stderr
    # Ctrl-C reached rank 1 after its third batch's allreduce: the ranks agree on it in the fourth's
    assert after_fit(done.stdout) == "after fit: steps [4, 4], spread 0.0", done.stdout
    assert done.stdout.count("Training interrupted during epoch 1") == 1


@needs_mpiexec
def test_ctrl_c_to_mpiexec_stops_fit_on_every_rank_within_seconds(tmp_path):
    job = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "mpi4py", FAULT, "signal", str(tmp_path)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not (tmp_path / "started").exists() and job.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)                 # into the epochs
        job.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does: mpiexec passes it to each rank
        sent = time.time()
        stdout, stderr = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 0 and time.time() - sent < 10, stdout + stderr
    steps = after_fit(stdout).split("[")[1].split("]")[0].split(", ")
    assert steps[0] == steps[1] and after_fit(stdout).endswith("spread 0.0"), stdout
    assert stdout.count("Training interrupted during epoch") == 1
    assert stderr.count("Ctrl-C: stopping after this batch") == 1, stderr


@needs_mpiexec
def test_a_script_started_without_minus_m_mpi4py_is_told_once():
    script = "import minicnn as mc; mc.distributed.init(); print('rank', mc.distributed.rank())"
    plain = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 0 and plain.stderr.count("was not started with `python -m mpi4py`") == 1, plain.stderr
    wrapped = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "mpi4py", "-c", script], capture_output=True,
                             text=True, timeout=120)
    assert wrapped.returncode == 0 and "mpi4py" not in wrapped.stderr, wrapped.stderr
