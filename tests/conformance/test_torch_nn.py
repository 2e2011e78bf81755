"""minicnn.nn, minicnn.nn.functional, minicnn.optim and minicnn.utils.data against PyTorch's torch.nn,
torch.nn.functional, torch.optim and torch.utils.data: the same calls, results compared.

minicnn's convolution flips its kernel (the lecture's), so PyTorch gets each conv weight flipped.
"""

import warnings

import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc
import minicnn.nn as nn
import minicnn.nn.functional as F
import minicnn.optim as optim
from minicnn.utils import data

torch = pytest.importorskip("torch")
TF = torch.nn.functional

finite = st.floats(-4, 4, width=32, allow_subnormal=False)


def both(array, grad=True):
    return mc.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def check_gradients(mine, theirs, pairs, rtol=1e-4, atol=1e-5, what=""):
    assert_close(mine, theirs, rtol=rtol, atol=atol, what=what)
    g = np.cos(np.arange(max(mine.size, 1), dtype=np.float32)).reshape(mine.shape)
    (mine * mc.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for i, (m, t) in enumerate(pairs):
        assert_close(m.grad, t.grad, rtol=rtol, atol=atol, what=f"{what}: gradient {i}")


# --- losses ---
@settings(max_examples=40, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.1, 0.5]), ignore=st.booleans(), spatial=st.booleans())
def test_cross_entropy_with_class_indices(data, reduction, weighted, smoothing, ignore, spatial):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(2, 5))
    shape = (n, c, 2, 3) if spatial else (n, c)
    x = data.draw(hnp.arrays(np.float32, shape, elements=finite))
    labels = data.draw(hnp.arrays(np.int64, (n,) + shape[2:], elements=st.integers(0, c - 1)))
    if ignore:
        labels.reshape(-1)[0] = -100            # the default ignore_index
    weight = data.draw(hnp.arrays(np.float32, (c,), elements=st.floats(0.125, 3, width=32))) if weighted else None
    (mx, tx) = both(x)
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    mine = F.cross_entropy(mx, mc.tensor(labels), weight=None if weight is None else mc.tensor(weight), **kwargs)
    theirs = TF.cross_entropy(tx, torch.tensor(labels), weight=None if weight is None else torch.tensor(weight),
                              **kwargs)
    if ignore and labels.size == 1 and reduction == "mean":
        assert np.isnan(mine.item()) and np.isnan(theirs.item())     # nothing left to average
        return
    check_gradients(mine, theirs, [(mx, tx)], what="cross_entropy")


@settings(max_examples=25, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_class_probabilities(data, reduction, weighted, smoothing):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5))
    x = data.draw(hnp.arrays(np.float32, (n, c), elements=finite))
    p = data.draw(hnp.arrays(np.float32, (n, c), elements=st.floats(0, 1, width=32)))
    weight = data.draw(hnp.arrays(np.float32, (c,), elements=st.floats(0.125, 3, width=32))) if weighted else None
    mx, tx = both(x)
    mine = F.cross_entropy(mx, mc.tensor(p), None if weight is None else mc.tensor(weight), reduction=reduction,
                           label_smoothing=smoothing)
    theirs = TF.cross_entropy(tx, torch.tensor(p), None if weight is None else torch.tensor(weight),
                              reduction=reduction, label_smoothing=smoothing)
    check_gradients(mine, theirs, [(mx, tx)], what="cross_entropy(probabilities)")


def test_loss_modules_take_input_then_target():
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0, 2])
    for mine, theirs in ((nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
                         (nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1)),
                         (nn.NLLLoss(), torch.nn.NLLLoss())):
        assert_close(mine(mc.tensor(x), mc.tensor(y)), theirs(torch.tensor(x), torch.tensor(y)), what=repr(mine))
    z, t = x[:, 0], (x[:, 1] > 0).astype(np.float32)
    assert_close(nn.BCEWithLogitsLoss()(mc.tensor(z), mc.tensor(t)),
                 torch.nn.BCEWithLogitsLoss()(torch.tensor(z), torch.tensor(t)))
    assert_close(nn.MSELoss()(mc.tensor(x), mc.tensor(x * 0.5)), torch.nn.MSELoss()(torch.tensor(x),
                                                                                   torch.tensor(x * 0.5)))


