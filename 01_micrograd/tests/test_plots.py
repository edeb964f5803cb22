"""The demo's pictures: the NumPy forward pass agrees with the Value one; PNGs are written."""

from __future__ import annotations

import numpy as np
import pytest
from micrograd.data import make_moons
from micrograd.nn import MLP
from micrograd.plots import mlp_scores, plot_decision_boundary, plot_training
from micrograd.train import StepRecord


def test_numpy_forward_matches_value_forward():
    model = MLP(2, [5, 4, 1], rng=0)
    points = np.random.default_rng(0).normal(size=(20, 2))
    expected = [model(p).data for p in points.tolist()]
    np.testing.assert_allclose(mlp_scores(model, points), expected, rtol=1e-12, atol=1e-12)


def test_numpy_forward_keeps_several_outputs():
    model = MLP(3, [4, 2], rng=0)
    assert mlp_scores(model, np.zeros((5, 3))).shape == (5, 2)


def test_numpy_forward_rejects_wrong_point_shape():
    with pytest.raises(ValueError, match="shape"):
        mlp_scores(MLP(2, [3, 1], rng=0), np.zeros((4, 3)))


def test_pictures_are_written(tmp_path):
    model = MLP(2, [4, 1], rng=0)
    X, y = make_moons(20, 0.1, rng=0)
    assert plot_decision_boundary(model, X, 2 * y - 1, tmp_path / "b.png", resolution=30).stat().st_size > 0
    history = [StepRecord(k, 1.0 / (k + 1), min(1.0, 0.5 + 0.1 * k), 1.0) for k in range(6)]
    assert plot_training(history, tmp_path / "t.png").stat().st_size > 0
