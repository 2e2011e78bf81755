"""Bad inputs a new user may try: each handled as Keras or PyTorch would, or refused by name.

The README's table "What minicnn refuses" lists these cases; each row is a case here.
"""

import numpy as np
import pytest

import minicnn as mc

L, F = mc.layers, mc.F


def _compiled():
    model = mc.Sequential([L.Flatten(), L.Dense(2)], input_shape=(1, 4, 4))
    return model.compile("adam", mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])


X, Y = np.zeros((4, 1, 4, 4), np.float32), np.array([0, 1, 0, 1])

REFUSED = [
    ("an op given a NumPy array", lambda: F.relu(np.zeros(3)), TypeError, r"relu: x must be a mc\.Tensor, got ndarray"),
    ("pooling given a list", lambda: F.max_pool2d([[1.0]]), TypeError, r"max_pool2d: x must be a mc\.Tensor"),
    ("max_pool2d(pool_size=0)", lambda: F.max_pool2d(mc.zeros(1, 1, 4, 4), 0), ValueError,
     r"max_pool2d: pool_size and stride must be at least 1"),
    ("a convolution with stride 0", lambda: F.conv2d(mc.zeros(1, 1, 4, 4), mc.zeros(1, 1, 3, 3), stride=0),
     ValueError, r"stride must be at least 1"),
    ("Conv2D(0, 3)", lambda: L.Conv2D(0, 3), ValueError, r"Conv2D: filters must be a positive int .*filters=0"),
    ("Conv2D(4, 0)", lambda: L.Conv2D(4, 0), ValueError, r"Conv2D: kernel_size must be a positive int .*kernel_size=0"),
    ("Conv2D(4, (3, -1))", lambda: L.Conv2D(4, (3, -1)), ValueError, r"kernel_size=\(3, -1\)"),
    ("Conv1D(4, 3, strides=0)", lambda: L.Conv1D(4, 3, strides=0), ValueError, r"Conv1D: strides must be"),
    ("Dense(-1)", lambda: L.Dense(-1), ValueError, r"Dense: units must be a positive int, got units=-1"),
    ("Dense(2.5)", lambda: L.Dense(2.5), ValueError, r"Dense: units must be a positive int, got units=2\.5"),
    ("MaxPooling2D(0)", lambda: L.MaxPooling2D(0), ValueError, r"MaxPooling2D: pool_size must be"),
    ("AveragePooling2D(2, strides=0)", lambda: L.AveragePooling2D(2, strides=0), ValueError, r"strides=0"),
    ("Dropout(1.5)", lambda: L.Dropout(1.5), ValueError, r"rate must be in \[0, 1\)"),
    ("Adam(lr=-1)", lambda: mc.optimizers.Adam(lr=-1), ValueError, r"Adam: lr must be a number >= 0"),
    ("SGD(weight_decay=-0.1)", lambda: mc.optimizers.SGD(weight_decay=-0.1), ValueError, r"weight_decay must be"),
    ("validation_data=(x, y, w)", lambda: _compiled().fit(X, Y, validation_data=(X, Y, np.ones(4)), verbose=0),
     ValueError, r"validation_data must be a dataset or an \(x, y\) pair, got 3 items \(sample weights"),
    ("fit(epochs=-1)", lambda: _compiled().fit(X, Y, epochs=-1, verbose=0), ValueError,
     r"epochs must be a non-negative int, got -1"),
    ("fit(epochs=1.5)", lambda: _compiled().fit(X, Y, epochs=1.5, verbose=0), ValueError, r"epochs .* got 1\.5"),
    ("fit(batch_size=0)", lambda: _compiled().fit(X, Y, batch_size=0, verbose=0), ValueError,
     r"batch_size must be a positive int, got 0"),
    ("an unknown optimizer name", lambda: _compiled().compile("nadam", mc.losses.SparseCategoricalCrossentropy(True)),
     ValueError, r"optimizer must be .* got 'nadam'"),
    ("EarlyStopping(mode='mni')", lambda: mc.callbacks.EarlyStopping(mode="mni"), ValueError,
     r"mode must be 'auto', 'min' or 'max', got mode='mni'"),
    ("ReduceLROnPlateau(mode='maxx')", lambda: mc.callbacks.ReduceLROnPlateau(mode="maxx"), ValueError, r"mode="),
    ("fit(callbacks=[print])", lambda: _compiled().fit(X, Y, callbacks=[print], verbose=0), TypeError,
     r"callbacks must be mc\.callbacks\.Callback objects, got a builtin_function_or_method"),
    ("string labels", lambda: _compiled().fit(X, np.array(["cat", "dog", "cat", "dog"]), verbose=0), ValueError,
     r"labels must be numbers .* got dtype <U3"),
    ("confusion_matrix with a label -1", lambda: mc.metrics.confusion_matrix([0, -1], [0, 1]), ValueError,
     r"y_true holds the label -1"),
    ("confusion_matrix label >= num_classes", lambda: mc.metrics.confusion_matrix([0, 2], [0, 1], num_classes=2),
     ValueError, r"a label is >= num_classes=2"),
    ("MixUp of class indices (N, 1)", lambda: mc.data.MixUp(mc.data.ImageDataset(X, np.array([[0], [2], [1], [3]]))),
     ValueError, r"can't be blended"),
    ("int tensor ** -1", lambda: mc.tensor([2, 3]) ** -1, ValueError, r"integers to a negative integer power"),
    ("Conv2D(4, True)", lambda: L.Conv2D(4, True), ValueError, r"kernel_size"),
    ("load_image of a folder", lambda: mc.data.load_image(".", (8, 8), "RGB"), ValueError, r"not a regular file"),
    ("an unknown metric", lambda: _compiled().compile("adam", mc.losses.SparseCategoricalCrossentropy(True),
                                                      metrics=["precision"]),
     ValueError, r"metrics: each must be 'accuracy' \('acc'\), one of .*got 'precision'"),
]