@settings(max_examples=30, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       positive=st.booleans())
def test_binary_cross_entropy_with_logits(data, reduction, weighted, positive):
    shape = data.draw(st.sampled_from([(4,), (3, 2), (2, 3, 2)]))
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(-30, 30, width=32)))
    y = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(0, 1, width=32)))
    w = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(0, 2, width=32))) if weighted else None
    pw = data.draw(hnp.arrays(np.float32, shape[-1:], elements=st.floats(0.5, 3, width=32))) if positive else None
    mx, tx = both(x)
    mine = F.binary_cross_entropy_with_logits(mx, mc.tensor(y), None if w is None else mc.tensor(w), reduction,
                                              None if pw is None else mc.tensor(pw))
    theirs = TF.binary_cross_entropy_with_logits(tx, torch.tensor(y), None if w is None else torch.tensor(w),
                                                 reduction=reduction,
                                                 pos_weight=None if pw is None else torch.tensor(pw))
    check_gradients(mine, theirs, [(mx, tx)], rtol=1e-4, atol=1e-4, what="bce_with_logits")


@settings(max_examples=20, deadline=None)
@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_mse_and_binary_cross_entropy(data, reduction):
    shape = data.draw(st.sampled_from([(5,), (2, 3)]))
    p = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(0.015625, 0.984375, width=32)))
    y = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(0, 1, width=32)))
    mp, tp = both(p)
    check_gradients(F.mse_loss(mp, mc.tensor(y), reduction), TF.mse_loss(tp, torch.tensor(y), reduction=reduction),
                    [(mp, tp)], what="mse_loss")
    mp, tp = both(p)
    check_gradients(F.binary_cross_entropy(mp, mc.tensor(y), reduction=reduction),
                    TF.binary_cross_entropy(tp, torch.tensor(y), reduction=reduction), [(mp, tp)],
                    rtol=1e-4, atol=1e-4, what="binary_cross_entropy")


def test_loss_refusals_name_the_argument():
    x = mc.randn(4, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, mc.tensor(np.array([0, 1, 2, 3])))
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(x, mc.tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, mc.tensor(np.array([0, 1, 2, 0])), reduction="average")
    with pytest.raises(ValueError, match=r"target has shape \(4,\), wanted input's shape \(4, 1\)"):
        F.mse_loss(mc.randn(4, 1), mc.randn(4))         # PyTorch broadcasts this to (4, 4), with a warning


