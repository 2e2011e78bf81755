"""The CuPy stand-in (tests/cupy_standin) held to CuPy 14 itself, and minicnn held to what it then shows.

The stand-in is what CI's "gpu" device runs on, so it may be no kinder than
CuPy: where the real wheel is installed (the test extra installs it on Linux;
it imports without a GPU), its names, ufuncs and signatures are compared with
the stand-in's; the rules that need a GPU to see (what wraps, warns, copies or
waits) are checked on the stand-in against the lines of CuPy's source it cites.
"""

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import minicnn as mc

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.gpu

# What the real wheel says about itself, read in a child process that sees the installed CuPy, not the stand-in
_DESCRIBE_REAL_CUPY = r"""
import inspect, json
import cupy, numpy
def parameters(f):
    try:
        return list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return None
print(json.dumps({
    "version": cupy.__version__,
    "names": sorted(n for n in dir(cupy) if not n.startswith("_")),
    "ufuncs": sorted(n for n in dir(cupy) if type(getattr(cupy, n)).__name__ == "ufunc"),
    "ndarray": sorted(n for n in dir(cupy.ndarray) if not n.startswith("_")),
    "signatures": {n: parameters(getattr(cupy, n)) for n in dir(cupy)
                   if not n.startswith("_") and callable(getattr(cupy, n))},
    "device_hashable": getattr(cupy.cuda.Device, "__hash__", None) is not None,
    "numpy": numpy.__version__,
}))
"""


@pytest.fixture(scope="module")
def real_cupy():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", _DESCRIBE_REAL_CUPY], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120)
    if result.returncode != 0:
        pytest.skip(f"the real CuPy wheel is not importable here: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout)


def _standin():
    import cupy
    if not hasattr(cupy, "transfers"):
        pytest.skip("real CuPy is in use: the stand-in's checks do not apply")
    return cupy


def _minicnn_calls():
    """The names minicnn's device-generic code calls on its array module (xp.name), file by file."""
    names = set()
    for path in (ROOT / "minicnn").rglob("*.py"):
        if path.name != "cpu.py":           # the CPU backend's xp is NumPy itself
            names |= set(re.findall(r"\bxp\.([a-z_][a-z_0-9]*)", path.read_text()))
    return names


def test_the_standin_has_no_name_cupy_lacks_and_its_ufuncs_are_cupys(real_cupy):
    cp = _standin()
    major = int(real_cupy["version"].split(".")[0])
    assert major >= 14, real_cupy["version"]
    own = {"transfers", "copies", "allocations", "builtins", "os", "types", "ufunc"}   # the stand-in's own
    public = {n for n in dir(cp) if not n.startswith("_")} - own
    assert sorted(public - set(real_cupy["names"])) == []
    assert {"vecdot", "unstack"} & public == set()
    assert sorted({n for n in public if isinstance(getattr(cp, n), cp.ufunc)} - set(real_cupy["ufuncs"])) == []
    lacks = {n for n in dir(np.ndarray) if not n.startswith("_")} - set(real_cupy["ndarray"])
    a = cp.zeros(2)
    for name in lacks:
        with pytest.raises(AttributeError):
            getattr(a, name)


def test_minicnn_calls_nothing_cupy_lacks(real_cupy):
    assert sorted(_minicnn_calls() - set(real_cupy["names"])) == []


def test_no_function_takes_device_and_devices_are_unhashable(real_cupy):
    cp = _standin()
    takes_device = sorted(n for n, p in real_cupy["signatures"].items() if p and "device" in p)
    assert takes_device == []
    with pytest.raises(TypeError, match="unexpected keyword argument 'device'"):
        cp.zeros(3, dtype=np.float32, device=cp.cuda.Device(0))
    assert real_cupy["device_hashable"] is False
    with pytest.raises(TypeError, match="unhashable"):
        hash(cp.cuda.Device(0))
    for name in ("asarray", "array", "take", "take_along_axis"):        # written by hand in the stand-in
        import inspect
        assert list(inspect.signature(getattr(cp, name)).parameters) == real_cupy["signatures"][name], name


def test_the_standin_wraps_warns_copies_and_waits_as_cupy_does():
    cp = _standin()
    a = cp.asarray(np.arange(3, dtype=np.float32))
    np.testing.assert_array_equal(a[cp.asarray(np.array([5, -1, 3]))].get(), [2, 2, 0])     # wrapped, no error
    np.testing.assert_array_equal(cp.take(a, cp.asarray(np.array([4]))).get(), [1])
    b = cp.zeros(3, dtype=np.float32)
    cp.add.at(b, cp.asarray(np.array([0, 3, 4])), cp.asarray(np.ones(3, np.float32)))
    np.testing.assert_array_equal(b.get(), [2, 1, 0])
    import cupyx
    with pytest.warns(DeprecationWarning, match="cupy.add.at"):
        cupyx.scatter_add(b, cp.asarray(np.array([1])), cp.asarray(np.ones(1, np.float32)))
    cp.transfers.clear()
    a[a > 0]
    assert [kind for kind, _, _ in cp.transfers] == ["sync"]      # the mask's count read by the host
    cp.copies.clear()
    cp.maximum(a, 0.0, out=a)                                     # out is the input itself: no copy
    cp.maximum(a[::-1], 0.0, out=a)                               # another view of it: copied first
    np.testing.assert_array_equal(a.get(), [2, 1, 0])
    assert cp.copies == [("overlap", np.dtype(np.float32), (3,))]


@pytest.mark.parametrize("missing, says", [("nvrtc", r"first kernel failed.*libnvrtc.*NVRTC"),
                                           ("cublas", r"first matrix product failed.*libcublas.*cuBLAS")])
def test_a_gpu_without_the_cuda_toolkit_is_refused_with_the_fix(gpu_process_env, missing, says):
    """cupy-cudaXXx without [ctk] on a machine with only a driver: the GPU is seen, the first kernel or
    product fails. get_backend("gpu") proves the device first, and gpu_available() says False."""
    if "cupy_standin" not in gpu_process_env.get("PYTHONPATH", ""):
        pytest.skip("real CuPy is in use: the stand-in plays the missing library")
    program = ("import minicnn as mc\nprint(mc.gpu_available())\n"
               "try:\n    mc.get_backend('gpu')\nexcept RuntimeError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                            env=dict(gpu_process_env, CUPY_STANDIN_MISSING=missing), check=True)
    available, message = result.stdout.split("\n", 1)
    assert available == "False"
    assert re.search(says, message, re.S) and "sees 1 GPU(s)" in message, message
    assert "pip install 'minicnn[gpu]'" in message and "toolkit" in message


def test_integer_indices_out_of_range_are_refused_on_every_device(device):
    x = mc.tensor([0.0, 1.0, 2.0], device=device)
    for bad in ([0, 3], [-4], mc.tensor([1, 7], device=device)):
        with pytest.raises(IndexError, match=r"index (3|-4|7) is out of bounds for axis 0 with size 3"):
            x[bad]
        with pytest.raises(IndexError, match=r"out of bounds"):
            x[bad] = 1.0
    y = mc.ones(2, 3, device=device, requires_grad=True)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for axis 1 with size 3"):
        y[1, [0, 5]]
    if device != "strict":                      # (the Array API has no bool among integer indices)
        with pytest.raises(IndexError, match=r"index 2 is out of bounds for axis 0 with size 2"):
            y[True, [2]]                        # a bool is a 0-d mask: [2] indexes axis 0
    y[1, [2, -3]].sum().backward()              # in range, negative too: picked as NumPy picks
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0, 0], [1, 0, 1]])


