"""Autograd's rules, the optimizers' update rules, the schedules and a hand-written training loop,
each run on minicnn and on PyTorch from the same numbers."""

import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn as mc

torch = pytest.importorskip("torch")


# --- autograd ---

def test_gradients_accumulate_until_zeroed_and_a_graph_is_walked_once():
    x_m, x_t = mc.tensor([1.0, -2.0, 3.0], requires_grad=True), torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for x in (x_m, x_t):
        y = (x * x).sum()
        y.backward()
        (x * 3).sum().backward()            # a second graph: adds to .grad
        with pytest.raises(RuntimeError):
            y.backward()                    # the first graph again: released
    assert_close(x_m.grad, x_t.grad, what="accumulated gradient")
    x_m.zero_grad()
    x_t.grad = None
    assert x_m.grad is None and x_t.grad is None


def test_a_shared_subexpression_sums_its_gradients():
    results = []
    for lib in (mc, torch):
        x = lib.tensor([0.5, -1.5], requires_grad=True)
        h = x * x
        y = (h * h + h * 3 - h / (x + 4)).sum()
        y.backward()
        results.append(x.grad)
    assert_close(results[0], results[1], what="diamond graph")


def test_what_both_refuse():
    for lib in (mc, torch):
        with pytest.raises(RuntimeError):
            (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward()      # not a scalar, no grad given
        with pytest.raises(RuntimeError):
            lib.tensor([1.0]).sum().backward()                              # nothing requires grad
    with pytest.raises(TypeError):
        mc.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], requires_grad=True)


def test_detach_and_no_grad_cut_the_graph():
    for lib in (mc, torch):
        x = lib.tensor([2.0], requires_grad=True)
        y = x * x.detach()
        with lib.no_grad():
            z = x * 5
        assert not z.requires_grad
        y.sum().backward()
        assert float(x.grad.numpy()[0] if lib is mc else x.grad[0]) == 2.0


# --- optimizers: the same gradients, step by step ---

OPTIMIZERS = {
    "sgd": (lambda p: mc.optimizers.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd-momentum-decay": (lambda p: mc.optimizers.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
                           lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01)),
    "sgd-nesterov": (lambda p: mc.optimizers.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    "adam": (lambda p: mc.optimizers.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam-decay": (lambda p: mc.optimizers.Adam(p, lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6,
                                                weight_decay=0.1),
                   lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamw": (lambda p: mc.optimizers.AdamW(p, lr=0.01, weight_decay=0.05),
              lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05)),
    "rmsprop": (lambda p: mc.optimizers.RMSprop(p, lr=0.01, rho=0.9, epsilon=1e-8),
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    "rmsprop-momentum": (lambda p: mc.optimizers.RMSprop(p, lr=0.01, rho=0.8, momentum=0.5, epsilon=1e-7,
                                                         weight_decay=0.01),
                         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.8, momentum=0.5, eps=1e-7,
                                                       weight_decay=0.01)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@settings(max_examples=15)
@given(start=hnp.arrays(np.float32, (5,), elements=st.floats(-3, 3, width=32)),
       grads=hnp.arrays(np.float32, (6, 5), elements=st.floats(-2, 2, width=32) | st.just(0.0)))
def test_update_rules_are_pytorchs(name, start, grads):
    mine_opt, theirs_opt = OPTIMIZERS[name]
    p_m, p_t = mc.tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    opt_m, opt_t = mine_opt([p_m]), theirs_opt([p_t])
    for g in grads:                         # a gradient that depends on p too: (p * g + p * p / 2).sum()
        for p, lib in ((p_m, mc), (p_t, torch)):
            (p * lib.tensor(g) + p * p * 0.5).sum().backward()
        opt_m.step()
        opt_t.step()
        opt_m.zero_grad()
        opt_t.zero_grad()
    assert_close(p_m, p_t, rtol=1e-4, atol=1e-5, what=f"{name} after {len(grads)} steps")


def test_a_parameter_without_gradient_is_left_alone_by_both():
    a_m, b_m = mc.ones(2, requires_grad=True), mc.ones(2, requires_grad=True)
    a_t, b_t = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    opt_m = mc.optimizers.Adam([a_m, b_m], lr=0.1, weight_decay=0.1)
    opt_t = torch.optim.Adam([a_t, b_t], lr=0.1, weight_decay=0.1)
    (a_m * 2).sum().backward()
    (a_t * 2).sum().backward()
    opt_m.step()
    opt_t.step()
    assert_close(a_m, a_t, what="a")
    assert_close(b_m, b_t, what="b (no gradient: untouched)")


@pytest.mark.parametrize("make", [
    lambda lib, p: (mc.optimizers.SGD if lib is mc else torch.optim.SGD)(p, lr=0.1, momentum=-0.5),
    lambda lib, p: (mc.optimizers.SGD if lib is mc else torch.optim.SGD)(p, lr=-0.1),
    lambda lib, p: (mc.optimizers.SGD if lib is mc else torch.optim.SGD)(p, lr=0.1, nesterov=True),
    lambda lib, p: mc.optimizers.Adam(p, epsilon=-1e-3) if lib is mc else torch.optim.Adam(p, eps=-1e-3),
    lambda lib, p: mc.optimizers.Adam(p, beta_1=1.5) if lib is mc else torch.optim.Adam(p, betas=(1.5, 0.9)),
    lambda lib, p: (mc.optimizers.Adam if lib is mc else torch.optim.Adam)(p, weight_decay=-1),
    lambda lib, p: (mc.optimizers.SGD if lib is mc else torch.optim.SGD)([], lr=0.1),
    lambda lib, p: (mc.optimizers.SGD if lib is mc else torch.optim.SGD)(p[0], lr=0.1),
])
def test_hyperparameters_and_parameters_both_refuse(make):
    for lib in (mc, torch):
        with pytest.raises((ValueError, TypeError)):
            make(lib, [lib.ones(2, requires_grad=True)])


# --- schedules against torch.optim.lr_scheduler ---

def torch_rates(make_scheduler, steps, lr):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize("name", ["step", "cosine", "one-cycle"])
def test_schedules_are_pytorchs_schedulers_stepped_every_batch(name):
    steps = 100
    mine, theirs = {
        "step": (mc.schedules.StepDecay(0.1, decay_steps=30, gamma=0.5),
                 lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5)),
        "cosine": (mc.schedules.CosineDecay(0.1, total_steps=steps, min_lr=0.001),
                   lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=0.001)),
        "one-cycle": (mc.schedules.OneCycle(0.1, total_steps=steps),
                      lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)),
    }[name]
    assert_close(np.array([mine(step) for step in range(steps)]), torch_rates(theirs, steps, 0.1), rtol=1e-6,
                 atol=1e-9, what=name)


