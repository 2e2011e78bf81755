"""The sizes of sliding windows: padding amounts, output sizes, and undoing the padding.

Convolution and pooling both look at every KH x KW window of the input.
im2col copies those windows side by side, so a convolution becomes one
matrix product and a pooling one reduction; col2im, its adjoint, adds window
values back where they came from (the gradient). The copies themselves are
the backend's: backend/base.py writes them plainly (a loop over the KH * KW
kernel offsets, each one strided slice of the input), backend/cpu.py the same
numbers laid out for speed and shared between the cores. This module works
out how big the windows' frame and output are.
"""

import numbers


def pair(value, name):
    """An int or a pair of ints (NumPy's included, bools not) as a pair of Python ints."""
    def whole(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if whole(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(whole(v) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def padding_amounts(padding, in_size, kernel, stride):
    """Zero padding as ((top, bottom), (left, right)).

    `padding` is an int, a pair (rows, cols), "valid" (none) or "same"
    (Keras: output size ceil(n / stride); an odd total puts the extra row or
    column at the bottom or right).
    """
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        amounts = []
        for n, k, s in zip(in_size, kernel, stride):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            amounts.append((total // 2, total - total // 2))
        return tuple(amounts)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must not be negative, got {padding!r}")
    return ((ph, ph), (pw, pw))


def output_size(in_size, kernel, stride, pads, what):
    """floor((n + p_before + p_after - k) / s) + 1 for each spatial axis; an error below 1."""
    sizes = tuple((n + p0 + p1 - k) // s + 1 for n, k, s, (p0, p1) in zip(in_size, kernel, stride, pads))
    if min(sizes) < 1:
        raise ValueError(f"{what}: input of spatial size {tuple(in_size)} with kernel {tuple(kernel)}, "
                         f"padding {tuple(pads)} and stride {tuple(stride)} leaves an output of size "
                         f"{sizes}; use a smaller kernel or stride, or more padding")
    return sizes


def unpad2d(x, pads):
    """The inverse of padding by `pads`: the centre of x."""
    (top, bottom), (left, right) = pads
    h, w = x.shape[2], x.shape[3]
    return x[:, :, top:h - bottom, left:w - right]
