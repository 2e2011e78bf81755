"""mc.data.MixUp: every blend against its own label, fit blending only the training batches."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn as mc

L = mc.layers


@given(n=st.integers(2, 10), alpha=st.floats(0.1, 4.0), seed=st.integers(0, 2**16))
def test_each_blend_mixes_two_images_with_the_weight_its_label_shows(n, alpha, seed):
    """Image i has label class i (one-hot), so a blended label row names both images and the weight."""
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, 2, 3, 3)).astype(np.float32)
    labels = np.eye(n, dtype=np.float32)
    data = mc.data.MixUp(mc.data.ImageDataset(images, labels), alpha=alpha)
    mc.manual_seed(seed)
    x, y = mc.tensor(images), mc.tensor(labels)
    mixed_x, mixed_y = (t.numpy() for t in data.mix(x, y))
    np.testing.assert_array_equal(x.numpy(), images)                  # inputs untouched
    np.testing.assert_allclose(mixed_y.sum(axis=1), 1, rtol=1e-6)
    assert mixed_x.dtype == mixed_y.dtype == np.float32
    partners = []
    for i in range(n):
        w = mixed_y[i, i]
        others = [j for j in range(n) if j != i and mixed_y[i, j] > 0]
        assert len(others) <= 1                                       # one partner at most
        j = others[0] if others else i                                # w == 1: the image itself
        partners.append(j)
        np.testing.assert_allclose(mixed_x[i], w * images[i] + (1 - w) * images[j], rtol=1e-5, atol=1e-6)
    weights_ok = all(0 < mixed_y[i, i] < 1 for i in range(n))
    if weights_ok:                                                    # every partner known: a permutation
        assert sorted(partners) == list(range(n))


def constant_images(n):
    """Image k is all k: a blend's value tells how much of which images it holds."""
    return np.repeat(np.arange(n, dtype=np.float32), 16).reshape(n, 1, 4, 4)


class Recorder(L.Layer):
    """Keeps the first pixel of every image the model sees, by mode."""

    def __init__(self):
        super().__init__()
        self.seen = {True: [], False: []}

    def forward(self, x):
        self.seen[self.training].extend(x.numpy()[:, 0, 0, 0].tolist())
        return x


def test_fit_blends_the_training_batches_only():
    n = 16
    images, labels = constant_images(n), np.arange(n) % 2
    mc.manual_seed(0)
    recorder = Recorder()
    model = mc.Sequential([recorder, L.Flatten(), L.Dense(1)], input_shape=(1, 4, 4))
    model.compile(mc.optimizers.SGD(lr=0.01), mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    recorder.seen = {True: [], False: []}           # not the pass that built the model
    history = model.fit(mc.data.MixUp(mc.data.ImageDataset(images, labels), alpha=1.0), epochs=2, batch_size=8,
                        validation_data=(images, labels), verbose=0)
    blended = np.array(recorder.seen[True])
    assert len(blended) == 2 * n and np.mean(blended != np.round(blended)) > 0.5     # fractions: blends
    assert sorted(recorder.seen[False]) == sorted(2 * list(range(n)))                 # validation: as they are
    assert history.history["val_accuracy"][-1] == pytest.approx(model.evaluate(images, labels)[1])


def test_mixup_learns_the_bars_binary_task_and_keeps_its_blending_in_a_validation_split():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (160, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 2, 160)
    for image, label, where in zip(x, y, rng.integers(1, 7, 160)):
        (image[0, :, where] if label else image[0, where, :])[...] += 1
    data = mc.data.MixUp(mc.data.ImageDataset(x, y), alpha=0.4)
    part = data.subset([0, 1, 2])
    assert isinstance(part, mc.data.MixUp) and part.alpha == 0.4 and part.labels.dtype == np.float32
    assert repr(part) == "MixUp(ImageDataset(3 images of shape (1, 8, 8), float32), alpha=0.4)"
    mc.manual_seed(0)
    model = mc.Sequential([L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                           L.Dense(1)], input_shape=(1, 8, 8)).to("strict")      # also: no host-only calls
    model.compile(mc.optimizers.Adam(lr=0.01), mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(data, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    accuracy = model.evaluate(x[120:], y[120:])[1]
    assert accuracy > 0.85


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 1, 2, 1]), r"MixUp: labels of shape \(4,\) with values \[0, 1, 2\] can't be blended.*np.eye\(3"),
    (np.zeros((4, 1, 1)), r"MixUp: labels of shape \(4, 1, 1\)"),
])
def test_labels_that_cannot_be_blended_are_refused_with_the_fix(labels, message):
    with pytest.raises(ValueError, match=message):
        mc.data.MixUp(mc.data.ImageDataset(np.zeros((4, 1, 2, 2), np.float32), labels))


def test_mixup_arguments_are_checked():
    data = mc.data.ImageDataset(np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1]))
    for alpha in (0, -1.0, True, "0.2"):
        with pytest.raises(ValueError, match=r"MixUp: alpha must be a number > 0"):
            mc.data.MixUp(data, alpha=alpha)
    with pytest.raises(TypeError, match=r"MixUp: dataset must be a mc.data.ImageDataset, got ndarray"):
        mc.data.MixUp(np.zeros((4, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"MixUp: the dataset has no labels"):
        mc.data.MixUp(mc.data.ImageDataset(np.zeros((4, 1, 2, 2)), None))


def test_class_indices_with_a_sparse_loss_are_refused_before_training():
    model = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(1, 2, 2))
    model.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    data = mc.data.MixUp(mc.data.ImageDataset(np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1])))
    with pytest.raises(ValueError, match=r"fit: MixUp blends labels.*CategoricalCrossentropy"):
        model.fit(data, epochs=1, verbose=0)
