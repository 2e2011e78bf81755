"""See what a network learnt: its filters, its feature maps, saliency and Grad-CAM maps, its mistakes.

    mc.viz.filters(model)                     # the first convolution's kernels, as pictures
    mc.viz.feature_maps(model, image)         # one image after each convolution and pooling layer
    mc.viz.saliency(model, image)             # (H, W): how much each pixel moves the class's logit
    mc.viz.overlay(image, mc.viz.grad_cam(model, image))    # where the last convolution looked
    mc.viz.misclassified(model, test_set)     # the images it got wrong

Figures need matplotlib (pip install 'minicnn[plot]') and are made without pyplot,
so matplotlib's global backend stays as the user left it; each is saved when given
path=. `image` is one image (C, H, W), uint8 or float, as the model takes it.
"""

from contextlib import contextmanager

import numpy as np

from .autograd import no_grad
from .layers.conv import Conv2D
from .layers.core import Resizing
from .layers.pooling import AveragePooling2D, MaxPooling2D
from .plots import _figure, _finish
from .tensor import Tensor, tensor


def _layers(model):
    """Every layer inside the model, depth first, in the order they were added."""
    for _, child in model.children():
        yield child
        yield from _layers(child)


def _conv_layers(model):
    convs = [layer for layer in _layers(model) if isinstance(layer, Conv2D)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no Conv2D layer")
    return convs


def _pick_conv(model, layer, default):
    """A Conv2D of the model: given (the layer itself or its name), or the first/last one."""
    convs = _conv_layers(model)
    if layer is None:
        return convs[default]
    found = model.get_layer(layer) if isinstance(layer, str) else layer
    if not isinstance(found, Conv2D):
        raise ValueError(f"layer must be a Conv2D of the model, got {type(found).__name__} {found.name!r}")
    return found


@contextmanager
def _watching(layers, change=None):
    """Record what each of `layers` returns during the forward passes inside the block;
    change(output) may give a tensor to use in its place. The layers are restored after."""
    seen = []
    for layer in layers:
        def forward(x, layer=layer, original=layer.forward):
            y = original(x)
            y = change(y) if change is not None else y
            seen.append((layer, y))
            return y
        layer.forward = forward              # an instance attribute hides the class's method
    try:
        yield seen
    finally:
        for layer in layers:
            del layer.forward


def _one_image(model, image):
    """image (C, H, W) as a float32 batch of one on the model's device (a copy: never changed)."""
    image = image.numpy() if isinstance(image, Tensor) else np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be one image (C, H, W), got shape {image.shape}")
    if model.input_shape is not None and tuple(image.shape) != tuple(model.input_shape):
        raise ValueError(f"image has shape {image.shape}, the model takes {tuple(model.input_shape)}")
    return tensor(image[None], dtype=np.float32, device=model.device)


def _target_logit(logits, target):
    """The logit of `target` (default: the predicted class); a one-unit model's own logit."""
    if logits.shape[1] == 1:            # one sigmoid unit: class 1's logit, or minus it for class 0
        if target not in (None, 0, 1):
            raise ValueError(f"target must be 0 or 1 for a model with one output, got {target!r}")
        target = int(logits.numpy()[0, 0] > 0) if target is None else target
        return logits[:, 0].sum() * (1.0 if target == 1 else -1.0)
    target = int(np.argmax(logits.numpy()[0])) if target is None else target
    if not 0 <= target < logits.shape[1]:
        raise ValueError(f"target must be a class from 0 to {logits.shape[1] - 1}, got {target!r}")
    return logits[:, target].sum()


def saliency(model, image, target=None):
    """(H, W) array: the largest |d logit / d pixel| over the channels, for `target`
    (default: the predicted class). Bright pixels are those that change the score most."""
    x = _one_image(model, image)
    x.requires_grad = True
    with model.in_mode(training=False):
        _target_logit(model(x), target).backward()
    return np.abs(x.grad.numpy()[0]).max(axis=0)


def grad_cam(model, image, layer=None, target=None):
    """(H, W) array in [0, 1]: the Grad-CAM map of a Conv2D layer (default: the last one).

    Each feature map of the layer is weighted by the mean gradient of the target's logit
    over it; the ReLU of the weighted sum, scaled to [0, 1], is resized to the image
    (bilinear). Selvaraju et al., 2017.
    """
    conv = _pick_conv(model, layer, -1)
    x = _one_image(model, image)
    leaf = []

    def cut(y):     # the layer's output becomes a leaf of the graph: its .grad is dlogit/dA
        a = Tensor(y.data, y.backend, requires_grad=True)
        leaf.append(a)
        return a
    with model.in_mode(training=False), _watching([conv], cut):
        _target_logit(model(x), target).backward()
    if not leaf:
        raise ValueError(f"layer {conv.name!r} was not called by the model's forward pass")
    a, grad = leaf[0].numpy()[0], leaf[0].grad.numpy()[0]          # (K, h, w)
    weights = grad.mean(axis=(1, 2))
    cam = np.maximum(np.tensordot(weights, a, axes=1), 0)
    cam = Resizing(*image.shape[-2:])(tensor(cam[None, None])).numpy()[0, 0]      # bilinear, as Keras
    top = cam.max()
    return (cam / top if top > 0 else cam).astype(np.float32)


def _as_picture(image):
    """(C, H, W) -> what imshow takes: (H, W, 3) scaled into [0, 1], or (H, W) for one channel."""
    image = np.asarray(image, dtype=np.float64)
    picture = image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)
    low, high = picture.min(), picture.max()
    return (picture - low) / (high - low) if high > low else np.zeros_like(picture)


