"""Handwritten digits with a small CNN: the quickstart, offline, under a minute on a laptop CPU.

The 1,797 real 8x8 digits of UCI's optdigits ship with minicnn. A stratified
80/20 split keeps every digit in both parts; the network is the lecture's
pattern in miniature: convolution, ReLU and pooling twice, then dense layers.

    python examples/digits.py --epochs 20
"""

import time

import minicnn as mc
import numpy as np

from _common import parser, save_results

L = mc.layers


def build_model():
    return mc.Sequential([
        L.Conv2D(16, 3, padding="same", activation="relu"),   # (16, 8, 8)
        L.MaxPooling2D(2),                                     # (16, 4, 4)
        L.Conv2D(32, 3, padding="same", activation="relu"),   # (32, 4, 4)
        L.MaxPooling2D(2),                                     # (32, 2, 2)
        L.Flatten(),
        L.Dropout(0.25),
        L.Dense(64, activation="relu"),
        L.Dense(10),                                           # logits, one per digit
    ], input_shape=(1, 8, 8))


def main():
    args = parser(__doc__, epochs=20, minutes="under a minute").parse_args()
    mc.manual_seed(args.seed)
    images, labels = mc.datasets.digits()
    digits = mc.data.ImageDataset(images, labels, [str(d) for d in range(10)])
    train, test = mc.data.stratified_split(digits, (0.8, 0.2), seed=args.seed)
    print(f"digits: {len(train)} training and {len(test)} test images of 8x8")

    model = build_model().to(args.device)
    model.summary()
    model.compile(mc.optimizers.Adam(lr=3e-3), mc.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, epochs=args.epochs, batch_size=args.batch_size, validation_data=test,
                        verbose=args.verbose)
    seconds = time.perf_counter() - start
    predicted = model.predict(test).argmax(axis=1)
    accuracy = float(np.mean(predicted == test.labels))
    print(f"test accuracy: {accuracy:.2%} ({seconds:.1f} s of training on {args.device})")
    save_results("digits", args, model, history, test, predicted)


if __name__ == "__main__":
    main()
