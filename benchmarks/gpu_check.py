"""One command for a machine with an NVIDIA GPU: does minicnn's "gpu" device work, and how fast is it?

    PYTHONPATH=. python benchmarks/gpu_check.py              # from the checkout, installing nothing
    PYTHONPATH=. python benchmarks/gpu_check.py --no-append  # the same, without writing RESULTS.md

It needs CuPy 14 or newer (cupy-cuda12x or cupy-cuda13x) and, for the comparison, PyTorch with CUDA.
  (a) runs the gpu-marked tests (pytest -m gpu) on the real GPU; test files that need a package
      this machine lacks are skipped (tests/conftest.py), and without pytest the step is skipped;
  (b) trains CATSDOGS-64 and UCMERCED-64 (benchmarks/models.py) with fit for --train-steps steps
      on synthetic images whose class is a bright square, and checks the held-out loss halves;
      on the way it counts what crosses between host and device in each training batch;
  (c) times the training step (forward, backward, SGD) and inference at batch 32, 128 and 512
      against PyTorch CUDA with the same model in float32 (TF32 off in PyTorch: CuPy's products
      are full float32), and reports the GPU memory each library's allocator held;
  (d) appends the results, with the GPU's name, to benchmarks/RESULTS.md.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import minicnn as mc  # noqa: E402
import numpy as np  # noqa: E402

import models  # noqa: E402

BATCHES = (32, 128, 512)


def run_tests():
    """(a) The gpu-marked tests, in a child process, on this machine's CuPy."""
    try:
        import pytest  # noqa: F401
    except ImportError:
        return "skipped: pytest is not installed"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
                          os.path.join(ROOT, "tests")], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])))
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "no output"
    if out.returncode not in (0, 5):        # 5: nothing collected
        print(out.stdout[-6000:], out.stderr[-2000:])
    return ("passed: " if out.returncode == 0 else "FAILED: ") + summary


def synthetic(outputs, n, side=64, seed=0):
    """Noise images whose class is a brighter square at a place of its own (and a colour)."""
    rng = np.random.default_rng(seed)
    classes = max(outputs, 2)
    labels = rng.integers(0, classes, n)
    images = rng.standard_normal((n, 3, side, side), dtype=np.float32)
    grid = int(np.ceil(np.sqrt(classes)))
    cell = side // grid
    for image, k in zip(images, labels):
        row, col = divmod(int(k), grid)
        image[k % 3, row * cell:(row + 1) * cell, col * cell:(col + 1) * cell] += 1.5
    return mc.data.ImageDataset(images, labels)


class CopyCounter:
    """Counts the copies the gpu backend makes during fit (its to_host / from_host), per batch."""

    def __init__(self, backend):
        self.backend, self.log = backend, []

    def __enter__(self):
        self.to_host, self.from_host = self.backend.to_host, self.backend.from_host

        def to_host(array):
            self.log.append(("to host", str(array.dtype), array.nbytes))
            return self.to_host(array)

        def from_host(array):
            array = np.asarray(array)
            self.log.append(("to device", str(array.dtype), array.nbytes))
            return self.from_host(array)
        self.backend.to_host, self.backend.from_host = to_host, from_host
        return self

    def __exit__(self, *exc):
        del self.backend.to_host, self.backend.from_host       # the class's methods again

    def per_batch(self, batches):
        lines = []
        for direction in ("to device", "to host"):
            moved = [entry for entry in self.log if entry[0] == direction]
            dtypes = sorted({dtype for _, dtype, _ in moved})
            lines.append(f"{direction}: {len(moved) / batches:.1f} copies, "
                         f"{sum(b for _, _, b in moved) / batches:,.0f} bytes per batch ({', '.join(dtypes)})")
        return "; ".join(lines)


