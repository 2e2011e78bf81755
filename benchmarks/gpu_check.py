"""One command for a machine with an NVIDIA GPU: does minicnn's "gpu" device work, and how fast is it?

    PYTHONPATH=. python benchmarks/gpu_check.py              # from the checkout, installing nothing
    PYTHONPATH=. python benchmarks/gpu_check.py --no-append  # the same, without writing RESULTS.md

It needs CuPy 14 or newer (cupy-cuda12x or cupy-cuda13x) and, for the comparison, PyTorch with CUDA.
  (0) proves the device (mc.get_backend("gpu"): one kernel, one matrix product) and times CuPy's
      first kernel compilations, apart from everything after;
  (a) runs the gpu-marked tests (pytest -m gpu) on the real GPU; test files that need a package
      this machine lacks are skipped (tests/conftest.py), and without pytest the step is skipped;
  (b) trains CATSDOGS-64 and UCMERCED-64 (benchmarks/models.py) with fit for --train-steps steps
      on synthetic images whose class is a bright square, and checks the held-out loss halves;
      on the way it counts what crosses between host and device in each training batch, and
      reports the first step (where CuPy compiles the step's kernels) apart from the others;
  (c) times the training step (forward, backward, SGD) and inference at batch 32, 128 and 512
      against PyTorch CUDA with the same model in float32 (TF32 off in PyTorch: CuPy's products
      are full float32), and reports the GPU memory each library's allocator held;
  (d) appends the results, with the GPU's name, to benchmarks/RESULTS.md.

It keeps to --budget-minutes (default 7.5, first compilations included): a part that would start
past it is skipped and says so. Every failure is one line, "FAILED <part>: <error> -> <what to do>",
printed as it happens and again at the end (tracebacks in gpu_check_failures.log); the exit status
is 1 when anything failed.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import minicnn as mc  # noqa: E402
import numpy as np  # noqa: E402

import models  # noqa: E402

BATCHES = (32, 128, 512)
FAILURES_LOG = "gpu_check_failures.log"


class Check:
    """The run's clock and its failures: each part runs through attempt(), which turns an exception into
    one line that says what to do, and skips the part once the time budget is spent."""

    def __init__(self, budget_s):
        self.start, self.budget_s, self.failures, self.skipped = time.perf_counter(), budget_s, [], []

    def elapsed(self):
        return time.perf_counter() - self.start

    def fail(self, part, what, fix):
        line = f"FAILED {part}: {what} -> {fix}"
        self.failures.append(line)
        print(line, flush=True)

    def attempt(self, part, function, *args, budgeted=True):
        """function(*args), or None after printing why not (a failure, or the budget spent)."""
        if budgeted and self.elapsed() > self.budget_s:
            self.skipped.append(part)
            print(f"skipped {part}: past the time budget of {self.budget_s / 60:.1f} min (--budget-minutes)",
                  flush=True)
            return None
        try:
            return function(*args)
        except Exception as error:             # every failure becomes one line
            self.fail(part, describe(error), what_to_do(error))
            with open(FAILURES_LOG, "a") as log:
                log.write(f"{self.failures[-1]}\n{traceback.format_exc()}\n")
            return None


def describe(error):
    """The error's type, the first line of its message, and the last line of minicnn (or of this
    benchmark) it passed through: where to look."""
    message = " ".join(str(error).split())
    if len(message) > 400:                  # its start says what failed, its end often what to do
        message = message[:150] + " ... " + message[-250:]
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if os.sep + "minicnn" + os.sep in f.filename or f.filename.startswith(HERE)]
    where = f" (at {os.path.relpath(frames[-1].filename, ROOT)}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {message}{where}"


def what_to_do(error):
    name, text = type(error).__name__, str(error)
    if "OutOfMemory" in name:
        return "the GPU's memory ran out: time smaller batches (--batches 32 128)"
    if text.startswith("device 'gpu'"):
        return ("install CuPy with the CUDA toolkit's libraries: pip install 'minicnn[gpu]' (or [gpu-cuda13])"
                if "toolkit" in text else "the message says what is missing")
    if isinstance(error, ImportError):
        return f"install the missing package ({getattr(error, 'name', None) or text})"
    if "nvrtc" in text.lower() or "compile" in text.lower():
        return "CuPy could not compile a kernel: install CuPy with the CUDA toolkit (pip install 'minicnn[gpu]')"
    return f"a bug to fix in minicnn: rerun that part, the traceback is in {FAILURES_LOG}"


def prove_device():
    """(0) The factory's proof, and CuPy's first compilations, timed."""
    start = time.perf_counter()
    backend = mc.get_backend("gpu")         # raises the reason: CuPy missing, no driver, no GPU, no toolkit
    proved = time.perf_counter() - start
    x = mc.randn(8, 3, 16, 16, device="gpu", requires_grad=True)
    w = mc.randn(4, 3, 3, 3, device="gpu", requires_grad=True)
    start = time.perf_counter()
    mc.F.max_pool2d(mc.F.relu(mc.F.conv2d(x, w, padding=1)), 2).sum().backward()
    backend.xp.cuda.Device().synchronize()
    first = time.perf_counter() - start
    start = time.perf_counter()
    mc.F.max_pool2d(mc.F.relu(mc.F.conv2d(x, w, padding=1)), 2).sum().backward()
    backend.xp.cuda.Device().synchronize()
    again = time.perf_counter() - start
    return (f"device proved in {proved:.2f} s; a first convolution, ReLU and pooling with their gradients "
            f"{first:.2f} s (CuPy compiling their kernels), the same again {1e3 * again:.1f} ms")


def run_tests(timeout_s):
    """(a) The gpu-marked tests, in a child process, on this machine's CuPy."""
    try:
        import pytest  # noqa: F401
    except ImportError:
        return "skipped: pytest is not installed"
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
                              os.path.join(ROOT, "tests")], capture_output=True, text=True, cwd=ROOT,
                             timeout=timeout_s, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                 [ROOT, os.environ.get("PYTHONPATH", "")])))
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"the gpu-marked tests took more than {timeout_s:.0f} s (--test-minutes)") from None
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "no output"
    if out.returncode not in (0, 5):        # 5: nothing collected
        with open(FAILURES_LOG, "a") as log:
            log.write(out.stdout[-20000:] + out.stderr[-4000:])
        failed = [line for line in out.stdout.splitlines() if line.startswith("FAILED")]
        raise AssertionError(f"{summary}; first: {failed[0] if failed else 'see the log'}")
    return "passed: " + summary


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
    sync = mc.get_backend("gpu").xp.cuda.Device().synchronize
    start = time.perf_counter()
    model.fit(train.subset(range(batch_size)), epochs=1, batch_size=batch_size, verbose=0)
    sync()
    first = time.perf_counter() - start     # where CuPy compiles the step's kernels (those (0) left)
    start = time.perf_counter()
    with CopyCounter(mc.get_backend("gpu")) as copies:
        model.fit(train, epochs=1, batch_size=batch_size, verbose=0)
    if epochs > 1:
        model.fit(train, epochs=epochs - 1, batch_size=batch_size, verbose=0)
    sync()
    seconds = time.perf_counter() - start
    after = model.evaluate(test, return_dict=True)
    ok = after["loss"] < 0.5 * before["loss"]
    return ok, (f"{name}: first step {first:.1f} s (kernels compiled), then {epochs * len(train) // batch_size} "
            f"steps in {seconds:.1f} s; held-out loss {before['loss']:.3f} -> {after['loss']:.3f}, accuracy "
            f"{before['accuracy']:.2f} -> {after['accuracy']:.2f} ({'falls' if ok else 'DOES NOT FALL'}); "
            f"{copies.per_batch(len(train) // batch_size)}")


