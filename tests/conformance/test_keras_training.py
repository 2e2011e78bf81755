"""compile / fit / evaluate / predict, losses, accuracy and data splits against Keras 3 (torch backend).

The twin models (keras_helpers.twin_models) start from the same weights and train with plain SGD
without momentum, where Keras' and minicnn's (PyTorch's) update rules agree, on data in a fixed
order (shuffle=False), 10 images in batches of 4 so that the last batch is partial.
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_helpers import Recorder, assert_close, keras, mc, numpy, twin_models

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

N, CLASSES = 10, 3
rng = np.random.default_rng(0)
X = rng.standard_normal((N, 1, 6, 6)).astype(np.float32)
LABELS = rng.integers(0, CLASSES, N)
ONE_HOT = np.eye(CLASSES, dtype=np.float32)[LABELS]
BINARY = (LABELS > 0).astype(np.float32)[:, None]
MULTI_LABEL = (rng.random((N, CLASSES)) > 0.5).astype(np.float32)


# name: (units, last activation, labels, minicnn loss, Keras loss, Keras metric that minicnn's
# "accuracy" is compared with)
CASES = {
    "sparse": (CLASSES, None, LABELS, lambda: mc.losses.SparseCategoricalCrossentropy(from_logits=True),
               lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True), "accuracy"),
    "categorical": (CLASSES, None, ONE_HOT, lambda: mc.losses.CategoricalCrossentropy(from_logits=True),
                    lambda: keras.losses.CategoricalCrossentropy(from_logits=True), "accuracy"),
    "binary": (1, "sigmoid", BINARY, lambda: mc.losses.BinaryCrossentropy(),
               lambda: keras.losses.BinaryCrossentropy(), "accuracy"),
    # one logit: minicnn's accuracy thresholds the logit at 0 (a probability of 0.5); Keras' "accuracy"
    # would threshold the logit itself at 0.5, so the reference is BinaryAccuracy(threshold=0)
    "binary_logits": (1, None, BINARY, lambda: mc.losses.BinaryCrossentropy(from_logits=True),
                      lambda: keras.losses.BinaryCrossentropy(from_logits=True),
                      lambda: keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)),
    # several sigmoid units: minicnn's accuracy is each image's share of units right, Keras'
    # "binary_accuracy"; Keras' "accuracy" picks CategoricalAccuracy (argmax) for this output shape
    "multi_label": (CLASSES, "sigmoid", MULTI_LABEL, lambda: mc.losses.BinaryCrossentropy(),
                    lambda: keras.losses.BinaryCrossentropy(), lambda: keras.metrics.BinaryAccuracy(name="accuracy")),
    "categorical_smoothed": (CLASSES, None, ONE_HOT,
                             lambda: mc.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                             lambda: keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                             "accuracy"),
    "binary_smoothed": (1, "sigmoid", BINARY, lambda: mc.losses.BinaryCrossentropy(label_smoothing=0.1),
                        lambda: keras.losses.BinaryCrossentropy(label_smoothing=0.1), "accuracy"),
}


def compiled_twins(case, lr=0.1):
    units, activation, labels, my_loss, their_loss, metric = CASES[case]
    mine, theirs = twin_models(units, activation)
    mine.compile(mc.optimizers.SGD(lr=lr), my_loss(), metrics=["accuracy"])
    theirs.compile(keras.optimizers.SGD(learning_rate=lr), their_loss(), metrics=[metric if isinstance(metric, str)
                                                                                  else metric()])
    return mine, theirs, labels


def assert_same_history(mine, theirs, rtol=1e-4, atol=1e-5):
    assert mine.epoch == theirs.epoch
    assert set(mine.history) == set(theirs.history)
    for key, values in theirs.history.items():
        assert_close(np.array(mine.history[key]), np.array(values), rtol, atol, key)


def assert_same_model(mine, theirs, atol=1e-5):
    from keras_helpers import keras_weights
    mine_weights = [w for layer in mine.layers for w in keras_weights(layer)]
    for i, (a, b) in enumerate(zip(mine_weights, theirs.get_weights(), strict=True)):
        assert_close(a, b, 1e-4, atol, f"weight {i}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_evaluate_predict(case):
    """Two epochs with a partial last batch and validation_split=0.2: History, final weights,
    evaluate's loss and accuracy, and predict, all as Keras'."""
    mine, theirs, labels = compiled_twins(case)
    args = dict(epochs=2, batch_size=4, shuffle=False, validation_split=0.2, verbose=0)
    assert_same_history(mine.fit(X, labels, **args), theirs.fit(X, labels, **args))
    assert_same_model(mine, theirs)
    assert_close(np.array(mine.evaluate(X, labels, batch_size=3)),
                 np.array(theirs.evaluate(X, labels, batch_size=3, verbose=0)), 1e-4, 1e-5, "evaluate")
    assert_close(mine.predict(X, batch_size=3), theirs.predict(X, batch_size=3, verbose=0), 1e-4, 1e-5, "predict")


def test_history_and_evaluate_shapes():
    """fit's History (epochs, keys), model.history, evaluate's list / dict / number, predict's dtype."""
    mine, theirs, labels = compiled_twins("sparse")
    histories = [model.fit(X, labels, epochs=3, batch_size=5, shuffle=False, verbose=0,
                           validation_data=(X[:4], labels[:4])) for model in (mine, theirs)]
    assert histories[0].epoch == histories[1].epoch == [0, 1, 2]
    assert sorted(histories[0].history) == sorted(histories[1].history) == [
        "accuracy", "loss", "val_accuracy", "val_loss"]
    assert mine.history is histories[0] and theirs.history is histories[1]
    assert_same_history(*histories)
    mine_dict, their_dict = (m.evaluate(X, labels, return_dict=True, verbose=0) for m in (mine, theirs))
    assert sorted(mine_dict) == sorted(their_dict) == ["accuracy", "loss"]
    assert mine.predict(X).dtype == theirs.predict(X, verbose=0).dtype == np.float32