@pytest.mark.parametrize("what, call, error, message", REFUSED, ids=[case[0] for case in REFUSED])
def test_bad_inputs_are_refused_by_name(what, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_metrics_as_one_string_is_accepted_as_keras_users_type_it():
    model = _compiled()
    model.compile("adam", mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics="accuracy")
    assert model.metrics == ["accuracy"]
    assert set(model.fit(X, Y, verbose=0).history) == {"loss", "accuracy"}


def test_numpy_numbers_are_numbers():
    assert mc.optimizers.SGD(lr=np.float32(0.1)).lr == np.float32(0.1)
    assert L.Dense(np.int64(3)).units == 3
    assert _compiled().fit(X, Y, epochs=np.int64(1), batch_size=np.int64(2), verbose=0).history["loss"]


def test_numpy_numbers_as_layer_arguments_save_and_load(tmp_path):
    model = mc.Sequential([L.Conv2D(np.int64(2), np.int64(3), strides=np.int64(1), padding="same"), L.Flatten(),
                           L.Dropout(np.float32(0.25)), L.Dense(np.int64(2))], input_shape=(1, 4, 4))
    model.save(tmp_path / "m.npz")
    again = mc.load_model(tmp_path / "m.npz")
    assert again.layers[0].kernel_size == (3, 3) and again.layers[-1].units == 2


def test_an_activation_given_as_a_minicnn_function_saves_by_its_name(tmp_path):
    model = mc.Sequential([L.Flatten(), L.Dense(3, activation=F.relu), L.Dense(2, activation=F.softmax)],
                          input_shape=(1, 4, 4))
    assert model.layers[1].get_config()["activation"] == "relu"
    model.save(tmp_path / "m.npz")
    assert mc.load_model(tmp_path / "m.npz").layers[2].activation == "softmax"


def test_an_activation_of_ones_own_is_refused_by_save_with_what_to_do(tmp_path):
    model = mc.Sequential([L.Flatten(), L.Dense(2, activation=lambda x: x * 2)], input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="a function given as activation.*save_weights"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_one_callback_not_in_a_list_is_taken_as_keras_takes_it():
    stop = mc.callbacks.EarlyStopping("loss", patience=0)
    _compiled().fit(X, Y, epochs=2, callbacks=stop, verbose=0)
    assert stop.model is not None
