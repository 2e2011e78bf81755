"""The lecture's "does not scale" slide, measured: a dense network on pixels against a small CNN.

A dense network sees an image as one long vector: a 64x64 grey image is 4,096
inputs, and one hidden layer of 500 units already holds 4,096 x 500 weights +
500 biases = 2,048,500 parameters (three times the weights for colour, 16 times
at 256 px). A convolution's kernels are the same size whatever the image, and
they keep its spatial structure. Both networks train on Cats vs Dogs at 64x64,
grey and colour, with the same optimizer, epochs and seed; the script prints a
table (parameters, seconds per epoch, memory for weights, gradients and Adam's
two moments, validation accuracy) and draws it.

    python examples/dnn_vs_cnn.py --data ../shared/data/catsdogs
"""

import os
import time

import minicnn as mc

from _common import parser

L = mc.layers


def dense_network(channels, side):
    """Flatten -> Dense(500, ReLU) -> Dense(1): the slide's network."""
    return mc.Sequential([L.Normalization(mean=[127.5] * channels, variance=[127.5 ** 2] * channels),
                          L.Flatten(), L.Dense(500, activation="relu"), L.Dropout(0.3), L.Dense(1)],
                         input_shape=(channels, side, side))


def lecture_cnn(channels, side):
    """Conv-pool three times (32, 64, 128 filters, growing as the lecture advises), then dense layers."""
    return mc.Sequential([L.Normalization(mean=[127.5] * channels, variance=[127.5 ** 2] * channels),
                          L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                          L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                          L.Conv2D(128, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                          L.Flatten(), L.Dropout(0.5), L.Dense(128, activation="relu"), L.Dense(1)],
                         input_shape=(channels, side, side))


def train_and_measure(build, train, validation, args):
    mc.manual_seed(args.seed)
    model = build(train.images.shape[1], args.image_size).to(args.device)
    model.compile(mc.optimizers.Adam(learning_rate=1e-3), mc.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, epochs=args.epochs, batch_size=args.batch_size, validation_data=validation,
                        verbose=args.verbose)
    seconds = (time.perf_counter() - start) / args.epochs
    params = sum(p.size for p in model.trainable_weights)     # what learns (count_params adds Normalization's)
    return {"parameters": params, "first layer": model.layers[2].count_params() if build is dense_network
            else model.layers[1].count_params(), "s/epoch": seconds,
            "MB": params * 4 * 4 / 2 ** 20,      # float32 weights, gradients, Adam's two moments
            "accuracy": history.history["val_accuracy"][-1], "curve": history.history["val_accuracy"]}


def main():
    p = parser(__doc__, epochs=15, minutes="6 min for the four networks")
    p.add_argument("--data", default=None, help="folder with train/ and validation/ (default: download)")
    args = p.parse_args()
    size = (args.image_size, args.image_size)
    rows = []
    for colour in ("grayscale", "rgb"):
        train, validation = mc.datasets.cats_and_dogs(root=args.data, image_size=size, color_mode=colour)
        for name, build in (("dense", dense_network), ("CNN", lecture_cnn)):
            result = train_and_measure(build, train, validation, args)
            rows.append({"network": name, "input": f"{colour} {args.image_size}px", **result})
            print(f"{name:5} {colour:9}: {result['parameters']:>10,} parameters, {result['s/epoch']:.1f} s/epoch, "
                  f"validation accuracy {result['accuracy']:.1%}", flush=True)

    print(f"\n| network | input | parameters | of which first layer | s/epoch | MB (weights, grads, Adam) "
          f"| validation accuracy after {args.epochs} epochs |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['network']} | {r['input']} | {r['parameters']:,} | {r['first layer']:,} | {r['s/epoch']:.1f} "
              f"| {r['MB']:.1f} | {r['accuracy']:.1%} |")
    print("\nThe dense network's hidden layer at larger sizes (grey / colour):")
    for side in (64, 128, 256):
        grey, rgb = (side * side * c * 500 + 500 for c in (1, 3))
        print(f"  {side}x{side}: {grey:,} / {rgb:,} parameters")
    plot(rows, args)


def plot(rows, args):
    out = args.out or os.path.join("runs", "dnn_vs_cnn")
    os.makedirs(out, exist_ok=True)
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        print(f"no plot: {error}")
        return
    fig = Figure(figsize=(11, 4))
    params, curves = fig.subplots(1, 2)
    labels = [f"{r['network']}\n{r['input']}" for r in rows]
    params.bar(labels, [r["parameters"] for r in rows], color=["tab:red", "tab:blue"] * 2)
    params.set_yscale("log")
    params.set_ylabel("parameters (log scale)")
    for r in rows:
        curves.plot(range(1, len(r["curve"]) + 1), r["curve"], "--" if r["network"] == "dense" else "-",
                    label=f"{r['network']}, {r['input']}")
    curves.set_xlabel("epoch")
    curves.set_ylabel("validation accuracy")
    curves.grid(alpha=0.3)
    curves.legend()
    fig.suptitle("a dense network on pixels against a CNN, Cats vs Dogs")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "dnn_vs_cnn.png"), dpi=100)
    print(f"saved {out}/dnn_vs_cnn.png")


if __name__ == "__main__":
    main()
