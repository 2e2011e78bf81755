"""mc.Tensor against torch.Tensor: the same expression on both, dtypes, values and gradients compared.

Hypothesis draws dtypes (bool, int, float16/32/64), values (0, negatives, +-inf, NaN, 3e38) and NumPy
inputs with odd strides (transposed, reversed, broadcast views).
"""

import operator
import threading

import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 3e38, -3e38, np.inf, -np.inf, np.nan])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def values(dtype, shape, special=True):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        elements = st.booleans()
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -50), min(info.max, 50))
    else:
        width = {2: 16, 4: 32, 8: 64}[dtype.itemsize]
        finite = st.floats(-100, 100, width=width, allow_subnormal=False)
        special_values = SPECIAL.map(
            lambda v: float(np.clip(v, np.finfo(dtype).min, np.finfo(dtype).max)) if np.isfinite(v) else v)
        elements = finite | special_values if special else finite
    return hnp.arrays(dtype, shape, elements=elements)


def both(array, requires_grad=False):
    """The same data as a minicnn tensor and a torch tensor (minicnn keeps the NumPy dtype here)."""
    return (mc.tensor(array, dtype=array.dtype, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def same_answer(mine, theirs, what):
    """Both raised, or both returned tensors of one dtype and values."""
    if isinstance(theirs, Exception):
        assert isinstance(mine, Exception), f"{what}: torch refuses ({theirs}), minicnn answers {mine!r}"
        return
    assert not isinstance(mine, Exception), f"{what}: minicnn raised {mine!r}, torch answers {theirs!r}"
    assert str(mine.dtype) == torch_dtype_name(theirs), f"{what}: dtype {mine.dtype}, torch {theirs.dtype}"
    tol = 2e-3 if mine.dtype == np.float16 else 1e-5
    assert_close(mine, theirs.to(torch.float64) if theirs.dtype == torch.bfloat16 else theirs, rtol=tol,
                 atol=tol, what=what)


def attempt(fn, *args):
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except Exception as error:      # the verdict compares whether both refused
        return error


BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


@settings(max_examples=60)
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)), a_dtype=st.sampled_from(DTYPES),
       b_dtype=st.sampled_from(DTYPES))
def test_binary_ops_promote_and_compute_as_pytorch(data, op, a_dtype, b_dtype):
    shape = data.draw(shapes)
    a = data.draw(values(a_dtype, shape))
    b = data.draw(values(b_dtype, data.draw(st.sampled_from([shape, shape[1:], ()]))))
    if op == "-" and "bool" in (a_dtype, b_dtype):
        a, b = a.astype(np.int64) if a_dtype == "bool" else a, b.astype(np.int64) if b_dtype == "bool" else b
    (ma, ta), (mb, tb) = both(a), both(b)
    same_answer(attempt(BINARY[op], ma, mb), attempt(BINARY[op], ta, tb), f"{a_dtype}{shape} {op} {b_dtype}")


@settings(max_examples=60)
@given(data=st.data(), op=st.sampled_from(sorted(BINARY) + ["**"]), dtype=st.sampled_from(DTYPES),
       scalar=st.sampled_from([2, -3, 0, 1, 0.5, -1.5, 2.0, True, False]), reflected=st.booleans())
def test_python_numbers_keep_the_tensors_dtype_as_in_pytorch(data, op, dtype, scalar, reflected):
    a = data.draw(values(dtype, data.draw(shapes), special=False))
    ops = {**BINARY, "**": operator.pow}
    if op == "-" and (dtype == "bool" or isinstance(scalar, bool)):
        return                      # PyTorch refuses bool subtraction, minicnn follows NumPy: not compared
    if op == "**" and (dtype == "bool" or reflected):
        return
    ma, ta = both(a)
    fn = (lambda t: ops[op](scalar, t)) if reflected else (lambda t: ops[op](t, scalar))
    same_answer(attempt(fn, ma), attempt(fn, ta), f"{'scalar ' + op + ' ' if reflected else ''}{dtype}"
                                                  f"{'' if reflected else ' ' + op + ' ' + repr(scalar)}")


@settings(max_examples=40)
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)), dtype=st.sampled_from(["float32", "float64"]),
       scalar=st.sampled_from([2, -3, 0.5, -1.5]), reflected=st.booleans())
