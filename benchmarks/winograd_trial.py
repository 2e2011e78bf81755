"""Winograd F(2x2, 3x3) in NumPy against im2col + one product, for two of CATSDOGS-64's convolutions.

    python benchmarks/winograd_trial.py

Winograd needs 16 multiplications per 2x2 output tile where the direct sum needs 36 (2.25x fewer),
but in NumPy its input and output transforms are a dozen passes over memory and its 16 products are
thin (K = C). This times both ways of computing the same forward convolution (batch-last layout,
the backend's), after checking that they agree; the transforms run on one thread, the products on
the BLAS's threads. Issue 19 tried it as a lever; RESULTS.md says what came of it.
"""

import statistics
import time

import numpy as np

import minicnn as mc

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)


def winograd(padded, w):
    """Cross-correlation of padded (C, H + 2, W + 2, N) with w (F, C, 3, 3), H and W even: (F, H, W, N)."""
    c, hp, wp, n = padded.shape
    f = w.shape[0]
    th, tw = (hp - 2) // 2, (wp - 2) // 2
    u = np.einsum("ai,fcij,bj->abfc", G, w, G).reshape(16, f, c)        # G w G^T per kernel
    d = [padded[:, i:i + 2 * th:2] for i in range(4)]
    rows = [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]]          # B^T d ...
    v = np.empty((4, 4, c, th, tw, n), np.float32)
    for a, r in enumerate(rows):                                          # ... B
        e = [r[:, :, j:j + 2 * tw:2] for j in range(4)]
        np.subtract(e[0], e[2], out=v[a, 0])
        np.add(e[1], e[2], out=v[a, 1])
        np.subtract(e[2], e[1], out=v[a, 2])
        np.subtract(e[1], e[3], out=v[a, 3])
    m = np.matmul(u, v.reshape(16, c, th * tw * n)).reshape(4, 4, f, th, tw, n)
    out = np.empty((f, 2 * th, 2 * tw, n), np.float32)
    for y, r in enumerate((m[0] + m[1] + m[2], m[1] - m[2] - m[3])):     # A^T m A
        out[:, y::2, 0::2] = r[0] + r[1] + r[2]
        out[:, y::2, 1::2] = r[1] - r[2] - r[3]
    return out


def median_ms(fn, repeat=11):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    cpu = mc.get_backend("cpu")
    rng = np.random.default_rng(0)
    print("| convolution (batch 32) | im2col + product ms | Winograd F(2x2, 3x3) ms | largest difference |")
    print("| --- | --- | --- | --- |")
    for c, side, f in [(32, 32, 64), (64, 16, 128)]:
        print(trial(cpu, rng, c, side, f))


def trial(cpu, rng, c, side, f):
    x = rng.normal(size=(32, c, side, side)).astype(np.float32)
    w = rng.normal(size=(f, c, 3, 3)).astype(np.float32)
    padded = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(1, 2, 3, 0))

    def direct():
        cols = cpu.im2col(x, (3, 3), (1, 1), (side, side), ((1, 1), (1, 1)))
        return cpu.matmul(w.reshape(f, -1), cols.reshape(c * 9, -1)).reshape(f, side, side, 32)
    reference = direct()
    error = np.abs(winograd(padded, w) - reference).max() / np.abs(reference).max()
    return (f"| {c} -> {f} channels, {side} x {side} | {median_ms(direct):.1f} | "
            f"{median_ms(lambda: winograd(padded, w)):.1f} | {error:.1e} of the largest output |")

if __name__ == "__main__":
    main()
