import numpy as np
import pytest

from shared.gradcheck import gradcheck, numerical_gradient, relative_error


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda: float((x**2).sum()), x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda: float(np.sin(x).sum()), x), np.cos(x), rtol=1e-8)
    c = rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        numerical_gradient(lambda: float((np.tanh(x) * c).sum()), x), (1 - np.tanh(x) ** 2) * c, rtol=1e-7
    )


def test_numerical_gradient_restores_the_input_exactly():
    x = np.random.default_rng(1).standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda: float(np.exp(x).sum()), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))


def test_gradcheck_passes_a_right_gradient_and_fails_a_wrong_one():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((3, 2))
    x = rng.standard_normal((5, 3))
    dy = rng.standard_normal((5, 2))
    loss = lambda: float(((x @ W) * dy).sum())  # noqa: E731
    right = gradcheck(loss, {"W": W, "x": x}, {"W": x.T @ dy, "x": dy @ W.T})
    right.assert_ok()
    assert right.max_error < 1e-8
    wrong = gradcheck(loss, {"W": W}, {"W": 1.01 * (x.T @ dy)})
    assert not wrong.ok
    with pytest.raises(AssertionError, match="FAIL"):
        wrong.assert_ok()


def test_relative_error_is_scale_free_and_zero_for_zero():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    a = np.array([1.0, 2.0, 4.0])
    assert relative_error(a, a * (1 + 1e-9)) == pytest.approx(1e-9, rel=1e-3)
    assert relative_error(1e6 * a, 1e6 * a * (1 + 1e-9)) == pytest.approx(1e-9, rel=1e-3)
