"""make_moons: shapes, balance, geometry, determinism and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from micrograd.data import make_moons


def test_shapes_dtypes_and_balanced_labels():
    X, y = make_moons(101, 0.1, rng=0)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and set(y.tolist()) == {0, 1}
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51


def test_noiseless_points_lie_on_the_two_half_circles():
    X, y = make_moons(50, 0.0, rng=0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0)
    assert (outer[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0)
    assert (inner[:, 1] <= 0.5 + 1e-12).all()


def test_same_seed_same_points_and_noise_has_requested_scale():
    X1, y1 = make_moons(100, 0.1, rng=3)
    X2, y2 = make_moons(100, 0.1, rng=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    clean, _ = make_moons(4000, 0.0, rng=5)
    noisy, _ = make_moons(4000, 0.2, rng=5)
    assert np.std(noisy - clean) == pytest.approx(0.2, rel=0.05)


@pytest.mark.parametrize("n", [0, 1, -5, 2.0, True])
def test_bad_sample_count_is_a_value_error(n):
    with pytest.raises(ValueError, match="n_samples"):
        make_moons(n, 0.1)


@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.1", None])
def test_bad_noise_is_a_value_error(noise):
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise)
