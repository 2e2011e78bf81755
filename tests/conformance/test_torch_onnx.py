"""Networks built with PyTorch, exported by torch.onnx.export (its TorchScript exporter), loaded by
mc.onnx.load: the same outputs as PyTorch's, from the opsets and file forms exporters write (older
files list the initializers among the graph's inputs)."""

import warnings

import numpy as np
import pytest
from conftest import assert_close

import minicnn as mc

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
nn = torch.nn


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.c2, self.c3 = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(8, 6, 3, stride=2, padding=1)
        self.pool, self.avg, self.drop = nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Dropout(0.5)
        self.fc, self.fc2 = nn.Linear(6, 5), nn.Linear(5, 3)

    def forward(self, x):
        h = torch.relu(self.bn(self.c1(x)))
        h = self.pool(h + self.c2(h))                       # a residual connection, then pooling
        h = torch.cat([self.avg(h), torch.sigmoid(self.avg(h))], 1)
        h = torch.tanh(self.c3(h))
        h = h.view(h.size(0), -1)                           # Shape, Gather, Unsqueeze, Concat, Reshape
        return torch.softmax(self.fc2(nn.functional.leaky_relu(self.drop(self.fc(h)), 0.1)), 1)


def stem_and_global_pool():
    """A MobileNet-like stem: ReLU6 (Clip), Hardswish, Hardsigmoid, a global pool."""
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU6(), nn.Conv2d(8, 8, 1), nn.Hardswish(),
                         nn.Conv2d(8, 8, 1), nn.Hardsigmoid(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))


def export(net, path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "N"}}, **options)
    return path


@pytest.mark.parametrize("build, options", [
    (Branches, {}), (Branches, {"opset_version": 11, "keep_initializers_as_inputs": True}),
    (Branches, {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False}),
    (stem_and_global_pool, {}), (stem_and_global_pool, {"opset_version": 17})])
def test_pytorch_exports_load_and_give_pytorchs_outputs(tmp_path, build, options):
    torch.manual_seed(0)
    net = build().eval()
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-1, 1), module.running_var.uniform_(0.5, 2)
    model = mc.onnx.load(export(net, tmp_path / "net.onnx", **options))
    x = np.random.default_rng(0).normal(size=(5, 3, 8, 8)).astype(np.float32)
    assert_close(model.predict(x), net(torch.from_numpy(x)), rtol=1e-4, atol=1e-5)
    assert model.trainable_weights and all(w.requires_grad for w in model.trainable_weights)    # it can train


def test_an_operator_minicnn_lacks_is_refused_naming_it(tmp_path):
    path = export(nn.Sequential(nn.Conv2d(3, 2, 3), nn.GELU()), tmp_path / "gelu.onnx")
    with pytest.raises(ValueError, match="mc.onnx.load: operator (Erf|Gelu|Div) \\(node '.*'\\) has no minicnn form"):
        mc.onnx.load(path)