def test_gradients_through_a_python_number_as_pytorch(data, op, dtype, scalar, reflected):
    """A number stays a number (no device array is made for it): the gradient reaches the tensor alone,
    with the dtypes kept, in both orders."""
    a = data.draw(values(dtype, data.draw(shapes), special=False).filter(lambda x: np.all(np.abs(x) > 0.1)))
    ma, ta = both(a, True)
    fn = (lambda t: BINARY[op](scalar, t)) if reflected else (lambda t: BINARY[op](t, scalar))
    out_m, out_t = fn(ma), fn(ta)
    same_answer(out_m, out_t, f"{op} with {scalar!r}{' reflected' if reflected else ''}")
    (out_m * out_m).sum().backward()
    (out_t * out_t).sum().backward()
    assert str(ma.grad.dtype) == torch_dtype_name(ta.grad)
    assert_close(ma.grad, ta.grad, rtol=1e-5, atol=1e-6, what=f"d({op} {scalar!r})")


def test_integer_indices_out_of_range_are_refused_by_both():
    m, t = both(np.arange(6, dtype=np.float32).reshape(2, 3))
    for index in ([0, 3], [-4], [[0], [7]]):
        theirs = attempt(lambda i=index: t[torch.tensor(i[0]), torch.tensor(i[1])] if len(i) == 2 and
                         isinstance(i[0], list) else t[:, torch.tensor(i)])
        mine = attempt(lambda i=index: m[i[0], i[1]] if len(i) == 2 and isinstance(i[0], list) else m[:, i])
        assert isinstance(theirs, IndexError) and isinstance(mine, IndexError), (index, mine, theirs)


def test_a_bool_mask_times_two_counts_in_integers():
    mask = np.array([True, False, True, True])
    (m, t) = both(mask)
    same_answer((m * 2).sum(), (t * 2).sum(), "(mask * 2).sum()")


def test_integer_division_is_float32():
    m, t = both(np.array([1, 2, 3], np.int64))
    same_answer(m / 2, t / 2, "int / 2")
    same_answer(m / m, t / t, "int / int")


def test_a_zero_dim_operand_of_the_same_kind_takes_the_others_dtype():
    m, t = both(np.array([1.0, 2.0], np.float32))
    m0, t0 = both(np.array(3.0, np.float64))
    same_answer(m - m0, t - t0, "float32 - 0-d float64")
    i, ti = both(np.array([1, 2], np.int32))
    same_answer(i + mc.tensor(np.array(5, np.int64)), ti + torch.tensor(5), "int32 + 0-d int64")
    same_answer(i * m0, ti * t0, "int32 * 0-d float64")


@pytest.mark.parametrize("name", ["exp", "log", "neg", "clip"])
@settings(max_examples=30)
@given(data=st.data())
def test_elementwise_values_and_gradients(name, data):
    x = data.draw(values("float32", data.draw(shapes)))
    (m, t) = both(x, requires_grad=True)
    fns = {"exp": (lambda v: v.exp(), lambda v: v.exp()), "log": (lambda v: v.log(), lambda v: v.log()),
           "neg": (lambda v: -v, lambda v: -v), "clip": (lambda v: v.clip(-1.0, 2.0), lambda v: v.clamp(-1.0, 2.0))}
    mine, theirs = fns[name]
    with np.errstate(all="ignore"):
        out_m, out_t = mine(m), theirs(t)
        same_answer(out_m, out_t, name)
        g = np.linspace(-1, 1, x.size).reshape(x.shape).astype(np.float32)
        out_m.backward(mc.tensor(g))
        out_t.backward(torch.tensor(g))
    assert_close(m.grad, t.grad, rtol=1e-5, atol=1e-6, what=f"d {name}")


@settings(max_examples=40)
@given(base=values("float32", (6,)), exponent=values("float32", (6,)))
def test_power_and_its_gradients_at_zero_as_pytorch(base, exponent):
    base[:2], exponent[:2] = 0.0, [0.0, 2.0]            # the edge the formulas read as 0 * inf
    (mb, tb), (me, te) = both(base, True), both(exponent, True)
    with np.errstate(all="ignore"):
        out_m, out_t = mb ** me, tb ** te
        same_answer(out_m, out_t, "a ** b")
        out_m.sum().backward()
        out_t.sum().backward()
    assert_close(mb.grad, tb.grad, rtol=1e-4, atol=1e-5, what="d(a**b)/da")
    assert_close(me.grad, te.grad, rtol=1e-4, atol=1e-5, what="d(a**b)/db")


