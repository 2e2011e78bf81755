"""Accuracy parity with PyTorch: the lecture-sized CNN trained the same way by both libraries.

    python benchmarks/parity.py --framework minicnn --dataset catsdogs
    python benchmarks/parity.py --framework torch --dataset ucmerced     # needs torch (CPU build)

Recipe (issue 3): 3 x [Conv 3x3 same + ReLU + MaxPool 2] with 32/64/128 filters,
Flatten, Dropout 0.5, Dense 128 ReLU, Dense out; 64x64 input scaled to zero
mean / unit variance per channel (training-set statistics); random flip and
translation (UC Merced also random 90-degree rotation); Adam 1e-3, batch 32,
40 epochs. Both frameworks read the same decoded images (mc.data.image_folder).
Cats vs Dogs is scored on catsdogs/validation, UC Merced on a stratified 20%
of ucmerced/ held out (seed 0). Prints one line per epoch and a final JSON line.
"""

import argparse
import json
import os
import sys
import time

if "torch" in sys.argv:     # PyTorch runs keep glibc's default memory handling (see minicnn.backend)
    os.environ.setdefault("MINICNN_KEEP_FREED_MEMORY", "0")
import minicnn as mc  # noqa: E402
import numpy as np  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")


def load(dataset, image_size):
    if dataset == "catsdogs":
        train = mc.data.image_folder(os.path.join(DATA, "catsdogs", "train"), image_size)
        test = mc.data.image_folder(os.path.join(DATA, "catsdogs", "validation"), image_size)
    else:
        everything = mc.data.image_folder(os.path.join(DATA, "ucmerced"), image_size)
        train, test = mc.data.stratified_split(everything, (0.8, 0.2), seed=0)
    return train, test


def channel_stats(images):
    x = images.astype(np.float64)
    return x.mean(axis=(0, 2, 3)).astype(np.float32), x.std(axis=(0, 2, 3)).astype(np.float32)


def run_minicnn(train, test, classes, rotate, epochs, seed):
    L = mc.layers
    mc.manual_seed(seed)
    mean, std = channel_stats(train.images)
    augment = [L.RandomFlip("horizontal_and_vertical" if rotate else "horizontal"), L.RandomTranslation(0.1, 0.1)]
    if rotate:
        augment.append(L.RandomRotate90())
    binary = classes == 2
    model = mc.Sequential([
        L.Normalization(mean, std ** 2), *augment,
        L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(128, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dropout(0.5), L.Dense(128, activation="relu"), L.Dense(1 if binary else classes),
    ], input_shape=train.images.shape[1:])
    loss = mc.losses.BinaryCrossentropy(from_logits=True) if binary else \
        mc.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(mc.optimizers.Adam(lr=1e-3), loss, metrics=["accuracy"])
    history = model.fit(train, epochs=epochs, batch_size=32, validation_data=test, verbose=2)
    return history.history["val_accuracy"]


def run_torch(train, test, classes, rotate, epochs, seed):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean, std = channel_stats(train.images)
    binary = classes == 2
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 1 if binary else classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss() if binary else nn.CrossEntropyLoss()

    def prepare(images):
        return (images.astype(np.float32) - mean[:, None, None]) / std[:, None, None]

    def augment(x):
        n, _, h, w = x.shape
        flip = rng.random(n) < 0.5
        x[flip] = x[flip][..., ::-1]
        if rotate:
            flip = rng.random(n) < 0.5
            x[flip] = x[flip][..., ::-1, :]
            for i, k in enumerate(rng.integers(0, 4, n)):
                x[i] = np.rot90(x[i], k, axes=(1, 2))
        out = np.zeros_like(x)
        dh, dw = int(0.1 * h), int(0.1 * w)
        for i, (dy, dx) in enumerate(zip(rng.integers(-dh, dh + 1, n), rng.integers(-dw, dw + 1, n))):
            out[i, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                x[i, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        return out

    x_test = torch.from_numpy(prepare(test.images))
    accuracies = []
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        for batch in np.array_split(rng.permutation(len(train)), int(np.ceil(len(train) / 32))):
            x = torch.from_numpy(augment(prepare(train.images[batch])))
            y = torch.from_numpy(train.labels[batch])
            out = model(x)
            loss = loss_fn(out[:, 0], y.float()) if binary else loss_fn(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(x_test[i:i + 256]) for i in range(0, len(x_test), 256)]).numpy()
        predicted = (out[:, 0] > 0).astype(int) if binary else out.argmax(axis=1)
        accuracies.append(float((predicted == test.labels).mean()))
        print(f"Epoch {epoch + 1}/{epochs} - {time.perf_counter() - start:.1f}s - val_accuracy {accuracies[-1]:.4f}",
              flush=True)
    return accuracies


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=["minicnn", "torch"], default="minicnn")
    parser.add_argument("--dataset", choices=["catsdogs", "ucmerced"], default="catsdogs")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not os.path.isdir(DATA):
        raise SystemExit(f"{DATA} not found: this benchmark needs the shared data sets")
    if args.framework == "torch":
        import torch
        torch.set_num_threads(os.cpu_count())
    train, test = load(args.dataset, (64, 64))
    classes = len(train.class_names)
    start = time.perf_counter()
    run = run_minicnn if args.framework == "minicnn" else run_torch
    accuracies = run(train, test, classes, args.dataset == "ucmerced", args.epochs, args.seed)
    print(json.dumps({"framework": args.framework, "dataset": args.dataset, "epochs": args.epochs,
                      "final_val_accuracy": accuracies[-1], "best_val_accuracy": max(accuracies),
                      "mean_last5": float(np.mean(accuracies[-5:])),
                      "wall_seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