def test_evaluate_without_metrics_is_a_number():
    mine, theirs = twin_models(CLASSES)
    mine.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    mine_loss, their_loss = mine.evaluate(X, LABELS), theirs.evaluate(X, LABELS, verbose=0)
    assert isinstance(mine_loss, float) and isinstance(their_loss, float)
    assert_close(mine_loss, their_loss, 1e-5, 1e-6, "loss")


@pytest.mark.parametrize("case, class_weight", [("sparse", {0: 1.0, 1: 3.0, 2: 0.5}), ("binary", {0: 2.0, 1: 0.5}),
                                                ("categorical", {1: 4.0})])
def test_class_weight(case, class_weight):
    """Each image's loss times its class's weight (1 where not named); the accuracy stays unweighted."""
    mine, theirs, labels = compiled_twins(case)
    args = dict(epochs=2, batch_size=4, shuffle=False, verbose=0, class_weight=class_weight)
    assert_same_history(mine.fit(X, labels, **args), theirs.fit(X, labels, **args))
    assert_same_model(mine, theirs)


def test_sparse_label_smoothing_is_keras_categorical_smoothing():
    """Keras' SparseCategoricalCrossentropy has no label_smoothing; minicnn's smooths as Keras'
    CategoricalCrossentropy(label_smoothing) does on one-hot labels (and as PyTorch's cross_entropy)."""
    mine, theirs = twin_models(CLASSES)
    mine.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                                    label_smoothing=0.3),
                 metrics=["accuracy"])
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1),
                   keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3), metrics=["accuracy"])
    args = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert_same_history(mine.fit(X, LABELS, **args), theirs.fit(X, ONE_HOT, **args))
    assert_same_model(mine, theirs)