# --- layers' maths ---
@settings(max_examples=30, deadline=None)
@given(data=st.data(), kernel=st.integers(1, 4), stride=st.sampled_from([None, 1, 2, 3]), include=st.booleans())
def test_pooling_with_pytorchs_padding_rules(data, kernel, stride, include):
    padding = data.draw(st.integers(0, kernel // 2))
    h, w = data.draw(st.integers(kernel, 8)), data.draw(st.integers(kernel, 8))
    x = data.draw(hnp.arrays(np.float32, (2, 2, h, w), elements=finite, unique=True))
    mx, tx = both(x)
    check_gradients(F.avg_pool2d(mx, kernel, stride, padding, count_include_pad=include),
                    TF.avg_pool2d(tx, kernel, stride, padding, count_include_pad=include), [(mx, tx)],
                    what="avg_pool2d")
    mx, tx = both(x)
    check_gradients(F.max_pool2d(mx, kernel, stride, padding), TF.max_pool2d(tx, kernel, stride, padding),
                    [(mx, tx)], what="max_pool2d")


def test_pooling_padding_over_half_the_window_is_refused_as_in_pytorch():
    with pytest.raises(ValueError, match="pad should be at most half"):
        F.max_pool2d(mc.randn(1, 1, 6, 6), 2, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        TF.max_pool2d(torch.randn(1, 1, 6, 6), 2, padding=2)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_adaptive_average_pooling(data):
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    out = (data.draw(st.integers(1, h)), data.draw(st.integers(1, w)))
    x = data.draw(hnp.arrays(np.float32, (2, 3, h, w), elements=finite))
    mx, tx = both(x)
    check_gradients(F.adaptive_avg_pool2d(mx, out), TF.adaptive_avg_pool2d(tx, out), [(mx, tx)],
                    what=f"adaptive_avg_pool2d {out}")
    mx, tx = both(x)
    check_gradients(nn.AdaptiveAvgPool2d(1)(mx), torch.nn.AdaptiveAvgPool2d(1)(tx), [(mx, tx)])


@settings(max_examples=20, deadline=None)
@given(data=st.data(), bias=st.booleans())
def test_linear_weights_are_out_by_in(data, bias):
    n, i, o = (data.draw(st.integers(1, 4)) for _ in range(3))
    x = data.draw(hnp.arrays(np.float32, (n, i), elements=finite))
    w = data.draw(hnp.arrays(np.float32, (o, i), elements=finite))
    b = data.draw(hnp.arrays(np.float32, (o,), elements=finite))
    (mx, tx), (mw, tw), (mb, tb) = both(x), both(w), both(b)
    check_gradients(F.linear(mx, mw, mb if bias else None), TF.linear(tx, tw, tb if bias else None),
                    [(mx, tx), (mw, tw)] + ([(mb, tb)] if bias else []), what="linear")


def test_softmax_takes_dim_and_warns_without_one_as_pytorch():
    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    for dim in (0, 1, 2, -1):
        assert_close(F.softmax(mc.tensor(x), dim=dim), TF.softmax(torch.tensor(x), dim=dim))
        assert_close(F.log_softmax(mc.tensor(x), dim), TF.log_softmax(torch.tensor(x), dim))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        mine = F.softmax(mc.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(mine, TF.softmax(torch.tensor(x)))         # a 3-d input: dim 0, PyTorch's legacy rule


def test_dropout_probabilities_and_modes():
    x = mc.ones(200, 50)
    assert (F.dropout(x, p=1.0).numpy() == 0).all() and (TF.dropout(torch.ones(3), p=1.0) == 0).all()
    kept = F.dropout(x, p=0.25).numpy()
    assert set(np.unique(kept)) <= {0.0, np.float32(1 / 0.75)} and abs((kept == 0).mean() - 0.25) < 0.02
    assert (F.dropout(x, 0.5, training=False).numpy() == 1).all()
    layer = nn.Dropout(0.5).eval()
    assert (layer(x).numpy() == 1).all()
    with pytest.raises(ValueError, match="between 0 and 1, but got p=1.5"):
        nn.Dropout(1.5)


# --- modules: built at construction, PyTorch's names, shapes and initial draws ---
def test_modules_hold_pytorchs_weights_from_construction():
    pairs = [(nn.Conv2d(3, 6, 5), torch.nn.Conv2d(3, 6, 5)),
             (nn.Conv2d(4, 2, (3, 1), stride=2, padding=1, bias=False),
              torch.nn.Conv2d(4, 2, (3, 1), stride=2, padding=1, bias=False)),
             (nn.Linear(400, 120), torch.nn.Linear(400, 120)),
             (nn.BatchNorm2d(7), torch.nn.BatchNorm2d(7)),
             (nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)),
              torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                  torch.nn.Linear(8, 3)))]
    for mine, theirs in pairs:
        assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == \
               [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()], repr(mine)
        assert [k for k, _ in mine.named_parameters()] == [k for k, _ in theirs.named_parameters()]
        for (name, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
            if p.ndim and "weight" in name and p.size > 100:     # the same uniform draw: its bound and spread
                bound = float(q.detach().abs().max())
                values = p.numpy()
                assert np.abs(values).max() <= bound * 1.001 and abs(values.std() / q.detach().std().item() - 1) < 0.1


def test_sequential_indexing_and_any_input_size():
    mine = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                 torch.nn.Flatten(), torch.nn.Linear(4, 2))
    assert len(mine) == len(theirs) == 5
    assert type(mine[0]).__name__ == type(theirs[0]).__name__ and isinstance(mine[-1], nn.Linear)
    assert list(mine[1:3].state_dict()) == list(theirs[1:3].state_dict())
    assert list(mine[3:].state_dict()) == list(theirs[3:].state_dict()) == ["4.weight", "4.bias"]
    for size in (8, 13):                                    # unlike a Keras Sequential, no fixed input size
        assert mine(mc.randn(2, 3, size, size)).shape == (2, 2)


def _torch_copy_of(module_pairs):
    """Copy minicnn's weights into the PyTorch twins (conv kernels flipped)."""
    with torch.no_grad():
        for mine, theirs in module_pairs:
            for (name, p), (_, q) in zip(mine.state_dict().items(), theirs.state_dict().items()):
                value = p[..., ::-1, ::-1].copy() if isinstance(mine, nn.Conv2d) and name == "weight" else p
                q.copy_(torch.tensor(value))


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("affine,track", [(True, True), (False, True), (True, False)])
def test_batchnorm2d_running_statistics(momentum, affine, track):
    mine = nn.BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track)
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum, affine=affine, track_running_stats=track)
    rng = np.random.default_rng(2)
    if affine:
        mine.weight.data[...] = rng.uniform(0.5, 2, 3).astype(np.float32)
        _torch_copy_of([(mine, theirs)])
    for step in range(4):
        x = (rng.normal(size=(4, 3, 3, 2)) * (step + 1) + step).astype(np.float32)
        mx, tx = both(x)
        check_gradients(mine(mx), theirs(tx), [(mx, tx)], what=f"training step {step}")
        for (name, a), (_, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
            assert_close(a, b, rtol=1e-5, atol=1e-6, what=name)
    mine.eval(), theirs.eval()
    x = rng.normal(size=(2, 3, 2, 2)).astype(np.float32)
    assert_close(mine(mc.tensor(x)), theirs(torch.tensor(x)), rtol=1e-5, atol=1e-5, what="eval")


def test_module_refusals_name_the_argument():
    with pytest.raises(NotImplementedError, match="dilation=.*not supported"):
        nn.Conv2d(1, 1, 3, dilation=2)
    with pytest.raises(NotImplementedError, match="groups=2"):
        nn.Conv2d(2, 2, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, H, W\)"):
        nn.Conv2d(3, 1, 3)(mc.randn(1, 1, 5, 5))
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 3)


