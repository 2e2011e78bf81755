"""Reading images between their pixels: bilinear sampling with Keras' fill modes.

Rotation, zoom and resizing all ask the same question: for each output pixel,
which point (y, x) of the input does it show? `sample` answers it for a whole
batch at once: the four pixels around each point, weighted by how close they
are. Points outside the image are first brought back in by the fill mode, as
Keras (TensorFlow's image transforms) does:

    reflect   d c b a | a b c d | d c b a     (mirror, edge pixel repeated)
    wrap      a b c d | a b c d | a b c d
    nearest   a a a a | a b c d | d d d d
    constant  k k k k | a b c d | k k k k     (k = fill_value)

Everything runs with the array module of the images' device.
"""

FILL_MODES = ("reflect", "wrap", "nearest", "constant")


def sample(backend, images, ys, xs, fill_mode="reflect", fill_value=0.0):
    """images (N, C, H, W) read at points ys, xs (N, OH, OW): (N, C, OH, OW), bilinear."""
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    xp = backend.xp
    n, c, h, w = images.shape
    oh, ow = ys.shape[1], ys.shape[2]
    ys, xs = _bring_in(xp, ys, h, fill_mode), _bring_in(xp, xs, w, fill_mode)
    y0, x0 = xp.floor(ys), xp.floor(xs)
    wy, wx = ys - y0, xs - x0
    flat_images = xp.reshape(images, (n, c, h * w))
    out, covered = None, None
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        yi, xi = y0 + dy, x0 + dx
        weight = (wy if dy else 1.0 - wy) * (wx if dx else 1.0 - wx)
        if fill_mode == "constant":          # a neighbour outside the image counts as fill_value
            inside = (yi >= 0) & (yi <= h - 1) & (xi >= 0) & (xi <= w - 1)
            weight = weight * xp.astype(inside, weight.dtype)
            covered = weight if covered is None else covered + weight
        if fill_mode == "wrap":              # between the last pixel and the first, as between any two
            yi, xi = yi - h * xp.floor(yi / h), xi - w * xp.floor(xi / w)
        index = xp.astype(xp.clip(yi, 0, h - 1) * w + xp.clip(xi, 0, w - 1), xp.int64)
        index = xp.broadcast_to(xp.reshape(index, (n, 1, oh * ow)), (n, c, oh * ow))
        values = xp.reshape(xp.take_along_axis(flat_images, index, axis=2), (n, c, oh, ow))
        term = values * xp.expand_dims(weight, axis=1)
        out = term if out is None else out + term
    if fill_mode == "constant" and fill_value:
        out = out + fill_value * xp.expand_dims(1.0 - covered, axis=1)
    return out


def _bring_in(xp, coords, size, mode):
    """Coordinates outside [0, size - 1] mapped inside by the fill mode (constant and wrap: left as they
    are; sample wraps each of the four neighbours, since between the last pixel and the first lies a seam)."""
    if mode == "nearest":
        return xp.clip(coords, 0, size - 1)
    if mode == "reflect":
        period = 2 * size                                    # a b c d d c b a, then again
        folded = coords - period * xp.floor(coords / period)
        folded = xp.where(folded > size - 1, period - 1 - folded, folded)
        return xp.clip(folded, 0, size - 1)
    return coords
