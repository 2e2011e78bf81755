"""Winograd's F(4x4, 3x3): a 3x3 convolution (stride 1) with 36 multiplications per 4x4 output tile
instead of 144, the CPU backend's fast path for the convolutions of a CNN's body.

Cut the padded input into 6x6 patches d that overlap by 2 (one per 4x4 tile of the output). For a
3x3 kernel g (already flipped: what multiplies each window, as in base.py's conv2d),

    output tile = A^T [ (G g G^T) * (B^T d B) ] A        (* elementwise, over the 6x6 positions)

(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016). It comes from
polynomial multiplication: 3 kernel taps and 4 values are the coefficients of polynomials of degree 2
and 3, whose product (6 coefficients: a "full" convolution) is fixed by its values at 6 points. There
G and A evaluate the two polynomials at the points (here 0, 1, -1, 1/2, -2 and infinity; these round
less in float32 than Lavin's 0, +-1, +-2: Barabasz et al., "Error analysis and improving the accuracy
of Winograd convolution", 2020), the elementwise product multiplies the values, and B interpolates
the product back. A CNN's convolution, 4 outputs from 6 inputs, is that computation's transpose, so
the roles swap: A^T (the points to the powers 0-3) and B^T (interpolation's) are what the formula
uses. Done along rows and then columns, the matrices act on both sides.

Summed over the input channels, each of the 36 positions is one matrix product, kernels (F, C) @
patches (C, tiles): 36 C multiply-adds per 4x4 tile (2.25 C per output value) where im2col's one
product has 9 C per value: 4 times less arithmetic, and no 9-fold copy of the input. The gradients
are the same steps run backwards (each step's transpose): the kernel's from the products dM @ V^T,
the input's from U^T @ dM, each 6x6 patch's gradient added back where the patch came from.

The price is rounding: the transforms multiply by up to 5/2 and 8 and add many terms, so a float32
result is off by a few roundings of the largest sum of |terms| in its tile (at most 4.2 over 30
random layers; benchmarks/RESULTS.md), a few parts in a million of the largest output nearby
(im2col: a few in ten million), the order of cuDNN's Winograd kernels on a GPU. Its transforms also
add and subtract inputs, so an infinite input would give inf - inf = NaN where the plain convolution
gives +-inf, and they grow values (up to 49 times in B^T d B), so a huge finite input can overflow
inside them: cpu.py computes a convolution with an infinite or NaN input, output or gradient by
im2col instead, and so gives base.py's numbers there.

The transforms are plain loops, compiled by numba (loops.compiled) when cpu.py runs them, over the
CPU's batch-last layout (C, H, W, N), the batch innermost, so each runs as SIMD over the images. Each
step of a transform is one line: six rows (or four) weighted by a row of the matrix, which comes in as
an argument in the data's dtype (a weight 0 adds an exact 0 to finite data; numba would compute a
float32 times a Python float in float64). They work on a strip of tiles side by side at a time, so
their inner loops run along whole rows. The numbers equal base.py's im2col convolution to float32
rounding (tests/test_backend_contract.py).
"""

import numpy as np

TILE, PATCH = 4, 6          # outputs per tile side; inputs per patch side (TILE + 3 - 1)
POSITIONS = PATCH * PATCH   # products per convolution

BT = np.array([[1, -3 / 2, -2, 3 / 2, 1, 0],          # row k: the coefficients of prod over the other
               [0, -1, 1 / 2, 5 / 2, 1, 0],           # finite points p of (x - p), 0 at all of them but
               [0, 1, -5 / 2, 1 / 2, 1, 0],           # k (its scale 1/prod(k - p) is in G); the last row:
               [0, -2, -1, 2, 1, 0],                  # prod over all five, for infinity
               [0, 1 / 2, -1, -1 / 2, 1, 0],
               [0, 1, -3 / 2, -2, 3 / 2, 1]])
G = np.array([[1, 0, 0],                              # row k: the kernel's polynomial at point k (0, 1,
              [1 / 3, 1 / 3, 1 / 3],                  # -1, 1/2, -2, infinity) divided by prod over the
              [-1 / 3, 1 / 3, -1 / 3],                # other points p of (k - p)
              [-16 / 15, -8 / 15, -4 / 15],
              [1 / 15, -2 / 15, 4 / 15],
              [0, 0, 1]])
