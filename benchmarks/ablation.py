"""The trials behind the ablation tables of benchmarks/RESULTS.md, one recipe per run.

Recipes are chosen by cross-validation inside the training data, never by the test
(issue 18): --cv K cuts the training block into K folds of consecutive image numbers
(mc.data.grouped_kfold, with --gap numbers of buffer dropped from training on both sides
of each fold's test block), trains on each and scores its held-out fold; every fold is
recorded. --final 1 instead trains once on the whole training block and scores the test
block: run it once per chosen recipe, not to choose.

    python benchmarks/ablation.py aerial --cv 4 --residual 1          # UC Merced: folds of images 00-39
    python benchmarks/ablation.py aerial --final 1 --residual 1       # ... then test images 60-79, once
    python benchmarks/ablation.py cats --cv 3 --epochs 60             # Cats vs Dogs: folds of catsdogs/train

aerial: the training block is --train-block (default 00-39), the test block --test-block
(default 60-79: 20 numbers of buffer, wider than the leak benchmarks/leak.py measures, as in
examples/aerial_scenes.py). Inside a 40-number block a 20-number buffer would leave a middle
fold nothing to train on, so the folds keep --gap 10: it removes the steepest part of the
leak (79% and 68% at 1-5 and 6-10 away against 59% at 11-15), not all of it;
cats: folds of catsdogs/train, the final test catsdogs/validation. Prints plain, flipped and
8-symmetry accuracies.
The network: augmentation, Normalization, an optional strided stem (--stem FILTERS at stride 2),
conv-BN-ReLU-pool blocks of --widths (conv-pool-BN-ReLU with --poolfirst 1; residual blocks after
the first with --residual 1), global average pooling, dropout, one dense layer; Adam with a
one-cycle schedule; --ensemble N averages N networks; --mixup ALPHA trains on mc.data.MixUp blends,
--aug cutout blanks a square of each training image, --aug colour jitters brightness, white balance
and saturation per image (trials, not in the library). The examples keep the recipes that earned
their place. Data from ../shared/data (--data-root). Each run's result is printed as a RESULT
line of JSON and appended to --log.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import minicnn as mc  # noqa: E402
from _common import conv_block, strided_stem  # noqa: E402
from cats_dogs import pooled_block  # noqa: E402
from residual import residual_block  # noqa: E402

L = mc.layers


def arguments():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=("aerial", "cats"))
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--size", type=int, default=64, help="image side in pixels")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--train-block", default="0-39", help="aerial: the image numbers trained on (and folded)")
    p.add_argument("--test-block", default="60-79", help="aerial: the image numbers of the final test")
    p.add_argument("--cv", type=int, default=0, help="K: grouped K-fold cross-validation inside the training block")
    p.add_argument("--gap", type=int, default=10, help="--cv: image numbers of buffer on each side of a fold")
    p.add_argument("--final", type=int, default=0, help="1: train on the whole training block, score the test once")
    p.add_argument("--log", default="benchmarks/ablation.jsonl", help="every result is appended here")
    p.add_argument("--stem", type=int, default=0, help="filters of a stride-2 first convolution; 0: none")
    p.add_argument("--stempool", type=int, default=0, help="1: max-pool after the stem")
    p.add_argument("--widths", default="32,64,128,256", help="filters of the blocks")
    p.add_argument("--residual", type=int, default=0, help="1: residual blocks after the first")
    p.add_argument("--aug", default="", help="extra augmentation: any of zoom,rot,contrast")
    p.add_argument("--jitter", type=float, default=0.2, help="--aug colour: the strength S of the jitter (1 +- S)")
    p.add_argument("--ls", type=float, default=0.0, help="label smoothing")
    p.add_argument("--ema", type=float, default=0.0, help="use_ema with this momentum; 0: off")
    p.add_argument("--lr", type=float, default=3e-3, help="peak of the one-cycle schedule")
    p.add_argument("--bs", type=int, default=32, help="batch size")
    p.add_argument("--mixup", type=float, default=0.0, help="mc.data.MixUp with this alpha; 0: off")
    p.add_argument("--poolfirst", type=int, default=0, help="1: conv, pool, then BatchNorm and ReLU on 4x fewer values")
    p.add_argument("--drop", type=float, default=0.3, help="dropout before the dense layer")
    p.add_argument("--wd", type=float, default=0.0, help="> 0: AdamW with this decoupled weight decay")
    p.add_argument("--crop", type=int, default=0, help="> 0: train on random CROP x CROP windows of the --size "
                   "images (no RandomTranslation), score the whole images (a trial, not in the library)")
    p.add_argument("--threads", type=int, default=0, help="> 0: mc.set_num_threads (two runs side by side on "
                   "two cores, say); the numbers do not depend on it")
    p.add_argument("--ensemble", type=int, default=1, help="N: train N networks (seeds seed .. seed+N-1) and "
                   "average their probabilities")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def numbers(block):
    low, high = (int(n) for n in block.split("-"))
    return range(low, high + 1)


def data(a):
    """(training data, final test data, classes): the training block and the test block."""
    size = (a.size, a.size)
    if a.task == "cats":
        train, test = mc.datasets.cats_and_dogs(root=os.path.join(a.data_root, "catsdogs"), image_size=size)
        return train, test, 1
    scenes = mc.datasets.uc_merced(root=os.path.join(a.data_root, "ucmerced"), image_size=size)
    train_block, test_block = numbers(a.train_block), numbers(a.test_block)
    other = [n for n in range(100) if n not in train_block and n not in test_block]   # the buffer, unused
    train, _, test = mc.data.grouped_split(scenes, mc.data.file_number, [train_block, other, test_block])
    return train, test, 21


class _Trial(L.Layer):
    """An augmentation tried here, not in the library: `augment` in training, the images as they are else."""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        return self.augment(x) if self.training else x


class Cutout(_Trial):
    """Trial: a size x size square (centre anywhere, clipped at the border) set to 0 in every training image."""

    def augment(self, x):
        n, _, h, w = x.shape
        cy, cx = (np.floor(mc.random.uniform(n) * h).astype(int), np.floor(mc.random.uniform(n) * w).astype(int))
        rows, cols = np.arange(h), np.arange(w)
        inside_y = np.abs(rows[None, :] - cy[:, None]) <= self.size // 2 - 1 + (rows[None, :] <= cy[:, None])
        inside_x = np.abs(cols[None, :] - cx[:, None]) <= self.size // 2 - 1 + (cols[None, :] <= cx[:, None])
        keep = ~(inside_y[:, None, :, None] & inside_x[:, None, None, :])
        return x * mc.tensor(keep.astype(np.float32))


class ColourJitter(_Trial):
    """Trial: each training image's brightness, white balance (a gain per channel) and saturation scaled at
    random by 1 +- size (photographs of different days and cameras differ in all three)."""

    def scale(self, shape):
        return (1 + self.size * (2 * mc.random.uniform(shape) - 1)).astype(np.float32)

    def augment(self, x):
        n, c = x.shape[:2]
        images = x.numpy() * self.scale((n, 1, 1, 1)) * self.scale((n, c, 1, 1))
        grey = images.mean(axis=1, keepdims=True)
        return mc.tensor(grey + (images - grey) * self.scale((n, 1, 1, 1)))


class Crop(_Trial):
    """Trial: a random size x size window of each training image; inference passes the whole image on
    (the network ends in global average pooling, so it takes any size)."""

    def augment(self, x):
        n, c, h, w = x.shape
        s = self.size
        top = np.floor(mc.random.uniform(n) * (h - s + 1)).astype(int)
        left = np.floor(mc.random.uniform(n) * (w - s + 1)).astype(int)
        rows, cols = top[:, None] + np.arange(s), left[:, None] + np.arange(s)
        windows = x.numpy()[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                            rows[:, None, :, None], cols[:, None, None, :]]
        return mc.tensor(windows)


def network(a, train, classes):
    inputs = mc.Input(shape=(3, a.size, a.size))
    shift = [] if a.crop else [L.RandomTranslation(0.1, 0.1)]
    if a.task == "aerial":
        layers = [L.RandomFlip("horizontal_and_vertical"), L.RandomRotate90()] + shift
    else:
        layers = [L.RandomFlip("horizontal")] + shift
    layers = ([Crop(a.crop)] if a.crop else []) + layers
    layers += [L.RandomZoom(0.2)] if "zoom" in a.aug else []
    layers += [L.RandomRotation(0.05)] if "rot" in a.aug else []
    layers += [L.RandomContrast(0.2)] if "contrast" in a.aug else []
    layers += [ColourJitter(a.jitter)] if "colour" in a.aug else []
    layers += [L.Normalization().adapt(train)]
    layers += [Cutout(a.size // 4)] if "cutout" in a.aug else []
    if a.stem:
        layers += strided_stem(2, a.stem) + ([L.MaxPooling2D(2)] if a.stempool else [])
    h = inputs
    for layer in layers:
        h = layer(h)
    for i, width in enumerate(int(w) for w in a.widths.split(",")):
        if a.residual and i >= 1:
            h = residual_block(h, width)
        else:
            for layer in pooled_block(width) if a.poolfirst else conv_block(width):
                h = layer(h)
    h = L.Dropout(a.drop)(L.GlobalAveragePooling2D()(h))
    return mc.Model(inputs, L.Dense(classes)(h))


def probabilities(logits):
    if logits.shape[1] == 1:
        return 1 / (1 + np.exp(-logits[:, 0]))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def accuracy(p, labels):
    return float(np.mean(((p > 0.5).astype(int) if p.ndim == 1 else p.argmax(axis=1)) == labels))


def trained_network(a, train, classes, seed):
    """One network trained on the recipe of `a`, from `seed`."""
    mc.manual_seed(seed)
    model = network(a, train, classes)
    loss = (mc.losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=a.ls) if classes > 1
            else mc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=a.ls))
    if a.mixup and classes > 1:         # blends of two classes: one-hot rows, blended
        train = mc.data.ImageDataset(train.images, np.eye(classes, dtype=np.float32)[train.labels],
                                     train.class_names, train.file_paths)
        loss = mc.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=a.ls)
    optimizer = mc.optimizers.AdamW if a.wd else mc.optimizers.Adam
    model.compile(optimizer(learning_rate=mc.schedules.OneCycle(max_lr=a.lr), use_ema=a.ema > 0,
                            ema_momentum=a.ema or 0.99, weight_decay=a.wd), loss, metrics=["accuracy"])
    model.fit(mc.data.MixUp(train, a.mixup) if a.mixup else train, epochs=a.epochs, batch_size=a.bs, verbose=2)
    return model


def views(images, classes):
    """The images as they are, mirrored, and (21 classes: aerial) the other 6 rotations and mirror images."""
    if classes == 1:
        return [images, np.ascontiguousarray(images[..., ::-1])]
    turned = [np.rot90(images, turns, axes=(2, 3)) for turns in range(4)]
    return [np.ascontiguousarray(v[..., ::-1] if mirror else v) for v in turned for mirror in (False, True)]


def train_and_score(a, train_data, test, classes):
    """Train the recipe of `a` (--ensemble networks) on train_data, score test: a dict of accuracies."""
    start = time.perf_counter()
    models = [trained_network(a, train_data, classes, a.seed + i) for i in range(a.ensemble)]
    minutes = (time.perf_counter() - start) / 60
    # per view, the probabilities averaged over the networks
    p = [np.mean([probabilities(m.predict(v)) for m in models], axis=0) for v in views(test.images, classes)]
    result = dict(acc=accuracy(p[0], test.labels), acc_flip=accuracy((p[0] + p[1]) / 2, test.labels),
                  minutes=round(minutes, 2), params=models[0].count_params(), train_images=len(train_data),
                  test_images=len(test))
    if classes > 1:
        result["acc_d4"] = accuracy(np.mean(p, axis=0), test.labels)
    return result


def main():
    a = arguments()
    if a.threads:
        mc.set_num_threads(a.threads)
    if bool(a.cv) == bool(a.final):
        raise SystemExit("give --cv K (choose) or --final 1 (score the chosen recipe once)")
    train, test, classes = data(a)
    if a.final:
        result = dict(vars(a), mode="final", **train_and_score(a, train, test, classes))
    else:
        folds = []
        for index, (fold_train, fold_test) in enumerate(mc.data.grouped_kfold(train, mc.data.file_number, a.cv,
                                                                              gap=a.gap)):
            folds.append(train_and_score(a, fold_train, fold_test, classes))
            print(f"fold {index + 1}/{a.cv}: {json.dumps(folds[-1])}", flush=True)
        mean = {key: float(np.mean([f[key] for f in folds]))
                for key in ("acc", "acc_flip", "acc_d4") if key in folds[0]}
        result = dict(vars(a), mode="cv", folds=folds, **{f"cv_{k}": v for k, v in mean.items()},
                      cv_sd=float(np.std([f["acc"] for f in folds])))
    print("RESULT", json.dumps(result), flush=True)
    with open(a.log, "a") as f:           # one line per run: appending is atomic enough for a log
        f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