def test_repeated_indices_add_up_without_cupys_deprecated_scatter_add(device):
    x = mc.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1])


def test_relu_in_place_allocates_nothing_on_the_gpu():
    cp = _standin()
    x = mc.randn(4, 8, 5, 5, device="gpu")
    expected = np.maximum(x.numpy(), 0)
    cp.allocations.clear()
    cp.copies.clear()
    y = mc.F.relu_(x)
    assert y is x and cp.copies == []
    assert [shape for _, shape in cp.allocations if shape == (4, 8, 5, 5)] == []
    np.testing.assert_array_equal(x.numpy(), expected)


def test_a_python_number_in_an_op_makes_no_device_array(device):
    cp = _standin() if device == "gpu" else None
    x = mc.ones(3, device=device, requires_grad=True)
    if cp:
        cp.allocations.clear()
        cp.transfers.clear()
    y = (x * 0.5 + 2) / 4 - 1
    z = 3 - (2 / x) + (x > 0.5)
    if cp:
        assert [shape for _, shape in cp.allocations if shape == ()] == [] and cp.transfers == []
    (y.sum() + z.sum()).backward()
    np.testing.assert_allclose(y.numpy(), [-0.375] * 3)
    np.testing.assert_allclose(z.numpy(), [2.0] * 3)
    np.testing.assert_allclose(x.grad.numpy(), [0.125 + 2.0] * 3)
    assert y.dtype == np.float32 and z.dtype == np.float32
    assert (mc.tensor([0, 1, 2], device=device) * 2).dtype == np.int64
    assert (mc.tensor([0, 1, 2], device=device) / 2).dtype == np.float32
    assert (mc.tensor([True, False], device=device) * 2).dtype == np.int64


def test_batch_norm_scales_in_place_on_the_gpu():
    """Forward: x - mean (scaled in place into x_hat), its square for the variance, and y (which takes
    beta in place): three arrays of the activation's size, where writing each formula out made five;
    and no ufunc copies an input for overlapping its output."""
    cp = _standin()
    x = mc.randn(8, 4, 6, 6, device="gpu")
    layer = mc.layers.BatchNormalization()
    layer(mc.randn(8, 4, 6, 6))                     # built on the CPU, then moved, as a model is
    layer.to("gpu")
    cp.allocations.clear()
    cp.copies.clear()
    y = layer(x)
    assert [shape for _, shape in cp.allocations if shape == x.shape] == [x.shape] * 3
    assert cp.copies == []
    expected = (x.numpy() - x.numpy().mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(
        x.numpy().var(axis=(0, 2, 3), keepdims=True) + layer.epsilon)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)
