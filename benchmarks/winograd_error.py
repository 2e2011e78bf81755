"""How far the CPU's Winograd F(4x4, 3x3) rounds from the exact convolution, in float32.

    python benchmarks/winograd_error.py

1. The CPU backend's convolution (Winograd from 16 input channels) on 30 random layers (16-64
   channels, 3-19 px, N(0, 1) data, padding 1) against base.py's in float64: the largest forward
   error as a share of the largest output and in roundings (float32 eps) of the largest sum of |terms|,
   and the gradients' largest error as a share of the largest gradient.
2. Why the points 0, 1, -1, 1/2, -2: the same algorithm in NumPy with Toom-Cook matrices for other
   points (one layer, C = 32, 32x32), its largest float32 error as a share of the largest output,
   beside F(2x2, 3x3)'s and im2col's.
"""

import numpy as np
from numpy.polynomial import polynomial

from minicnn.backend import base
from minicnn.backend.cpu import NumpyBackend


def random_layers(count=30, seed=1):
    cpu, plain, rng = NumpyBackend(), base.Backend("cpu", np), np.random.default_rng(seed)
    forward = roundings = backward = 0.0
    for _ in range(count):
        n, c, f = rng.integers(1, 4), rng.integers(16, 65), rng.integers(1, 9)
        h, w = rng.integers(3, 20, 2)
        x, k = (rng.standard_normal(shape).astype(np.float32) for shape in ((n, c, h, w), (f, c, 3, 3)))
        pads = ((1, 1), (1, 1))
        out, saved = cpu.conv2d(x, k, (1, 1), pads)
        exact, exact_saved = plain.conv2d(x.astype(np.float64), k.astype(np.float64), (1, 1), pads)
        magnitude, _ = plain.conv2d(np.abs(x).astype(np.float64), np.abs(k).astype(np.float64), (1, 1), pads)
        error = np.abs(out - exact).max()
        forward = max(forward, error / np.abs(exact).max())
        roundings = max(roundings, error / (np.finfo(np.float32).eps * magnitude.max()))
        g = rng.standard_normal(out.shape).astype(np.float32)
        for mine, theirs in zip(cpu.conv2d_grads(saved, g), plain.conv2d_grads(exact_saved, g.astype(np.float64))):
            backward = max(backward, np.abs(mine - theirs).max() / np.abs(theirs).max())
    print(f"{count} random layers: forward error <= {forward:.2g} of the largest output, {roundings:.2g} roundings "
          f"of the largest sum of |terms|; gradients <= {backward:.2g} of the largest gradient")


def toom_cook(points, m, r=3):
    """B^T, G, A^T of F(m, r) for the finite `points` (m + r - 2 of them) and infinity."""
    n = m + r - 1
    bt, g, at = np.zeros((n, n)), np.zeros((n, r)), np.zeros((m, n))
    for j, p in enumerate(points):
        others = [q for q in points if q != p]
        at[:, j] = [p ** i for i in range(m)]
        g[j] = [p ** i / np.prod([p - q for q in others]) for i in range(r)]
        bt[j, :n - 1] = polynomial.polyfromroots(others)
    at[m - 1, n - 1] = g[n - 1, r - 1] = 1
    bt[n - 1] = polynomial.polyfromroots(points)
    return bt, g, at


def winograd_numpy(x, k, bt, g, at):
    """Winograd's convolution of x (C, H, W) by k (F, C, 3, 3), valid, every step rounded to float32."""
    m, a = at.shape
    tiles = (x.shape[1] - 2) // m, (x.shape[2] - 2) // m
    bt, g, at, x, k = (np.asarray(v, np.float32) for v in (bt, g, at, x, k))
    u = np.einsum("ai,fcij,bj->abfc", g, k, g)
    d = np.stack([np.stack([x[:, ty * m:ty * m + a, tx * m:tx * m + a] for tx in range(tiles[1])], 1)
                  for ty in range(tiles[0])], 1)                                     # (C, ty, tx, a, a)
    v = np.einsum("ri,cyxij,sj->rscyx", bt, d, bt)
    products = np.einsum("rsfc,rscyx->rsfyx", u, v)
    y = np.einsum("ir,rsfyx,js->fyixj", at, products, at)
    return y.reshape(k.shape[0], tiles[0] * m, tiles[1] * m)


def points_compared(seed=0):
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal((32, 34, 34)), rng.standard_normal((8, 32, 3, 3))
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))       # (C, 32, 32, 3, 3)
    exact = np.einsum("cyxij,fcij->fyx", windows, k)
    im2col = np.einsum("cyxij,fcij->fyx", windows.astype(np.float32), k.astype(np.float32))
    print(f"im2col in float32: {np.abs(im2col - exact).max() / np.abs(exact).max():.2g} of the largest output")
    for name, points, m in [("F(2x2, 3x3), 0 +-1", [0, 1, -1], 2),
                            ("F(4x4, 3x3), Lavin's 0 +-1 +-2", [0, 1, -1, 2, -2], 4),
                            ("F(4x4, 3x3), minicnn's 0 +-1 1/2 -2", [0, 1, -1, 0.5, -2], 4),
                            ("F(4x4, 3x3), 0 +-1 +-1/2", [0, 1, -1, 0.5, -0.5], 4)]:
        y = winograd_numpy(x, k, *toom_cook(points, m))
        print(f"{name}: {np.abs(y - exact).max() / np.abs(exact).max():.2g} of the largest output")


if __name__ == "__main__":
    random_layers()
    points_compared()
