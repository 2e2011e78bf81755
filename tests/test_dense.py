"""linear, flatten and dropout."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn as mc
from helpers import arrays, on

F = mc.F


@given(data=st.data())
def test_linear_matches_numpy_and_its_gradients(device, data):
    n, fin, fout = (data.draw(st.integers(1, 4)) for _ in range(3))
    x, w, b = data.draw(arrays((n, fin))), data.draw(arrays((fin, fout))), data.draw(arrays((fout,)))
    y = F.linear(on(device, x), on(device, w), on(device, b))
    assert y.dtype == np.float32 and y.shape == (n, fout)
    np.testing.assert_allclose(y.numpy(), x.astype(np.float64) @ w + b, rtol=1e-5, atol=1e-4)
    tensors = [on(device, a, requires_grad=True) for a in (x, w, b)]
    assert mc.gradcheck(F.linear, *tensors)
    assert mc.gradcheck(lambda x, w: F.linear(x, w), *tensors[:2])


def test_linear_shape_errors():
    with pytest.raises(ValueError, match=r"x has shape \(2, 3\) and weight \(4, 5\)"):
        F.linear(mc.zeros(2, 3), mc.zeros(4, 5))
    with pytest.raises(ValueError, match=r"bias has shape \(4,\), wanted \(5,\)"):
        F.linear(mc.zeros(2, 4), mc.zeros(4, 5), mc.zeros(4))


def test_flatten(device):
    x = on(device, np.arange(24.0).reshape(2, 3, 2, 2), requires_grad=True)
    y = F.flatten(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y.numpy(), np.arange(24.0).reshape(2, 12))
    assert mc.gradcheck(F.flatten, x)


def test_dropout_is_inverted_and_seeded(device):
    x = on(device, np.ones((100, 100), np.float32), requires_grad=True)
    mc.manual_seed(1)
    y = F.dropout(x, 0.25)
    assert y.dtype == np.float32
    values = y.numpy()
    assert set(np.unique(values)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((values == 0).mean() - 0.25) < 0.02            # 10,000 draws
    mc.manual_seed(1)
    np.testing.assert_array_equal(F.dropout(x, 0.25).numpy(), values)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)     # gradient is the scaled mask
    np.testing.assert_array_equal(x.numpy(), 1.0)


def test_dropout_is_identity_outside_training(device):
    x = on(device, [1.0, 2.0])
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_gradient_with_a_fixed_mask(device):
    def fn(x):
        mc.manual_seed(5)
        return F.dropout(x, 0.5)
    assert mc.gradcheck(fn, on(device, np.linspace(-1, 1, 12).reshape(3, 4)))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 2])
def test_dropout_rate_must_be_in_0_1(rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        F.dropout(mc.ones(3), rate)
