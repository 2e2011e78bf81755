"""Shared strategies and small utilities for the tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc

# float32 values that keep products and sums well inside float32's range
finite32 = st.floats(-10, 10, width=32, allow_nan=False, allow_subnormal=False)


def arrays(shape, elements=finite32, dtype=np.float32):
    return hnp.arrays(dtype, shape, elements=elements)


def on(device, array, requires_grad=False, dtype=None):
    """A tensor on `device` holding `array`."""
    return mc.tensor(array, requires_grad=requires_grad, dtype=dtype, device=device)


@st.composite
def distinct_arrays(draw, shape, spacing=0.1):
    """float32 arrays of `shape` whose entries all differ by at least `spacing` (no ties)."""
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    return ((np.array(order, dtype=np.float32).reshape(shape) - size / 2) * spacing).astype(np.float32)


FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


def gamma(n):
    """Higham's gamma_n = n u / (1 - n u) for float32 (u = 2**-24): a float32 sum of n terms, added in
    any order, lies within gamma_n * sum(|terms|) of the exact sum (Higham, Accuracy and Stability of
    Numerical Algorithms, 2nd ed., section 4.2). cuBLAS and CUB add in other orders than OpenBLAS and
    NumPy; this bound holds for all of them, so two devices differ by at most 2 gamma_n sum(|terms|)."""
    nu = n * FLOAT32_UNIT_ROUNDOFF
    return nu / (1 - nu)


def float32_training_rtol(reduction_sizes, steps):
    """How far two devices' float32 trainings of one network may drift apart, relative to the values:
    in each step every reduction of the network (its number of summed terms in `reduction_sizes`) is
    summed three times (the output, and the gradients of its input and of its weights), on each device
    in its own order, each sum within gamma_n of the exact one; taken to add up step after step (a
    small learning rate: the drift does not compound)."""
    return 2 * 3 * steps * sum(gamma(n) for n in reduction_sizes)


def float32_close(actual, expected, magnitude, rel=2e-5, abs_=1e-5):
    """float32 result vs float64 reference: error bounded by the sum of |terms| that formed it."""
    actual = np.asarray(actual, dtype=np.float64)
    bound = rel * np.asarray(magnitude) + abs_
    error = np.abs(actual - expected)
    assert actual.shape == np.shape(expected), (actual.shape, np.shape(expected))
    assert np.all(error <= bound), (f"max error {error.max():.3g}, "
                                    f"bound there {bound.flat[np.argmax(error - bound)]:.3g}")


def assert_onnx_export_agrees(model, images, folder):
    """The model exported by mc.onnx.export runs in onnxruntime (where installed) and gives its predict
    on `images` within 1e-4."""
    try:
        import onnxruntime
    except ImportError:
        return
    path = mc.onnx.export(model, folder / "model.onnx")
    theirs = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": np.asarray(images, np.float32)})[0]
    np.testing.assert_allclose(theirs, model.predict(images), rtol=1e-4, atol=1e-4)
