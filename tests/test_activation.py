"""Activations and (log-)softmax against scipy/NumPy formulas, and their gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import minicnn as mc
from helpers import arrays, on

F = mc.F

REFERENCES = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "sigmoid": (F.sigmoid, special.expit),
    "log_sigmoid": (F.log_sigmoid, special.log_expit),
    "tanh": (F.tanh, np.tanh),
    # by default over the channels: axis 1 of (N, classes) and (N, C, ...), axis 0 of a vector
    "softmax": (F.softmax, lambda x: special.softmax(x, axis=min(1, x.ndim - 1))),
    "log_softmax": (F.log_softmax, lambda x: special.log_softmax(x, axis=min(1, x.ndim - 1))),
}
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
wide = st.floats(-100, 100, width=32, allow_subnormal=False)


@pytest.mark.parametrize("name", REFERENCES)
@given(data=st.data())
def test_activation_values(device, name, data):
    op, reference = REFERENCES[name]
    x = data.draw(arrays(data.draw(shapes), wide))
    y = op(on(device, x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), reference(x.astype(np.float64)), rtol=2e-5, atol=2e-6)


# away from 0, where relu and leaky_relu have no derivative
away_from_zero = st.floats(0.015625, 5, width=32) | st.floats(-5, -0.015625, width=32)


@pytest.mark.parametrize("name", REFERENCES)
@settings(max_examples=10)
@given(data=st.data())
def test_activation_gradients(device, name, data):
    op, _ = REFERENCES[name]
    x = on(device, data.draw(arrays(data.draw(shapes), away_from_zero)), requires_grad=True)
    assert mc.gradcheck(op, x)


@pytest.mark.parametrize("name", REFERENCES)
def test_huge_inputs_stay_finite(device, name):
    op, _ = REFERENCES[name]
    x = on(device, [[-1000.0, 0.0, 1000.0]], requires_grad=True)
    y = op(x)
    y.sum().backward()
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))


def test_softmax_along_another_axis():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(F.softmax(mc.tensor(x), axis=0).numpy(), special.softmax(x, axis=0), rtol=1e-5)
    assert mc.gradcheck(lambda t: F.log_softmax(t, axis=0), mc.tensor(x))


def test_leaky_relu_slope():
    x = mc.tensor([-2.0, 3.0])
    np.testing.assert_allclose(F.leaky_relu(x, negative_slope=0.3).numpy(), [-0.6, 3.0])


@pytest.mark.parametrize("value, slope", [(-2.0, 0.0), (3.0, 1.0)])
def test_relu_of_a_scalar_tensor(device, value, slope):
    for op in (F.relu, lambda t: F.relu_(t * 1.0)):
        x = on(device, value, requires_grad=True)
        y = op(x)
        y.backward()
        assert y.shape == () and y.dtype == np.float32
        assert y.item() == max(value, 0.0) and x.grad.item() == slope


def test_relu_in_place_follows_pytorch_or_refuses(device):
    """F.relu_(h) makes h its ReLU, in value and in the graph, as torch.relu_ does; where that would
    leave a wrong gradient (a parameter, or values another op's gradient still needs), it raises."""
    x = on(device, [-1.0, 2.0], requires_grad=True)
    h = x * 3
    y = F.relu_(h)
    z = y.sum() + (h * x).sum()          # h is now relu(3x) = [0, 6]: z = 6 + 12, as PyTorch gives
    z.backward()
    assert y is h and z.item() == 18.0
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0 + 12.0])   # d/dx [relu(3x) + relu(3x) x]

    weights = on(device, [-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="relu_: x is a leaf tensor that requires grad"):
        F.relu_(weights)
    np.testing.assert_array_equal(weights.numpy(), [-1.0, 2.0])

    h = x * 3
    product = (h * x).sum()              # its gradient needs h's values as they are now
    with pytest.raises(RuntimeError, match="already read by an operation whose gradient needs its values"):
        F.relu_(h)
    np.testing.assert_array_equal(h.numpy(), [-3.0, 6.0])
    product.backward()

    with mc.no_grad():                   # no gradient to protect: like PyTorch, x's values are overwritten
        plain = on(device, [-1.0, 2.0])
        assert F.relu_(plain) is plain
    np.testing.assert_array_equal(plain.numpy(), [0.0, 2.0])
