"""minicnn/random.py: the counter-based generator of the step's draws, against SplitMix64 written out."""

import numpy as np
import pytest

import minicnn as mc
from minicnn import random

GOLDEN = 0x9E3779B97F4A7C15
MASK = 2 ** 64 - 1


def splitmix64(state, n):
    """Vigna's splitmix64.c, one number at a time: state += golden; mix it; the reference for the arrays."""
    out = []
    for _ in range(n):
        state = (state + GOLDEN) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(z ^ (z >> 31))
    return out


def test_the_reference_is_splitmix64():
    assert splitmix64(0, 1) == [0xE220A8397B1DCDAF]      # the published first output for seed 0


@pytest.mark.parametrize("seed", [0, 7, -3, 2 ** 70])
def test_the_step_draws_are_splitmix64_of_a_counter_on_every_device(device, seed):
    backend = mc.get_backend(device)
    mc.manual_seed(seed)
    key = random.state()["device"][0]
    got = np.concatenate([backend.to_host(random.uniform_on(backend, shape)).ravel()
                          for shape in ((2, 3), 5, (1,))])      # the counter runs on across draws
    # number j of the stream is SplitMix64 started at key - golden: its top 24 bits over 2**24
    expected = np.array([z >> 40 for z in splitmix64((key - GOLDEN) & MASK, 12)], np.float64) / 2 ** 24
    np.testing.assert_array_equal(got, expected.astype(np.float32))
    assert random.state()["device"][1] == 12


def test_the_draws_are_uniform_and_a_seed_repeats_them():
    cpu = mc.get_backend("cpu")
    mc.manual_seed(1)
    u = random.uniform_on(cpu, 1 << 16)
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    counts = np.bincount((u * 64).astype(int), minlength=64)
    chi2 = ((counts - len(u) / 64) ** 2 / (len(u) / 64)).sum()
    assert chi2 < 103.4                     # 63 degrees of freedom: the 0.001 tail starts at 103.4
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02     # neighbours uncorrelated
    mc.manual_seed(1)
    np.testing.assert_array_equal(random.uniform_on(cpu, 1 << 16), u)
    mc.manual_seed(2)
    assert np.mean(random.uniform_on(cpu, 1 << 16) == u) < 0.001


def test_dropout_keeps_its_share_with_masks_drawn_on_the_device(device):
    mc.manual_seed(4)
    kept = mc.F.dropout(mc.ones(200, 50, device=device), 0.3).numpy()
    assert set(np.unique(kept)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((kept > 0).mean() - 0.7) < 0.02


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 1 / 3, 0.999, 1 - 2 ** -25])
def test_dropouts_mask_is_the_uniform_draws_compared_without_making_floats(device, rate):
    backend = mc.get_backend(device)
    mc.manual_seed(9)
    uniform = backend.to_host(random.uniform_on(backend, (37, 11)))
    mc.manual_seed(9)
    mask = backend.to_host(random.at_least_on(backend, (37, 11), rate))
    np.testing.assert_array_equal(mask, uniform >= np.float32(rate))


@pytest.mark.parametrize("n", [1, 5, (1 << 15) - 1, (1 << 15) + 3, 3 * (1 << 15)])
def test_the_cpus_random_bits_are_the_plain_versions(n):
    """The CPU's in-place shares on threads against base.py's whole-array random_bits; the counter
    wrapping round 2**64 too."""
    from minicnn.backend import Backend
    plain, cpu = Backend("plain", np), mc.get_backend("cpu")
    for key, start in ((0, 0), (0x0123456789ABCDEF, 12345), (MASK, MASK - 2)):
        np.testing.assert_array_equal(cpu.random_bits(key, start, n), plain.random_bits(key, start, n))