def test_frozen_layer_is_not_trained():
    """layer.trainable = False before compile: fit leaves that layer's weights alone."""
    mine, theirs = twin_models(CLASSES)
    mine.layers[0].trainable = theirs.layers[0].trainable = False
    mine.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = mine.layers[0].get_weights()
    args = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert_same_history(mine.fit(X, LABELS, **args), theirs.fit(X, LABELS, **args))
    assert_same_model(mine, theirs)
    for a, b in zip(before, mine.layers[0].get_weights()):
        assert np.array_equal(a, b)


def test_callbacks_see_the_same_calls():
    """Both fits call a callback in the same order with the same logs: running loss and accuracy
    after each batch, the epoch's metrics at its end, and the same params (epochs, steps)."""
    mine, theirs, labels = compiled_twins("sparse")
    recorders = Recorder(), Recorder()
    for model, recorder in zip((mine, theirs), recorders):
        model.fit(X, labels, epochs=2, batch_size=4, shuffle=False, verbose=0, validation_split=0.2,
                  callbacks=[recorder])
    mine_calls, their_calls = (r.calls for r in recorders)
    assert [c[:2] for c in mine_calls] == [c[:2] for c in their_calls]
    for a, b in zip(mine_calls, their_calls):
        if len(b) == 3:
            assert sorted(a[2]) == sorted(b[2]), a[:2]
            assert_close(np.array([a[2][k] for k in sorted(b[2])]), np.array([b[2][k] for k in sorted(b[2])]),
                         1e-4, 1e-5, f"logs of {a[:2]}")
    for key in ("epochs", "steps"):
        assert recorders[0].seen_params[key] == recorders[1].seen_params[key], key


def test_functional_model_with_a_residual_connection():
    """mc.Input and layers called on symbolic tensors, with Add: Keras' functional Model, trained alike."""
    from keras_helpers import CF, K, L, copy_weights, seed
    seed(0)
    convs = L.Conv2D(2, 3, padding="same", activation="relu"), L.Conv2D(2, 3, padding="same")
    dense = L.Dense(CLASSES)
    inputs = mc.Input(shape=(1, 6, 6))
    h = convs[0](inputs)
    mine = mc.Model(inputs, dense(L.Flatten()(L.Add()([h, convs[1](h)]))))
    their_convs = (K.Conv2D(2, 3, padding="same", activation="relu", data_format=CF),
                   K.Conv2D(2, 3, padding="same", data_format=CF))
    their_dense = K.Dense(CLASSES)
    their_inputs = keras.Input((1, 6, 6))
    h = their_convs[0](their_inputs)
    theirs = keras.Model(their_inputs, their_dense(K.Flatten()(K.Add()([h, their_convs[1](h)]))))
    mine.build((1, 6, 6))
    copy_weights(convs + (dense,), their_convs + (their_dense,))
    mine.compile(mc.optimizers.SGD(lr=0.1), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                 metrics=["accuracy"])
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    args = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert_same_history(mine.fit(X, LABELS, **args), theirs.fit(X, LABELS, **args))
    assert_close(mine.predict(X), theirs.predict(X, verbose=0), 1e-4, 1e-5, "predict")