@pytest.mark.parametrize("p", [0, 1, 2, 3, -1, 0.5, -2.5, 2.0])
def test_power_of_a_python_number(p):
    x = np.array([0.0, 1.5, -2.0, 4.0], np.float32)
    if not float(p).is_integer():
        x = np.abs(x)
    (m, t) = both(x, True)
    with np.errstate(all="ignore"):
        same_answer(m ** p, t ** p, f"x ** {p}")
        (m ** p).sum().backward()
        (t ** p).sum().backward()
    assert_close(m.grad, t.grad, rtol=1e-5, atol=1e-6, what=f"d x**{p}")
    ints = np.array([1, 2, 3])
    same_answer(attempt(lambda v: v ** p, mc.tensor(ints)), attempt(lambda v: v ** p, torch.tensor(ints)),
                f"int ** {p}")


REDUCTIONS = ["sum", "mean", "max"]


@pytest.mark.parametrize("name", REDUCTIONS)
@settings(max_examples=40)
@given(data=st.data(), keepdims=st.booleans())
def test_reductions_and_their_gradients(name, data, keepdims):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([-1.0, 0.0, 2.0, 3.5])))   # ties
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    (m, t) = both(x, True)
    out_m = getattr(m, name)(axis=axis, keepdims=keepdims)
    if name == "max":       # torch.amax: the reduction that shares tied maxima's gradient, as minicnn's max
        out_t = torch.amax(t, dim=() if axis is None else axis, keepdim=keepdims)
    else:
        out_t = getattr(t, name)(dim=axis, keepdim=keepdims) if axis is not None else getattr(t, name)()
        if keepdims and axis is None:
            out_t = out_t.reshape((1,) * len(shape))
    same_answer(out_m, out_t, f"{name}(axis={axis}, keepdims={keepdims})")
    g = np.arange(1, out_m.size + 1, dtype=np.float32).reshape(out_m.shape)
    out_m.backward(mc.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_close(m.grad, t.grad, what=f"d {name}")


def test_an_axis_the_tensor_lacks_is_refused_by_both():
    m, t = both(np.ones((2, 3), np.float32))
    same_answer(attempt(lambda: m.sum(axis=2)), attempt(lambda: t.sum(dim=2)), "sum over axis 2 of a matrix")


@settings(max_examples=40)
@given(data=st.data())
def test_indexing_and_its_gradient(data):
    x = data.draw(values("float32", (4, 5), special=False))
    index = data.draw(st.sampled_from([
        (slice(None), 1), (slice(1, None, 2),), (-1,), (Ellipsis, slice(None, None, -1)) if False else (0,),
        ([0, 0, 3],), ([1, 1], [2, 2]), (np.array([True, False, True, False]),), (slice(None), [4, 0, 4]),
        (None, 2),
    ]))
    (m, t) = both(x, True)
    torch_index = tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)
    out_m, out_t = m[index], t[torch_index]
    same_answer(out_m, out_t, f"x[{index}]")
    g = np.arange(out_m.size, dtype=np.float32).reshape(out_m.shape)
    out_m.backward(mc.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_close(m.grad, t.grad, what=f"d x[{index}] (repeated indices add up)")


def test_shape_ops_and_matmul_with_their_gradients():
    rng = np.random.default_rng(0)
    for a_shape, b_shape in [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)), ((4,), (4,))]:
        a, b = rng.normal(size=a_shape).astype(np.float32), rng.normal(size=b_shape).astype(np.float32)
        (ma, ta), (mb, tb) = both(a, True), both(b, True)
        out_m, out_t = ma @ mb, ta @ tb
        same_answer(out_m, out_t, f"{a_shape} @ {b_shape}")
        out_m.sum().backward()
        out_t.sum().backward()
        assert_close(ma.grad, ta.grad, rtol=1e-5, atol=1e-5, what="d a")
        assert_close(mb.grad, tb.grad, rtol=1e-5, atol=1e-5, what="d b")
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    (m, t) = both(x, True)
    out_m, out_t = m.transpose(2, 0, 1).reshape(4, 6).T, t.permute(2, 0, 1).reshape(4, 6).T
    same_answer(out_m, out_t, "transpose, reshape, T")
    (out_m * mc.tensor(np.arange(24.0).reshape(6, 4))).sum().backward()
    (out_t * torch.arange(24.0).reshape(6, 4)).sum().backward()
    assert_close(m.grad, t.grad, what="d transpose/reshape")


