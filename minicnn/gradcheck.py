"""mc.gradcheck: compare backward() with central differences, in float64.

For a function f and a fixed random direction v, the gradient of sum(f(x) * v)
computed by autograd must match

    (sum(f(x + eps e_k) * v) - sum(f(x - eps e_k) * v)) / (2 eps)

for every element k of every input. Students use it to check their own ops.
"""

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, tensor


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-6, rtol=1e-4):
    """True if fn's analytic gradients match numerical ones; raises GradcheckError otherwise.

    `inputs` are passed to fn (non-tensors as they are). The floating tensors
    that require grad are checked, or all floating tensors if none does. fn
    must be deterministic: reseed with mc.manual_seed inside it if it draws
    random numbers (dropout). The defaults, tighter than PyTorch's gradcheck (atol 1e-5, rtol 1e-3),
    catch a gradient that is 0.05% wrong: in float64 central differences are good to about 1e-9.
    """
    args = [_float64_copy(a) for a in inputs]
    floats = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.dtype.kind == "f"]
    checked = [i for i in floats if inputs[i].requires_grad] or floats
    if not checked:
        raise ValueError("gradcheck: no floating-point tensor among the inputs")
    for i in checked:
        args[i].requires_grad = True

    out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a mc.Tensor, got {type(out).__name__}")
    direction = np.random.Generator(np.random.PCG64(12345)).standard_normal(out.shape)
    out.backward(tensor(direction, dtype="float64", device=out.device))

    def projected():
        with no_grad():
            return float(np.sum(fn(*args).numpy() * direction))

    for i in checked:
        x = args[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        host = x.numpy()
        numeric = np.zeros(host.shape)
        for k in np.ndindex(host.shape):
            original = host[k]
            host[k] = original + eps
            x.data = x.backend.from_host(host)
            plus = projected()
            host[k] = original - eps
            x.data = x.backend.from_host(host)
            minus = projected()
            host[k] = original
            numeric[k] = (plus - minus) / (2 * eps)
        x.data = x.backend.from_host(host)
        error = np.abs(analytic - numeric)
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any():
            k = tuple(int(j) for j in np.argwhere(bad)[0])
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}) at index {k}: analytic {analytic[k]:.8g}, "
                f"numeric {numeric[k]:.8g}; {int(bad.sum())} of {bad.size} elements differ "
                f"(largest error {error.max():.3g})")
    return True


def _float64_copy(value):
    if isinstance(value, Tensor) and value.dtype.kind == "f":
        return tensor(value, dtype="float64")
    return value
