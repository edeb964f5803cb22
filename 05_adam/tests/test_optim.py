"""Each update rule against its first two steps computed by hand; state dicts; errors; allocation."""

import math
import tracemalloc

import numpy as np
import pytest
from adam.nn import Parameter
from adam.optim import (
    OPTIMIZERS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    RMSprop,
    adadelta_update,
    adagrad_update,
    adam_update,
    adamax_update,
    rmsprop_update,
    sgd_momentum_update,
)

P0 = np.array([1.0, -2.0])
G1 = np.array([0.5, -1.0])
G2 = np.array([0.2, 0.3])


def two_steps(cls, **hyper):
    param = Parameter(P0.copy())
    optimizer = cls([param], **hyper)
    out = []
    for grad in (G1, G2):
        param.grad[...] = grad
        optimizer.step()
        out.append(param.data.copy())
    return out


def test_sgd_plain_is_p_minus_lr_g():
    p1, p2 = two_steps(SGD, lr=0.1)
    np.testing.assert_allclose(p1, P0 - 0.1 * G1)
    np.testing.assert_allclose(p2, P0 - 0.1 * G1 - 0.1 * G2)


def test_sgd_momentum_with_dampening_and_weight_decay():
    lr, mu, damp, wd = 0.1, 0.9, 0.2, 0.01
    p1, p2 = two_steps(SGD, lr=lr, momentum=mu, dampening=damp, weight_decay=wd)
    g1 = G1 + wd * P0
    b1 = g1  # first buffer is the gradient itself, undamped
    e1 = P0 - lr * b1
    g2 = G2 + wd * e1
    b2 = mu * b1 + (1 - damp) * g2
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e1 - lr * b2)


def test_sgd_nesterov_looks_ahead_along_the_buffer():
    lr, mu = 0.1, 0.9
    p1, p2 = two_steps(SGD, lr=lr, momentum=mu, nesterov=True)
    e1 = P0 - lr * (G1 + mu * G1)
    b2 = mu * G1 + G2
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e1 - lr * (G2 + mu * b2))


def test_adagrad_with_lr_decay_and_initial_accumulator():
    lr, decay, init, eps = 0.1, 0.5, 0.2, 1e-10
    p1, p2 = two_steps(Adagrad, lr=lr, lr_decay=decay, initial_accumulator_value=init, eps=eps)
    s1 = init + G1**2
    e1 = P0 - lr * G1 / (np.sqrt(s1) + eps)
    s2 = s1 + G2**2
    e2 = e1 - lr / (1 + decay) * G2 / (np.sqrt(s2) + eps)
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e2)


def test_rmsprop_plain():
    lr, a, eps = 0.01, 0.9, 1e-8
    p1, p2 = two_steps(RMSprop, lr=lr, alpha=a, eps=eps)
    v1 = (1 - a) * G1**2
    e1 = P0 - lr * G1 / (np.sqrt(v1) + eps)
    v2 = a * v1 + (1 - a) * G2**2
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e1 - lr * G2 / (np.sqrt(v2) + eps))


def test_rmsprop_centered_with_momentum():
    lr, a, eps, mu = 0.01, 0.9, 1e-8, 0.5
    p1, p2 = two_steps(RMSprop, lr=lr, alpha=a, eps=eps, momentum=mu, centered=True)
    v1, m1 = (1 - a) * G1**2, (1 - a) * G1
    b1 = G1 / (np.sqrt(v1 - m1**2) + eps)
    e1 = P0 - lr * b1
    v2, m2 = a * v1 + (1 - a) * G2**2, a * m1 + (1 - a) * G2
    b2 = mu * b1 + G2 / (np.sqrt(v2 - m2**2) + eps)
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e1 - lr * b2)


def test_adadelta():
    lr, rho, eps = 1.0, 0.9, 1e-6
    p1, p2 = two_steps(Adadelta, lr=lr, rho=rho, eps=eps)
    v1 = (1 - rho) * G1**2
    d1 = np.sqrt(0 + eps) / np.sqrt(v1 + eps) * G1
    u1 = (1 - rho) * d1**2
    e1 = P0 - lr * d1
    v2 = rho * v1 + (1 - rho) * G2**2
    d2 = np.sqrt(u1 + eps) / np.sqrt(v2 + eps) * G2
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e1 - lr * d2)


