"""mc.viz: the numbers behind the pictures (saliency, Grad-CAM) and Figures that leave matplotlib alone."""

import numpy as np
import pytest

import minicnn as mc

matplotlib = pytest.importorskip("matplotlib")
L = mc.layers


def small_cnn(classes=3, channels=3, side=12):
    mc.manual_seed(0)
    return mc.Sequential([
        L.Normalization(mean=[100.0] * channels, variance=[900.0] * channels),
        L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(6, 3, padding="same"), L.BatchNormalization(), L.ReLU(),
        L.Flatten(), L.Dropout(0.5), L.Dense(classes),
    ], input_shape=(channels, side, side))


@pytest.mark.parametrize("target", [None, 2])
def test_saliency_is_the_gradient_taken_by_hand(target, device):
    model = small_cnn().to(device)
    image = np.random.default_rng(1).integers(0, 256, (3, 12, 12), dtype=np.uint8)
    kept = image.copy()
    got = mc.viz.saliency(model, image, target=target)

    model.eval()                                   # by hand: inference mode, the class's logit, backward
    x = mc.tensor(image[None], dtype=np.float32, device=device, requires_grad=True)
    logits = model(x)
    k = int(np.argmax(logits.numpy())) if target is None else target
    logits[0, k].backward()
    expected = np.abs(x.grad.numpy()[0]).max(axis=0)
    model.train()
    assert got.shape == (12, 12) and got.max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(image, kept)     # the image is not changed
    assert model.training                          # the model's mode is restored


def test_saliency_agrees_with_finite_differences():
    model = small_cnn(side=8)
    image = np.random.default_rng(2).uniform(0, 255, (3, 8, 8)).astype(np.float32)
    got = mc.viz.saliency(model, image, target=1)
    model.eval()
    for _, weight in model.named_weights():       # the reference in float64
        weight.data = weight.data.astype(np.float64)

    def logit(img):
        with mc.no_grad():
            return float(model(mc.tensor(img[None], dtype=np.float64)).numpy()[0, 1])
    for r, c in [(0, 0), (3, 5), (7, 2)]:
        slopes = []
        for ch in range(3):
            up, down = image.astype(np.float64).copy(), image.astype(np.float64).copy()
            up[ch, r, c] += 0.01
            down[ch, r, c] -= 0.01
            slopes.append(abs(logit(up) - logit(down)) / 0.02)
        assert got[r, c] == pytest.approx(max(slopes), rel=1e-3, abs=1e-7)


