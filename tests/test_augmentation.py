"""Rotation, zoom, contrast and resizing: bilinear sampling against SciPy, and the layers' conventions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

import minicnn as mc
from helpers import on
from minicnn.ops.sampling import sample

L = mc.layers
SCIPY_MODE = {"reflect": "reflect", "nearest": "nearest", "wrap": "grid-wrap", "constant": "grid-constant"}


@settings(max_examples=25)
@given(h=st.integers(1, 6), w=st.integers(1, 6), mode=st.sampled_from(sorted(SCIPY_MODE)), data=st.data())
def test_bilinear_sampling_matches_scipy(device, h, w, mode, data):
    rng = np.random.default_rng(h * 10 + w)
    images = rng.normal(size=(2, 3, h, w)).astype(np.float32)
    coords = data.draw(st.lists(st.floats(-2.0 * max(h, w), 3.0 * max(h, w), width=32), min_size=2 * 2 * 4 * 5,
                                max_size=2 * 2 * 4 * 5))
    ys, xs = np.asarray(coords, np.float32).reshape(2, 2, 4, 5)
    backend = mc.get_backend(device)
    got = backend.to_host(sample(backend, backend.from_host(images), backend.from_host(ys), backend.from_host(xs),
                                 mode, fill_value=0.5))
    for n in range(2):
        for c in range(3):
            expected = ndimage.map_coordinates(images[n, c].astype(np.float64), [ys[n], xs[n]], order=1,
                                               mode=SCIPY_MODE[mode], cval=0.5)
            np.testing.assert_allclose(got[n, c], expected, rtol=1e-4, atol=1e-4)


def test_rotation_turns_counter_clockwise_and_only_while_training(device):
    images = np.arange(2 * 3 * 5 * 5, dtype=np.float32).reshape(2, 3, 5, 5)
    quarter = L.RandomRotation((0.25, 0.25))(on(device, images)).numpy()
    np.testing.assert_allclose(quarter, np.rot90(images, k=1, axes=(2, 3)), atol=1e-3)
    half = L.RandomRotation((0.5, 0.5))(on(device, images)).numpy()
    np.testing.assert_allclose(half, images[:, :, ::-1, ::-1], atol=1e-3)
    layer = L.RandomRotation(0.2).eval()
    np.testing.assert_array_equal(layer(on(device, images)).numpy(), images)


def test_rotation_fills_the_corners_as_asked():
    image = np.ones((1, 1, 8, 8), np.float32)
    turned = L.RandomRotation((0.125, 0.125), fill_mode="constant", fill_value=-1.0)(mc.tensor(image)).numpy()
    assert turned[0, 0, 0, 0] == -1.0 and turned[0, 0, 4, 4] == 1.0       # a corner left uncovered; the middle
    assert L.RandomRotation((0.125, 0.125))(mc.tensor(image)).numpy().min() == 1.0   # reflect: ones everywhere
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        L.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="does not give a range"):
        L.RandomRotation((0.3, 0.1))


def test_zoom_scales_about_the_centre(device):
    images = np.random.default_rng(0).normal(size=(2, 1, 7, 9)).astype(np.float32)
    np.testing.assert_allclose(L.RandomZoom((0.0, 0.0))(on(device, images)).numpy(), images, atol=1e-5)
    out = L.RandomZoom((1.0, 1.0), fill_mode="nearest")(on(device, images)).numpy()      # twice as far: zoom out
    ys, xs = np.meshgrid((np.arange(7) - 3) * 2 + 3, (np.arange(9) - 4) * 2 + 4, indexing="ij")
    expected = ndimage.map_coordinates(images[1, 0].astype(np.float64), [ys, xs], order=1, mode="nearest")
    np.testing.assert_allclose(out[1, 0], expected, atol=1e-5)


def test_contrast_scales_deviations_from_each_mean_and_clips():
    images = np.array([[[[0.0, 100.0], [200.0, 250.0]]]], np.float32)
    out = L.RandomContrast((-0.5, 0.5))(mc.tensor(images)).numpy()       # contrast exactly 1.5
    mean = images.mean()
    np.testing.assert_allclose(out, np.clip((images - mean) * 1.5 + mean, 0, 255), rtol=1e-6)
    with pytest.raises(ValueError, match="contrasts 0 <= 1 - lower"):
        L.RandomContrast(1.5)


def test_resizing_averages_when_halving_and_keeps_what_fits(device):
    images = np.random.default_rng(1).normal(size=(2, 3, 8, 6)).astype(np.float32)
    halved = L.Resizing(4, 3)(on(device, images)).numpy()
    expected = images.reshape(2, 3, 4, 2, 3, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(halved, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(L.Resizing(8, 6)(on(device, images)).numpy(), images)
    assert L.Resizing(16, 5)(on(device, images)).shape == (2, 3, 16, 5)
    with pytest.raises(ValueError, match="Resizing: height must be a positive int"):
        L.Resizing(0, 4)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), c=st.sampled_from([1, 3]), factor=st.sampled_from([0.0, 0.2, 0.5]), seed=st.integers(0, 99))
def test_color_balance_against_numpy(device, n, c, factor, seed):
    """Brightness, channel gains and saturation drawn in that order from minicnn's generator, as a NumPy
    reference computes them from the same draws; only while training."""
    x = np.random.default_rng(seed).uniform(0, 255, (n, c, 5, 4)).astype(np.float32)
    layer = mc.layers.RandomColorBalance(factor)
    mc.manual_seed(seed)
    got = layer(on(device, x)).numpy()
    mc.manual_seed(seed)
    scales = [(1 + factor * (2 * mc.random.uniform_on(mc.get_backend("cpu"), shape) - 1)).astype(np.float32)
              for shape in ((n, 1, 1, 1), (n, c, 1, 1), (n, 1, 1, 1))]
    lit = x * scales[0] * scales[1]
    grey = lit.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(got, grey + (lit - grey) * scales[2], rtol=1e-5, atol=1e-3)
    if factor == 0:
        np.testing.assert_allclose(got, x, rtol=1e-6, atol=1e-3)
    assert np.array_equal(layer.eval()(on(device, x)).numpy(), x)
    with pytest.raises(ValueError, match=r"factor must be a number in \[0, 1\)"):
        mc.layers.RandomColorBalance(1.5)