def adam_by_hand(lr, b1, b2, eps, amsgrad=False, wd=0.0, decoupled=False, corrected=True, efficient=False):
    p, m, v, vmax = P0.copy(), np.zeros(2), np.zeros(2), np.zeros(2)
    out = []
    for t, g in enumerate((G1, G2), start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        c1, c2 = (1 - b1**t, 1 - b2**t) if corrected else (1.0, 1.0)
        if efficient:
            p = p - lr * math.sqrt(c2) / c1 * m / (np.sqrt(vv) + eps)
        else:
            p = p - lr * (m / c1) / (np.sqrt(vv / c2) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize(
    "options",
    [{}, {"amsgrad": True}, {"weight_decay": 0.1}, {"bias_correction": False}, {"efficient": True}],
)
def test_adam_algorithm_1(options):
    expected = adam_by_hand(0.01, 0.9, 0.999, 1e-8, amsgrad=options.get("amsgrad", False),
                            wd=options.get("weight_decay", 0.0), corrected=options.get("bias_correction", True),
                            efficient=options.get("efficient", False))  # fmt: skip
    for got, want in zip(two_steps(Adam, lr=0.01, **options), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_adam_first_step_is_lr_times_sign_of_gradient():
    # with bias correction m^ = g and v^ = g^2 at t = 1, so the first step has size ~lr in every coordinate
    (p1, _) = two_steps(Adam, lr=0.01, eps=0.0)
    np.testing.assert_allclose(p1, P0 - 0.01 * np.sign(G1))


def test_without_bias_correction_the_first_step_is_huge_when_beta2_is_near_one():
    # Section 3: v_1 = (1 - beta2) g^2 underestimates g^2 by 1e4 at beta2 = 0.9999, so the uncorrected
    # first step is lr * g / (0.01 |g|) = 100 lr per coordinate, while the corrected one is lr.
    (p1, _) = two_steps(Adam, lr=0.01, betas=(0.0, 0.9999), eps=0.0, bias_correction=False)
    np.testing.assert_allclose(p1, P0 - 100 * 0.01 * np.sign(G1), atol=1e-12)


def test_adamw_decays_the_weights_not_the_gradient():
    expected = adam_by_hand(0.01, 0.9, 0.999, 1e-8, wd=0.1, decoupled=True)
    for got, want in zip(two_steps(AdamW, lr=0.01, weight_decay=0.1), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_adamax_algorithm_2_with_eps_zero():
    lr, b1, b2 = 0.002, 0.9, 0.999
    p1, p2 = two_steps(Adamax, lr=lr, betas=(b1, b2), eps=0.0)
    m1, u1 = (1 - b1) * G1, np.abs(G1)
    e1 = P0 - lr / (1 - b1) * m1 / u1
    m2, u2 = b1 * m1 + (1 - b1) * G2, np.maximum(b2 * u1, np.abs(G2))
    np.testing.assert_allclose(p1, e1)
    np.testing.assert_allclose(p2, e1 - lr / (1 - b1**2) * m2 / u2)


# ---------------------------------------------------------------- interface


def make_params(rng, dtype=np.float64):
    return [Parameter(rng.standard_normal(shape).astype(dtype)) for shape in [(3, 4), (4,), (2, 2, 2)]]


FULL_OPTIONS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "Adagrad": {"lr": 0.05, "lr_decay": 0.01},
    "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "Adadelta": {"lr": 1.0},
    "Adam": {"lr": 0.01, "amsgrad": True},
    "AdamW": {"lr": 0.01},
    "Adamax": {"lr": 0.01},
}


def run_steps(optimizer, params, rng, steps):
    for _ in range(steps):
        for param in params:
            param.grad[...] = rng.standard_normal(param.data.shape)
        optimizer.step()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_through_npz_resumes_identically(name, tmp_path):
    rng = np.random.default_rng(0)
    params = make_params(rng)
    optimizer = OPTIMIZERS[name](params, **FULL_OPTIONS[name])
    run_steps(optimizer, params, np.random.default_rng(1), 5)
    np.savez(tmp_path / "opt.npz", **optimizer.state_dict())
    snapshot = [p.data.copy() for p in params]

    run_steps(optimizer, params, np.random.default_rng(2), 5)
    expected = [p.data.copy() for p in params]

    resumed_params = [Parameter(d.copy()) for d in snapshot]
    resumed = OPTIMIZERS[name](resumed_params, lr=123.0)  # hyperparameters come back from the file
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as saved:
        resumed.load_state_dict(saved)
    run_steps(resumed, resumed_params, np.random.default_rng(2), 5)
    for got, want in zip(resumed_params, expected):
        np.testing.assert_array_equal(got.data, want)


def test_load_state_dict_rejects_another_optimizer_and_wrong_shapes():
    rng = np.random.default_rng(0)
    params = make_params(rng)
    adam = Adam(params)
    run_steps(adam, params, rng, 1)
    with pytest.raises(ValueError, match="optimizer 'Adam'"):
        SGD(params).load_state_dict(adam.state_dict())
    other = [Parameter(np.zeros((5, 5))), *params[1:]]
    with pytest.raises(ValueError, match="shape"):
        Adam(other).load_state_dict(adam.state_dict())
    state = adam.state_dict()
    del state["state.0.exp_avg_sq"]
    with pytest.raises(ValueError, match="exp_avg_sq"):
        Adam(params).load_state_dict(state)
    with pytest.raises(ValueError, match="only 1"):
        Adam(params[:1]).load_state_dict(adam.state_dict())


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda p: SGD(p, lr=-0.1), "lr"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), "betas\\[0\\]"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), "betas\\[1\\]"),
        (lambda p: Adam(p, betas=0.9), "betas"),
        (lambda p: Adam(p, eps=-1e-8), "eps"),
        (lambda p: AdamW(p, weight_decay=-1), "weight_decay"),
        (lambda p: Adamax(p, betas=(0.9, 1.5)), "betas\\[1\\]"),
        (lambda p: Adagrad(p, lr_decay=-1), "lr_decay"),
        (lambda p: Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda p: RMSprop(p, alpha=1.5), "alpha"),
        (lambda p: RMSprop(p, eps=-1), "eps"),
        (lambda p: Adadelta(p, rho=-0.1), "rho"),
        (lambda p: Adam(p, lr=float("nan")), "lr"),
        (lambda p: Adam(p, lr="fast"), "lr"),
    ],
)
def test_invalid_hyperparameters_raise_value_error_naming_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make([Parameter(np.zeros(3))])


