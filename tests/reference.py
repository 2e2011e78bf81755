"""Independent references, in float64: scipy.signal and plain loops over every output value."""

import numpy as np
from scipy import signal


def pad(x, pads, value=0.0):
    (top, bottom), (left, right) = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def conv2d_scipy(x, w, b, stride, pads):
    """Per sample and filter: sum over channels of scipy's true 2-D convolution, then stride."""
    xp = pad(np.asarray(x, np.float64), pads)
    w = np.asarray(w, np.float64)
    (sh, sw) = stride
    out = []
    for sample in xp:
        maps = [sum(signal.convolve2d(sample[c], w[f, c], mode="valid") for c in range(w.shape[1]))
                for f in range(w.shape[0])]
        out.append(np.stack(maps)[:, ::sh, ::sw])
    out = np.stack(out)
    return out if b is None else out + np.asarray(b, np.float64)[None, :, None, None]


def conv2d_loop(x, w, b, stride, pads):
    """Y[n, f, i, j] = sum_{c, k1, k2} Xpad[n, c, i*s + k1, j*s + k2] * W[f, c, KH-1-k1, KW-1-k2]."""
    xp = pad(np.asarray(x, np.float64), pads)
    w = np.asarray(w, np.float64)
    n, c, h, wd = xp.shape
    f, _, kh, kw = w.shape
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, f, oh, ow))
    for s in range(n):
        for o in range(f):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for ch in range(c):
                        for k1 in range(kh):
                            for k2 in range(kw):
                                total += xp[s, ch, i * sh + k1, j * sw + k2] * w[o, ch, kh - 1 - k1, kw - 1 - k2]
                    out[s, o, i, j] = total + (0.0 if b is None else b[o])
    return out


def pool2d_loop(x, kernel, stride, pads, mode):
    """Max or mean over the real (non-padding) cells of each window, and where the max came from."""
    x = np.asarray(x, np.float64)
    xp = pad(x, pads, np.nan)
    n, c, h, w = xp.shape
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    first_max = np.zeros((n, c, oh, ow, 2), dtype=int)   # position in the padded input
    for s in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    window = xp[s, ch, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    if mode == "max":
                        out[s, ch, i, j] = np.nanmax(window)
                        k = np.nanargmax(window)          # first maximum, row by row
                        first_max[s, ch, i, j] = (i * sh + k // kw, j * sw + k % kw)
                    else:
                        out[s, ch, i, j] = np.nanmean(window)
    return out, first_max


def max_pool2d_grad_loop(x_shape, g, first_max, pads):
    """Each output's gradient added to the input cell that was its first maximum."""
    (top, _), (left, _) = pads
    grad = np.zeros(x_shape)
    n, c, oh, ow = g.shape
    for s in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    r, q = first_max[s, ch, i, j]
                    grad[s, ch, r - top, q - left] += g[s, ch, i, j]
    return grad
