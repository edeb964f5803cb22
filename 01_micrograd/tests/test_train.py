"""The demo's loss and training loop; the demo reaches 100% training accuracy in 100 steps."""

from __future__ import annotations

import numpy as np
import pytest
from micrograd.__main__ import HIDDEN, REFERENCE
from micrograd.data import make_moons
from micrograd.fast import backward_fast
from micrograd.nn import MLP
from micrograd.train import learning_rate, max_margin_loss, sgd_step, train

from shared.seeding import make_rng


def reference_setup(seed: int = REFERENCE["seed"]):
    rng = make_rng(seed)
    X, labels = make_moons(REFERENCE["points"], REFERENCE["noise"], rng)
    return MLP(2, [*HIDDEN, 1], rng=rng), X, 2 * labels - 1


def test_learning_rate_decays_linearly_from_one():
    assert learning_rate(0, 100) == 1.0
    assert learning_rate(50, 100) == pytest.approx(0.55)
    assert learning_rate(99, 100) == pytest.approx(0.109)


def test_max_margin_loss_matches_a_numpy_computation():
    model, X, y = reference_setup()
    loss, accuracy = max_margin_loss(model, X, y, alpha=1e-4)
    scores = np.array([model(x).data for x in X.tolist()])
    weights = np.array([p.data for p in model.parameters()])
    expected = np.maximum(0, 1 - y * scores).mean() + 1e-4 * (weights**2).sum()
    assert loss.data == pytest.approx(expected, rel=1e-12)
    assert accuracy == np.mean((scores > 0) == (y > 0))


def test_points_beyond_the_margin_contribute_nothing():
    model = MLP(1, [1], rng=0)
    model.layers[0].neurons[0].w[0].data = 5.0  # score = 5 x: margin 5 at x = +-1
    loss, accuracy = max_margin_loss(model, np.array([[1.0], [-1.0]]), np.array([1, -1]), alpha=0.0)
    assert loss.data == 0.0 and accuracy == 1.0


def test_sgd_step_moves_every_parameter_against_its_gradient_by_the_learning_rate():
    model, X, y = reference_setup()
    twin, _, _ = reference_setup()  # the same weights: its gradients are the ones sgd_step will use
    loss, _ = max_margin_loss(twin, X[:10], y[:10], alpha=1e-4)
    backward_fast(loss)
    record = sgd_step(model, X[:10], y[:10], step=3, steps=10, alpha=1e-4)
    assert record.learning_rate == learning_rate(3, 10) and record.loss == loss.data
    expected = [p.data - record.learning_rate * p.grad for p in twin.parameters()]
    assert [p.data for p in model.parameters()] == expected


def test_demo_reaches_full_training_accuracy_within_100_steps():
    model, X, y = reference_setup()
    history = train(model, X, y, steps=100, alpha=1e-4)
    assert len(history) == 100
    assert history[-1].accuracy == 1.0
    assert history[-1].loss < 0.05 < history[0].loss


def test_training_is_deterministic_for_a_seed():
    runs = []
    for _ in range(2):
        model, X, y = reference_setup(5)
        runs.append([r.loss for r in train(model, X[:20], y[:20], steps=3)])
    assert runs[0] == runs[1]


def test_on_step_sees_every_step():
    model, X, y = reference_setup()
    seen = []
    train(model, X[:10], y[:10], steps=4, on_step=seen.append)
    assert [r.step for r in seen] == [0, 1, 2, 3]
    assert [r.learning_rate for r in seen] == [learning_rate(k, 4) for k in range(4)]


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros((4, 3)), np.ones(4), "shape"),
        (np.zeros(4), np.ones(4), "shape"),
        (np.zeros((4, 2)), np.ones(5), "y must have shape"),
        (np.zeros((4, 2)), np.array([0, 1, 0, 1]), "-1 or \\+1"),
        (np.full((4, 2), np.nan), np.ones(4), "NaN"),
        (np.zeros((0, 2)), np.ones(0), "no points"),
    ],
)
def test_bad_data_is_a_value_error(X, y, match):
    with pytest.raises(ValueError, match=match):
        max_margin_loss(MLP(2, [3, 1], rng=0), X, y)


@pytest.mark.parametrize(("steps", "alpha"), [(0, 1e-4), (-1, 1e-4), (2.5, 1e-4), (10, -1.0), (10, float("nan"))])
def test_bad_hyperparameters_are_value_errors(steps, alpha):
    model, X, y = reference_setup()
    with pytest.raises(ValueError):
        train(model, X, y, steps=steps, alpha=alpha)
