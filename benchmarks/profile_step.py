"""Where a training step's time goes: matrix products, im2col/col2im, Winograd, pooling, batch norm, ReLU, the rest.

    python benchmarks/profile_step.py --batch 32
    python benchmarks/profile_step.py --batch 128 --model aerial      # examples/aerial_scenes.py's network

The heavy steps of a CNN are methods of the backend (minicnn/backend/base.py), so this process
wraps each method of its CPU backend in a timer and runs --steps training steps; what the timers
do not see is "the rest": elementwise arithmetic in the ops and optimizer, and Python. The matrix
products' work is counted too (2 m k n floating-point operations each) and set against this
machine's sgemm peak, measured here on a 2048 x 2048 product: the share of the peak that the
whole step reaches, and that the products reach while they run.

Models: catsdogs (CATSDOGS-64 of benchmarks/models.py, SGD), aerial (examples/aerial_scenes.py's
residual network at 64 px, Adam) and cats96 (examples/cats_dogs.py's network at 96 px, Adam).
"""

import argparse
import collections
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "examples")]
import minicnn as mc  # noqa: E402

STEPS = {"matrix products": ("matmul", "_products"), "im2col / col2im": ("im2col", "col2im"),
         "Winograd passes (and conv2d's glue)": ("conv2d", "conv2d_grads"),
         "pooling": ("max_pool_tiles", "max_pool_tiles_grad"), "batch norm": ("batch_norm", "batch_norm_grad"),
         "ReLU (a conv's: inside its products)": ("relu", "relu_grad")}


def arguments():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=("catsdogs", "aerial", "cats96"), default="catsdogs")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--skip", type=int, default=5, help="first steps left out (they touch fresh memory)")
    return p.parse_args()


def training_step(name, batch):
    """(train_step(), what it is): one step of the model on one fixed random batch."""
    rng = np.random.default_rng(0)
    if name == "catsdogs":
        import models
        _, step, _ = models.minicnn_model(1)
        x, y = models.batch("minicnn", 1, batch)
        return lambda: step(x, y), "CATSDOGS-64 (benchmarks/models.py), SGD"
    size, classes = (64, 21) if name == "aerial" else (96, 1)
    images = rng.integers(0, 256, (max(batch, 64), 3, size, size)).astype(np.uint8)
    labels = rng.integers(0, classes if classes > 1 else 2, len(images))
    mc.manual_seed(0)
    if name == "aerial":
        from aerial_scenes import build_model
        model = build_model(mc.data.as_dataset(images, labels), size, classes)
        loss = mc.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        from cats_dogs import build_model
        model = build_model(mc.data.as_dataset(images, labels), size)
        loss = mc.losses.BinaryCrossentropy(from_logits=True)
        labels = labels.astype(np.float32)
    optimizer = mc.optimizers.Adam(model.parameters(), lr=1e-3)
    model.train()
    x, y = mc.tensor(images[:batch]), mc.tensor(labels[:batch])

    def step():
        out = model(x)
        loss(y, out).backward()
        optimizer.step()
        optimizer.zero_grad()
    return step, f"{name}: the example's network at {size} px, Adam"


class Timers:
    """Each wrapped backend method's own time (less that of the wrapped methods it calls: conv2d's is
    what its products and im2col leave); the matrix products' floating-point operations."""

    def __init__(self, backend):
        self.seconds, self.flops, self.on = collections.Counter(), 0, False
        self.inner = []         # for each wrapped call under way: the time its wrapped callees took
        for methods in STEPS.values():
            for method in methods:
                setattr(backend, method, self.timed(method, getattr(backend, method)))

    def timed(self, name, method):
        def run(*args, **kwargs):
            if not self.on:
                return method(*args, **kwargs)
            start = time.perf_counter()
            self.inner.append(0.0)
            try:
                out = method(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                self.seconds[name] += seconds - self.inner.pop()
                if self.inner:
                    self.inner[-1] += seconds
            if name in ("matmul", "_products"):      # (M, K) @ (K, N); Winograd's: 36 of them
                a, b = args[:2]
                self.flops += 2 * a.shape[-2] * a.shape[-1] * b.shape[-1] * (a.shape[0] if a.ndim == 3 else 1)
            return out
        return run


def sgemm_peak():
    """GFLOP/s of NumPy's float32 product of two 2048 x 2048 matrices, best of 5, the BLAS's own threads."""
    a = np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32)
    best = min(_seconds(lambda: a @ a) for _ in range(5))
    return 2 * 2048 ** 3 / best / 1e9


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    a = arguments()
    step, what = training_step(a.model, a.batch)
    timers = Timers(mc.get_backend("cpu"))
    totals, shares = [], collections.defaultdict(list)
    flops = 0
    for index in range(a.steps):
        timers.seconds.clear()
        timers.flops, timers.on = 0, True
        seconds = _seconds(step)
        timers.on = False
        if index < a.skip:
            continue
        totals.append(seconds)
        flops = timers.flops
        for category, methods in STEPS.items():
            shares[category].append(sum(timers.seconds[m] for m in methods))
        shares["the rest (elementwise, optimizer, Python)"].append(seconds - sum(timers.seconds.values()))
    peak = sgemm_peak()
    total = statistics.median(totals)
    matmul = statistics.median(shares["matrix products"])
    print(f"{what}, batch {a.batch}: {mc.get_num_threads()} threads; median step {1e3 * total:.1f} ms "
          f"(steps {a.skip + 1}-{a.steps})")
    print("| part of the step | ms (median) | share |")
    print("| --- | --- | --- |")
    for category, values in shares.items():
        ms = 1e3 * statistics.median(values)
        print(f"| {category} | {ms:.1f} | {ms / (1e3 * total):.0%} |")
    print(f"matrix products: {flops / 1e9:.2f} GFLOP a step (Winograd's as computed: up to 4x fewer than im2col's); "
          f"sgemm peak here {peak:.0f} GFLOP/s (2048^3); "
          f"the step reaches {flops / total / 1e9 / peak:.0%} of it, the products while they run "
          f"{flops / matmul / 1e9 / peak:.0%}; the floor at peak is {1e3 * flops / peak / 1e9:.1f} ms")


if __name__ == "__main__":
    main()