def test_calling_the_model_after_fit_is_inference():
    """After fit, model(x) runs in inference mode, as Keras' model(x): Dropout passes everything."""
    from keras_helpers import CF, K, L, copy_weights, seed
    seed(0)
    mine = mc.Sequential([L.Conv2D(2, 3), L.Flatten(), L.Dropout(0.5), L.Dense(CLASSES)], input_shape=(1, 6, 6))
    theirs = keras.Sequential([keras.Input((1, 6, 6)), K.Conv2D(2, 3, data_format=CF), K.Flatten(), K.Dropout(0.5),
                               K.Dense(CLASSES)])
    copy_weights(mine.layers, theirs.layers)
    # a rate so small that the weights stay put: the two libraries' dropout masks differ in training
    mine.compile(mc.optimizers.SGD(lr=1e-12), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    theirs.compile(keras.optimizers.SGD(learning_rate=1e-12),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for model in (mine, theirs):
        model.fit(X, LABELS, epochs=1, verbose=0)
    assert_close(mine(mc.tensor(X)), numpy(theirs(X)), 1e-5, 1e-6, "model(x) after fit")


# --- validation_split: which images are held out ---

def _split_sizes(model, n, validation_split, keras_model):
    """(training images, validation images) fit makes of n images: steps with batch_size=1, no epochs."""
    recorder = Recorder()
    x, y = np.zeros((n, 1, 6, 6), np.float32), np.arange(n) % CLASSES
    if keras_model:
        model.fit(x, y, epochs=0, batch_size=1, validation_split=validation_split, verbose=0, callbacks=[recorder])
    else:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the one-class warning: these labels are not sorted anyway
            model.fit(x, y, epochs=0, batch_size=1, validation_split=validation_split, verbose=0,
                      callbacks=[recorder])
    train = recorder.seen_params["steps"]
    return train, n - train


@pytest.mark.parametrize("n, validation_split", [(10, 0.2), (100, 0.1), (8, 0.5), (12, 0.25),
                                                 (10, 0.25), (9, 0.5), (7, 0.3)])
def test_validation_split_sizes(n, validation_split):
    mine, theirs, _ = compiled_twins("sparse")
    assert _split_sizes(mine, n, validation_split, False) == _split_sizes(theirs, n, validation_split, True)


def test_validation_split_holds_out_the_last_images():
    """The validation images are the last ones, in the order given, never shuffled: after one epoch
    val_loss is evaluate() on X[-2:]."""
    mine, theirs, labels = compiled_twins("sparse")
    for model in (mine, theirs):
        history = model.fit(X, labels, epochs=1, batch_size=4, shuffle=True, validation_split=0.2, verbose=0)
        last = model.evaluate(X[-2:], labels[-2:], verbose=0)
        assert_close(history.history["val_loss"][-1], last[0], 1e-5, 1e-6, type(model).__module__)


def test_validation_split_with_validation_data():
    """Documented difference: minicnn refuses both at once; Keras uses validation_data and ignores the split."""
    mine, theirs, labels = compiled_twins("sparse")
    args = dict(epochs=1, batch_size=4, verbose=0, validation_split=0.5, validation_data=(X[:3], labels[:3]))
    with pytest.raises(ValueError, match="validation_split"):
        mine.fit(X, labels, **args)
    history = theirs.fit(X, labels, **args)
    assert_close(history.history["val_loss"][-1], theirs.evaluate(X[:3], labels[:3], verbose=0)[0], 1e-5, 1e-6,
                 "Keras validates on validation_data")


def test_metrics_given_as_a_string():
    """Documented difference: compile(metrics="accuracy") is ["accuracy"] in minicnn; Keras refuses it."""
    mine, theirs = twin_models(CLASSES)
    mine.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics="accuracy")
    assert mine.metrics == ["accuracy"]
    with pytest.raises(ValueError, match="metrics"):
        theirs.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics="accuracy")


def test_an_unknown_metric_is_refused():
    mine, theirs = twin_models(CLASSES)
    with pytest.raises(ValueError):
        mine.compile("sgd", mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["acuracy"])
    with pytest.raises(ValueError):
        theirs.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["acuracy"])
        theirs.fit(X, LABELS, epochs=1, verbose=0)      # Keras resolves metric names when it first needs them


# --- the losses on their own ---

logits_shapes = st.tuples(st.integers(1, 6), st.integers(2, 5))
smoothing = st.sampled_from([0.0, 0.1, 0.3])


def _weights(draw_weights, n, rng):
    return rng.uniform(0, 2, n).astype(np.float32) if draw_weights else None


@settings(max_examples=25)
@given(shape=logits_shapes, from_logits=st.booleans(), label_smoothing=smoothing, weighted=st.booleans(),
       rng_seed=st.integers(0, 2 ** 16))