# --- a whole hand-written training loop, on both ---
class MiniNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)  # before BatchNorm: no bias (its gradient is 0)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.fc = nn.Linear(6 * 2 * 2, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(mc.flatten(x, 1))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.pool = torch.nn.MaxPool2d(2, 2)
        self.conv2 = torch.nn.Conv2d(4, 6, 3)
        self.fc = torch.nn.Linear(6 * 2 * 2, 3)

    def forward(self, x):
        x = self.pool(TF.relu(self.bn(self.conv1(x))))
        x = self.pool(TF.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


OPTIMIZERS = {
    "sgd": (lambda p: optim.SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    "sgd_momentum": (lambda p: optim.SGD(p, lr=0.02, momentum=0.9, weight_decay=1e-3),
                     lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, weight_decay=1e-3)),
    "sgd_dampening": (lambda p: optim.SGD(p, lr=0.02, momentum=0.9, dampening=0.5),
                      lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, dampening=0.5)),
    "sgd_nesterov": (lambda p: optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True)),
    "adam": (lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=1e-2),
             lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=1e-2)),
    "adamw": (lambda p: optim.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
}
SCHEDULERS = {
    "none": (None, None),
    "step": (lambda o: optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "cosine": (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=1e-3),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=1e-3)),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", sorted(SCHEDULERS))