def test_bad_params_and_gradients_give_clear_errors():
    with pytest.raises(ValueError, match="empty"):
        Adam([])
    with pytest.raises(ValueError, match=r"\.data"):
        Adam([np.zeros(3)])
    with pytest.raises(ValueError, match="not an array"):
        Adam(np.zeros(3))
    with pytest.raises(ValueError, match="floating"):
        Adam([Parameter(np.zeros(3, dtype=np.int64))])
    param = Parameter(np.zeros(3))
    with pytest.raises(ValueError, match="more than once"):
        Adam([param, param])
    param.grad = np.zeros(4)
    with pytest.raises(ValueError, match=r"grad has shape \(4,\)"):
        Adam([param]).step()


def test_step_is_in_place_skips_missing_grads_and_zero_grad_keeps_arrays():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(2))
    data, grad = a.data, a.grad
    b.grad = None
    optimizer = Adam([a, b], lr=0.1)
    a.grad[...] = 1.0
    optimizer.step()
    assert a.data is data and not np.allclose(a.data, 1.0)
    np.testing.assert_array_equal(b.data, 1.0)
    optimizer.zero_grad()
    assert a.grad is grad and not a.grad.any()


def test_float32_parameters_stay_float32():
    param = Parameter(np.ones(5, dtype=np.float32))
    param.grad[...] = 0.5
    optimizer = Adam([param])
    optimizer.step()
    assert param.data.dtype == np.float32
    assert optimizer.state[0]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta"])
def test_a_step_allocates_no_parameter_sized_temporaries(name):
    params = [Parameter(np.ones(250_000, dtype=np.float32)) for _ in range(4)]  # 1 MB each
    for param in params:
        param.grad[...] = 0.1
    optimizer = OPTIMIZERS[name](params, **FULL_OPTIONS[name])
    optimizer.step()  # the first step allocates the state and the scratch buffers
    tracemalloc.start()
    optimizer.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200_000, f"{name}.step() allocated {peak} bytes at peak"


