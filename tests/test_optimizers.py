"""Optimizers against the update rules written out in NumPy, and the learning-rate schedules."""

import math

import numpy as np
import pytest

import minicnn as mc

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.0, 0.0, 0.4])]
START = np.array([1.0, 2.0, -3.0])


def run(optimizer_class, **kwargs):
    """Three steps with the gradients above; returns the parameter after each."""
    p = mc.tensor(START, requires_grad=True)
    opt = optimizer_class([p], **kwargs)
    path = []
    for g in GRADS:
        p.grad = mc.tensor(g)
        opt.step()
        opt.zero_grad()
        assert p.grad is None and p.dtype == np.float32
        path.append(p.numpy().astype(np.float64))
    return path


def reference_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    p, v, path = START.copy(), None, []
    for g in GRADS:
        g = g + weight_decay * p
        if momentum:
            v = g if v is None else momentum * v + g
            g = g + momentum * v if nesterov else v
        p = p - lr * g
        path.append(p)
    return path


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True),
                                    dict(lr=0.05, weight_decay=0.01)])
def test_sgd(kwargs):
    for got, want in zip(run(mc.optimizers.SGD, **kwargs), reference_sgd(**kwargs)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_adam():
    p, m, v, path = START.copy(), 0, 0, []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 1e-2 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        path.append(p)
    for got, want in zip(run(mc.optimizers.Adam, lr=1e-2), path):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def reference_adam(lr, weight_decay=0.0, decoupled=False):
    p, m, v, path = START.copy(), 0, 0, []
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)         # torch.optim.AdamW: shrink first, then the Adam step
        else:
            g = g + weight_decay * p                # torch.optim.Adam(weight_decay=...): an L2 gradient
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        path.append(p)
    return path


@pytest.mark.parametrize("weight_decay", [0.0, 0.1, 1.0])
def test_adamw_decays_outside_the_moments_and_adam_inside(weight_decay):
    adamw = run(mc.optimizers.AdamW, lr=0.05, weight_decay=weight_decay)
    adam = run(mc.optimizers.Adam, lr=0.05, weight_decay=weight_decay)
    for got, want in zip(adamw, reference_adam(0.05, weight_decay, decoupled=True)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in zip(adam, reference_adam(0.05, weight_decay)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    if weight_decay:                                # the two rules differ: AdamW is not Adam renamed
        assert not np.allclose(adamw[-1], adam[-1], rtol=1e-3)
    assert mc.optimizers.AdamW().weight_decay == 0.01                   # PyTorch's default
    assert type(mc.optimizers.get_optimizer("adamw")) is mc.optimizers.AdamW


def test_rmsprop():
    p, ms, path = START.copy(), 0, []
    for g in GRADS:
        ms = 0.9 * ms + 0.1 * g * g
        p = p - 1e-2 * g / (np.sqrt(ms) + 1e-7)
        path.append(p)
    for got, want in zip(run(mc.optimizers.RMSprop, lr=1e-2), path):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_a_plain_pytorch_style_loop_learns():
    mc.manual_seed(0)
    w = mc.zeros(3, 1, requires_grad=True)
    x = mc.randn(64, 3)
    y = x @ mc.tensor([[1.0], [-2.0], [0.5]])
    opt = mc.optimizers.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(100):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_allclose(w.numpy()[:, 0], [1, -2, 0.5], atol=1e-3)


def test_compile_binds_an_optimizer_without_parameters():
    model = mc.Sequential([mc.layers.Dense(1)], input_shape=(3,))
    opt = mc.optimizers.Adam()
    model.compile(opt, mc.losses.BinaryCrossentropy(from_logits=True))
    assert opt.params == model.parameters()
    with pytest.raises(RuntimeError, match="no parameters"):
        mc.optimizers.SGD().step()


def test_schedules():
    one = mc.schedules.OneCycle(max_lr=1.0, total_steps=101, pct_start=0.3)
    assert one(0) == pytest.approx(1 / 25)
    values = [one(s) for s in range(101)]
    peak = int(np.argmax(values))
    assert peak in (29, 30) and values[peak] == pytest.approx(1.0, abs=1e-3)    # peak at 30% of the run
    assert one(100) == pytest.approx(1 / 25 / 1e4)
    assert all(a <= b for a, b in zip(values[:peak], values[1:peak + 1]))
    assert all(a >= b for a, b in zip(values[peak:], values[peak + 1:]))
    cosine = mc.schedules.CosineDecay(0.1, total_steps=10, min_lr=0.01)
    assert cosine(0) == pytest.approx(0.1) and cosine(5) == pytest.approx(0.055) and cosine(10) == pytest.approx(0.01)
    step = mc.schedules.StepDecay(0.1, decay_steps=3, gamma=0.5)
    assert [step(s) for s in (0, 2, 3, 6)] == [0.1, 0.1, 0.05, 0.025]


def test_fit_drives_a_schedule_over_the_whole_run():
    mc.manual_seed(0)
    model = mc.Sequential([mc.layers.Dense(2)], input_shape=(4,))
    schedule = mc.schedules.OneCycle(max_lr=0.01)
    opt = mc.optimizers.SGD(lr=schedule)
    model.compile(opt, mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32), np.arange(40) % 2
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert schedule.total_steps == 15 and opt.iterations == 15
    assert math.isclose(opt.current_lr(), schedule(15))


def test_use_ema_averages_the_weights_of_every_step_and_fit_keeps_the_average():
    mc.manual_seed(0)
    w = mc.tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)
    opt = mc.optimizers.Adam([w], lr=0.1, use_ema=True, ema_momentum=0.9)
    expected = None
    for step in range(5):
        (w * w * (step + 1.0)).sum().backward()
        opt.step()
        opt.zero_grad()
        now = w.numpy().astype(np.float64)
        expected = now if expected is None else 0.9 * expected + 0.1 * now     # Keras: a copy at the first step
    raw = w.numpy().copy()
    opt.finalize_variable_values()
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)
    assert not np.allclose(raw, w.numpy())

    x = np.random.default_rng(0).normal(size=(64, 1, 4, 4)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    model = mc.Sequential([mc.layers.Flatten(), mc.layers.Dense(2)], input_shape=(1, 4, 4))
    model.compile(mc.optimizers.SGD(learning_rate=0.5, use_ema=True, ema_momentum=0.5),
                  mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for p in model.parameters():
        np.testing.assert_array_equal(p.numpy(), model.optimizer.state[id(p)]["ema"])
    with pytest.raises(ValueError, match="ema_momentum must be in \\[0, 1\\)"):
        mc.optimizers.SGD(use_ema=True, ema_momentum=1.0)