def test_categorical_losses(shape, from_logits, label_smoothing, weighted, rng_seed):
    """CategoricalCrossentropy (one-hot and soft labels) and SparseCategoricalCrossentropy, logits or
    probabilities, label smoothing, sample weights: Keras' losses ("sum over batch size")."""
    rng = np.random.default_rng(rng_seed)
    logits = rng.uniform(-5, 5, shape).astype(np.float32)
    y_pred = logits if from_logits else numpy(keras.ops.softmax(logits))
    labels = rng.integers(0, shape[1], shape[0])
    soft = rng.dirichlet(np.ones(shape[1]), shape[0]).astype(np.float32)
    weights = _weights(weighted, shape[0], rng)
    for y_true in (np.eye(shape[1], dtype=np.float32)[labels], soft):
        mine = mc.losses.CategoricalCrossentropy(from_logits, label_smoothing)(y_true, mc.tensor(y_pred), weights)
        theirs = keras.losses.CategoricalCrossentropy(from_logits, label_smoothing)(y_true, y_pred, weights)
        assert_close(mine, numpy(theirs), 1e-5, 1e-5, "CategoricalCrossentropy")
    if label_smoothing == 0:
        mine = mc.losses.SparseCategoricalCrossentropy(from_logits)(labels, mc.tensor(y_pred), weights)
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits)(labels, y_pred, weights)
        assert_close(mine, numpy(theirs), 1e-5, 1e-5, "SparseCategoricalCrossentropy")


@settings(max_examples=25)
@given(n=st.integers(1, 6), units=st.integers(1, 4), from_logits=st.booleans(), label_smoothing=smoothing,
       weighted=st.booleans(), rng_seed=st.integers(0, 2 ** 16))
def test_binary_crossentropy(n, units, from_logits, label_smoothing, weighted, rng_seed):
    """BinaryCrossentropy over one unit or several (multi-label: the mean over units, then weighted)."""
    rng = np.random.default_rng(rng_seed)
    logits = rng.uniform(-6, 6, (n, units)).astype(np.float32)
    y_pred = logits if from_logits else numpy(keras.ops.sigmoid(logits))
    y_true = (rng.random((n, units)) > 0.5).astype(np.float32)
    weights = _weights(weighted, n, rng)
    mine = mc.losses.BinaryCrossentropy(from_logits, label_smoothing)(y_true, mc.tensor(y_pred), weights)
    theirs = keras.losses.BinaryCrossentropy(from_logits, label_smoothing=label_smoothing)(y_true, y_pred, weights)
    assert_close(mine, numpy(theirs), 1e-5, 1e-5, "BinaryCrossentropy")


def test_loss_names_in_compile():
    """The Keras names compile takes are the same losses."""
    logits = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    probabilities = numpy(keras.ops.softmax(logits))
    labels = np.array([0, 2, 1, 1])
    for name, y_true in (("sparse_categorical_crossentropy", labels),
                         ("categorical_crossentropy", np.eye(3, dtype=np.float32)[labels])):
        mine = mc.losses.get_loss(name)(y_true, mc.tensor(probabilities))
        assert_close(mine, numpy(keras.losses.get(name)(y_true, probabilities)).mean(), 1e-5, 1e-6, name)


# --- image_folder: Keras' image_dataset_from_directory ---
# image_dataset_from_directory itself needs TensorFlow (or grain); the reference is the pure-Python
# Keras code it runs on the files: dataset_utils.index_directory and get_training_or_validation_split.

@pytest.fixture
def folder(tmp_path):
    from PIL import Image
    for name, count in (("cats", 4), ("dogs", 6), ("zebras", 3)):
        (tmp_path / name / "deeper").mkdir(parents=True)
        for i in range(count):
            where = tmp_path / name / ("deeper" if i == 0 else "") / f"{name}.{i}.png"
            Image.fromarray(np.full((5, 5, 3), 20 * i, np.uint8)).save(where)
        (tmp_path / name / "notes.txt").write_text("not an image")
    return tmp_path