def overlay(image, heat, path=None, alpha=0.5, title=None):
    """The image with a heat map (H, W) in [0, 1] drawn over it (jet colours, `alpha` opaque).

    Several at once: images (N, C, H, W) with heats (N, H, W), and title a list of N titles.
    """
    images, heats = np.asarray(image), np.asarray(heat)
    if images.ndim == 3:
        images, heats, title = images[None], heats[None], [title]
    if heats.shape != (images.shape[0],) + images.shape[2:]:
        raise ValueError(f"heat must be (H, W) for each image: got images {images.shape}, heat {heats.shape}")
    titles = title if title is not None else [None] * len(images)
    rows, cols = _grid(len(images))
    fig = _figure((3.2 * cols, 3.2 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.axis("off")
    for ax, picture, hot, name in zip(axes, images, heats, titles):
        picture = _as_picture(picture)
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None)
        ax.imshow(hot, cmap="jet", alpha=alpha, vmin=0, vmax=1)
        if name:
            ax.set_title(name, fontsize=9)
    return _finish(fig, path)


def _grid(count):
    cols = int(np.ceil(np.sqrt(count)))
    return int(np.ceil(count / cols)), cols


def filters(model, layer=None, path=None):
    """A Conv2D layer's kernels (default: the first convolution) as a grid of pictures.

    Shown as the pattern each kernel responds to most, i.e. flipped back (the
    convolution flips the kernel as it slides). A 3-channel first layer is drawn
    in colour; otherwise one grey tile per kernel and input channel.
    """
    conv = _pick_conv(model, layer, 0)
    kernels = conv.params["kernel"].numpy()[:, :, ::-1, ::-1]     # (filters, C, kh, kw)
    colour = kernels.shape[1] == 3
    tiles = [_as_picture(k) for k in kernels] if colour else [k for kernel in kernels for k in kernel]
    rows, cols = _grid(len(tiles))
    fig = _figure((1.0 * cols + 1, 1.0 * rows + 1))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.axis("off")
    for ax, tile in zip(axes, tiles):
        ax.imshow(tile, cmap=None if colour else "gray", interpolation="nearest")
    fig.suptitle(f"{conv.name}: {kernels.shape[0]} kernels {kernels.shape[2]}x{kernels.shape[3]}"
                 + ("" if colour else f" x {kernels.shape[1]} channels"))
    return _finish(fig, path)


def feature_maps(model, image, layers=None, path=None, maps_per_layer=8):
    """One image's activation maps after each Conv2D and pooling layer (or the given ones):
    a row per layer, titled with the layer's name and output shape, its first maps_per_layer maps."""
    if layers is None:
        layers = [la for la in _layers(model) if isinstance(la, (Conv2D, MaxPooling2D, AveragePooling2D))]
    else:
        layers = [model.get_layer(la) if isinstance(la, str) else la for la in layers]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no convolution or pooling layer to show")
    x = _one_image(model, image)
    with model.in_mode(training=False), no_grad(), _watching(layers) as seen:
        model(x)
    maps = [(layer, y.numpy()[0].copy()) for layer, y in seen]
    fig = _figure((1.2 * maps_per_layer + 1, 1.3 * len(maps) + 0.5))
    axes = fig.subplots(len(maps), maps_per_layer, squeeze=False)
    for row, (layer, activation) in zip(axes, maps):
        for k, ax in enumerate(row):
            ax.axis("off")
            if k < len(activation):
                ax.imshow(activation[k], cmap="viridis")
        row[0].set_title(f"{layer.name} {tuple(activation.shape)}", fontsize=8, loc="left")
    return _finish(fig, path)


def misclassified(model, dataset, n=16, path=None, batch_size=32, predicted=None):
    """A grid of up to n images the model gets wrong, each titled true -> predicted. `predicted` (class
    indices) gives the predictions to show, such as those a report counted (averaged over mirror images,
    say); by default the model's own on the images as they are."""
    if predicted is None:
        logits = model.predict(dataset, batch_size)
        predicted = (logits[:, 0] > 0).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(axis=1)
    predicted = np.asarray(predicted).reshape(-1)
    if predicted.shape != (len(dataset),):
        raise ValueError(f"misclassified: predicted must hold one class per image ({len(dataset)}), "
                         f"got shape {predicted.shape}")
    wrong = np.flatnonzero(predicted != dataset.labels)[:n]
    names = dataset.class_names or [str(k) for k in range(max(2, int(predicted.max(initial=1)) + 1))]
    rows, cols = _grid(max(len(wrong), 1))
    fig = _figure((2.0 * cols, 2.2 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong):
        picture = _as_picture(dataset.images[i])
        ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None)
        ax.set_title(f"{names[dataset.labels[i]]} -> {names[predicted[i]]}", fontsize=8)
    if not len(wrong):
        axes[0].set_title("no mistakes")
    fig.suptitle(f"{len(wrong)} of {int(np.sum(predicted != dataset.labels))} misclassified "
                 f"(true -> predicted)")
    return _finish(fig, path)
