"""A tiny CNN written with mc.F only, trained for a few steps on images it draws itself.

Each 12x12 grey image holds one bar, horizontal (class 0) or vertical
(class 1), at a random place, plus noise. Two convolution blocks find the
bar's direction wherever it is: the translation invariance of the lecture.

    python examples/tiny_cnn.py --steps 60 --device cpu
"""

import argparse
import time

import minicnn as mc
import numpy as np


F = mc.F


def bar_images(n, rng, size=12):
    """n noisy images (N, 1, size, size) with one bar each, and labels 0 (horizontal) / 1 (vertical)."""
    images = rng.normal(0, 0.3, size=(n, 1, size, size)).astype(np.float32)
    labels = rng.integers(0, 2, size=n)
    for image, label, where in zip(images, labels, rng.integers(1, size - 1, size=n)):
        if label == 0:
            image[0, where, 1:-1] += 1.0
        else:
            image[0, 1:-1, where] += 1.0
    return images, labels


def he(*shape, fan_in, device):
    """He-initialised weights: std sqrt(2 / fan_in) keeps ReLU activations at a steady scale."""
    return (mc.randn(*shape, device=device) * (2.0 / fan_in) ** 0.5).requires_grad_()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="SGD steps (default 60)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--device", default="cpu", help="cpu or gpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mc.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dev = args.device
    params = {
        "w1": he(8, 1, 3, 3, fan_in=9, device=dev), "b1": mc.zeros(8, device=dev).requires_grad_(),
        "w2": he(16, 8, 3, 3, fan_in=72, device=dev), "b2": mc.zeros(16, device=dev).requires_grad_(),
        "w3": he(16 * 3 * 3, 2, fan_in=144, device=dev), "b3": mc.zeros(2, device=dev).requires_grad_(),
    }

    def model(x, training):
        h = F.max_pool2d(F.relu(F.conv2d(x, params["w1"], params["b1"], padding="same")), 2)  # (N, 8, 6, 6)
        h = F.max_pool2d(F.relu(F.conv2d(h, params["w2"], params["b2"], padding="same")), 2)  # (N, 16, 3, 3)
        h = F.dropout(F.flatten(h), 0.25, training=training)
        return F.linear(h, params["w3"], params["b3"])                                       # (N, 2) logits

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        images, labels = bar_images(args.batch_size, rng)
        logits = model(mc.tensor(images, device=dev), training=True)
        loss = F.sparse_categorical_cross_entropy(logits, mc.tensor(labels, device=dev), from_logits=True)
        loss.backward()
        with mc.no_grad():                      # plain SGD: p <- p - lr * dL/dp
            for p in params.values():
                p.data = p.data - args.lr * p.grad.data
                p.zero_grad()
        if step % 10 == 0 or step == 1:
            print(f"step {step:3d}  loss {loss.item():.4f}")

    images, labels = bar_images(500, rng)
    with mc.no_grad():
        predicted = model(mc.tensor(images, device=dev), training=False).numpy().argmax(axis=1)
    print(f"test accuracy on 500 new images: {(predicted == labels).mean():.1%} "
          f"({time.perf_counter() - start:.1f} s on {dev})")


if __name__ == "__main__":
    main()
