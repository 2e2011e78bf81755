"""mc.Tensor: constructors, dtypes, devices and the autograd engine."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc
from helpers import arrays, on
from minicnn.autograd import record
from minicnn.gradcheck import GradcheckError


# --- constructors and dtypes ---

def test_float_data_defaults_to_float32_and_ints_stay_ints():
    assert mc.tensor([1.5, 2.0]).dtype == np.float32
    assert mc.tensor(np.zeros(3, dtype=np.float64)).dtype == np.float32
    assert mc.tensor(np.zeros(3), dtype="float64").dtype == np.float64
    assert mc.tensor([1, 2]).dtype == np.int64
    assert mc.tensor(np.zeros(2, np.uint8)).dtype == np.uint8
    for make in (mc.zeros, mc.ones, mc.randn):
        t = make(2, 3)
        assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == "cpu"
    assert mc.zeros((2, 3)).shape == (2, 3)


def test_tensor_copies_its_data():
    data = np.ones(3, dtype=np.float32)
    t = mc.tensor(data)
    t.data[0] = 5
    assert data[0] == 1


def test_only_float_tensors_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        mc.tensor([1, 2], requires_grad=True)


def test_randn_is_seeded_and_leaves_numpy_global_state_alone():
    np.random.seed(123)
    expected_global = np.random.rand()
    np.random.seed(123)
    mc.manual_seed(7)
    a = mc.randn(4, 5).numpy()
    mc.manual_seed(7)
    b = mc.randn(4, 5).numpy()
    assert np.array_equal(a, b)
    assert np.random.rand() == expected_global
    assert not np.array_equal(a, mc.randn(4, 5).numpy())
    assert 0.5 < a.std() < 1.5


def test_numpy_item_detach(device):
    t = on(device, [[1.0, 2.0]], requires_grad=True)
    host = t.numpy()
    assert isinstance(host, np.ndarray) and host.dtype == np.float32
    host[0, 0] = 9
    assert t.numpy()[0, 0] == 1
    assert (t.sum()).item() == 3.0
    d = t.detach()
    assert not d.requires_grad and d.is_leaf
    with pytest.raises(ValueError, match="one element"):
        t.item()


# --- float32 stays float32 ---

@pytest.mark.parametrize("op", [
    lambda x: x * 2.5, lambda x: 2.5 * x, lambda x: x + 1, lambda x: x / 3, lambda x: 1 - x,
    lambda x: x ** 2, lambda x: x ** 0.5, lambda x: x + np.float64(1.5), lambda x: x * np.int64(3),
    lambda x: x + mc.tensor([1, 2, 3], device=x.device), lambda x: x.mean(), lambda x: (x * x).exp().log(),
    lambda x: x.max(axis=0), lambda x: x.clip(-1.0, 1.0),
])
def test_scalars_and_integer_tensors_never_promote_float32(device, op):
    x = on(device, np.ones((2, 3), np.float32), requires_grad=True)
    out = op(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_tensor_times_float_scalar_is_float32():
    assert (mc.tensor([1, 2]) * 0.5).dtype == np.float32
    assert mc.tensor([1, 2]).exp().dtype == np.float32


# --- the autograd engine ---

def test_leaf_gradients_accumulate_until_zeroed(device):
    x = on(device, [1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3, 6 + 3])
    x.zero_grad()
    assert x.grad is None
    x.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1])
    assert x.grad.grad is None and not x.grad.requires_grad


def test_a_10000_op_chain_does_not_recurse():
    x = mc.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)


def test_graph_is_released_after_backward():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    y = (h * h).sum()
    y.backward()
    assert h._backward is None and h._parents == ()
    assert y._backward is None and y._parents == ()
    with pytest.raises(RuntimeError, match="already released"):
        y.backward()


def test_shared_subexpressions_get_the_sum_of_their_gradients():
    x = mc.tensor([3.0], requires_grad=True)
    a = x * x          # used twice below
    (a * a + a).sum().backward()    # d/dx (x^4 + x^2) = 4x^3 + 2x
    np.testing.assert_allclose(x.grad.numpy(), [4 * 27 + 6])


def test_no_grad_records_nothing():
    x = mc.tensor([1.0], requires_grad=True)
    with mc.no_grad():
        y = x * 2
        assert not mc.is_grad_enabled()
    assert mc.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_of_non_scalar_needs_a_grad():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(mc.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2, 20])
    with pytest.raises(ValueError, match=r"wanted \(2,\)"):
        (x * 2).backward(mc.tensor([1.0, 2.0, 3.0]))


def test_devices_never_mix_silently():
    cpu = mc.tensor([1.0, 2.0])
    strict = cpu.to("strict")
    assert strict.device == "strict" and cpu.device == "cpu"
    with pytest.raises(ValueError, match="different devices"):
        cpu + strict
    with pytest.raises(ValueError, match="different devices"):
        mc.F.conv2d(mc.zeros(1, 1, 3, 3), mc.zeros(1, 1, 2, 2).to("strict"))


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="device must be one of"):
        mc.zeros(2, device="tpu")


def test_to_moves_data_and_gradients_flow_back():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("strict")
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.grad.device == "cpu"
    back = y.to("cpu")
    np.testing.assert_array_equal(back.numpy(), [1.0, 2.0])


def test_strict_device_rejects_implicit_host_conversion():
    y = mc.tensor([1.0, 2.0], device="strict")
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        np.asarray(y.data)


@pytest.mark.parametrize("failure, message", [
    # what Python raises where CuPy is not installed
    (ModuleNotFoundError("No module named 'cupy'", name="cupy"), r"not installed.*pip install 'minicnn\[gpu\]'"),
    # CuPy's own ImportError (cupy/__init__.py:19-27) names a broken or duplicate install: kept whole
    (ImportError("\n=====\nCuPy may not function correctly because multiple CuPy packages are installed"),
     r"(?s)could not be imported:\n.*multiple CuPy packages are installed"),
])
def test_gpu_without_a_working_cupy_says_why(monkeypatch, failure, message):
    import builtins
    from minicnn import backend

    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise failure
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_cupy)
    monkeypatch.setattr(backend, "_backends", {"cpu": backend._backends["cpu"]})
    with pytest.raises(RuntimeError, match=message):
        mc.zeros(2, device="gpu")
    assert not mc.gpu_available()


# --- each tensor op's gradient, against central differences ---

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


@settings(max_examples=15)
@given(data=st.data())
def test_broadcasting_binary_ops_reduce_gradients_to_input_shapes(device, data):
    shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a = on(device, data.draw(arrays(shape_a, st.floats(0.5, 3, width=32))), requires_grad=True)
    b = on(device, data.draw(arrays(shape_b, st.floats(0.5, 3, width=32))), requires_grad=True)
    for op in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
               lambda a, b: a ** b):
        assert mc.gradcheck(op, a, b)
        out = op(a, b)
        out.sum().backward()
        assert a.grad.shape == a.shape and b.grad.shape == b.shape
        assert out.dtype == np.float32
        a.zero_grad()
        b.zero_grad()


@settings(max_examples=15)
@given(data=st.data())
def test_unary_ops_and_reductions_match_numerical_gradients(device, data):
    shape = data.draw(shapes)
    values = data.draw(arrays(shape, st.floats(0.5, 3, width=32)))
    x = on(device, values, requires_grad=True)
    axis = data.draw(st.none() | st.integers(0, len(shape) - 1))
    keepdims = data.draw(st.booleans())
    for op in (lambda x: -x, lambda x: x.exp(), lambda x: x.log(), lambda x: x ** 3, lambda x: x ** -0.5,
               lambda x: x.sum(axis, keepdims), lambda x: x.mean(axis, keepdims),
               lambda x: x.reshape(-1), lambda x: x.transpose()):
        assert mc.gradcheck(op, x)
    before = x.numpy()
    x.exp().sum().backward()
    np.testing.assert_array_equal(x.numpy(), before)   # inputs are not mutated


@settings(max_examples=15)
@given(data=st.data())
def test_max_matches_numpy_and_splits_ties(device, data):
    shape = data.draw(shapes)
    values = data.draw(arrays(shape, st.integers(-2, 2).map(float)))  # many ties on purpose
    axis = data.draw(st.none() | st.integers(0, len(shape) - 1))
    x = on(device, values, requires_grad=True)
    out = x.max(axis=axis)
    np.testing.assert_array_equal(out.numpy(), values.max(axis=axis))
    out.sum().backward()
    winners = values == values.max(axis=axis, keepdims=True)
    expected = winners / winners.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_clip_passes_gradient_only_inside(device):
    x = on(device, [0.5, 1.5, 2.5], requires_grad=True)
    assert mc.gradcheck(lambda x: x.clip(1.0, 2.0), x)
    x.clip(1.0, 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0])


def test_max_gradient_without_ties_matches_numerical(device):
    x = on(device, np.arange(12.0).reshape(3, 4)[::-1].copy(), requires_grad=True)
    assert mc.gradcheck(lambda x: x.max(axis=1), x)
    assert mc.gradcheck(lambda x: x.max(axis=(0, 1), keepdims=True), x)


@settings(max_examples=15)
@given(data=st.data())
def test_matmul_gradients(device, data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,)]))
    a = on(device, data.draw(arrays(batch + (n, k))), requires_grad=True)
    b = on(device, data.draw(arrays((k, m))), requires_grad=True)
    np.testing.assert_allclose((a @ b).numpy(), a.numpy().astype(np.float64) @ b.numpy(), rtol=1e-4, atol=1e-3)
    assert mc.gradcheck(lambda a, b: a @ b, a, b)
    v = on(device, data.draw(arrays((k,))), requires_grad=True)
    assert mc.gradcheck(lambda a, v: a @ v, a, v)
    assert mc.gradcheck(lambda v, b: v @ b, v, b)


def test_indexing_gradients(device):
    x = on(device, np.arange(12.0).reshape(3, 4), requires_grad=True)
    assert mc.gradcheck(lambda x: x[1:, ::2], x)
    assert mc.gradcheck(lambda x: x[0, ...], x)
    v = on(device, [1.0, 2.0, 3.0, 4.0], requires_grad=True)
    picks = on(device, [0, 2, 0, 0])        # repeated picks: their gradients add up
    (v[picks] * on(device, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [1 + 3 + 4, 0, 2, 0])
    mask = x > 5.0
    x[mask].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (np.arange(12).reshape(3, 4) > 5).astype(np.float32))


def test_comparisons_are_boolean_and_outside_the_graph():
    x = mc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2.0).numpy(), [False, True, False])


def test_numpy_arrays_on_the_left_defer_to_tensors():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, mc.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])


def test_gradcheck_catches_a_wrong_gradient():
    from minicnn import autograd
    from minicnn.gradcheck import GradcheckError

    def wrong_square(x):   # forward x^2, backward claims x instead of 2x
        out = mc.Tensor(x.data * x.data, x.backend)
        return autograd.record(out, (x,), lambda g: (g * x.data,))
    with pytest.raises(GradcheckError, match="analytic"):
        mc.gradcheck(wrong_square, mc.tensor([1.0, 2.0]))


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
def test_reductions_refuse_axes_the_tensor_does_not_have(reduction):
    x = mc.tensor(np.arange(6.0).reshape(2, 3))
    for bad in (5, 2, -3, (0, 2)):
        with pytest.raises(ValueError, match=r"axis -?\d is out of range for a tensor with 2 dimensions"):
            getattr(x, reduction)(axis=bad)
    with pytest.raises(ValueError, match="names the same axis twice"):
        getattr(x, reduction)(axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be an int"):
        getattr(x, reduction)(axis=1.0)
    with pytest.raises(ValueError, match="out of range for a tensor with 0 dimensions"):
        getattr(mc.tensor(3.0), reduction)(axis=0)
    for good in (-1, 0, (0, 1), (-2, 1)):        # the same as NumPy
        np.testing.assert_allclose(getattr(x, reduction)(axis=good).numpy(),
                                   getattr(np, reduction)(np.arange(6.0).reshape(2, 3), axis=good))


def test_gradcheck_fails_a_gradient_that_is_off_by_five_hundredths_of_a_percent():
    def slightly_wrong_square(x):
        out = mc.Tensor(x.data * x.data, x.backend)
        return record(out, (x,), lambda g: (g * 2 * x.data * 1.0005,))

    x = mc.tensor(np.linspace(0.5, 2, 6))
    assert mc.gradcheck(lambda t: t * t, x)
    with pytest.raises(GradcheckError, match="analytic"):
        mc.gradcheck(slightly_wrong_square, x)
