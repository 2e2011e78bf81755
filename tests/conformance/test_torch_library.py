"""The rest of mc's top level beside PyTorch: factories, seeds, threads, devices, gradcheck, metrics,
batches and mc.viz's gradients (a saliency map and Grad-CAM recomputed with torch.autograd)."""

import numpy as np
import pytest
from conftest import assert_close

import minicnn as mc

torch = pytest.importorskip("torch")
L = mc.layers


def test_factories_make_float32_by_default_as_pytorch():
    for mine, theirs in [(mc.zeros(2, 3), torch.zeros(2, 3)), (mc.ones((2,)), torch.ones((2,))),
                         (mc.randn(3, 1), torch.randn(3, 1)), (mc.tensor([1.5, 2]), torch.tensor([1.5, 2])),
                         (mc.tensor(np.arange(3.0)), torch.tensor(np.arange(3.0), dtype=torch.get_default_dtype())),
                         (mc.tensor([1, 2]), torch.tensor([1, 2])), (mc.tensor([True]), torch.tensor([True]))]:
        assert str(mine.dtype) == str(theirs.dtype).replace("torch.", ""), (mine, theirs)
        assert mine.shape == tuple(theirs.shape)
    with pytest.raises(TypeError):
        mc.zeros(2, dtype="int64", requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.zeros(2, dtype=torch.int64, requires_grad=True)


def test_manual_seed_repeats_the_draws_as_pytorchs():
    draws = {}
    for lib in (mc, torch):
        lib.manual_seed(3)
        a = lib.randn(5)
        lib.manual_seed(3)
        b = lib.randn(5)
        c = lib.randn(5)
        draws[lib.__name__] = (np.asarray(a.numpy()), np.asarray(b.numpy()), np.asarray(c.numpy()))
    for a, b, c in draws.values():
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(b, c)


def test_thread_counts_as_pytorchs():
    before_mine, before_theirs = mc.get_num_threads(), torch.get_num_threads()
    try:
        mc.set_num_threads(2)
        torch.set_num_threads(2)
        assert mc.get_num_threads() == torch.get_num_threads() == 2
        with pytest.raises(ValueError):
            mc.set_num_threads(0)
        with pytest.raises(RuntimeError):
            torch.set_num_threads(0)
    finally:
        mc.set_num_threads(before_mine)
        torch.set_num_threads(before_theirs)


def test_devices_say_what_they_are():
    assert mc.get_backend("cpu").name == mc.zeros(1).device == "cpu" == torch.zeros(1).device.type
    try:
        mc.get_backend("gpu")
        works = True
    except RuntimeError:
        works = False
    assert mc.gpu_available() == works        # as torch.cuda.is_available() says whether "cuda" works
    with pytest.raises(ValueError):
        mc.get_backend("tpu")
    with pytest.raises(RuntimeError):
        torch.zeros(1, device="tpu")


def test_gradcheck_accepts_and_rejects_what_pytorchs_does():
    x = np.linspace(-1, 1, 6).reshape(2, 3)

    def wrong_mc(t):
        from minicnn.autograd import record
        return record(mc.Tensor(t.data ** 3, t.backend), (t,), lambda g: (g * 3.1 * t.data ** 2,))

    class WrongTorch(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 3

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * 3.1 * t ** 2

    assert mc.gradcheck(lambda t: mc.F.tanh(t) * t, mc.tensor(x, requires_grad=True))
    assert torch.autograd.gradcheck(lambda t: torch.tanh(t) * t, torch.tensor(x, requires_grad=True))
    with pytest.raises(AssertionError):
        mc.gradcheck(wrong_mc, mc.tensor(x, requires_grad=True))
    assert not torch.autograd.gradcheck(WrongTorch.apply, torch.tensor(x, requires_grad=True), raise_exception=False)


def test_predicted_classes_and_confusion_matrix():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 3.0, 0.0], [-1.0, -2.0, -0.5], [0.0, 1.0, 5.0]], np.float32)
    predicted = mc.metrics.predicted_classes(logits)
    np.testing.assert_array_equal(predicted, torch.argmax(torch.tensor(logits), dim=1).numpy())   # ties: first
    truth = np.array([1, 0, 2, 1])
    expected = torch.bincount(torch.tensor(truth * 3 + predicted), minlength=9).reshape(3, 3).numpy()
    np.testing.assert_array_equal(mc.metrics.confusion_matrix(truth, predicted), expected)
    np.testing.assert_array_equal(mc.metrics.predicted_classes(np.array([[-0.2], [0.3]]), from_logits=True),
                                  (torch.sigmoid(torch.tensor([-0.2, 0.3])) > 0.5).numpy().astype(np.int64))


def test_batches_are_a_dataloaders_without_shuffling():
    x, y = np.arange(10 * 1 * 2 * 2, dtype=np.float32).reshape(10, 1, 2, 2), np.arange(10) % 3
    mine = list(mc.data.batches(mc.data.ImageDataset(x, y), 4, "cpu"))
    theirs = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                              batch_size=4))
    assert [len(xb) for xb, _ in mine] == [len(xb) for xb, _ in theirs] == [4, 4, 2]
    for (xm, ym), (xt, yt) in zip(mine, theirs):
        assert_close(xm, xt, what="images")
        np.testing.assert_array_equal(ym.numpy(), yt.numpy())


def translated(model):
    """The minicnn CNN below as a torch function of the same weights (kernels flipped, dense transposed)."""
    conv, dense = model.layers[0], model.layers[3]
    kernel = torch.tensor(conv.kernel.numpy()[..., ::-1, ::-1].copy())
    bias = torch.tensor(conv.bias.numpy())
    weight, head_bias = torch.tensor(dense.kernel.numpy().T.copy()), torch.tensor(dense.bias.numpy())

    def features(x):
        return torch.relu(torch.nn.functional.conv2d(x, kernel, bias, padding=1))

    def head(a):
        return torch.nn.functional.linear(torch.flatten(torch.max_pool2d(a, 2), 1), weight, head_bias)
    return features, head


def small_cnn():
    mc.manual_seed(5)
    return mc.Sequential([L.Conv2D(3, 3, padding="same", activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                          L.Dense(4)], input_shape=(2, 6, 6))


def test_saliency_is_the_gradient_torch_computes():
    model = small_cnn()
    image = np.random.default_rng(1).normal(size=(2, 6, 6)).astype(np.float32)
    features, head = translated(model)
    x = torch.tensor(image[None], requires_grad=True)
    logits = head(features(x))
    logits[0, logits.argmax()].backward()
    assert_close(mc.viz.saliency(model, image), x.grad[0].abs().amax(0), rtol=1e-4, atol=1e-6, what="saliency")


def test_grad_cam_is_the_map_torch_computes():
    model = small_cnn()
    image = np.random.default_rng(2).normal(size=(2, 6, 6)).astype(np.float32)
    features, head = translated(model)
    a = features(torch.tensor(image[None])).detach().requires_grad_()
    logits = head(a)
    logits[0, 2].backward()
    cam = torch.relu((a.grad[0].mean((1, 2))[:, None, None] * a[0]).sum(0)).detach()
    cam = cam / cam.max() if cam.max() > 0 else cam          # the layer's size is the image's: no resizing
    assert_close(mc.viz.grad_cam(model, image, target=2), cam, rtol=1e-4, atol=1e-6, what="Grad-CAM")