def median_ms(step, sync, warmup, steps):
    """The median step, in ms, and the first call's (compilations for new shapes included)."""
    start = time.perf_counter()
    step()
    sync()
    first = 1e3 * (time.perf_counter() - start)
    for _ in range(warmup - 1):
        step()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times), first


def time_minicnn(name, batch, mode, warmup, steps):
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    model, train_step, infer = models.minicnn_model(models.MODELS[name])
    model.to("gpu")                     # in place: the optimizer in train_step holds the same tensors
    x, y = (t.to("gpu") for t in models.batch("minicnn", models.MODELS[name], batch))
    step = (lambda: train_step(x, y)) if mode == "train" else (lambda: infer(x))
    ms, first = median_ms(step, cupy.cuda.Device().synchronize, warmup, steps)
    return ms, first, pool.total_bytes()    # the pool keeps what it allocated: its size is the peak held


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
    ms, _ = median_ms(step, torch.cuda.synchronize, warmup, steps)
    return ms, torch.cuda.max_memory_reserved()


def time_cell(name, mode, batch, args, has_torch):
    """(c) One row of the table."""
    ms, first, held = time_minicnn(name, batch, mode, args.warmup, args.steps)
    cells = [name, mode, str(batch), f"{ms:.2f}", f"{first:.0f}"]
    if has_torch:
        t_ms, t_held = time_torch(name, batch, mode, args.warmup, args.steps)
        cells += [f"{t_ms:.2f}", f"{ms / t_ms:.2f}x", f"{held / 2**20:.0f}", f"{t_held / 2**20:.0f}"]
    else:
        cells += ["-", "-", f"{held / 2**20:.0f}", "-"]
    return "| " + " | ".join(cells) + " |"


