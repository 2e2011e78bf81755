"""What the training examples share: command-line options and the files they write."""

import argparse
import os

import minicnn as mc


def conv_block(filters):
    """Conv 3x3 -> BatchNorm -> ReLU -> MaxPool 2: twice the features, maps half as wide.

    BatchNorm's moving averages use momentum 0.9 (PyTorch's default) rather than Keras' 0.99:
    with ~60 steps an epoch, 0.99 lags behind the weights and validation scores jump around.
    """
    L = mc.layers
    return [L.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_uniform"),
            L.BatchNormalization(momentum=0.9), L.ReLU(), L.MaxPooling2D(2)]


def strided_stem(stride, filters=32):
    """Conv 3x3 with `stride` -> BatchNorm -> ReLU: a sharper image's every pixel is seen, and the
    blocks after it work on maps `stride` times narrower, so they cost what they cost on a smaller image."""
    L = mc.layers
    return [L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, kernel_initializer="he_uniform"),
            L.BatchNormalization(momentum=0.9), L.ReLU()]


def parser(doc, epochs, batch_size=32, image_size=64, minutes=None):
    """The examples' common options; `minutes` says what the default epochs cost on a 2-core CPU."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    cost = f": about {minutes} of training on a 2-core CPU" if minutes else ""
    p.add_argument("--epochs", type=int, default=epochs, help=f"passes over the training set (default {epochs}{cost})")
    p.add_argument("--batch-size", type=int, default=batch_size, help=f"images per step (default {batch_size})")
    p.add_argument("--image-size", type=int, default=image_size,
                   help=f"images are resized to this side (default {image_size})")
    p.add_argument("--device", default="cpu", help="cpu or gpu (default cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, dropout and the split")
    p.add_argument("--out", default=None, help="folder for the model and the plots (default runs/<example>)")
    p.add_argument("--verbose", type=int, default=1, help="0 silent, 1 progress line, 2 one line per epoch")
    p.add_argument("--distributed", action="store_true",
                   help="train on every MPI rank the script was started on, each its share of every batch: "
                        "mpiexec -n 2 python -m mpi4py examples/<name>.py --distributed")
    return p


def start(args):
    """--distributed: join the MPI world (rank 0 reports and saves; the others train silently). Returns
    `say`, the examples' print: rank 0's alone."""
    if args.distributed:
        mc.distributed.init()
    return print if mc.distributed.is_main() else lambda *words, **options: None


def save_results(name, args, model, history, test, predicted):
    """Write the model and its pictures under args.out: learning curves, confusion matrix,
    the first convolution's filters, one test image's feature maps, saliency and Grad-CAM
    maps of a few test images, and the misclassified ones. Rank 0's job alone (--distributed)."""
    if not mc.distributed.is_main():
        return
    out = args.out or os.path.join("runs", name)
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "model.npz"))
    print(f"saved {os.path.join(out, 'model.npz')}")
    counts = mc.metrics.confusion_matrix(test.labels, predicted, len(test.class_names))
    try:
        mc.plots.plot_history(history, os.path.join(out, "learning_curves.png"), title=name)
        mc.plots.plot_confusion_matrix(counts, test.class_names, os.path.join(out, "confusion_matrix.png"), title=name)
        mc.viz.filters(model, path=os.path.join(out, "filters.png"))
        mc.viz.feature_maps(model, test.images[0], path=os.path.join(out, "feature_maps.png"))
        shown = test.images[:6]
        titles = [f"{test.class_names[t]} -> {test.class_names[p]}" for t, p in zip(test.labels, predicted)][:6]
        salient = [mc.viz.saliency(model, image) for image in shown]
        mc.viz.overlay(shown, [s / max(s.max(), 1e-12) for s in salient], path=os.path.join(out, "saliency.png"),
                       title=titles)
        cams = [mc.viz.grad_cam(model, image) for image in shown]
        mc.viz.overlay(shown, cams, path=os.path.join(out, "gradcam.png"), title=titles)
        mc.viz.misclassified(model, test, n=16, path=os.path.join(out, "misclassified.png"), predicted=predicted)
        print(f"saved {out}/: learning_curves.png, confusion_matrix.png, filters.png, feature_maps.png, "
              f"saliency.png, gradcam.png, misclassified.png")
    except ImportError as error:
        print(f"no plots: {error}")