# --- a hand-written loop: the same CNN, weights, data and optimizer ---

class Net(mc.Model):
    def __init__(self):
        super().__init__()
        self.conv = mc.layers.Conv2D(4, 3, padding="same")
        self.head = mc.layers.Dense(3)

    def forward(self, x):
        return self.head(mc.F.flatten(mc.F.max_pool2d(mc.F.relu(self.conv(x)), 2)))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.head = torch.nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        return self.head(torch.flatten(torch.max_pool2d(torch.relu(self.conv(x)), 2), 1))


@pytest.mark.parametrize("optimizer", ["sgd-momentum-decay", "adam"])
def test_a_hand_written_training_loop_follows_pytorchs(optimizer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    torch.manual_seed(0)
    theirs = TorchNet()
    mine = Net()
    mine(mc.zeros(1, 1, 8, 8))                      # built
    mine.conv.kernel.data[...] = theirs.conv.weight.detach().numpy()[..., ::-1, ::-1]
    mine.conv.bias.data[...] = theirs.conv.bias.detach().numpy()
    mine.head.kernel.data[...] = theirs.head.weight.detach().numpy().T
    mine.head.bias.data[...] = theirs.head.bias.detach().numpy()
    make_mine, make_theirs = OPTIMIZERS[optimizer]
    opt_m, opt_t = make_mine(mine.parameters()), make_theirs(theirs.parameters())
    losses_m, losses_t = [], []
    for _ in range(3):
        for start in range(0, 32, 8):
            xb, yb = x[start:start + 8], y[start:start + 8]
            loss_m = mc.F.sparse_categorical_cross_entropy(mine(mc.tensor(xb)), yb, from_logits=True)
            opt_m.zero_grad()
            loss_m.backward()
            opt_m.step()
            loss_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(xb)), torch.tensor(yb))
            opt_t.zero_grad()
            loss_t.backward()
            opt_t.step()
            losses_m.append(loss_m.item())
            losses_t.append(loss_t.item())
    assert_close(np.array(losses_m), np.array(losses_t), rtol=1e-4, atol=1e-5, what="losses")
    assert_close(mine.head.kernel, theirs.head.weight.detach().numpy().T, rtol=1e-3, atol=1e-5, what="head")
    assert_close(mine.conv.kernel, theirs.conv.weight.detach().numpy()[..., ::-1, ::-1], rtol=1e-3, atol=1e-5,
                 what="conv kernel (flipped back)")


ACTIONS = ["backward", "backward twice", "step", "zero_grad", "no_grad update", "detached backward"]


@pytest.mark.parametrize("name", ["sgd-momentum-decay", "adam", "rmsprop-momentum"])
@settings(max_examples=20)
@given(calls=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=10))
def test_any_order_of_backward_step_and_zero_grad_as_pytorch(name, calls):
    """Hypothesis draws the call order of a hand-written loop: gradients that accumulate over two
    backward calls, steps without a new gradient, zero_grad in between, updates under no_grad."""
    make_mine, make_theirs = OPTIMIZERS[name]
    start = np.array([0.5, -1.0, 2.0], np.float32)
    p_m, p_t = mc.tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    opt_m, opt_t = make_mine([p_m]), make_theirs([p_t])
    for call in calls:
        for p, lib, opt in ((p_m, mc, opt_m), (p_t, torch, opt_t)):
            if call.endswith("backward") or call == "backward twice":
                times = 2 if call == "backward twice" else 1
                for _ in range(times):
                    (p * p * p).sum().backward() if call != "detached backward" else (p * p.detach()).sum().backward()
            elif call == "step":
                opt.step()
            elif call == "zero_grad":
                opt.zero_grad()
            else:
                with lib.no_grad():
                    p *= 0.9
        assert_close(p_m, p_t, rtol=1e-4, atol=1e-5, what=f"{name} after {calls}")
        if p_t.grad is None:
            assert p_m.grad is None, calls
        else:
            assert_close(p_m.grad, p_t.grad, rtol=1e-4, atol=1e-5, what=f"grad after {calls}")
