"""Aerial scene classification on UC Merced Land Use: the lecture's "your turn", 21 classes.

Seen from above, a scene has no "up": a parking lot is a parking lot under any
of the 8 rotations and mirror images of the square. The model learns that
from randomly rotated and flipped training images, and at test time averages
its predictions over all 8 versions of each image. The images are split by
class (stratified) into training, validation and test sets.

    python examples/aerial_scenes.py --data ../shared/data/ucmerced   # a folder with one subfolder per class
    python examples/aerial_scenes.py                                  # downloads UCMerced_LandUse.zip once
"""

import time

import minicnn as mc
import numpy as np

from _common import conv_block, parser, save_results

L = mc.layers


def build_model(train, image_size, classes):
    return mc.Sequential([
        L.Normalization().adapt(train),
        L.RandomFlip("horizontal_and_vertical"), L.RandomRotate90(), L.RandomTranslation(0.1, 0.1),
        *conv_block(32), *conv_block(64), *conv_block(128), *conv_block(256),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.3),
        L.Dense(classes),
    ], input_shape=(3, image_size, image_size))


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


def main():
    p = parser(__doc__, epochs=40)
    p.add_argument("--data", default=None, help="folder with one subfolder per class (default: download)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--split", type=float, nargs=3, default=(0.7, 0.1, 0.2), metavar=("TRAIN", "VAL", "TEST"),
                   help="stratified fractions (default 0.7 0.1 0.2)")
    args = p.parse_args()
    mc.manual_seed(args.seed)
    scenes = mc.datasets.uc_merced(root=args.data, image_size=(args.image_size, args.image_size))
    train, validation, test = mc.data.stratified_split(scenes, args.split, seed=args.seed)
    classes = len(scenes.class_names)
    print(f"UC Merced: {classes} classes; {len(train)} training, {len(validation)} validation, {len(test)} test images")

    model = build_model(train, args.image_size, classes).to(args.device)
    model.summary()
    model.compile(mc.optimizers.Adam(lr=mc.schedules.OneCycle(max_lr=args.lr)),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, epochs=args.epochs, batch_size=args.batch_size, validation_data=validation,
                        verbose=args.verbose)
    seconds = time.perf_counter() - start
    plain = float(np.mean(model.predict(test).argmax(axis=1) == test.labels))
    predicted = predict_all_symmetries(model, test.images, args.batch_size).argmax(axis=1)
    accuracy = float(np.mean(predicted == test.labels))
    print(f"test accuracy: {accuracy:.2%} averaged over the 8 symmetries ({plain:.2%} on the images as they are); "
          f"{seconds / 60:.1f} min of training on {args.device}")
    save_results("aerial_scenes", args, model, history, test.labels, predicted, scenes.class_names)


if __name__ == "__main__":
    main()
