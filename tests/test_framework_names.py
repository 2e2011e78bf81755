"""PyTorch's and Keras' names on minicnn that need no reference to check: minicnn.save/load (no pickle),
mnist.load_data's cache, to_categorical, Input, a Sequential that starts with an Input, nn's refusals."""

import os
import stat

import numpy as np
import pytest

import minicnn as mc
import minicnn.nn as nn


def test_save_and_load_a_checkpoint_without_pickle(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    checkpoint = {"model": net.state_dict(), "epoch": 3, "lr": 0.1, "note": "after warm-up", "best": None,
                  "history": [0.5, 0.25], "shape": (2, 3), "weights": mc.tensor(np.ones(2, np.float32)),
                  7: True}
    path = tmp_path / "checkpoint.pth"
    mc.save(checkpoint, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~_umask()
    loaded = mc.load(path, weights_only=True)
    assert set(loaded) == set(checkpoint) and loaded["epoch"] == 3 and loaded["note"] == "after warm-up"
    assert loaded["best"] is None and loaded["history"] == [0.5, 0.25] and loaded["shape"] == (2, 3)
    assert loaded[7] is True and isinstance(loaded["weights"], mc.Tensor)
    for name, value in checkpoint["model"].items():
        np.testing.assert_array_equal(loaded["model"][name], value)
        assert loaded["model"][name].dtype == value.dtype
    other = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    other.load_state_dict(loaded["model"])
    for a, b in zip(other.state_dict().values(), net.state_dict().values()):
        np.testing.assert_array_equal(a, b)
    assert mc.load(path, weights_only=False).keys() == loaded.keys()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_save_refuses_objects_and_load_refuses_foreign_files(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['net'\] is a Sequential.*save model.state_dict\(\)"):
        mc.save({"net": nn.Sequential(nn.ReLU())}, tmp_path / "x.pth")
    with pytest.raises(TypeError, match="dtype object"):
        mc.save([np.array([object()])], tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not written by minicnn.save"):
        mc.load(tmp_path / "plain.npz")
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not an .npz archive"):
        mc.load(tmp_path / "pickled.npy")


def test_load_state_dict_strict_and_not():
    net = nn.Linear(3, 2)
    state = net.state_dict()
    with pytest.raises(ValueError, match=r"missing \['bias'\]"):
        net.load_state_dict({"weight": state["weight"]})
    result = net.load_state_dict({"weight": state["weight"] * 0, "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert (net.weight.numpy() == 0).all()
    with pytest.raises(ValueError, match=r"weight weight has shape \(3, 2\), the model wants \(2, 3\)"):
        net.load_state_dict({"weight": np.zeros((3, 2)), "bias": state["bias"]})


def test_mnist_load_data_uses_the_cached_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(tmp_path))
    pixels = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.savez(tmp_path / "mnist.npz", x_train=pixels, y_train=np.array([3, 4], np.uint8), x_test=pixels[:1],
             y_test=np.array([5], np.uint8))
    (x_train, y_train), (x_test, y_test) = mc.datasets.mnist.load_data()
    np.testing.assert_array_equal(x_train, pixels)
    assert y_train.tolist() == [3, 4] and x_test.shape == (1, 28, 28) and y_test.tolist() == [5]
    np.savez(tmp_path / "other.npz", x_train=pixels)
    with pytest.raises(ValueError, match="not Keras' mnist.npz"):
        mc.datasets.mnist.load_data(str(tmp_path / "other.npz"))


def test_to_categorical_as_keras():
    np.testing.assert_array_equal(mc.utils.to_categorical([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert mc.utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)          # (N, 1) labels: squeezed
    assert mc.utils.to_categorical([1]).dtype == np.float32
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        mc.utils.to_categorical([0, 2], num_classes=2)


def test_input_refuses_channels_last_and_starts_a_sequential():
    with pytest.raises(ValueError, match=r"Input\(shape=\(1, 28, 28\)\)"):
        mc.Input(shape=(28, 28, 1))
    symbolic = mc.Input(shape=(3, 8, 8), name="pixels")
    assert symbolic.dtype == "float32" and symbolic.name == "pixels" and symbolic.shape == (None, 3, 8, 8)
    model = mc.Sequential([mc.Input(shape=(3, 8, 8)), mc.layers.Conv2D(4, 3), mc.layers.Flatten()])
    assert model.built and model.input_shape == (3, 8, 8) and model.count_params() == 112
    model.add(mc.layers.Dense(2))           # a model that knows its input builds each added layer
    assert model.built and model.count_params() == 112 + 4 * 36 * 2 + 2
    with pytest.raises(ValueError, match="Input must be the first entry"):
        mc.Sequential([mc.layers.ReLU(), mc.Input(shape=(3, 8, 8))])


def test_dataloader_and_tensor_dataset_refusals():
    x = mc.randn(4, 2)
    with pytest.raises(ValueError, match="Size mismatch"):
        mc.utils.data.TensorDataset(x, mc.randn(3))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        mc.utils.data.DataLoader(mc.utils.data.TensorDataset(x), batch_size=0)
    with pytest.raises(NotImplementedError, match="batch_sampler"):
        mc.utils.data.DataLoader(mc.utils.data.TensorDataset(x), batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        mc.utils.data.DataLoader(mc.utils.data.TensorDataset(x), sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="Sum of input lengths"):
        mc.utils.data.random_split(mc.utils.data.TensorDataset(x), [2, 3])
    images = mc.data.ImageDataset(np.zeros((5, 1, 2, 2), np.uint8), np.arange(5))
    batches = list(mc.utils.data.DataLoader(images, batch_size=2))      # mc's ImageDataset too
    assert [b[0].shape for b in batches] == [(2, 1, 2, 2), (2, 1, 2, 2), (1, 1, 2, 2)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_optimizer_and_scheduler_refusals():
    p = mc.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="amsgrad"):
        mc.optim.Adam([p], amsgrad=True)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        mc.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="parameter groups"):
        mc.optim.SGD([{"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="minicnn.optim optimizer"):
        mc.optim.lr_scheduler.StepLR(mc.optimizers.SGD([p]), step_size=1)
    with pytest.raises(ValueError, match="step_size must be a number >= 1"):
        mc.optim.lr_scheduler.StepLR(mc.optim.SGD([p]), step_size=0)


def test_a_model_remembers_its_class_names_across_save_and_load(tmp_path):
    model = mc.Sequential([mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 2, 2))
    model.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert model.class_names is None
    data = mc.data.ImageDataset(np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1]), ["cat", "dog"])
    model.fit(data, epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = mc.load_model(tmp_path / "m.npz")
    assert loaded.class_names == ["cat", "dog"]
    names = [loaded.class_names[i] for i in loaded.predict(data.images).argmax(axis=1)]
    assert len(names) == 4 and set(names) <= {"cat", "dog"}


def test_saving_a_model_compiled_with_a_pytorch_style_optimizer_says_what_to_do(tmp_path):
    model = mc.Sequential([mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 2, 2))
    model.compile(mc.optim.SGD(model.parameters(), lr=0.1), mc.losses.SparseCategoricalCrossentropy(True))
    with pytest.raises(ValueError, match=r"minicnn.optim.SGD is PyTorch's form.*mc.optimizers.SGD"):
        model.save(tmp_path / "m.npz")
    model.save_weights(tmp_path / "w.npz")