AT = np.array([[1, 1, 1, 1, 1, 0],                    # row i: the points to the power i
               [0, 1, -1, 1 / 2, -2, 0],
               [0, 1, 1, 1 / 4, 4, 0],
               [0, 1, -1, 1 / 8, -8, 1]])


def tiles(size):
    """Output tiles along an axis of `size` outputs (the last one partly outside if 4 does not divide size)."""
    return -(-size // TILE)


def kernel_transform(kernel):
    """U = G g G^T for every (filter, channel): kernel (F, C, 3, 3) -> (36, F, C), position 6a + b, in float64
    and then rounded once to the kernel's dtype. U[a, b] = sum over i, j of G[a, i] G[b, j] g[i, j]: one product
    with the Kronecker product of G and G."""
    f, c = kernel.shape[:2]
    u = np.reshape(kernel, (f * c, 9)).astype(np.float64) @ np.kron(G, G).T        # (F*C, 36)
    return np.ascontiguousarray(np.reshape(u.T, (POSITIONS, f, c)).astype(kernel.dtype))


def kernel_transform_grad(g_u):
    """The transpose of kernel_transform: g_u (36, F, C) -> the kernel's gradient (F, C, 3, 3)."""
    f, c = g_u.shape[1:]
    g_kernel = np.reshape(g_u, (POSITIONS, f * c)).T.astype(np.float64) @ np.kron(G, G)      # (F*C, 9)
    return np.reshape(g_kernel, (f, c, 3, 3)).astype(g_u.dtype)


def input_transform(padded, bt, v, finite, start, stop):
    """v[6r + s, c, tile * N + n] = (B^T d B)[r, s] for the 6x6 patch d of padded (C, Hp, Wp, N) at rows
    4 ty .. 4 ty + 5, columns 4 tx .. 4 tx + 5 (tile = ty * tiles_w + tx); bt: B^T in padded's dtype.
    finite[c]: 0 if channel c holds only finite numbers, else NaN (d - d is NaN for an infinite or NaN d).
    Channels start .. stop - 1 (a thread's share: the arrays whole, so numba knows them contiguous).
    A strip of 6 rows at a time: B^T down its columns (shared by the patches side by side), then B^T along
    each patch's rows, the inner loops running along whole rows of the strip."""
    _, hp, wp, n_images = padded.shape
    tiles_h, tiles_w = (hp - 2) // TILE, (wp - 2) // TILE
    row, run = wp * n_images, tiles_w * n_images       # numbers in a row of padded; in a strip of v
    t, check = np.empty((PATCH, row), padded.dtype), np.empty(row, padded.dtype)
    columns = t.reshape(PATCH, wp, n_images)            # t by column and image (numba vectorises 3-D indexing)
    for c in range(start, stop):
        check[:] = 0.0
        rows = padded[c].reshape(hp, row)
        for ty in range(tiles_h):
            d0, d1, d2, d3, d4, d5 = rows[TILE * ty], rows[TILE * ty + 1], rows[TILE * ty + 2], \
                rows[TILE * ty + 3], rows[TILE * ty + 4], rows[TILE * ty + 5]
            for a in range(row):
                check[a] += (d0[a] - d0[a]) + (d1[a] - d1[a]) + (d2[a] - d2[a]) + (d3[a] - d3[a]) \
                    + (d4[a] - d4[a]) + (d5[a] - d5[a])
            for r in range(PATCH):              # t[r] = sum over i of B^T[r, i] d[i], down the strip's columns
                w0, w1, w2, w3, w4, w5 = bt[r, 0], bt[r, 1], bt[r, 2], bt[r, 3], bt[r, 4], bt[r, 5]
                for a in range(row):
                    t[r, a] = w0 * d0[a] + w1 * d1[a] + w2 * d2[a] + w3 * d3[a] + w4 * d4[a] + w5 * d5[a]
            first = ty * run
            for r in range(PATCH):              # v[r, s] = sum over j of t[r, j] B^T[s, j], along each patch's row
                for s in range(PATCH):
                    w0, w1, w2, w3, w4, w5 = bt[s, 0], bt[s, 1], bt[s, 2], bt[s, 3], bt[s, 4], bt[s, 5]
                    out = v[PATCH * r + s, c, first:first + run].reshape(tiles_w, n_images)
                    for tx in range(tiles_w):
                        z = TILE * tx                   # the patch's first column
                        for n in range(n_images):
                            out[tx, n] = w0 * columns[r, z, n] + w1 * columns[r, z + 1, n] \
                                + w2 * columns[r, z + 2, n] + w3 * columns[r, z + 3, n] \
                                + w4 * columns[r, z + 4, n] + w5 * columns[r, z + 5, n]
        finite[c] = check.sum()


def output_transform(m, at, bias, relu, out, finite, start, stop):
    """out[f, 4 ty + i, 4 tx + j, n] = (A^T M A)[i, j] + bias[f], clipped at 0 if relu, for the 36 products
    m (36, F, tiles * N); at: A^T in m's dtype; out (F, OH, OW, N) (where 4 does not divide OH or OW, the
    last tiles' rows or columns beyond it are left out). finite[f]: 0 if filter f's outputs (before the ReLU)
    are all finite, else NaN. Filters start .. stop - 1; a strip of tiles side by side at a time."""
    _, height, width, n_images = out.shape
    tiles_h, tiles_w = -(-height // TILE), -(-width // TILE)
    run = tiles_w * n_images
    t, check = np.empty((TILE, PATCH, run), m.dtype), np.empty(n_images, m.dtype)
    for f in range(start, stop):
        b = bias[f]
        check[:] = 0.0
        for ty in range(tiles_h):
            first = ty * run
            for s in range(PATCH):              # t[i, s] = sum over r of A^T[i, r] M[r, s]
                m0, m1, m2 = m[s, f, first:first + run], m[6 + s, f, first:first + run], m[12 + s, f, first:first + run]
                m3, m4, m5 = m[18 + s, f, first:first + run], m[24 + s, f, first:first + run], \
                    m[30 + s, f, first:first + run]
                for i in range(TILE):
                    w0, w1, w2, w3, w4, w5 = at[i, 0], at[i, 1], at[i, 2], at[i, 3], at[i, 4], at[i, 5]
                    for a in range(run):
                        t[i, s, a] = w0 * m0[a] + w1 * m1[a] + w2 * m2[a] + w3 * m3[a] + w4 * m4[a] + w5 * m5[a]
            for i in range(min(TILE, height - TILE * ty)):      # out[i, j] = sum over s of t[i, s] A^T[j, s]
                y = TILE * ty + i
                for j in range(TILE):
                    w0, w1, w2, w3, w4, w5 = at[j, 0], at[j, 1], at[j, 2], at[j, 3], at[j, 4], at[j, 5]
                    for tx in range(min(tiles_w, (width - j + TILE - 1) // TILE)):     # columns 4 tx + j < OW
                        z = TILE * tx + j
                        for n in range(n_images):
                            a = tx * n_images + n
                            value = w0 * t[i, 0, a] + w1 * t[i, 1, a] + w2 * t[i, 2, a] + w3 * t[i, 3, a] \
                                + w4 * t[i, 4, a] + w5 * t[i, 5, a] + b
                            check[n] += value - value
                            if relu:
                                value = value if (value > 0) | (value != value) else 0.0    # NaN kept
                            out[f, y, z, n] = value
        finite[f] = check.sum()


def output_transform_grad(g, relu_out, relu, at, g_m, g_bias, start, stop):
    """The transpose of output_transform: g_m[6r + s, f, tile * N + n] = (A g A^T)[r, s] for the 4x4 tile of
    g (F, OH, OW, N) (0 beyond OH or OW), g first passed back through the ReLU (0 where relu_out <= 0) if
    relu; and the bias's gradient, g_bias[f] = the sum of those g. at: A^T in g's dtype; filters start .. stop - 1."""
    _, height, width, n_images = g.shape
    tiles_h, tiles_w = -(-height // TILE), -(-width // TILE)
    run, row = tiles_w * n_images, TILE * tiles_w * n_images
    strip, t = np.zeros((TILE, row), g.dtype), np.empty((PATCH, row), g.dtype)
    columns = t.reshape(PATCH, TILE * tiles_w, n_images)
    sums = np.empty(width * n_images, np.float64)
    for f in range(start, stop):
        sums[:] = 0.0
        for ty in range(tiles_h):
            for i in range(TILE):               # the strip of g, through the ReLU, 0 beyond the output
                y = TILE * ty + i
                if y < height:
                    grads, outs = g[f, y].reshape(width * n_images), relu_out[f, y].reshape(width * n_images)
                    for a in range(width * n_images):
                        value = grads[a]
                        if relu and not outs[a] > 0:
                            value = 0.0
                        strip[i, a] = value
                        sums[a] += value
                else:
                    strip[i, :] = 0.0
            for r in range(PATCH):              # t[r] = sum over i of A^T[i, r] g[i], down the strip's columns
                w0, w1, w2, w3 = at[0, r], at[1, r], at[2, r], at[3, r]
                for a in range(row):
                    t[r, a] = w0 * strip[0, a] + w1 * strip[1, a] + w2 * strip[2, a] + w3 * strip[3, a]
            first = ty * run
            for r in range(PATCH):              # g_m[r, s] = sum over j of t[r, j] A^T[j, s], along each tile's row
                for s in range(PATCH):
                    w0, w1, w2, w3 = at[0, s], at[1, s], at[2, s], at[3, s]
                    out = g_m[PATCH * r + s, f, first:first + run].reshape(tiles_w, n_images)
                    for tx in range(tiles_w):
                        z = TILE * tx
                        for n in range(n_images):
                            out[tx, n] = w0 * columns[r, z, n] + w1 * columns[r, z + 1, n] \
                                + w2 * columns[r, z + 2, n] + w3 * columns[r, z + 3, n]
        g_bias[f] = sums.sum()


def input_transform_grad(g_v, bt, tiles_w, top, left, g_x, finite, start, stop):
    """The transpose of input_transform: each patch's B g_v B^T added into g_x (C, H, W, N), which starts at 0,
    where the patch lies on the input (the frame of `top` rows and `left` columns round it gets nothing);
    overlapping patches add up. bt: B^T in g_v's dtype; tiles_w: tiles in a row; channels start .. stop - 1.
    finite[c]: 0 if channel c's gradient is all finite, else NaN."""
    _, height, width, n_images = g_x.shape
    tiles_h = g_v.shape[2] // (tiles_w * n_images)
    run = tiles_w * n_images                        # a strip of g_v
    t = np.empty((PATCH, TILE * tiles_w + 2, n_images), g_v.dtype)     # by framed column and image
    for c in range(start, stop):
        for ty in range(tiles_h):
            first = ty * run
            t[:] = 0.0
            for r in range(PATCH):              # t[r, j] = sum over s of g_v[r, s] B^T[s, j], overlaps added
                p = PATCH * r
                v0, v1, v2 = g_v[p, c, first:first + run].reshape(tiles_w, n_images), \
                    g_v[p + 1, c, first:first + run].reshape(tiles_w, n_images), \
                    g_v[p + 2, c, first:first + run].reshape(tiles_w, n_images)
                v3, v4, v5 = g_v[p + 3, c, first:first + run].reshape(tiles_w, n_images), \
                    g_v[p + 4, c, first:first + run].reshape(tiles_w, n_images), \
                    g_v[p + 5, c, first:first + run].reshape(tiles_w, n_images)
                for j in range(PATCH):
                    w0, w1, w2, w3, w4, w5 = bt[0, j], bt[1, j], bt[2, j], bt[3, j], bt[4, j], bt[5, j]
                    for tx in range(tiles_w):
                        z = TILE * tx + j
                        for n in range(n_images):
                            t[r, z, n] += w0 * v0[tx, n] + w1 * v1[tx, n] + w2 * v2[tx, n] \
                                + w3 * v3[tx, n] + w4 * v4[tx, n] + w5 * v5[tx, n]
            for i in range(PATCH):              # g_x[i] += sum over r of B^T[r, i] t[r], where row i lies on x
                y = TILE * ty + i - top
                if 0 <= y < height:
                    w0, w1, w2, w3, w4, w5 = bt[0, i], bt[1, i], bt[2, i], bt[3, i], bt[4, i], bt[5, i]
                    for z in range(width):
                        for n in range(n_images):
                            b = z + left
                            g_x[c, y, z, n] += w0 * t[0, b, n] + w1 * t[1, b, n] + w2 * t[2, b, n] \
                                + w3 * t[3, b, n] + w4 * t[4, b, n] + w5 * t[5, b, n]
        check = 0.0
        for y in range(height):             # (once the channel is whole: its values are in cache)
            for z in range(width):
                for n in range(n_images):
                    check += g_x[c, y, z, n] - g_x[c, y, z, n]
        finite[c] = check
