"""Cats vs Dogs: the lecture's hands-on exercise, improved as the lecture asks.

Pre-process the images (resize, scale each colour channel to zero mean and
unit variance), create a model, train and test it, evaluate, improve: filters
grow block by block (32, 64, 128, 256), batch normalisation steadies training,
augmentation (random flips and shifts) teaches invariance to translation,
global average pooling and dropout keep the classifier small.

    python examples/cats_dogs.py --data ../shared/data/catsdogs      # a folder with train/ and validation/
    python examples/cats_dogs.py                                      # downloads cats_and_dogs_filtered.zip once
"""

import time

import minicnn as mc
import numpy as np

from _common import conv_block, parser, save_results

L = mc.layers


def build_model(train, image_size):
    normalize = L.Normalization().adapt(train)          # per-channel mean and variance of the training images
    return mc.Sequential([
        normalize,
        L.RandomFlip("horizontal"), L.RandomTranslation(0.1, 0.1),
        *conv_block(32), *conv_block(64), *conv_block(128), *conv_block(256),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.3),
        L.Dense(1),                                     # one logit: > 0 means dog
    ], input_shape=(3, image_size, image_size))


def main():
    p = parser(__doc__, epochs=56)    # 60 epochs: 85.8% in 12.1 min (RESULTS.md, issue 11); 56 stay under 12
    p.add_argument("--data", default=None, help="folder with train/ and validation/ (default: download)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    args = p.parse_args()
    mc.manual_seed(args.seed)
    size = (args.image_size, args.image_size)
    train, validation = mc.datasets.cats_and_dogs(root=args.data, image_size=size)
    print(f"cats vs dogs: {len(train)} training, {len(validation)} validation images, classes {train.class_names}")

    model = build_model(train, args.image_size).to(args.device)
    model.summary()
    model.compile(mc.optimizers.Adam(lr=mc.schedules.OneCycle(max_lr=args.lr)),
                  mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, epochs=args.epochs, batch_size=args.batch_size, validation_data=validation,
                        verbose=args.verbose)
    seconds = time.perf_counter() - start
    predicted = (model.predict(validation)[:, 0] > 0).astype(np.int64)
    accuracy = float(np.mean(predicted == validation.labels))
    print(f"validation accuracy: {accuracy:.2%} ({seconds / 60:.1f} min of training on {args.device})")
    save_results("cats_dogs", args, model, history, validation, predicted)


if __name__ == "__main__":
    main()
