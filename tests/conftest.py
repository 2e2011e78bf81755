import os

import pytest
from hypothesis import HealthCheck, settings

import minicnn as mc
from strict_backend import register as register_strict_backend

# CI profile: the same examples on every run, no timing-based failures.
settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=100, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile(
    "explore", deadline=None, max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

register_strict_backend()

DEVICES = ["cpu", "strict", pytest.param("gpu", marks=pytest.mark.gpu)]


@pytest.fixture(params=DEVICES)
def device(request):
    """Each op test runs on NumPy, on the strict second device, and on CuPy where a GPU is found."""
    if request.param == "gpu" and not mc.gpu_available():
        pytest.skip("no CuPy-visible GPU here")
    return request.param


@pytest.fixture(autouse=True)
def _fixed_seed():
    mc.manual_seed(0)


@pytest.fixture(autouse=True)
def _shared_work():
    """Every CPU and strict op splits its work between 3 threads, however small: the tests then
    check the shared path (uneven shares included), which is what training uses on a multi-core CPU."""
    backends = [mc.get_backend(name) for name in ("cpu", "strict")]
    saved = [(b.threads, b.min_parallel_size) for b in backends]
    for b in backends:
        b.threads, b.min_parallel_size = 3, 0
    yield
    for b, (threads, size) in zip(backends, saved):
        b.threads, b.min_parallel_size = threads, size
