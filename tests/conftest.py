import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _imports(path, seen=()):
    """The top-level modules a test file imports, through the tests' own helper modules."""
    names = set(re.findall(r"^\s*(?:from|import) (\w+)", path.read_text(), re.M))
    helpers = {n for n in names if (HERE / f"{n}.py").exists() and n not in seen}
    return names.union(*(_imports(HERE / f"{n}.py", seen + tuple(helpers)) for n in helpers))


# A GPU machine's image may lack a test package (benchmarks/gpu_check.py runs these tests there):
# the files that need it are skipped rather than failed. CI installs them all (the test extra).
MISSING = {p for p in ("hypothesis", "scipy", "array_api_strict") if importlib.util.find_spec(p) is None}
collect_ignore = sorted(f.name for f in HERE.glob("test_*.py") if _imports(f) & MISSING)


def _real_cupy_works():
    """Whether minicnn's own factory proves a real GPU (CuPy installed, a GPU seen, a kernel and a product
    computed): a GPU seen without the CUDA toolkit's libraries gets the stand-in, not failing tests."""
    try:
        from minicnn.backend.gpu import make_gpu_backend
        make_gpu_backend()
        return True
    except Exception:           # the factory's RuntimeError, or anything a broken install raises
        return False


# The "gpu" device is real CuPy where it works, else the CuPy stand-in (tests/cupy_standin):
# either way minicnn's own factory imports `cupy` and builds the library's CupyBackend on it.
REAL_GPU = _real_cupy_works()
if not REAL_GPU:
    for name in [m for m in sys.modules if m.split(".")[0] in ("cupy", "cupyx")]:
        del sys.modules[name]
    sys.path.insert(0, str(HERE / "cupy_standin"))

import minicnn as mc  # noqa: E402   (after the stand-in is in place)

if "hypothesis" not in MISSING:
    from hypothesis import HealthCheck, settings

    # CI profile: the same examples on every run, no timing-based failures.
    settings.register_profile(
        "ci", derandomize=True, deadline=None, max_examples=100, database=None, print_blob=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    settings.register_profile(
        "explore", deadline=None, max_examples=300,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DEVICES = ["cpu", pytest.param("gpu", marks=pytest.mark.gpu)]
if "array_api_strict" not in MISSING:
    from strict_backend import register as register_strict_backend

    register_strict_backend()
    DEVICES.insert(1, "strict")


@pytest.fixture(params=DEVICES)
def device(request):
    """Each op test runs on NumPy, on the strict Array API device, and on "gpu" (CuPy or its stand-in)."""
    return request.param


@pytest.fixture
def cupy_standin():
    """The CuPy stand-in's module, with its log of host/device transfers emptied; skipped on a real GPU."""
    if REAL_GPU:
        pytest.skip("real CuPy is in use: the stand-in's checks do not apply")
    import cupy
    cupy.transfers.clear()
    return cupy


@pytest.fixture
def gpu_process_env():
    """The environment for a child process that uses "gpu": with the stand-in on its path where needed."""
    env = dict(os.environ)
    if not REAL_GPU:
        env["PYTHONPATH"] = os.pathsep.join([str(HERE / "cupy_standin"), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(autouse=True)
def _fixed_seed():
    mc.manual_seed(0)


@pytest.fixture(autouse=True)
def _shared_work():
    """Every CPU op splits its work between 3 threads, however small: the tests then check the
    shared path (uneven shares included), which is what training uses on a multi-core CPU."""
    cpu = mc.get_backend("cpu")
    saved = cpu.threads, cpu.min_parallel_size
    cpu.threads, cpu.min_parallel_size = 3, 0
    yield
    cpu.threads, cpu.min_parallel_size = saved