def _keras_index(root, shuffle=False, seed=None):
    from keras.src.utils import dataset_utils
    paths, labels, class_names = dataset_utils.index_directory(
        str(root), "inferred", formats=(".png", ".jpg", ".jpeg", ".bmp"), shuffle=shuffle, seed=seed, verbose=False)
    return [os.path.relpath(p, root) for p in paths], list(labels), class_names


def test_image_folder_lists_files_and_classes_as_keras(folder):
    """Classes in sorted order, every image under a class folder (subfolders too) with its label, in
    Keras' order (shuffle=False); other files ignored."""
    data = mc.data.image_folder(folder, image_size=4, shuffle=False)
    paths, labels, class_names = _keras_index(folder)
    assert data.class_names == class_names == ["cats", "dogs", "zebras"]
    assert [os.path.relpath(p, folder) for p in data.file_paths] == paths
    assert list(data.labels) == labels


def test_image_folder_validation_split_sizes(folder):
    """validation_split with a seed: as many validation images as Keras keeps, disjoint from training
    and together all of them. (The seed orders the files another way than Keras' does.)"""
    from keras.src.utils import dataset_utils
    train, validation = mc.data.image_folder(folder, image_size=4, validation_split=0.3, subset="both", seed=5)
    paths, labels, _ = _keras_index(folder, shuffle=True, seed=5)
    their_train, _ = dataset_utils.get_training_or_validation_split(paths, labels, 0.3, "training")
    their_validation, _ = dataset_utils.get_training_or_validation_split(paths, labels, 0.3, "validation")
    assert (len(train), len(validation)) == (len(their_train), len(their_validation))
    mine = [set(os.path.relpath(p, folder) for p in part.file_paths) for part in (train, validation)]
    assert not mine[0] & mine[1] and mine[0] | mine[1] == set(paths)


def test_image_folder_skips_hidden_folders(folder):
    from PIL import Image
    (folder / ".ipynb_checkpoints").mkdir()
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(folder / ".ipynb_checkpoints" / "x.png")
    assert mc.data.image_folder(folder, image_size=4, shuffle=False).class_names == _keras_index(folder)[2]


def test_image_folder_unshuffled_split_takes_the_last_files(folder):
    from keras.src.utils import dataset_utils
    validation = mc.data.image_folder(folder, image_size=4, validation_split=0.3, subset="validation", seed=5,
                                      shuffle=False)
    paths, labels, _ = _keras_index(folder)
    theirs, _ = dataset_utils.get_training_or_validation_split(paths, labels, 0.3, "validation")
    assert [os.path.relpath(p, folder) for p in validation.file_paths] == theirs


@given(labels=st.sampled_from(["indices", "one_hot", "binary", "binary_n1"]),
       values=st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.5000001, 0.75, 1.0]), min_size=1, max_size=8),
       weights=st.dictionaries(st.integers(0, 2), st.sampled_from([0.0, 0.5, 2.0]), max_size=3))
def test_class_weight_picks_each_images_class_as_keras(labels, values, weights):
    """The weight each image gets, against Keras' own class_weight_to_sample_weights: class indices,
    one-hot rows (argmax), 0/1 or blended binary labels shaped (N,) or (N, 1) (np.round: 0.5 -> 0)."""
    from keras.src.trainers.data_adapters.data_adapter_utils import class_weight_to_sample_weights
    from minicnn.models.training import _ClassWeights
    v = np.array(values, np.float32)
    if labels == "indices":
        y, outputs = np.round(v * 2).astype(np.int64), mc.zeros(len(v), 3)
    elif labels == "one_hot":
        y, outputs = np.eye(3, dtype=np.float32)[np.round(v * 2).astype(int)], mc.zeros(len(v), 3)
    else:
        y, outputs = (v if labels == "binary" else v[:, None]), mc.zeros(len(v), 1)
        weights = {k: w for k, w in weights.items() if k < 2}      # a one-unit model has classes 0 and 1
    mine = _ClassWeights(weights)(mc.tensor(y), outputs).numpy()
    np.testing.assert_array_equal(mine, class_weight_to_sample_weights(y, weights))
