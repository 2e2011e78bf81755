"""The trials behind the ablation tables of benchmarks/RESULTS.md (issue 11), one recipe per run.

    python benchmarks/ablation.py aerial --trainval 1 --residual 1        # UC Merced, test images 60-79
    python benchmarks/ablation.py cats --epochs 60                        # Cats vs Dogs, catsdogs/validation

aerial: trained on images 00-59 (--trainval 1) or 00-49 (00-49 train, 50-59 validation), tested
on images 60-79 of every class; prints plain, horizontally flipped and 8-symmetry accuracies.
The network: augmentation, Normalization, an optional strided stem (--stem FILTERS at stride 2),
conv-BN-ReLU-pool blocks of --widths (conv-pool-BN-ReLU with --poolfirst 1; residual blocks after
the first with --residual 1), global average pooling, dropout, one dense layer; Adam with a
one-cycle schedule; --mixup ALPHA trains on mc.data.MixUp blends, --aug cutout blanks a square of
each training image (a trial, not in the library). The examples keep the recipes that earned
their place. Data from ../shared/data (--data-root).
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
    p.add_argument("--trainval", type=int, default=0, help="aerial: 1 trains on 00-59, 0 on 00-49")
    p.add_argument("--stem", type=int, default=0, help="filters of a stride-2 first convolution; 0: none")
    p.add_argument("--stempool", type=int, default=0, help="1: max-pool after the stem")
    p.add_argument("--widths", default="32,64,128,256", help="filters of the blocks")
    p.add_argument("--residual", type=int, default=0, help="1: residual blocks after the first")
    p.add_argument("--aug", default="", help="extra augmentation: any of zoom,rot,contrast")
    p.add_argument("--ls", type=float, default=0.0, help="label smoothing")
    p.add_argument("--ema", type=float, default=0.0, help="use_ema with this momentum; 0: off")
    p.add_argument("--lr", type=float, default=3e-3, help="peak of the one-cycle schedule")
    p.add_argument("--bs", type=int, default=32, help="batch size")
    p.add_argument("--mixup", type=float, default=0.0, help="mc.data.MixUp with this alpha; 0: off")
    p.add_argument("--valfreq", type=int, default=1, help="validate every this many epochs")
    p.add_argument("--poolfirst", type=int, default=0, help="1: conv, pool, then BatchNorm and ReLU on 4x fewer values")
    p.add_argument("--drop", type=float, default=0.3, help="dropout before the dense layer")
    return p.parse_args()


def data(a):
    size = (a.size, a.size)
    if a.task == "cats":
        train, test = mc.datasets.cats_and_dogs(root=os.path.join(a.data_root, "catsdogs"), image_size=size)
        return train, test, test, 1
    scenes = mc.datasets.uc_merced(root=os.path.join(a.data_root, "ucmerced"), image_size=size)
    if a.trainval:
        train, test = mc.data.grouped_split(scenes, mc.data.file_number, [range(0, 60), range(60, 80)])
        return train, test, test, 21
    train, val, test = mc.data.grouped_split(scenes, mc.data.file_number,
                                             [range(0, 50), range(50, 60), range(60, 80)])
    return train, val, test, 21


class Cutout(L.Layer):
    """Trial: a size x size square (centre anywhere, clipped at the border) set to 0 in every training image."""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        if not self.training:
            return x
        n, _, h, w = x.shape
        cy, cx = (np.floor(mc.random.uniform(n) * h).astype(int), np.floor(mc.random.uniform(n) * w).astype(int))
        rows, cols = np.arange(h), np.arange(w)
        inside_y = np.abs(rows[None, :] - cy[:, None]) <= self.size // 2 - 1 + (rows[None, :] <= cy[:, None])
        inside_x = np.abs(cols[None, :] - cx[:, None]) <= self.size // 2 - 1 + (cols[None, :] <= cx[:, None])
        keep = ~(inside_y[:, None, :, None] & inside_x[:, None, None, :])
        return x * mc.tensor(keep.astype(np.float32))


def network(a, train, classes):
    inputs = mc.Input(shape=(3, a.size, a.size))
    if a.task == "aerial":
        layers = [L.RandomFlip("horizontal_and_vertical"), L.RandomRotate90(), L.RandomTranslation(0.1, 0.1)]
    else:
        layers = [L.RandomFlip("horizontal"), L.RandomTranslation(0.1, 0.1)]
    layers += [L.RandomZoom(0.2)] if "zoom" in a.aug else []
    layers += [L.RandomRotation(0.05)] if "rot" in a.aug else []
    layers += [L.RandomContrast(0.2)] if "contrast" in a.aug else []
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


def main():
    a = arguments()
    mc.manual_seed(0)
    train, val, test, classes = data(a)
    model = network(a, train, classes)
    loss = (mc.losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=a.ls) if classes > 1
            else mc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=a.ls))
    model.compile(mc.optimizers.Adam(learning_rate=mc.schedules.OneCycle(max_lr=a.lr), use_ema=a.ema > 0,
                                     ema_momentum=a.ema or 0.99), loss, metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(mc.data.MixUp(train, a.mixup) if a.mixup else train, epochs=a.epochs, batch_size=a.bs,
              validation_data=val, validation_freq=a.valfreq, verbose=2)
    minutes = (time.perf_counter() - start) / 60
    plain = probabilities(model.predict(test))
    flipped = (plain + probabilities(model.predict(np.ascontiguousarray(test.images[..., ::-1])))) / 2
    result = dict(vars(a), acc=accuracy(plain, test.labels), acc_flip=accuracy(flipped, test.labels),
                  minutes=minutes, params=model.count_params())
    if classes > 1:                     # the 4 rotations x 2 mirror images
        total = 0
        for turns in range(4):
            for mirror in (False, True):
                view = np.rot90(test.images, turns, axes=(2, 3))
                total = total + probabilities(model.predict(np.ascontiguousarray(view[..., ::-1] if mirror else view)))
        result["acc_d4"] = accuracy(total, test.labels)
    print("RESULT", json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