def gpu_description():
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    gpu = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return gpu, (f"GPU: {gpu}; CuPy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, "
                 f"NumPy {np.__version__}, Python {sys.version.split()[0]}")


def torch_cuda():
    import torch
    return torch.cuda.is_available(), torch.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-steps", type=int, default=300, help="steps of (b) per model (default 300)")
    parser.add_argument("--batches", type=int, nargs="+", default=BATCHES, help="batch sizes of (c)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before each timing of (c)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps of (c), median reported")
    parser.add_argument("--budget-minutes", type=float, default=7.5, help="skip what would start later")
    parser.add_argument("--test-minutes", type=float, default=3.0, help="the most (a) may take")
    parser.add_argument("--no-tests", action="store_true", help="skip (a)")
    parser.add_argument("--no-append", action="store_true", help="do not write benchmarks/RESULTS.md")
    args = parser.parse_args()
    check = Check(60 * args.budget_minutes)
    proof = check.attempt("(0) the gpu device", prove_device, budgeted=False)
    if proof is None:                       # nothing else can run: say so once, and stop
        print(f"{len(check.failures)} failure(s); see above")
        sys.exit(1)
    gpu, header = gpu_description()
    print(header, flush=True)
    print("(0)", proof, flush=True)
    tests = "skipped (--no-tests)" if args.no_tests else \
        check.attempt("(a) the gpu-marked tests", run_tests, 60 * args.test_minutes) or "FAILED (see above)"
    print("(a) tests", tests, flush=True)
    trained = []
    for name in models.MODELS:
        result = check.attempt(f"(b) training {name}", train_check, name, args.train_steps)
        if result:
            ok, line = result
            trained.append(line)
            print("(b)", line, flush=True)
            if not ok:
                check.fail(f"(b) training {name}", "the held-out loss did not halve",
                           "if --train-steps was cut short, run the default 300; else a bug in training on the GPU")
    has_torch = check.attempt("(c) PyTorch CUDA", torch_cuda) or (False, None)
    if has_torch[0]:
        header += f", PyTorch {has_torch[1]}"
    else:
        header += ", PyTorch with CUDA missing: no comparison"
    table = ["| model | mode | batch | minicnn ms | minicnn first call ms | PyTorch ms | time ratio | "
             "minicnn GPU MB | PyTorch GPU MB |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in models.MODELS:
        for mode in ("train", "infer"):
            for batch in args.batches:
                row = check.attempt(f"(c) {name} {mode} batch {batch}", time_cell, name, mode, batch, args,
                                    has_torch[0])
                if row:
                    table.append(row)
                    print(row, flush=True)
    minutes = check.elapsed() / 60
    report = "\n".join([
        f"## GPU check: {gpu}, {datetime.date.today()}", "",
        "Command: `PYTHONPATH=. python benchmarks/gpu_check.py` (benchmarks/gpu_check.py says what each part does).",
        header + f"; {minutes:.1f} min in all.", "",
        f"(0) {proof}", "",
        f"(a) gpu-marked tests: {tests}", "",
        *[f"(b) {line}" for line in trained], "",
        f"(c) Median of {args.steps} steps after {args.warmup} warm-up steps, synchronised after each; "
        "time ratio = minicnn / PyTorch; the first call includes compilations for new shapes. "
        "GPU memory: what each allocator held at the end (CuPy's pool total, PyTorch's peak reserved).", "",
        *table, "",
        *([f"Failures ({len(check.failures)}):", "", *[f"- {line}" for line in check.failures], ""]
          if check.failures else []),
        *([f"Skipped past the {args.budget_minutes} min budget: {', '.join(check.skipped)}.", ""]
          if check.skipped else [])])
    if not args.no_append:
        with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
            f.write("\n" + report)
        print("appended to benchmarks/RESULTS.md")
    skipped = f", {len(check.skipped)} part(s) skipped for time" if check.skipped else ""
    print(f"{minutes:.1f} min{skipped}; " + (f"{len(check.failures)} failure(s):" if check.failures else "no failures"))
    for line in check.failures:
        print(line)
    sys.exit(1 if check.failures else 0)


if __name__ == "__main__":
    main()
