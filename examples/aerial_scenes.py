"""Aerial scene classification on UC Merced Land Use: the lecture's "your turn", 21 classes.

Seen from above, a scene has no "up": a parking lot is a parking lot under any
of the 8 rotations and mirror images of the square. The model learns that
from randomly rotated and flipped training images, and at test time averages
its predictions over all 8 versions of each image. Nor has a scene one colour:
the photographs were taken on different days with different light, so each
training image also gets a random brightness, white balance and saturation
(mc.layers.RandomColorBalance); without it the network tells scenes apart by
their photograph's colours, which a scene far away does not share. The network is the residual
one of examples/residual.py (a first conv block, then three residual blocks).
Tiles larger than 64 px (--image-size 128; the originals are 256) first meet a
strided convolution that brings them to 64x64 maps.

How the images are split decides what the score means. UC Merced's images are
tiles cut from large aerial photographs, and images with neighbouring numbers
in a class are often neighbouring tiles of one scene, near-twins. A random
split puts a near-twin of almost every test image in the training set, and
the score measures memory (spatial autocorrelation: random hold-outs have
overestimated CNN accuracy by up to 28 points in remote sensing). A split by
blocks of image numbers is not enough either: the tiles just past the training
block continue its scenes. benchmarks/leak.py measured how far that reaches:
trained on 40 numbers, the network scores 79% on the next 5, 68% on 6-10 away,
59% on 11-15, 53% on 16-20, then falls slowly (48-50% at 21-30). So a buffer of
20 numbers lies between training and test (spatial cross-validation's
rule: a buffer at least as wide as the autocorrelation range): images 00-39
train, 40-59 are dropped, 60-79 (60-99 in the full set) test: scenes the model
has never seen, nor their neighbours. The test block is scored once, at the end:
no validation curve is drawn on it and nothing is chosen by it (the recipe is
chosen by cross-validation inside the training block: benchmarks/ablation.py).
--split random gives the old stratified random split, to see the difference.

    python examples/aerial_scenes.py --data ../shared/data/ucmerced   # a folder with one subfolder per class
    python examples/aerial_scenes.py                                  # downloads UCMerced_LandUse.zip once
    mpiexec -n 2 python -m mpi4py examples/aerial_scenes.py --distributed    # on 2 MPI ranks (pip install ".[mpi]")
"""

import time

import minicnn as mc
import numpy as np

from _common import conv_block, parser, save_results, start, strided_stem
from residual import residual_block

L = mc.layers
BUFFER = 20     # image numbers between the training and the test block: wider than the leak benchmarks/leak.py measures


def build_model(train, image_size, classes):
    """The residual network of examples/residual.py, with the rotations and flips of aerial views and
    random light and colour (chosen by cross-validation inside the training block: benchmarks/ablation.py)."""
    inputs = mc.Input(shape=(3, image_size, image_size))
    h = inputs
    for layer in [L.RandomFlip("horizontal_and_vertical"), L.RandomRotate90(), L.RandomTranslation(0.1, 0.1),
                  L.RandomColorBalance(0.2),        # on the pixels: light and colour differ from scene to scene
                  L.Normalization().adapt(train),
                  *(strided_stem(image_size // 64) if image_size >= 128 else []), *conv_block(32)]:
        h = layer(h)
    for filters in (64, 128, 256):
        h = residual_block(h, filters)
    h = L.Dropout(0.3)(L.GlobalAveragePooling2D()(h))
    return mc.Model(inputs, L.Dense(classes)(h))


def predict_all_symmetries(model, images, batch_size):
    """Class probabilities averaged over the 4 rotations x 2 mirror images of every image."""
    total = 0.0
    for turns in range(4):
        for mirror in (False, True):
            view = np.rot90(images, turns, axes=(2, 3))
            view = np.ascontiguousarray(view[..., ::-1] if mirror else view)
            logits = model.predict(view, batch_size)
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            total = total + e / e.sum(axis=1, keepdims=True)
    return total / 8


def train_model(model, train, validation, epochs, lr, batch_size, verbose):
    """The recipe: Adam on a one-cycle schedule peaking at lr, cross-entropy from logits."""
    model.compile(mc.optimizers.Adam(lr=mc.schedules.OneCycle(max_lr=lr)),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model.fit(train, epochs=epochs, batch_size=batch_size, validation_data=validation, verbose=verbose)


def split(scenes, how, seed, say=print):
    """Training, validation and test sets: blocks of image numbers with a buffer between, or at random."""
    if how == "random":
        say("split: random (stratified 70/10/20): near-twin tiles on both sides, the score is optimistic")
        return mc.data.stratified_split(scenes, (0.7, 0.1, 0.2), seed=seed)
    parts = mc.data.grouped_split(scenes, mc.data.file_number, [range(0, 60), range(60, 100)], gap=BUFFER)
    train, test = parts
    buffer = parts.dropped_groups[0]
    say(f"split: blocks of image numbers: {min(_numbers(train)):02d}-{max(_numbers(train)):02d} training, "
        f"{buffer[0]:02d}-{buffer[-1]:02d} dropped ({parts.dropped[0]} images: the buffer, wider than the leak "
        f"between neighbouring tiles), {min(_numbers(test)):02d}-{max(_numbers(test)):02d} test")
    return train, None, test


def _numbers(dataset):
    return [mc.data.file_number(path) for path in dataset.file_paths]


def main():
    p = parser(__doc__, epochs=36, minutes="10 min")
    p.add_argument("--data", default=None, help="folder with one subfolder per class (default: download)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--split", choices=("blocks", "random"), default="blocks",
                   help="blocks of image numbers (default; honest) or random (stratified 70/10/20; leaky)")
    args = p.parse_args()
    say = start(args)
    mc.manual_seed(args.seed)
    with mc.distributed.main_first():       # --distributed: rank 0 downloads, the others read its copy
        scenes = mc.datasets.uc_merced(root=args.data, image_size=(args.image_size, args.image_size))
    train, validation, test = split(scenes, args.split, args.seed, say)
    classes = len(scenes.class_names)
    held_out = "the test images are scored once, at the end" if validation is None else \
        f"{len(validation)} validation images draw the validation curve"
    say(f"UC Merced: {classes} classes; {len(train)} training, {len(test)} test images; {held_out}")

    model = build_model(train, args.image_size, classes).to(args.device)
    model.summary(print_fn=say)
    began = time.perf_counter()
    history = train_model(model, train, validation, args.epochs, args.lr, args.batch_size, args.verbose)
    seconds = time.perf_counter() - began
    plain = float(np.mean(model.predict(test).argmax(axis=1) == test.labels))
    predicted = predict_all_symmetries(model, test.images, args.batch_size).argmax(axis=1)
    accuracy = float(np.mean(predicted == test.labels))
    say(f"test accuracy: {accuracy:.2%} averaged over the 8 symmetries ({plain:.2%} on the images as they are); "
        f"{seconds / 60:.1f} min of training on {args.device}"
        + (f", {mc.distributed.world_size()} ranks" if args.distributed else ""))
    save_results("aerial_scenes", args, model, history, test, predicted)


if __name__ == "__main__":
    main()