def test_the_same_training_loop_on_both(optimizer, schedule):
    mc.manual_seed(3)
    mine, theirs = MiniNet(), TorchNet()
    _torch_copy_of(zip((mine.conv1, mine.bn, mine.conv2, mine.fc), (theirs.conv1, theirs.bn, theirs.conv2, theirs.fc)))
    make_mine, make_theirs = OPTIMIZERS[optimizer]
    opt, topt = make_mine(mine.parameters()), make_theirs(theirs.parameters())
    sched = SCHEDULERS[schedule][0] and SCHEDULERS[schedule][0](opt)
    tsched = SCHEDULERS[schedule][1] and SCHEDULERS[schedule][1](topt)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(24, 3, 12, 12)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    loader = data.DataLoader(data.TensorDataset(mc.tensor(x), mc.tensor(y)), batch_size=8)
    criterion, tcriterion = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for epoch in range(5):
        for (inputs, labels), start in zip(loader, range(0, 24, 8)):
            opt.zero_grad()
            topt.zero_grad()
            loss = criterion(mine(inputs), labels)
            tloss = tcriterion(theirs(torch.tensor(x[start:start + 8])), torch.tensor(y[start:start + 8]))
            assert_close(loss, tloss, rtol=2e-4, atol=2e-5, what=f"loss, epoch {epoch}")
            loss.backward()
            tloss.backward()
            opt.step()
            topt.step()
        if sched:
            sched.step()
            tsched.step()
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-6)
            assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-6)
    for (name, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
        q = q.detach().numpy()
        q = q[..., ::-1, ::-1] if q.ndim == 4 else q
        assert_close(p, q, rtol=2e-3, atol=2e-4, what=name)


@pytest.mark.parametrize("t_max", [1, 4])
def test_cosine_schedule_beyond_t_max(t_max):
    p, q = mc.tensor(np.ones(1, np.float32), requires_grad=True), torch.ones(1, requires_grad=True)
    mine = optim.lr_scheduler.CosineAnnealingLR(optim.SGD([p], lr=0.1), T_max=t_max, eta_min=0.01)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD([q], lr=0.1), T_max=t_max, eta_min=0.01)
    for _ in range(3 * t_max + 2):
        np.testing.assert_allclose(mine.get_last_lr(), theirs.get_last_lr(), rtol=1e-6, atol=1e-9)
        mine.step()
        theirs.step()


# --- data ---
@pytest.mark.parametrize("n,batch,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (4, 8, False)])
def test_dataloader_batches_and_length(n, batch, drop):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    mine = data.DataLoader(data.TensorDataset(mc.tensor(x), mc.tensor(y)), batch_size=batch, drop_last=drop)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                         batch_size=batch, drop_last=drop)
    assert len(mine) == len(theirs)
    got, want = list(mine), list(theirs)
    assert len(got) == len(want)
    for (a, b), (c, d) in zip(got, want):
        assert_close(a, c)
        assert_close(b, d)
        assert b.dtype == np.int64 and str(d.dtype) == "torch.int64"


