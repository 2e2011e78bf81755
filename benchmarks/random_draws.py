"""The price of a training step's random draws: dropout masks drawn on the host and copied, or computed
on the device by minicnn's counter-based generator (minicnn/random.py).

    python benchmarks/random_draws.py                  # the CPU; and the GPU too where CuPy works
    python benchmarks/random_draws.py --batches 32 128 512 --repeats 50

For the benchmark models' Dropout(0.5) on 8192 features (benchmarks/models.py), per batch:
  host PCG64   what minicnn did before: NumPy's generator on the host, `u >= rate` as booleans
               (plus, on a GPU, the copy of those booleans to the device, timed there);
  counter      minicnn.random.at_least_on(backend, shape, rate), dropout's mask, on the device itself
               (the CPU's NumPy, or the GPU): SplitMix64 of a counter, nine operations on uint64
               (on the CPU in place, on cache-sized shares, on minicnn's threads).
Medians of --repeats draws, after one; the GPU's synchronised after each draw.
"""

import argparse
import statistics
import time

import numpy as np

import minicnn as mc
from minicnn import random


def median_ms(draw, sync, repeats):
    draw()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--features", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    devices = ["cpu"] + (["gpu"] if mc.gpu_available() else [])
    print("| device | batch | mask MB | host PCG64 ms | + copy to the device ms | counter on the device ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for device in devices:
        backend = mc.get_backend(device)
        sync = backend.xp.cuda.Device().synchronize if device == "gpu" else (lambda: None)
        for batch in args.batches:
            shape = (batch, args.features)
            host = median_ms(lambda s=shape: random.uniform(s) >= 0.5, lambda: None, args.repeats)
            copied = median_ms(lambda b=backend, s=shape: b.from_host(random.uniform(s) >= 0.5), sync,
                               args.repeats) if device == "gpu" else host
            counter = median_ms(lambda b=backend, s=shape: random.at_least_on(b, s, 0.5), sync, args.repeats)
            print(f"| {device} | {batch} | {np.prod(shape) / 2**20:.2f} | {host:.2f} | "
                  f"{copied:.2f} | {counter:.2f} |", flush=True)


if __name__ == "__main__":
    main()
