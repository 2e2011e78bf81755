"""Cats vs Dogs with residual blocks (Keras' functional API), next to the Sequential CNN they improve on.

The lecture ends with "improve the model". A residual block adds its input back to
what its two convolutions make of it, Add()([x, block(x)]), so each block learns a
correction to what the layers before it already found. That is not a straight stack
of layers: the model is written with mc.Input, layers called on symbolic tensors and
mc.Model(inputs, outputs). Both models train with the same recipe and data, one after
the other, and the script prints both validation accuracies.

    python examples/residual.py --data ../shared/data/catsdogs
"""

import time

import minicnn as mc
import numpy as np

from _common import conv_block, parser, save_results

L = mc.layers


def residual_block(x, filters):
    """Two 3x3 convolutions whose result is added to x (brought to `filters` channels by a 1x1 convolution)."""
    skip = L.Conv2D(filters, 1, use_bias=False)(x)
    h = L.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_uniform")(x)
    h = L.ReLU()(L.BatchNormalization(momentum=0.9)(h))
    h = L.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_uniform")(h)
    h = L.BatchNormalization(momentum=0.9)(h)
    return L.MaxPooling2D(2)(L.ReLU()(L.Add()([h, skip])))


def build_sequential(train, image_size):
    """The lecture's CNN: four conv-BN-ReLU-pool blocks (32 to 256 filters), global average pooling.
    (examples/cats_dogs.py starts from it and adds 96 px, mixup and mirror-averaging.)"""
    return mc.Sequential([L.Normalization().adapt(train), L.RandomFlip("horizontal"), L.RandomTranslation(0.1, 0.1),
                          *conv_block(32), *conv_block(64), *conv_block(128), *conv_block(256),
                          L.GlobalAveragePooling2D(), L.Dropout(0.3), L.Dense(1)],
                         input_shape=(3, image_size, image_size))


def build_residual(train, image_size):
    inputs = mc.Input(shape=(3, image_size, image_size))
    h = L.Normalization().adapt(train)(inputs)
    h = L.RandomTranslation(0.1, 0.1)(L.RandomFlip("horizontal")(h))
    for layer in conv_block(32):                       # the same first block as the Sequential model
        h = layer(h)
    for filters in (64, 128, 256):
        h = residual_block(h, filters)
    h = L.Dropout(0.3)(L.GlobalAveragePooling2D()(h))
    return mc.Model(inputs, L.Dense(1)(h))


def train_and_score(name, model, train, validation, args):
    model.to(args.device)
    model.compile(mc.optimizers.Adam(learning_rate=mc.schedules.OneCycle(max_lr=args.lr)),
                  mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, epochs=args.epochs, batch_size=args.batch_size, validation_data=validation,
                        verbose=args.verbose)
    minutes = (time.perf_counter() - start) / 60
    predicted = (model.predict(validation)[:, 0] > 0).astype(np.int64)
    accuracy = float(np.mean(predicted == validation.labels))
    print(f"{name}: validation accuracy {accuracy:.2%}, {model.count_params():,} parameters, "
          f"{minutes:.1f} min of training on {args.device}")
    return history, predicted


def main():
    p = parser(__doc__, epochs=12, minutes="10 min for both networks")
    p.add_argument("--data", default=None, help="folder with train/ and validation/ (default: download)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    args = p.parse_args()
    size = (args.image_size, args.image_size)
    train, validation = mc.datasets.cats_and_dogs(root=args.data, image_size=size)
    print(f"cats vs dogs: {len(train)} training, {len(validation)} validation images")
    for name, build in (("sequential", build_sequential), ("residual", build_residual)):
        mc.manual_seed(args.seed)                      # the same draws for both: weights aside, the same run
        model = build(train, args.image_size)
        history, predicted = train_and_score(name, model, train, validation, args)
    model.summary()
    save_results("residual", args, model, history, validation, predicted)


if __name__ == "__main__":
    main()