class Squares(data.Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.full((2, 2), i, np.float32), i, {"name": f"item{i}", "double": float(2 * i)}


class TorchSquares(torch.utils.data.Dataset):
    __len__ = Squares.__len__
    __getitem__ = Squares.__getitem__


def test_default_collate_of_a_dataset_of_ones_own():
    (x, y, extra), = [b for b in data.DataLoader(Squares(), batch_size=3)][:1]
    (tx, ty, textra), = [b for b in torch.utils.data.DataLoader(TorchSquares(), batch_size=3)][:1]
    assert_close(x, tx)
    assert_close(y, ty)
    assert extra["name"] == textra["name"] == ["item0", "item1", "item2"]
    assert_close(extra["double"], textra["double"])
    assert extra["double"].dtype == np.float32          # minicnn's float32 (PyTorch: float64)
    shuffled = [int(v) for _, labels, _ in data.DataLoader(Squares(), batch_size=2, shuffle=True) for v in labels]
    assert sorted(shuffled) == list(range(7)) and shuffled != list(range(7))


@pytest.mark.parametrize("lengths", [[0.8, 0.2], [0.5, 0.3, 0.2], [3, 4], [0.34, 0.33, 0.33], [1.0]])
def test_random_split_lengths(lengths):
    mine = data.random_split(Squares(), lengths, generator=mc.Generator().manual_seed(42))
    theirs = torch.utils.data.random_split(TorchSquares(), lengths, generator=torch.Generator().manual_seed(42))
    assert [len(s) for s in mine] == [len(s) for s in theirs]
    assert sorted(i for s in mine for i in s.indices) == list(range(7))
    again = data.random_split(Squares(), lengths, generator=mc.Generator().manual_seed(42))
    assert [s.indices for s in again] == [s.indices for s in mine]


# --- tensor basics ---
@settings(max_examples=30, deadline=None)
@given(data=st.data(), keepdim=st.booleans())
def test_max_along_a_dim_returns_values_and_indices(data, keepdim):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(hnp.arrays(np.float32, shape, elements=st.sampled_from([-1.0, 0.0, 2.0, 3.5])))   # ties
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    mx, tx = both(x)
    values, indices = mc.max(mx, dim, keepdim)
    tvalues, tindices = torch.max(tx, dim, keepdim)
    assert_close(indices, tindices)
    check_gradients(values, tvalues, [(mx, tx)], what="max(dim)")
    assert_close(mx.argmax(dim, keepdim), tx.argmax(dim, keepdim))
    assert mc.argmax(mx).item() == torch.argmax(tx).item()
    assert_close(mx.max(dim=dim).values, tx.max(dim=dim).values)


def test_tensor_idioms_of_pytorch_tutorials():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    m, t = mc.tensor(x), torch.tensor(x)
    assert m.size() == tuple(t.size()) and m.size(1) == t.size(1) and m.size(-1) == t.size(-1)
    assert m.numel() == t.numel() and m.dim() == t.dim()
    for args in ((), (1,), (0, 1), (1, -1)):
        assert m.flatten(*args).shape == tuple(t.flatten(*args).shape)
        assert mc.flatten(m, *args).shape == tuple(torch.flatten(t, *args).shape)
    for dim in (0, 2, 3, -1, -4):
        assert m.unsqueeze(dim).shape == tuple(t.unsqueeze(dim).shape)
    assert m.view(6, 4).shape == tuple(t.view(6, 4).shape) and m.view(-1).shape == tuple(t.view(-1).shape)
    assert mc.ones(1, 3, 1).squeeze().shape == tuple(torch.ones(1, 3, 1).squeeze().shape)
    assert mc.ones(1, 3, 1).squeeze(0).shape == tuple(torch.ones(1, 3, 1).squeeze(0).shape)
    assert f"{m.sum():.4f}" == f"{t.sum():.4f}" and f"{m[0, 0, 1]:5.2f}" == f"{t[0, 0, 1]:5.2f}"
    assert m.double().dtype == np.float64 and m.long().dtype == np.int64 and m.type(mc.float64).dtype == np.float64
    assert m.device.type == t.device.type == "cpu" and m.device == "cpu" and m.device.index is t.device.index is None
    assert m.to(mc.float64).dtype == np.float64 and m.float().dtype == mc.float32 and m.cpu() is m
    assert_close(mc.sum(m, 1), torch.sum(t, 1))
    assert_close(mc.sum(m, dim=(0, 2), keepdim=True), torch.sum(t, dim=(0, 2), keepdim=True))
    assert_close(m.mean(dim=1, keepdim=True), t.mean(dim=1, keepdim=True))
    shared = np.zeros(3, np.float64)
    view, tview = mc.from_numpy(shared), torch.from_numpy(shared)
    shared[1] = 5
    assert view.numpy()[1] == tview[1].item() == 5 and view.dtype == np.float64
    label = mc.tensor(np.array(2))
    assert ("a", "b", "c")[label] == "c" and int(label) == 2 and float(label) == 2.0 and bool(label)
    with pytest.raises(TypeError):
        f"{m:.2f}"                                      # PyTorch refuses a format spec for many values too
    with pytest.raises(TypeError):
        format(t, ".2f")


def test_set_grad_enabled_as_call_and_as_block():
    w = mc.ones(2, requires_grad=True)
    with mc.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad
    mc.set_grad_enabled(False)
    try:
        assert not mc.is_grad_enabled() and not (w * 2).requires_grad
    finally:
        mc.set_grad_enabled(True)
    assert mc.is_grad_enabled()
    with pytest.raises(TypeError, match="True or False"):
        mc.set_grad_enabled("no")


def test_module_zero_grad_freezing_and_training_flag():
    net = MiniNet()
    out = net(mc.randn(2, 3, 12, 12)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.conv1.weight.requires_grad = False              # PyTorch's way to freeze one parameter
    net(mc.randn(2, 3, 12, 12)).sum().backward()
    assert net.conv1.weight.grad is None and net.conv2.weight.grad is not None
    assert net.training and not net.train(mode=False).training and not net.bn.training
    net.fc = nn.Linear(net.fc.in_features, 5)           # replacing the head, as fine-tuning tutorials do
    assert net(mc.randn(1, 3, 12, 12)).shape == (1, 5) and any(p is net.fc.weight for p in net.parameters())


def test_neighbours_float64_views_and_a_module_used_twice():
    """float64 inputs keep their dtype through F's losses and layers; transposed views give the same
    numbers as their copies; a module called twice adds both calls' gradients, as in PyTorch."""
    rng = np.random.default_rng(5)
    x64 = rng.normal(size=(4, 3)).astype(np.float64)
    y = np.array([0, 2, 1, 2])
    mine = F.cross_entropy(mc.tensor(x64, dtype=np.float64), mc.tensor(y))
    theirs = TF.cross_entropy(torch.tensor(x64), torch.tensor(y))
    assert mine.dtype == np.float64 and theirs.dtype == torch.float64
    assert_close(mine, theirs, 1e-12, 1e-12)
    images = rng.normal(size=(2, 3, 6, 6)).astype(np.float32)
    view = mc.tensor(images).permute(0, 1, 3, 2)                    # a transposed view, not contiguous
    assert_close(F.max_pool2d(view, 2), TF.max_pool2d(torch.tensor(images).permute(0, 1, 3, 2), 2))
    assert_close(F.avg_pool2d(view, 3, 1, 1), TF.avg_pool2d(torch.tensor(images).permute(0, 1, 3, 2), 3, 1, 1),
                 1e-5, 1e-6)
    shared, twin = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    _torch_copy_of([(shared, twin)])
    a = rng.normal(size=(2, 3)).astype(np.float32)
    shared(shared(mc.tensor(a))).sum().backward()
    twin(twin(torch.tensor(a))).sum().backward()
    assert_close(shared.weight.grad, twin.weight.grad, 1e-5, 1e-6, "weight used twice")
    assert_close(shared.bias.grad, twin.bias.grad, 1e-5, 1e-6, "bias used twice")
    empty = F.cross_entropy(mc.zeros(0, 3), mc.tensor(np.zeros(0, np.int64)))       # an empty batch: NaN, as PyTorch
    assert np.isnan(empty.item()) and torch.isnan(TF.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 23), replicas=st.integers(1, 5), drop_last=st.booleans(), data_=st.data())
def test_distributed_sampler_takes_the_indices_pytorchs_takes(n, replicas, drop_last, data_):
    """Without shuffling the shares are deterministic: minicnn's and PyTorch's, rank by rank, are equal
    (with shuffling both draw one order from seed + epoch, each with its own generator)."""
    from torch.utils.data.distributed import DistributedSampler
    rank = data_.draw(st.integers(0, replicas - 1))
    dataset = list(range(n))
    mine = mc.distributed.DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=False,
                                             drop_last=drop_last)
    theirs = DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
    assert list(mine) == list(theirs) and len(mine) == len(theirs)
    for shuffle in (True, False):
        m = mc.distributed.DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=3)
        t = DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=3)
        assert len(m) == len(t) and len(list(m)) == len(list(t))


@pytest.mark.parametrize("drop_last", [False, True])
def test_a_dataloader_with_a_sampler_batches_what_pytorchs_batches(drop_last):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    sampler = [7, 2, 9, 0, 4, 4, 1]             # any iterable of indices, repeats included
    mine = data.DataLoader(data.TensorDataset(mc.tensor(x)), batch_size=3, sampler=sampler, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x)), batch_size=3,
                                         sampler=sampler, drop_last=drop_last)
    assert len(mine) == len(theirs)
    for (a,), (b,) in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x)), sampler=sampler, shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        data.DataLoader(data.TensorDataset(mc.tensor(x)), sampler=sampler, shuffle=True)
