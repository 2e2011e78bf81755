"""keras.utils' image functions on minicnn: image_dataset_from_directory (its split sizes and messages as
Keras' dataset_utils makes them: the tf.data part needs TensorFlow, which is not installed), load_img and
img_to_array (channels first), and the batches fit, evaluate and predict take."""

import numpy as np
import pytest
from keras_helpers import assert_close, keras
from test_keras_training import folder  # noqa: F401  (the fixture: 13 small images in 3 classes)

import minicnn as mc


@pytest.mark.parametrize("subset,batch", [("both", 4), ("training", 3), ("validation", 2)])
def test_split_sizes_and_messages(folder, subset, batch, capsys):  # noqa: F811
    from keras.src.utils import dataset_utils
    parts = mc.utils.image_dataset_from_directory(folder, validation_split=0.3, subset=subset, seed=1337,
                                                  image_size=(4, 6), batch_size=batch)
    parts = parts if isinstance(parts, tuple) else (parts,)
    printed = capsys.readouterr().out.splitlines()
    paths, labels, _ = dataset_utils.index_directory(str(folder), "inferred", formats=(".png",), shuffle=True,
                                                     seed=1337, verbose=False)
    uses = ("training", "validation") if subset == "both" else (subset,)
    sizes = [len(dataset_utils.get_training_or_validation_split(paths, labels, 0.3, use)[0]) for use in uses]
    assert [p.image_count for p in parts] == sizes
    assert [len(p) for p in parts] == [-(-n // batch) for n in sizes]           # batches, as tf.data's len
    assert printed == ["Found 13 files belonging to 3 classes."] + [f"Using {n} files for {use}."
                                                                   for n, use in zip(sizes, uses)]
    images, labels = next(iter(parts[0]))
    assert images.shape == (min(batch, sizes[0]), 3, 4, 6) and images.dtype == np.float32
    assert labels.dtype == np.int64 and parts[0].class_names == ["cats", "dogs", "zebras"]


def test_label_modes_take_and_map(folder):  # noqa: F811
    one_hot = mc.utils.image_dataset_from_directory(folder, label_mode="categorical", image_size=4, batch_size=5,
                                                    shuffle=False, verbose=False)
    batches = list(one_hot)
    assert [b[0].shape[0] for b in batches] == [5, 5, 3] and batches[0][1].shape == (5, 3)
    assert len(list(one_hot.take(2))) == 2 == len(one_hot.take(2)) and len(one_hot.take(9)) == 3
    doubled = one_hot.map(lambda x, y: (x * 2, y)).prefetch(4)
    assert_close(next(iter(doubled))[0], batches[0][0].numpy() * 2)
    with pytest.raises(ValueError, match="label_mode='binary' needs exactly 2 classes"):
        mc.utils.image_dataset_from_directory(folder, label_mode="binary", image_size=4, verbose=False)
    with pytest.raises(ValueError, match="channels-first"):
        mc.utils.image_dataset_from_directory(folder, data_format="channels_last", image_size=4, verbose=False)


def test_each_pass_is_a_new_order_from_the_seed(folder):  # noqa: F811
    def orders(seed):
        data = mc.utils.image_dataset_from_directory(folder, image_size=4, batch_size=13, seed=seed, verbose=False)
        return [tuple(next(iter(data))[0].numpy()[:, 0, 0, 0]) for _ in range(3)]
    first = orders(3)
    assert first == orders(3) and len(set(first)) > 1


def test_fit_evaluate_and_predict_take_the_batches(folder):  # noqa: F811
    train, validation = mc.utils.image_dataset_from_directory(folder, validation_split=0.3, subset="both", seed=1,
                                                              image_size=8, batch_size=4, verbose=False)
    model = mc.Sequential([mc.Input(shape=(3, 8, 8)), mc.layers.Rescaling(1 / 255), mc.layers.Flatten(),
                           mc.layers.Dense(3)])
    model.compile(mc.optimizers.Adam(1e-3), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["acc"])
    history = model.fit(train.map(lambda x, y: (x, y)), epochs=2, validation_data=validation, verbose=0)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert model.predict(validation).shape == (validation.image_count, 3)
    assert len(model.evaluate(validation)) == 2
    with pytest.raises(ValueError, match="validation_split is not possible"):
        model.fit(train, epochs=1, validation_split=0.2, verbose=0)


def test_load_img_and_img_to_array(folder):  # noqa: F811
    path = str(folder / "dogs" / "dogs.3.png")
    for size, mode in ((None, "rgb"), ((3, 4), "rgb"), ((2, 2), "grayscale")):
        mine = mc.utils.load_img(path, color_mode=mode, target_size=size)
        theirs = keras.utils.load_img(path, color_mode=mode, target_size=size)
        assert mine.size == theirs.size and mine.mode == theirs.mode
        want = keras.utils.img_to_array(theirs)                 # channels last, Keras' default
        assert_close(mc.utils.img_to_array(mine), np.moveaxis(want, -1, 0))
        assert_close(mc.utils.img_to_array(mine, data_format="channels_last"), want)
