"""The conformance suite: the same small programs on minicnn and on the reference it follows,
PyTorch CPU (tensors, autograd, ops, optimizers, hand-written loops) or Keras 3 on PyTorch
(layers, compile/fit, callbacks, metrics, schedules, splits), their results compared.

The references come with `pip install ".[conformance]"`; a test module whose reference is missing
is skipped. docs/conformance.md lists each public name, its reference and where minicnn differs.
"""

import os

import numpy as np

# Keras 3 runs on the PyTorch it is compared beside, so no TensorFlow is needed. This is the test
# process's own setting, made before any test imports Keras; minicnn never reads it.
os.environ.setdefault("KERAS_BACKEND", "torch")


def assert_close(mine, reference, rtol=1e-5, atol=1e-6, what=""):
    """minicnn's result (a Tensor or array) against the reference's (torch tensor, array, number), NaNs equal."""
    mine = mine.numpy() if hasattr(mine, "backend") else np.asarray(mine)
    if hasattr(reference, "detach"):
        reference = reference.detach().cpu().numpy()
    reference = np.asarray(reference)
    assert mine.shape == reference.shape, f"{what}: shape {mine.shape}, reference {reference.shape}"
    np.testing.assert_allclose(mine.astype(np.float64), reference.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)