def train_check(name, steps, batch_size=32):
    """(b) fit on the GPU; the held-out loss must at least halve."""
    outputs = models.MODELS[name]
    model, _, _ = models.minicnn_model(outputs)
    model.to("gpu")
    loss = mc.losses.BinaryCrossentropy(from_logits=True) if outputs == 1 else \
        mc.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(mc.optimizers.Adam(lr=1e-3), loss, metrics=["accuracy"])
    train, test = synthetic(outputs, min(steps, 50) * batch_size, seed=1), synthetic(outputs, 256, seed=2)
    before = model.evaluate(test, return_dict=True)
    epochs = max(1, round(steps * batch_size / len(train)))
    start = time.perf_counter()
    with CopyCounter(mc.get_backend("gpu")) as copies:
        model.fit(train, epochs=1, batch_size=batch_size, verbose=0)
    if epochs > 1:
        model.fit(train, epochs=epochs - 1, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    after = model.evaluate(test, return_dict=True)
    ok = after["loss"] < 0.5 * before["loss"]
    return ok, (f"{name}: {epochs * len(train) // batch_size} steps in {seconds:.1f} s; held-out loss "
                f"{before['loss']:.3f} -> {after['loss']:.3f}, accuracy {before['accuracy']:.2f} -> "
                f"{after['accuracy']:.2f} ({'falls' if ok else 'DOES NOT FALL'}); "
                f"{copies.per_batch(len(train) // batch_size)}")


def median_ms(step, sync, warmup, steps):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def time_minicnn(name, batch, mode, warmup, steps):
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    model, train_step, infer = models.minicnn_model(models.MODELS[name])
    model.to("gpu")                     # in place: the optimizer in train_step holds the same tensors
    x, y = (t.to("gpu") for t in models.batch("minicnn", models.MODELS[name], batch))
    step = (lambda: train_step(x, y)) if mode == "train" else (lambda: infer(x))
    ms = median_ms(step, cupy.cuda.Device().synchronize, warmup, steps)
    return ms, pool.total_bytes()       # the pool keeps what it allocated: its size is the peak held


def time_torch(name, batch, mode, warmup, steps):
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    model, train_step, infer = models.torch_model(models.MODELS[name])
    model.cuda()
    x, y = models.batch("torch", models.MODELS[name], batch)
    x, y = x.cuda(), y.cuda()
    step = (lambda: train_step(x, y)) if mode == "train" else (lambda: infer(x))
    ms = median_ms(step, torch.cuda.synchronize, warmup, steps)
    return ms, torch.cuda.max_memory_reserved()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-steps", type=int, default=300, help="steps of (b) per model (default 300)")
    parser.add_argument("--batches", type=int, nargs="+", default=BATCHES, help="batch sizes of (c)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before each timing of (c)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps of (c), median reported")
    parser.add_argument("--no-tests", action="store_true", help="skip (a)")
    parser.add_argument("--no-append", action="store_true", help="do not write benchmarks/RESULTS.md")
    args = parser.parse_args()
    if not mc.gpu_available():
        mc.get_backend("gpu")           # raises the reason: CuPy missing, no driver, no GPU
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    gpu = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    lines = [f"GPU: {gpu}; CuPy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, "
             f"NumPy {np.__version__}, Python {sys.version.split()[0]}"]
    print(lines[0], flush=True)
    results = {"tests": "skipped (--no-tests)" if args.no_tests else run_tests()}
    print("(a) tests", results["tests"], flush=True)
    trained = [train_check(name, args.train_steps) for name in models.MODELS]
    for _, line in trained:
        print("(b)", line, flush=True)
    try:
        import torch
        has_torch = torch.cuda.is_available()
        lines[0] += f", PyTorch {torch.__version__}" if has_torch else ", PyTorch without CUDA: no comparison"
    except ImportError:
        has_torch = False
        lines[0] += ", no PyTorch: no comparison"
    table = ["| model | mode | batch | minicnn ms | PyTorch ms | time ratio | minicnn GPU MB | PyTorch GPU MB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in models.MODELS:
        for mode in ("train", "infer"):
            for batch in args.batches:
                ms, held = time_minicnn(name, batch, mode, args.warmup, args.steps)
                cells = [name, mode, str(batch), f"{ms:.2f}"]
                if has_torch:
                    t_ms, t_held = time_torch(name, batch, mode, args.warmup, args.steps)
                    cells += [f"{t_ms:.2f}", f"{ms / t_ms:.2f}x", f"{held / 2**20:.0f}", f"{t_held / 2**20:.0f}"]
                else:
                    cells += ["-", "-", f"{held / 2**20:.0f}", "-"]
                table.append("| " + " | ".join(cells) + " |")
                print(table[-1], flush=True)
    report = "\n".join([
        f"## GPU check: {gpu}, {datetime.date.today()}", "",
        "Command: `PYTHONPATH=. python benchmarks/gpu_check.py` (benchmarks/gpu_check.py says what each part does).",
        lines[0] + ".", "",
        f"(a) gpu-marked tests: {results['tests']}", "",
        *[f"(b) {line}" for _, line in trained], "",
        f"(c) Median of {args.steps} steps after {args.warmup} warm-up steps, synchronised after each; "
        "time ratio = minicnn / PyTorch. "
        "GPU memory: what each allocator held at the end (CuPy's pool total, PyTorch's peak reserved).", "",
        *table, ""])
    if not args.no_append:
        with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
            f.write("\n" + report)
        print("appended to benchmarks/RESULTS.md")
    failed = not all(ok for ok, _ in trained) or results["tests"].startswith("FAILED")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
