"""Dense layers' maths: flatten the feature maps, then y = x @ W + b."""

from ..tensor import Tensor


def linear(x, weight, bias=None):
    """x (N, in_features) @ weight (in_features, out_features) + bias (out_features,)."""
    if x.ndim < 1 or weight.ndim != 2 or x.shape[-1] != weight.shape[0]:
        raise ValueError(f"linear: x has shape {x.shape} and weight {weight.shape}; "
                         f"wanted x (N, in_features) and weight (in_features, out_features) "
                         f"with the same in_features")
    if bias is not None and bias.shape != (weight.shape[1],):
        raise ValueError(f"linear: bias has shape {bias.shape}, wanted ({weight.shape[1]},)")
    y = x @ weight
    return y if bias is None else y + bias


def flatten(x):
    """(N, ...) -> (N, product of the rest)."""
    if not isinstance(x, Tensor) or x.ndim < 1:
        raise ValueError(f"flatten: x must be a mc.Tensor of shape (N, ...), got {getattr(x, 'shape', x)!r}")
    return x.reshape(x.shape[0], -1)
