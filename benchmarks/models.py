"""The reference models of the benchmarks, built the same way in minicnn and (when present) PyTorch.

CATSDOGS-64: Conv(3->32, 3x3, pad 1) ReLU MaxPool2 -> Conv(32->64) ReLU MaxPool2
-> Conv(64->128) ReLU MaxPool2 -> Flatten -> Dropout(0.5) -> Dense(8192->128) ReLU
-> Dense(128->1), binary cross-entropy from logits, one SGD step.
UCMERCED-64 is the same with Dense(128->21) and sparse categorical cross-entropy.
"""

import numpy as np

# minicnn and PyTorch are imported inside the functions that use them: a worker loads one of them.

MODELS = {"CATSDOGS-64": 1, "UCMERCED-64": 21}      # name -> output units


def forward_flops(side, batch, outputs):
    """2 x multiply-adds of one forward pass (convolutions and dense layers)."""
    convs = [(3, 32, side), (32, 64, side // 2), (64, 128, side // 4)]
    conv = sum(2 * batch * cout * cin * 9 * s * s for cin, cout, s in convs)
    dense = 2 * batch * (128 * (side // 8) ** 2 * 128 + 128 * outputs)
    return conv + dense


def training_flops(side, batch, outputs):
    """The usual convention: backward costs twice the forward (8.1 GFLOP at batch 32, side 64)."""
    return 3 * forward_flops(side, batch, outputs)


def minicnn_model(outputs, side=64, seed=0):
    import minicnn as mc
    L = mc.layers
    mc.manual_seed(seed)
    model = mc.Sequential([
        L.Conv2D(32, 3, padding=1, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding=1, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(128, 3, padding=1, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dropout(0.5), L.Dense(128, activation="relu"), L.Dense(outputs),
    ], input_shape=(3, side, side))
    loss = mc.losses.BinaryCrossentropy(from_logits=True) if outputs == 1 else \
        mc.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = mc.optimizers.SGD(model.parameters(), lr=0.01)

    def train_step(x, y):
        out = model(x)
        loss(y, out).backward()
        optimizer.step()
        optimizer.zero_grad()

    def infer(x):
        with mc.no_grad():
            model(x)
    return model, train_step, infer


def torch_model(outputs, side=64, seed=0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * (side // 8) ** 2, 128), nn.ReLU(), nn.Linear(128, outputs))
    loss_fn = nn.BCEWithLogitsLoss() if outputs == 1 else nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def train_step(x, y):
        out = model(x)
        loss = loss_fn(out[:, 0], y.float()) if outputs == 1 else loss_fn(out, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    def infer(x):
        with torch.no_grad():
            model(x)
    return model, train_step, infer


def batch(framework, outputs, size, side=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((size, 3, side, side), dtype=np.float32)
    y = rng.integers(0, max(outputs, 2), size)
    if framework == "torch":
        import torch
        return torch.from_numpy(x), torch.from_numpy(y)
    import minicnn as mc
    return mc.tensor(x), mc.tensor(y)