# ----------------------------------------------------------------- readable beside fast
# Each `*_update` function is the paper's algorithm written as its formula; each class's `_update` is the
# same arithmetic in place (what training uses). They must agree to float64 rounding over many steps.

THETA0 = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -0.7]])


def grad_at(theta, t):
    """A noisy, non-quadratic gradient that depends on where the parameters are."""
    noise = np.random.default_rng(t).standard_normal(theta.shape)
    return np.tanh(theta) + 0.3 * theta**3 / (1 + theta**2) + 0.5 * noise


def class_path(cls, steps=60, **hyper):
    param = Parameter(THETA0.copy())
    optimizer = cls([param], **hyper)
    path = []
    for t in range(1, steps + 1):
        param.grad[...] = grad_at(param.data, t)
        optimizer.step()
        path.append(param.data.copy())
    return np.array(path)


def formula_path(update, state, steps=60, with_t=False, **hyper):
    theta, path = THETA0.copy(), []
    for t in range(1, steps + 1):
        args = (theta, grad_at(theta, t), *state, *((t,) if with_t else ()))
        theta, *state = update(*args, **hyper)
        path.append(theta)
    return np.array(path)


def assert_same_path(ours_fast, ours_readable):
    np.testing.assert_allclose(ours_fast, ours_readable, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_class_equals_the_formula(nesterov):
    zeros = np.zeros_like(THETA0)
    fast = class_path(SGD, lr=0.05, momentum=0.9, nesterov=nesterov)
    readable = formula_path(sgd_momentum_update, [zeros], lr=0.05, momentum=0.9, nesterov=nesterov)
    assert_same_path(fast, readable)


def test_adagrad_class_equals_the_formula():
    fast = class_path(Adagrad, lr=0.1, eps=1e-10)
    assert_same_path(fast, formula_path(adagrad_update, [np.zeros_like(THETA0)], lr=0.1, eps=1e-10))


def test_rmsprop_class_equals_the_formula():
    fast = class_path(RMSprop, lr=0.01, alpha=0.9, eps=1e-8)
    assert_same_path(fast, formula_path(rmsprop_update, [np.zeros_like(THETA0)], lr=0.01, alpha=0.9, eps=1e-8))


def test_adadelta_class_equals_the_formula():
    zeros = np.zeros_like(THETA0)
    fast = class_path(Adadelta, lr=1.0, rho=0.95, eps=1e-6)
    assert_same_path(fast, formula_path(adadelta_update, [zeros, zeros], lr=1.0, rho=0.95, eps=1e-6))


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.99), (0.8, 0.9999)])
def test_adam_class_equals_algorithm_1(betas):
    zeros = np.zeros_like(THETA0)
    fast = class_path(Adam, lr=0.01, betas=betas, eps=1e-8)
    readable = formula_path(adam_update, [zeros, zeros], with_t=True, alpha=0.01, beta1=betas[0], beta2=betas[1])
    assert_same_path(fast, readable)


@pytest.mark.parametrize("eps", [0.0, 1e-8])
def test_adamax_class_equals_algorithm_2(eps):
    zeros = np.zeros_like(THETA0)
    fast = class_path(Adamax, lr=0.02, betas=(0.9, 0.999), eps=eps)
    readable = formula_path(adamax_update, [zeros, zeros], with_t=True, alpha=0.02, eps=eps)
    assert_same_path(fast, readable)


def test_adam_update_moves_every_coordinate_by_alpha_on_the_first_step():
    # Section 2.1: with bias correction, m_hat_1 / sqrt(v_hat_1) = g / |g|, so the first step is alpha * sign(g).
    g = np.array([1e-3, -4.0, 250.0])
    theta, m, v = adam_update(np.zeros(3), g, np.zeros(3), np.zeros(3), t=1, alpha=0.01, eps=0.0)
    np.testing.assert_allclose(theta, -0.01 * np.sign(g), rtol=1e-12)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-12)
    np.testing.assert_allclose(v, 0.001 * g**2, rtol=1e-12)
