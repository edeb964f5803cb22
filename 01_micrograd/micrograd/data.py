"""Two interleaving half circles ("moons"): micrograd's demo data set, in NumPy.

The same construction as scikit-learn's `make_moons` (which micrograd's demo calls): an
upper half circle of radius 1 centred at (0, 0) labelled 0, a lower one centred at
(1, 0.5) labelled 1, points spaced evenly in angle, shuffled, plus Gaussian noise of
standard deviation `noise` on both coordinates. It draws from a NumPy `Generator`, so
the points are not the ones scikit-learn's legacy global seed would give.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from shared.seeding import make_rng

__all__ = ["make_moons"]


def make_moons(
    n_samples: int = 100, noise: float = 0.1, rng: np.random.Generator | int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points `X` (n_samples, 2) float64 and labels `y` (n_samples,) int64 in {0, 1}."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2 (one point per moon at least), got {n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, Real) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite standard deviation >= 0, got {noise!r}")
    rng = make_rng(rng)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer = np.linspace(0.0, np.pi, n_outer)  # (n_outer,) angles
    inner = np.linspace(0.0, np.pi, n_inner)  # (n_inner,)
    X = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], axis=1),  # (n_outer, 2) upper moon
            np.stack([1.0 - np.cos(inner), 0.5 - np.sin(inner)], axis=1),  # (n_inner, 2) lower moon
        ]
    )
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    order = rng.permutation(n_samples)
    X, y = X[order], y[order]
    X = X + rng.normal(0.0, noise, X.shape)  # (n_samples, 2)
    return X, y
