"""How fast is minicnn's convolution, compared with the float32 matrix product it rests on?

    python benchmarks/conv_speed.py [--repeat 10]

For the three convolutions of the lecture-sized CNN (64x64 RGB input, batch 32,
32/64/128 filters of 3x3, padding "same") it times forward and forward+backward
and prints the achieved GFLOP/s next to what NumPy's float32 matmul reaches on a
square product of similar size, measured in the same run.
"""

import argparse
import time

import minicnn as mc
import numpy as np


LAYERS = [(3, 32, 64), (32, 64, 32), (64, 128, 16)]   # (in channels, filters, image side)


def median_seconds(fn, repeat):
    fn()                                    # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), float(np.min(times)), float(np.max(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    matmul_s, *_ = median_seconds(lambda: a @ a, args.repeat)
    matmul_gflops = 2 * 1024 ** 3 / matmul_s / 1e9
    print(f"numpy float32 matmul 1024^3: {matmul_gflops:.1f} GFLOP/s")
    print(f"{'layer':>18} {'pass':>9} {'median ms':>10} {'min-max ms':>14} {'GFLOP/s':>8} {'of matmul':>9}")
    for c, f, side in LAYERS:
        mc.manual_seed(0)
        x = mc.randn(args.batch, c, side, side, requires_grad=True)
        w = mc.randn(f, c, 3, 3, requires_grad=True)
        flops = 2 * args.batch * f * c * 9 * side * side      # one product; backward needs two more

        def forward(x=x, w=w):
            with mc.no_grad():
                mc.F.conv2d(x, w, padding="same")

        def train_step(x=x, w=w):
            mc.F.conv2d(x, w, padding="same").sum().backward()

        for name, fn, work in (("forward", forward, flops), ("fwd+bwd", train_step, 3 * flops)):
            med, low, high = median_seconds(fn, args.repeat)
            gflops = work / med / 1e9
            print(f"{f'{c}->{f} @ {side}x{side}':>18} {name:>9} {med * 1e3:10.1f} "
                  f"{f'{low * 1e3:.1f}-{high * 1e3:.1f}':>14} {gflops:8.1f} {gflops / matmul_gflops:9.0%}")


if __name__ == "__main__":
    main()