def test_grad_cam_finds_the_region_the_class_depends_on():
    """Class 1: a bright plus sign somewhere in the top-left quarter; elsewhere, and in class 0, only noise."""
    rng = np.random.default_rng(0)

    def images(count, label):
        x = rng.normal(60, 10, (count, 1, 16, 16)).astype(np.float32)
        for img in x:
            if label:
                r, c = rng.integers(0, 5), rng.integers(0, 5)
                img[0, r + 1, c:c + 3] = img[0, r:r + 3, c + 1] = 220
        return x
    x = np.concatenate([images(150, 0), images(150, 1)])
    y = np.repeat([0, 1], 150)
    mc.manual_seed(0)
    model = mc.Sequential([L.Normalization(mean=[70.0], variance=[1600.0]),
                           L.Conv2D(8, 3, padding="same", activation="relu"),
                           L.Conv2D(8, 3, padding="same", activation="relu"),
                           L.GlobalAveragePooling2D(), L.Dense(2)], input_shape=(1, 16, 16))
    model.compile(mc.optimizers.Adam(learning_rate=3e-3),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    test = images(10, 1)
    assert (model.predict(test).argmax(axis=1) == 1).mean() >= 0.9
    inside = 0
    for image in test:
        cam = mc.viz.grad_cam(model, image, target=1)
        assert cam.shape == (16, 16) and cam.dtype == np.float32 and cam.min() >= 0 and cam.max() == 1
        r, c = np.unravel_index(np.argmax(cam), cam.shape)
        inside += r < 8 and c < 8
    assert inside >= 9, inside


def test_grad_cam_picks_the_last_convolution_or_the_one_named():
    model = small_cnn()
    image = np.random.default_rng(3).integers(0, 256, (3, 12, 12), dtype=np.uint8)
    last = mc.viz.grad_cam(model, image)
    named = mc.viz.grad_cam(model, image, layer=model.layers[3].name)
    np.testing.assert_array_equal(last, named)
    first = mc.viz.grad_cam(model, image, layer=model.layers[1])
    assert first.shape == (12, 12) and 0 <= first.min() and first.max() <= 1
    with pytest.raises(ValueError, match="layer must be a Conv2D"):
        mc.viz.grad_cam(model, image, layer=model.layers[2])
    with pytest.raises(ValueError, match=r"image has shape \(3, 10, 10\), the model takes \(3, 12, 12\)"):
        mc.viz.grad_cam(model, image[:, :10, :10])
    with pytest.raises(ValueError, match="target must be a class from 0 to 2"):
        mc.viz.saliency(model, image, target=3)


def test_figures_show_filters_maps_overlays_and_mistakes_without_touching_matplotlib(tmp_path):
    import matplotlib.pyplot as plt
    previous = matplotlib.get_backend()
    matplotlib.use("pdf")
    try:
        open_before = plt.get_fignums()
        model = small_cnn()
        image = np.random.default_rng(4).integers(0, 256, (3, 12, 12), dtype=np.uint8)
        fig = mc.viz.filters(model, path=tmp_path / "filters.png")
        kernel = model.layers[1].kernel.numpy()
        assert len(fig.axes[0].images) == 1 and len([ax for ax in fig.axes if ax.images]) == 4   # colour tiles
        shown = fig.axes[0].images[0].get_array()
        flipped = np.moveaxis(kernel[0, :, ::-1, ::-1], 0, -1)
        np.testing.assert_allclose(shown, (flipped - flipped.min()) / (flipped.max() - flipped.min()), rtol=1e-6)
        grey = mc.viz.filters(model, layer=model.layers[3])
        assert len([ax for ax in grey.axes if ax.images]) == 6 * 4                            # one per channel
        maps = mc.viz.feature_maps(model, image, path=tmp_path / "maps.png")
        titles = [ax.get_title(loc="left") for ax in maps.axes if ax.get_title(loc="left")]
        assert titles == [f"{model.layers[1].name} (4, 12, 12)", f"{model.layers[2].name} (4, 6, 6)",
                          f"{model.layers[3].name} (6, 6, 6)"]
        over = mc.viz.overlay(image, mc.viz.grad_cam(model, image), path=tmp_path / "cam.png")
        assert len(over.axes[0].images) == 2
        data = mc.data.ImageDataset(np.stack([image] * 5), np.array([0, 1, 2, 0, 1]), ["a", "b", "c"])
        predicted = model.predict(data).argmax(axis=1)
        wrong = mc.viz.misclassified(model, data, n=16, path=tmp_path / "wrong.png")
        assert len([ax for ax in wrong.axes if ax.images]) == int(np.sum(predicted != data.labels))
        for name in ("filters.png", "maps.png", "cam.png", "wrong.png"):
            assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
        assert matplotlib.get_backend() == "pdf" and plt.get_fignums() == open_before
    finally:
        matplotlib.use(previous)


def test_overlay_draws_several_images_with_their_heat_maps():
    model = small_cnn()
    images = np.random.default_rng(5).integers(0, 256, (3, 3, 12, 12), dtype=np.uint8)
    heats = np.stack([mc.viz.grad_cam(model, image) for image in images])
    fig = mc.viz.overlay(images, heats, title=["a", "b", "c"])
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 3 and [ax.get_title() for ax in drawn] == ["a", "b", "c"]
    np.testing.assert_array_equal(drawn[1].images[1].get_array(), heats[1])
    with pytest.raises(ValueError, match=r"heat must be \(H, W\) for each image"):
        mc.viz.overlay(images, heats[:2])