@pytest.mark.parametrize("view", ["transposed", "reversed", "broadcast", "strided", "fortran"])
def test_numpy_inputs_of_any_layout_are_read_as_their_values(view):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    array = {"transposed": base.T, "reversed": base[::-1, ::-2], "broadcast": np.broadcast_to(base[0], (3, 6)),
             "strided": base[:, ::3], "fortran": np.asfortranarray(base)}[view]
    same_answer(mc.tensor(array) * 2, torch.tensor(np.ascontiguousarray(array)) * 2, view)


# --- a tensor as a Python value ---

def test_bool_of_tensors_as_pytorch():
    for array in (np.array([1]), np.array([0.0]), np.array(3), np.array([1, 2]), np.zeros(0), np.array([[True]])):
        mine = attempt(lambda a: bool(mc.tensor(a) == 1), array)
        theirs = attempt(lambda a: bool(torch.tensor(a) == 1), array)
        assert type(mine) is type(theirs) or (isinstance(mine, Exception) and isinstance(theirs, Exception)), \
            (array, mine, theirs)
        if not isinstance(theirs, Exception):
            assert mine == theirs


def test_len_iter_in_int_float_and_index_as_pytorch():
    for array in (np.array(3.5), np.array([1.0, 2.0, 3.0]), np.array([[1, 2], [3, 4]])):
        m, t = mc.tensor(array), torch.tensor(array)
        for fn in (len, lambda v: [x.tolist() if hasattr(x, "tolist") else x.numpy().tolist() for x in v],
                   lambda v: 2 in v, lambda v: 7 in v, float, int):
            mine, theirs = attempt(fn, m), attempt(fn, t)
            if isinstance(theirs, Exception):
                assert isinstance(mine, Exception), (array, fn, mine)
            else:
                assert mine == theirs, (array, mine, theirs)
    assert [10, 20, 30][mc.tensor(1)] == [10, 20, 30][torch.tensor(1)] == 20
    assert isinstance(attempt(lambda: [1, 2][mc.tensor(1.0)]), TypeError)
    assert isinstance(attempt(lambda: [1, 2][torch.tensor(1.0)]), TypeError)


def test_a_tensor_in_a_list_is_found_by_identity_or_value():
    a, b = mc.tensor([1.0]), mc.tensor([2.0])
    ta, tb = torch.tensor([1.0]), torch.tensor([2.0])
    assert (a in [b, a]) == (ta in [tb, ta]) is True
    assert (mc.tensor([2.0]) in [b]) == (torch.tensor([2.0]) in [tb]) is True
    assert isinstance(attempt(lambda: mc.tensor([1.0, 2.0]) in [mc.tensor([3.0, 4.0])]), RuntimeError)
    assert isinstance(attempt(lambda: torch.tensor([1.0, 2.0]) in [torch.tensor([3.0, 4.0])]), RuntimeError)


def test_no_grad_is_per_thread_as_in_pytorch():
    seen = {}

    def other(library):
        seen[library] = (mc.is_grad_enabled() if library == "mc" else torch.is_grad_enabled())

    with mc.no_grad(), torch.no_grad():
        for library in ("mc", "torch"):
            thread = threading.Thread(target=other, args=(library,))
            thread.start()
            thread.join()
        assert not mc.is_grad_enabled() and not torch.is_grad_enabled()
    assert seen == {"mc": True, "torch": True}


def test_in_place_updates_and_writes_as_pytorch():
    for lib in (mc, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            w -= 1.0                                    # a leaf that requires grad, while recording
        (w * w).sum().backward()
        with lib.no_grad():
            w -= 0.1 * w.grad                           # the tutorial's update: the same tensor changes
        assert w.requires_grad and w.is_leaf
        i = lib.tensor([1, 2])
        with pytest.raises((TypeError, RuntimeError)):
            i += 0.5                                    # float into int: refused by both
        x = lib.zeros(4)
        x[1] = 5.0
        x[2:] = lib.tensor([1.0, 2.0])
        x *= 2
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1.0
        y = (b * b).sum()
        with lib.no_grad():
            b += 1
        with pytest.raises(RuntimeError):
            y.backward()                                # b was changed after y read it
    m, t = mc.zeros(4), torch.zeros(4)
    m[1], t[1] = 5.0, 5.0
    m[2:], t[2:] = mc.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    m *= 2
    t *= 2
    same_answer(m, t, "x[i] = v; x *= 2")
