"""Winograd's F(2x2, 3x3): a 3x3 convolution (stride 1) with 16 multiplications per 2x2 output tile
instead of 36, the CPU backend's fast path for the convolutions of a CNN's body.

Cut the padded input into 4x4 patches d that overlap by 2 (one per 2x2 tile of the output). For a
3x3 kernel g (already flipped: what multiplies each window, as in base.py's conv2d),

    output tile = A^T [ (G g G^T) * (B^T d B) ] A        (* elementwise, over the 4x4 positions)

    B^T = [[1, 0, -1,  0],     G = [[1,    0,   0],     A^T = [[1, 1,  1,  0],
           [0, 1,  1,  0],          [1/2,  1/2, 1/2],          [0, 1, -1, -1]]
           [0, -1, 1,  0],          [1/2, -1/2, 1/2],
           [0, 1,  0, -1]]          [0,    0,   1]]

(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016). Summed over the
input channels, each of the 16 positions is one matrix product, kernels (F, C) @ patches (C, tiles):
16 products of C multiply-adds per 2x2 tile (4 C per output value), where im2col's one product has
9 C per value: 2.25 times less arithmetic, and no 9-fold copy of the input. The gradients are the same
steps run backwards (each step's transpose): the kernel's from the products dM @ V^T, the input's
from U^T @ dM, each 4x4 patch's gradient added back where the patch came from.

Its transforms add and subtract inputs, so an infinite input would give inf - inf = NaN where the
plain convolution gives +-inf: cpu.py computes a convolution with an infinite or NaN input (or
gradient) by im2col instead, and so gives base.py's numbers there too.

The transforms are plain loops, compiled by numba (loops.compiled) when cpu.py runs them, over the
CPU's batch-last layout (C, H, W, N), the batch innermost, so each runs as SIMD over the images. The
numbers equal base.py's im2col convolution to float32 rounding (tests/test_backend_contract.py).
"""

import numpy as np

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float64)   # B^T and A^T: in the loops


