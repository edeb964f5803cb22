import numpy as np
import pytest
from lecun1989.optim import SGD, AdamW, DiagonalLevenbergMarquardt, make_optimizer


def test_sgd_moves_against_the_gradient_in_place():
    params, grads = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    view = params[:1]  # views into the flat vector see the update
    SGD(params, grads, lr=0.1).step()
    np.testing.assert_allclose(params, [0.95, 2.1])
    assert view[0] == params[0]


def test_adamw_matches_the_formula_for_two_steps():
    params, grads = np.array([1.0, -2.0, 0.5]), np.zeros(3)
    opt = AdamW(params, grads, lr=0.01, weight_decay=0.1)
    p, m, v = params.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate((np.array([0.1, -0.2, 0.3]), np.array([0.4, 0.0, -0.1])), start=1):
        grads[...] = g
        opt.step()
        p *= 1 - 0.01 * 0.1
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p -= 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(params, p, rtol=1e-12)


@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf")])
def test_optimizers_reject_bad_learning_rates(lr):
    with pytest.raises(ValueError, match="learning rate"):
        SGD(np.zeros(2), np.zeros(2), lr)
    with pytest.raises(ValueError, match="learning rate"):
        AdamW(np.zeros(2), np.zeros(2), lr)


def test_optimizers_reject_mismatched_arrays_and_names():
    with pytest.raises(ValueError, match="flat arrays"):
        SGD(np.zeros(2), np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="betas"):
        AdamW(np.zeros(2), np.zeros(2), 0.1, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("rmsprop", np.zeros(2), np.zeros(2), 0.1)


def test_diagonal_levenberg_marquardt_scales_each_step_by_one_over_mu_plus_h():
    params, grads = np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.5, -0.5])
    opt = DiagonalLevenbergMarquardt(params, grads, lr=0.01, mu=0.02)
    opt.step()  # no estimate yet: h = 0, a step of lr / mu
    np.testing.assert_allclose(params, 1.0 - 0.01 / 0.02 * grads)
    params[...] = 1.0
    opt.set_hessian(np.array([0.0, 0.18, 1.98]))
    opt.step()
    np.testing.assert_allclose(params, 1.0 - 0.01 * grads / np.array([0.02, 0.2, 2.0]))
    assert isinstance(make_optimizer("sdlm", params, grads, 0.1), DiagonalLevenbergMarquardt)


@pytest.mark.parametrize("hessian", [np.array([1.0, -0.1, 0.0]), np.array([1.0, np.nan, 0.0]), np.zeros(2)])
def test_diagonal_levenberg_marquardt_rejects_bad_hessians(hessian):
    opt = DiagonalLevenbergMarquardt(np.zeros(3), np.zeros(3), lr=0.1)
    with pytest.raises(ValueError, match="hessian"):
        opt.set_hessian(hessian)
    with pytest.raises(ValueError, match="mu"):
        DiagonalLevenbergMarquardt(np.zeros(3), np.zeros(3), lr=0.1, mu=0.0)
