"""The optimizers' documented defaults, checked against their update rules written out in float64
(docs/mutation.md: these killed the mutants that changed a default)."""

import numpy as np
import pytest

import minicnn as mc

START = np.array([1.0, -2.0, 0.5])
GRADS = [np.array([0.3, -0.1, 2.0]), np.array([-0.2, 0.4, 1.0]), np.array([0.05, 0.0, -0.5])]


def steps(opt_class, grads=GRADS, start=START, **kwargs):
    """The parameter after each step of opt_class([p], **kwargs) fed `grads`."""
    p = mc.tensor(start, requires_grad=True)
    opt = opt_class([p], **kwargs)
    path = []
    for g in grads:
        p.grad = mc.tensor(g)
        opt.step()
        opt.zero_grad()
        path.append(p.numpy().astype(np.float64))
    return path, opt, p


def adam_path(grads, start, lr, b1, b2, eps, decoupled_decay=0.0):
    p, m, v, path = start.copy(), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        p = p * (1 - lr * decoupled_decay)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        path.append(p)
    return path


def test_sgd_defaults_are_lr_0_01_without_momentum():
    got, _, _ = steps(mc.optimizers.SGD)
    want, p = [], START.copy()
    for g in GRADS:
        p = p - 0.01 * g
        want.append(p)
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 1e-7])     # tiny gradients: epsilon matters as much as sqrt(v)
def test_adam_and_adamw_defaults(scale):
    grads = [g * scale for g in GRADS]
    got, _, _ = steps(mc.optimizers.Adam, grads)
    np.testing.assert_allclose(got, adam_path(grads, START, 1e-3, 0.9, 0.999, 1e-8), rtol=1e-6)
    got, _, _ = steps(mc.optimizers.AdamW, grads)         # and weight_decay=0.01, decoupled
    np.testing.assert_allclose(got, adam_path(grads, START, 1e-3, 0.9, 0.999, 1e-8, decoupled_decay=0.01),
                               rtol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 1e-6])     # tiny gradients: epsilon (1e-7, Keras') matters
def test_rmsprop_defaults_are_keras(scale):
    grads = [g * scale for g in GRADS]
    got, _, _ = steps(mc.optimizers.RMSprop, grads)
    p, ms, want = START.copy(), 0.0, []
    for g in grads:
        ms = 0.9 * ms + 0.1 * g * g
        p = p - 1e-3 * g / (np.sqrt(ms) + 1e-7)
        want.append(p)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_no_moving_average_unless_asked(name):
    """use_ema is off by default: finalize_variable_values (fit's last step) leaves the weights alone."""
    opt_class = getattr(mc.optimizers, name)
    path, opt, p = steps(opt_class)
    assert not opt.use_ema
    opt.finalize_variable_values()
    np.testing.assert_array_equal(p.numpy(), path[-1].astype(np.float32))
    _, averaged, q = steps(opt_class, use_ema=True, ema_momentum=0.5)   # what the default would do otherwise
    averaged.finalize_variable_values()
    assert not np.allclose(q.numpy(), path[-1])


def test_a_schedule_can_replace_a_number_as_learning_rate():
    """As in Keras: optimizer.learning_rate = schedule, and the steps follow the schedule from then on."""
    p = mc.tensor(START, requires_grad=True)
    opt = mc.optimizers.SGD([p], lr=0.1)
    schedule = mc.schedules.StepDecay(0.5, decay_steps=1, gamma=0.1)     # 0.5, 0.05, 0.005, ...
    opt.learning_rate = schedule
    assert opt.learning_rate is schedule
    expected = START.copy()
    for step, g in enumerate(GRADS):
        p.grad = mc.tensor(g)
        opt.step()
        expected = expected - 0.5 * 0.1 ** step * g
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("opt_class, name, value", [
    (mc.optimizers.Adam, "beta_1", 1.0), (mc.optimizers.Adam, "beta_2", 1.0), (mc.optimizers.Adam, "beta_2", -0.1),
    (mc.optimizers.Adam, "epsilon", -1e-8), (mc.optimizers.AdamW, "beta_2", 1.5),
    (mc.optimizers.RMSprop, "rho", 1.0), (mc.optimizers.RMSprop, "momentum", -0.5),
    (mc.optimizers.RMSprop, "epsilon", -1e-3), (mc.optimizers.SGD, "momentum", -0.5),
    (mc.optimizers.SGD, "weight_decay", -1e-4), (mc.optimizers.Adam, "ema_momentum", 1.0)])
def test_every_hyperparameter_pytorch_refuses_is_refused_by_name(opt_class, name, value):
    """PyTorch: 'Invalid beta parameter at index 1: 1.0', 'Invalid epsilon value: -0.001', ..."""
    p = mc.tensor(START, requires_grad=True)
    with pytest.raises(ValueError, match=f"{name} must be .*got {name}="):
        opt_class([p], **{name: value})


class HalfStep(mc.optimizers.Optimizer):
    """A user's own optimizer, a subclass that writes update(): the base class's defaults apply."""

    def __init__(self, params, lr=0.1, **kwargs):
        super().__init__(params, lr, 0.0, **kwargs)

    def update(self, p, g, lr, state):
        p.data -= 0.5 * lr * g


def test_a_subclass_gets_the_base_defaults_no_average_and_momentum_0_99():
    p = mc.tensor(START, requires_grad=True)
    opt = HalfStep([p])
    for g in GRADS:
        p.grad = mc.tensor(g)
        opt.step()
    opt.finalize_variable_values()
    np.testing.assert_allclose(p.numpy(), START - 0.05 * sum(GRADS), rtol=1e-6)
    q = mc.tensor(START, requires_grad=True)
    opt = HalfStep([q], use_ema=True)          # the average of the weights after each step, momentum 0.99
    path, average = [], None
    for g in GRADS:
        q.grad = mc.tensor(g)
        opt.step()
        path.append(q.numpy().astype(np.float64))
        average = path[-1] if average is None else 0.99 * average + 0.01 * path[-1]
    opt.finalize_variable_values()
    np.testing.assert_allclose(q.numpy(), average, rtol=1e-6)
