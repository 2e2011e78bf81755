"""Cats vs Dogs: the lecture's hands-on exercise, improved as the lecture asks.

Pre-process the images (resize, scale each colour channel to zero mean and
unit variance), create a model, train and test it, evaluate, improve: filters
grow block by block (32, 64, 128, 256), batch normalisation steadies training,
augmentation (random flips and shifts) teaches invariance to translation,
global average pooling and dropout keep the classifier small.

Three more steps earn their place (benchmarks/RESULTS.md, issue 11): sharper
photos (96 px; a first convolution with stride 2 turns them into 48x48 maps, so
the blocks cost less than on 64 px images), mixup (training on blends of two
photos labelled with the same blend: mc.data.MixUp), and averaging each
validation photo's prediction with its mirror image's. Each block pools before
its batch normalisation and ReLU, which then work on a quarter of the values.

    python examples/cats_dogs.py --data ../shared/data/catsdogs      # a folder with train/ and validation/
    python examples/cats_dogs.py                                      # downloads cats_and_dogs_filtered.zip once
    mpiexec -n 2 python -m mpi4py examples/cats_dogs.py --distributed    # on 2 MPI ranks (pip install ".[mpi]")
"""

import time

import minicnn as mc
import numpy as np

from _common import parser, save_results, start, strided_stem

L = mc.layers


def pooled_block(filters):
    """Conv 3x3 -> MaxPool 2 -> BatchNorm -> ReLU: _common.conv_block with the pool moved forward.

    Max-pooling picks the same winners before or after an increasing function, so
    this is nearly the usual block (BatchNorm's statistics now come from the pooled
    values), and BatchNorm and ReLU work on a quarter of the values: a step 10% faster.
    """
    return [L.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_uniform"),
            L.MaxPooling2D(2), L.BatchNormalization(momentum=0.9), L.ReLU()]


def build_model(train, image_size):
    normalize = L.Normalization().adapt(train)          # per-channel mean and variance of the training images
    return mc.Sequential([
        L.RandomFlip("horizontal"), L.RandomTranslation(0.1, 0.1),     # on the pixels, as in Keras' tutorials:
        normalize,                                      # a shifted photo's uncovered border is black
        *strided_stem(2),                               # 96 px photos -> 48x48 maps
        *pooled_block(32), *pooled_block(64), *pooled_block(128), *pooled_block(256),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.3),
        L.Dense(1),                                     # one logit: > 0 means dog
    ], input_shape=(3, image_size, image_size))


def dog_probability(model, images, batch_size):
    """P(dog) averaged over each image and its mirror image."""
    total = 0.0
    for view in (images, np.ascontiguousarray(images[..., ::-1])):
        total = total + 1 / (1 + np.exp(-model.predict(view, batch_size)[:, 0]))
    return total / 2


def main():
    p = parser(__doc__, epochs=56, image_size=96, minutes="11 min")
    p.add_argument("--data", default=None, help="folder with train/ and validation/ (default: download)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--mixup", type=float, default=0.2, help="alpha of mixup's Beta(alpha, alpha) blends; 0: off")
    p.add_argument("--validation-freq", type=int, default=4,
                   help="score the validation images after every n-th epoch, and at the end of a shorter run "
                        "(default 4: 30 s of the 11 min)")
    args = p.parse_args()
    say = start(args)
    mc.manual_seed(args.seed)
    size = (args.image_size, args.image_size)
    with mc.distributed.main_first():       # --distributed: rank 0 downloads, the others read its copy
        train, validation = mc.datasets.cats_and_dogs(root=args.data, image_size=size)
    say(f"cats vs dogs: {len(train)} training, {len(validation)} validation images, classes {train.class_names}")

    model = build_model(train, args.image_size).to(args.device)
    model.summary(print_fn=say)
    model.compile(mc.optimizers.Adam(lr=mc.schedules.OneCycle(max_lr=args.lr)),
                  mc.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    began = time.perf_counter()
    blended = mc.data.MixUp(train, alpha=args.mixup) if args.mixup else train
    history = model.fit(blended, epochs=args.epochs, batch_size=args.batch_size, validation_data=validation,
                        validation_freq=min(args.validation_freq, max(args.epochs, 1)), verbose=args.verbose)
    seconds = time.perf_counter() - began
    plain = float(np.mean((model.predict(validation)[:, 0] > 0) == validation.labels))
    predicted = (dog_probability(model, validation.images, args.batch_size) > 0.5).astype(np.int64)
    accuracy = float(np.mean(predicted == validation.labels))
    say(f"validation accuracy: {accuracy:.2%} averaged with the mirror images ({plain:.2%} on the images as "
        f"they are); {seconds / 60:.1f} min of training on {args.device}"
        + (f", {mc.distributed.world_size()} ranks" if args.distributed else ""))
    save_results("cats_dogs", args, model, history, validation, predicted)


if __name__ == "__main__":
    main()
