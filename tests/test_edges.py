"""Edges a sweep found (docs/sweep.md): each answered as PyTorch or Keras would, or refused by name."""

import copy

import numpy as np
import pytest

import minicnn as mc

L = mc.layers


def test_integer_sums_are_int64_and_a_mean_of_nothing_is_nan():
    assert mc.tensor(np.array([200, 100], np.uint8)).sum().item() == 300
    assert mc.tensor([True, True]).sum().dtype == np.int64
    assert np.isnan(mc.zeros(0).mean().item())
    with pytest.raises(ValueError, match="axis of length 0"):
        mc.zeros(0).max()


def test_transpose_swaps_two_axes_and_permute_reorders_them():
    x = mc.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 1).shape == (3, 2, 4)
    np.testing.assert_array_equal(mc.tensor([[1.0, 2.0]]).transpose(0, 1).numpy(), [[1.0], [2.0]])
    np.testing.assert_array_equal(x.permute(2, 0, 1).numpy(), np.transpose(x.numpy(), (2, 0, 1)))
    with pytest.raises(ValueError, match="names the same axis twice"):
        x.permute(0, 0, 1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mc.zeros(2, 3).reshape(5), ValueError, r"reshape: shape \(5,\) does not fit"),
    (lambda: mc.zeros(2, 3).reshape(-1, -1), ValueError, "at most one -1"),
    (lambda: mc.zeros(2, 2).sum(axis=()), ValueError, r"axis=\(\) names no axis"),
    (lambda: mc.zeros(3)[5], IndexError, r"can't index a tensor of shape \(3,\) with 5"),
    (lambda: mc.zeros(3)[mc.tensor([True, False])], IndexError, r"shape \(3,\)"),
    (lambda: mc.tensor([[1, 2], [3]]), ValueError, "rectangular"),
    (lambda: mc.tensor(["a"]), TypeError, "numbers or booleans"),
    (lambda: mc.tensor(2 ** 63), OverflowError, "does not fit int64"),
    (lambda: mc.zeros(-1), ValueError, "ints >= 0"),
    (lambda: mc.zeros(2.5), ValueError, "ints >= 0"),
    (lambda: mc.randn(3, dtype="int64"), TypeError, "floating-point"),
    (lambda: mc.manual_seed("abc"), TypeError, "seed must be an int"),
    (lambda: mc.F.relu(mc.tensor([True])), TypeError, "boolean"),
    (lambda: copy.deepcopy(mc.ones(2, requires_grad=True) * 2), RuntimeError, "leaves"),
    (lambda: mc.schedules.StepDecay(0.1, decay_steps=0), ValueError, "decay_steps must be a positive int"),
    (lambda: mc.schedules.CosineDecay(0.1)(3), ValueError, "total_steps is not set"),
    (lambda: mc.callbacks.EarlyStopping(patience=-1), ValueError, "patience must be an int >= 0"),
    (lambda: mc.metrics.confusion_matrix([0, 1], [1, 1], num_classes=0), ValueError, "num_classes"),
    (lambda: mc.Sequential(L.Dense(2)), TypeError, "list of layers"),
    (lambda: mc.Sequential([L.Dense(2)], input_shape=4), ValueError, "input_shape must be a tuple"),
    (lambda: mc.Input(shape=3), ValueError, r"Input\(shape\) must be a tuple"),
    (lambda: L.Dropout("0.5"), ValueError, "rate must be in"),
])
def test_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_empty_index_list_relu_of_integers_and_any_seed():
    assert mc.zeros(3)[[]].shape == (0,)
    out = mc.F.relu(mc.tensor([1, -2]))
    assert out.dtype == np.int64 and out.numpy().tolist() == [1, 0]
    mc.manual_seed(-1)
    a = mc.randn(3).numpy()
    mc.manual_seed(-1)
    np.testing.assert_array_equal(a, mc.randn(3).numpy())


def test_deepcopy_of_parameters_and_models_and_numpy_views_of_tensors():
    w = mc.tensor([1.0, 2.0], requires_grad=True)
    twin = copy.deepcopy(w)
    twin.data[0] = 5.0
    assert twin.requires_grad and w.numpy()[0] == 1.0
    model = mc.Sequential([L.Dense(2)], input_shape=(3,))
    clone = copy.deepcopy(model)
    clone.layers[0].kernel.data[...] = 0
    assert np.abs(model.layers[0].kernel.numpy()).sum() > 0
    np.testing.assert_array_equal(np.asarray(mc.tensor([1.0, 2.0])), [1.0, 2.0])


def test_a_learning_rate_scheduler_of_the_epoch_alone_and_one_that_returns_no_number():
    x, y = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32), np.arange(8) % 2
    model = mc.Sequential([L.Dense(2)], input_shape=(3,))
    model.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[mc.callbacks.LearningRateScheduler(lambda e: 0.1 / (e + 1))])
    assert model.optimizer.learning_rate == pytest.approx(0.1 / 3)
    with pytest.raises(ValueError, match="must return a number, got 'fast'"):
        model.fit(x, y, verbose=0, callbacks=[mc.callbacks.LearningRateScheduler(lambda e, lr: "fast")])


def test_save_keeps_the_name_and_refuses_a_folder_or_a_learning_rate_function(tmp_path):
    model = mc.Sequential([L.Dense(2)], input_shape=(3,), name="mynet")
    model.save(tmp_path / "m.npz")
    assert mc.load_model(tmp_path / "m.npz").name == "mynet"
    with pytest.raises(ValueError, match="is a folder"):
        model.save(tmp_path)
    model.compile(mc.optimizers.Adam(lr=lambda step: 1e-3), mc.losses.SparseCategoricalCrossentropy(True))
    with pytest.raises(ValueError, match="lr is a function of your own"):
        model.save(tmp_path / "f.npz")
