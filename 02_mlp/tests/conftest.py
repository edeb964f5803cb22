"""Shared fixtures: small generated data sets (no downloads in the unit tests)."""

from __future__ import annotations

import numpy as np
import pytest


def make_spirals(points_per_class: int = 100, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """cs231n's interleaved spirals: (N, 2) float32 points, (N,) int64 labels; not linearly separable."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(classes):
        radius = np.linspace(0.1, 1.0, points_per_class)  # not from 0: the arms would share (0, 0)
        angle = np.linspace(k * 4.0, (k + 1) * 4.0, points_per_class) + rng.standard_normal(points_per_class) * 0.2
        X.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        y.append(np.full(points_per_class, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
