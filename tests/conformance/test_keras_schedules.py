"""mc.schedules against keras.optimizers.schedules: the rate at each step, and in a fit.

minicnn has StepDecay (Keras: ExponentialDecay(staircase=True), or PiecewiseConstantDecay),
CosineDecay (Keras: CosineDecay with alpha = min_lr / initial_lr) and OneCycle (no Keras
counterpart: test_torch_training.py compares it with PyTorch's OneCycleLR; here its annealing half
is checked against Keras' CosineDecay). Both read the optimizer's step count before the step.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_helpers import assert_close, keras, keras_weights, mc, numpy, twin_models

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

S = keras.optimizers.schedules
FEW = settings(max_examples=15)
initial_rates = st.sampled_from([0.1, 1.0, 3e-3])


def rates(schedule, steps):
    """minicnn's rate at each step."""
    return np.array([float(schedule(step)) for step in steps])


def keras_rates(schedule, steps):
    return np.array([float(numpy(schedule(step))) for step in steps])


@FEW
@given(initial=initial_rates, decay_steps=st.integers(1, 20), gamma=st.sampled_from([0.1, 0.5, 0.9, 2.0]))
def test_step_decay_is_staircase_exponential_decay(initial, decay_steps, gamma):
    """initial * gamma ** floor(step / decay_steps)."""
    steps = range(0, 5 * decay_steps + 3)
    assert_close(rates(mc.schedules.StepDecay(initial, decay_steps, gamma), steps),
                 keras_rates(S.ExponentialDecay(initial, decay_steps, gamma, staircase=True), steps), 1e-6, 0,
                 "StepDecay")


def test_step_decay_is_piecewise_constant_decay():
    """The same staircase as Keras' PiecewiseConstantDecay: a boundary step still has the rate before it
    in Keras (step <= boundary), and already the next one in minicnn (step // decay_steps)."""
    boundaries, values = [10, 20, 30], [0.1, 0.05, 0.025, 0.0125]
    steps = [s for s in range(0, 40) if s not in boundaries]
    assert_close(rates(mc.schedules.StepDecay(0.1, 10, 0.5), steps),
                 keras_rates(S.PiecewiseConstantDecay(boundaries, values), steps), 1e-6, 0, "StepDecay")


@FEW
@given(initial=initial_rates, total=st.integers(1, 200), floor=st.sampled_from([0.0, 0.01, 0.5]))
def test_cosine_decay(initial, total, floor):
    """min_lr + (initial - min_lr) (1 + cos(pi * min(step, total) / total)) / 2, flat after the end."""
    steps = sorted({0, 1, total // 3, total // 2, total - 1, total, total + 1, 2 * total})
    assert_close(rates(mc.schedules.CosineDecay(initial, total, min_lr=floor * initial), steps),
                 keras_rates(S.CosineDecay(initial, total, alpha=floor), steps), 1e-5, 1e-6 * initial, "CosineDecay")


@FEW
@given(max_lr=initial_rates, total=st.integers(20, 300), pct_start=st.sampled_from([0.2, 0.3, 0.5]))
def test_one_cycle_annealing_is_keras_cosine_decay(max_lr, total, pct_start):
    """After the warm-up, OneCycle anneals from max_lr to max_lr / (div_factor * final_div_factor)
    along half a cosine: Keras' CosineDecay started at the warm-up's end."""
    schedule = mc.schedules.OneCycle(max_lr, total, pct_start)
    warmup = pct_start * total - 1
    end = max_lr / 25.0 / 1e4
    decay = S.CosineDecay(max_lr, total - 1 - warmup, alpha=end / max_lr)
    steps = [s for s in range(total) if s > warmup]
    # Keras computes in float32: absolute errors of about 1e-7 * max_lr near the end
    assert_close(rates(schedule, steps), keras_rates(decay, [s - warmup for s in steps]), 1e-5, 1e-6 * max_lr,
                 "OneCycle")
    assert_close(float(schedule(0)), max_lr / 25.0, 1e-12, 0, "OneCycle starts at max_lr / div_factor")


@pytest.mark.parametrize("kind", ["step", "cosine"])
def test_schedules_in_fit(kind):
    """A schedule given as SGD's rate, a real fit each (3 steps an epoch, the last partial): the same
    weights after two epochs. CosineDecay's total_steps left as None is the whole run (6 steps)."""
    mine_schedule, their_schedule = {
        "step": (mc.schedules.StepDecay(0.5, decay_steps=2, gamma=0.5),
                 S.ExponentialDecay(0.5, 2, 0.5, staircase=True)),
        "cosine": (mc.schedules.CosineDecay(0.5, min_lr=0.05), S.CosineDecay(0.5, 6, alpha=0.1)),
    }[kind]
    mine, theirs = twin_models(3)
    mine.compile(mc.optimizers.SGD(lr=mine_schedule), mc.losses.SparseCategoricalCrossentropy(from_logits=True))
    theirs.compile(keras.optimizers.SGD(learning_rate=their_schedule),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((10, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, 10)
    losses = [model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history["loss"]
              for model in (mine, theirs)]
    assert_close(np.array(losses[0]), np.array(losses[1]), 1e-4, 1e-5, "losses")
    for a, b in zip([w for layer in mine.layers for w in keras_weights(layer)], theirs.get_weights(), strict=True):
        assert_close(a, b, 1e-4, 1e-5, "weights")