def tiles(size):
    """Output tiles along an axis of `size` outputs (the last one half outside if size is odd)."""
    return -(-size // 2)


def kernel_transform(kernel):
    """U = G g G^T for every (filter, channel): kernel (F, C, 3, 3) -> (16, F, C), position 4a + b.
    U[a, b] = sum over i, j of G[a, i] G[b, j] g[i, j]: one product with the Kronecker product of G and G."""
    f, c = kernel.shape[:2]
    u = np.reshape(kernel, (f * c, 9)) @ np.kron(G, G).T.astype(kernel.dtype)        # (F*C, 16)
    return np.ascontiguousarray(np.reshape(u.T, (16, f, c)))


def kernel_transform_grad(g_u):
    """The transpose of kernel_transform: g_u (16, F, C) -> the kernel's gradient (F, C, 3, 3)."""
    f, c = g_u.shape[1:]
    g_kernel = np.reshape(g_u, (16, f * c)).T @ np.kron(G, G).astype(g_u.dtype)       # (F*C, 9)
    return np.reshape(g_kernel, (f, c, 3, 3))


def input_transform(padded, v, finite, scratch):
    """v[4r + s, c, tile * N + n] = (B^T d B)[r, s] for the 4x4 patch d of padded (C, Hp, Wp, N) at rows
    2 ty .. 2 ty + 3, columns 2 tx .. 2 tx + 3 (tile = ty * tiles_w + tx). finite[c]: 0 if channel c holds
    only finite numbers, else NaN (d - d is NaN for an infinite or NaN d). scratch: (5, 4, N)."""
    channels, n_images = padded.shape[0], padded.shape[3]
    tiles_h, tiles_w = (padded.shape[1] - 2) // 2, (padded.shape[2] - 2) // 2
    t, check = scratch[:4], scratch[4, 0]
    for c in range(channels):
        check[:] = 0.0
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                y, z, first = 2 * ty, 2 * tx, (ty * tiles_w + tx) * n_images
                for s in range(4):          # B^T d: rows combined, one column of the patch at a time
                    for n in range(n_images):
                        d0, d1 = padded[c, y, z + s, n], padded[c, y + 1, z + s, n]
                        d2, d3 = padded[c, y + 2, z + s, n], padded[c, y + 3, z + s, n]
                        t[0, s, n], t[1, s, n], t[2, s, n], t[3, s, n] = d0 - d2, d1 + d2, d2 - d1, d1 - d3
                        check[n] += (d0 - d0) + (d1 - d1) + (d2 - d2) + (d3 - d3)
                for r in range(4):          # (B^T d) B: columns combined, one row at a time
                    for n in range(n_images):
                        t0, t1, t2, t3 = t[r, 0, n], t[r, 1, n], t[r, 2, n], t[r, 3, n]
                        v[4 * r, c, first + n] = t0 - t2
                        v[4 * r + 1, c, first + n] = t1 + t2
                        v[4 * r + 2, c, first + n] = t2 - t1
                        v[4 * r + 3, c, first + n] = t1 - t3
        finite[c] = check.sum()


def output_transform(m, bias, relu, out, scratch):
    """out[f, 2 ty + i, 2 tx + j, n] = (A^T M A)[i, j] + bias[f], clipped at 0 if relu, for the 16 products
    m (16, F, tiles * N); out (F, OH, OW, N) (an odd OH or OW leaves the last tiles' second row or column
    out). scratch: (2, 4, N)."""
    filters, height, width, n_images = out.shape
    tiles_h, tiles_w = -(-height // 2), -(-width // 2)
    t = scratch
    for f in range(filters):
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                first = (ty * tiles_w + tx) * n_images
                for s in range(4):          # A^T M: rows combined
                    for n in range(n_images):
                        m0, m1, m2, m3 = m[s, f, first + n], m[4 + s, f, first + n], \
                            m[8 + s, f, first + n], m[12 + s, f, first + n]
                        t[0, s, n], t[1, s, n] = m0 + m1 + m2, m1 - m2 - m3
                for i in range(min(2, height - 2 * ty)):       # (A^T M) A: columns combined
                    for j in range(min(2, width - 2 * tx)):
                        for n in range(n_images):
                            t0, t1, t2, t3 = t[i, 0, n], t[i, 1, n], t[i, 2, n], t[i, 3, n]
                            value = (t0 + t1 + t2 if j == 0 else t1 - t2 - t3) + bias[f]
                            if relu:
                                value = value if (value > 0) | (value != value) else 0.0    # NaN kept
                            out[f, 2 * ty + i, 2 * tx + j, n] = value


def output_transform_grad(g, relu_out, relu, g_m, g_bias, scratch, sums):
    """The transpose of output_transform: g_m[4r + s, f, tile * N + n] = (A g A^T)[r, s] for the 2x2 tile of
    g (F, OH, OW, N) (0 beyond OH or OW), g first passed back through the ReLU (0 where relu_out <= 0) if
    relu; and the bias's gradient, g_bias[f] = the sum of those g. scratch: (4, 2, N); sums: float64 (N,)."""
    filters, height, width, n_images = g.shape
    tiles_h, tiles_w = -(-height // 2), -(-width // 2)
    t = scratch
    for f in range(filters):
        sums[:] = 0.0
        for ty in range(tiles_h):
            for tx in range(tiles_w):
                first = (ty * tiles_w + tx) * n_images
                for j in range(2):          # A g: rows spread, one column of the tile at a time
                    z = 2 * tx + j
                    for n in range(n_images):
                        g0 = g1 = 0.0
                        if z < width:
                            g0 = g[f, 2 * ty, z, n]
                            if relu and not relu_out[f, 2 * ty, z, n] > 0:
                                g0 = 0.0
                            if 2 * ty + 1 < height:
                                g1 = g[f, 2 * ty + 1, z, n]
                                if relu and not relu_out[f, 2 * ty + 1, z, n] > 0:
                                    g1 = 0.0
                        sums[n] += g0 + g1
                        t[0, j, n], t[1, j, n], t[2, j, n], t[3, j, n] = g0, g0 + g1, g0 - g1, -g1
                for r in range(4):          # (A g) A^T: columns spread
                    for n in range(n_images):
                        t0, t1 = t[r, 0, n], t[r, 1, n]
                        g_m[4 * r, f, first + n] = t0
                        g_m[4 * r + 1, f, first + n] = t0 + t1
                        g_m[4 * r + 2, f, first + n] = t0 - t1
                        g_m[4 * r + 3, f, first + n] = -t1
        g_bias[f] = sums.sum()


def input_transform_grad(g_v, tiles_w, top, left, g_x, scratch):
    """The transpose of input_transform: each patch's B g_v B^T added into g_x (C, H, W, N), which starts at 0,
    where the patch lies on the input (the frame of `top` rows and `left` columns round it gets nothing);
    overlapping patches add up. tiles_w: tiles in a row. scratch: (5, 4, N)."""
    channels, height, width, n_images = g_x.shape
    t, spread = scratch[:4], scratch[4]
    for c in range(channels):
        for tile in range(g_v.shape[2] // n_images):
            y, z, first = 2 * (tile // tiles_w) - top, 2 * (tile % tiles_w) - left, tile * n_images
            for s in range(4):          # B g_v: rows spread
                for n in range(n_images):
                    v0, v1 = g_v[s, c, first + n], g_v[4 + s, c, first + n]
                    v2, v3 = g_v[8 + s, c, first + n], g_v[12 + s, c, first + n]
                    t[0, s, n], t[1, s, n], t[2, s, n], t[3, s, n] = v0, v1 - v2 + v3, v1 + v2 - v0, -v3
            for r in range(4):          # (B g_v) B^T: columns spread, added where the patch lies on x
                if 0 <= y + r < height:
                    for n in range(n_images):
                        t0, t1, t2, t3 = t[r, 0, n], t[r, 1, n], t[r, 2, n], t[r, 3, n]
                        spread[0, n], spread[1, n], spread[2, n], spread[3, n] = \
                            t0, t1 - t2 + t3, t1 + t2 - t0, -t3
                    for s in range(4):
                        if 0 <= z + s < width:
                            for n in range(n_images):
                                g_x[c, y + r, z + s, n] += spread[s, n]
