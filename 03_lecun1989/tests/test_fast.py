"""The fused batch-size-1 step (fast.py) against the readable batched code (model.py) and finite differences."""

import numpy as np
import pytest
from conftest import example, sampled_gradcheck
from lecun1989.fast import FusedStep
from lecun1989.model import SHIFTS, Config, Net, make_canvas, shift_images

MODERN = Config(activation="relu", output="linear", dropout=0.25, output_bias=0.0)


@pytest.mark.parametrize("config", [Config(), Config(tanh="plain"), MODERN], ids=["1989", "plain-tanh", "modern"])
def test_fused_step_equals_batched_backward_for_every_shift(config):
    rng = np.random.default_rng(2)
    net = Net(config, rng, dtype=np.float64)
    fused = FusedStep(net)
    images, targets, labels = example(rng)
    mask = (rng.random(192) < 0.75) / 0.75 if config.dropout else None
    canvas = make_canvas(images, np.float64)[0]
    for shift in range(len(SHIFTS)):
        expected_loss = net.loss_and_grads(
            shift_images(images, [shift]), targets, labels, None if mask is None else mask[None]
        )
        expected = net.grads.copy()
        net.grads[...] = np.nan  # the step must overwrite every gradient (the backward's contract)
        loss = fused.step(canvas, targets[0], int(labels[0]), shift, mask)
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        np.testing.assert_allclose(net.grads, expected, rtol=1e-10, atol=1e-13)


def test_fused_step_gradcheck():
    rng = np.random.default_rng(3)
    net = Net(Config(), rng, dtype=np.float64)
    fused = FusedStep(net)
    images, targets, labels = example(rng)
    canvas = make_canvas(images, np.float64)[0]
    fused.step(canvas, targets[0], int(labels[0]), 0)
    analytic = net.grads.copy()
    sampled_gradcheck(net, lambda: fused.step(canvas, targets[0], int(labels[0]), 0), analytic, per_tensor=100)


def test_float32_step_agrees_with_float64():
    rng = np.random.default_rng(4)
    net64 = Net(Config(), rng, dtype=np.float64)
    net32 = Net(Config(), dtype=np.float32)
    net32.params[...] = net64.params
    images, targets, _labels = example(rng)
    FusedStep(net64).step(make_canvas(images, np.float64)[0], targets[0], 0)
    FusedStep(net32).step(make_canvas(images, np.float32)[0], targets[0].astype(np.float32), 0)
    np.testing.assert_allclose(net32.grads, net64.grads, rtol=1e-3, atol=1e-6)
