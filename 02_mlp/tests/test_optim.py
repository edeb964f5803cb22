import numpy as np
import pytest
from mlp.layers import Parameter
from mlp.optim import SGD, sgd_update


def param(values, grad):
    p = Parameter(np.array(values, np.float64))
    p.grad[...] = grad
    return p


def test_plain_sgd_step():
    p = param([1.0, 2.0], [0.5, -1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, 2.1])


def test_momentum_accumulates_a_velocity():
    p = param([1.0], [1.0])
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    optimizer.step()  # v = 1, p = 0.9
    optimizer.step()  # v = 0.9 * 1 + 1 = 1.9, p = 0.9 - 0.19
    np.testing.assert_allclose(p.data, [0.71])


def test_weight_decay_adds_the_l2_gradient_without_touching_grad():
    p = param([2.0], [0.0])
    SGD([p], lr=0.1, weight_decay=0.5).step()  # g = 0 + 0.5 * 2 = 1
    np.testing.assert_allclose(p.data, [1.9])
    assert p.grad[0] == 0.0


def test_update_is_in_place():
    p = param([1.0, 2.0], [1.0, 1.0])
    data = p.data
    SGD([p], lr=0.1, momentum=0.5).step()
    assert p.data is data


def test_zero_grad_clears_every_parameter():
    ps = [param([1.0], [3.0]), param([1.0, 1.0], [2.0, 2.0])]
    SGD(ps, lr=0.1).zero_grad()
    assert all(np.all(p.grad == 0) for p in ps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0}, "learning rate"),
        ({"lr": float("nan")}, "learning rate"),
        ({"lr": 0.1, "momentum": 1.0}, "momentum"),
        ({"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SGD([param([1.0], [1.0])], **kwargs)


def test_bad_parameter_lists():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Parameters"):
        SGD([np.zeros(3)], lr=0.1)


@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.0, 0.0), (0.9, 0.0), (0.0, 5e-4), (0.9, 5e-4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_equals_sgd_update(momentum, weight_decay, dtype):
    """The in-place SGD.step is the readable sgd_update, bit for bit, over several steps."""
    rng = np.random.default_rng(0)
    p = Parameter(rng.standard_normal((5, 4)).astype(dtype))
    readable, velocity = p.data.copy(), np.zeros_like(p.data)
    optimizer = SGD([p], lr=0.05, momentum=momentum, weight_decay=weight_decay)
    for _ in range(4):
        p.grad[...] = rng.standard_normal(p.shape)
        optimizer.step()
        readable, velocity = sgd_update(readable, p.grad, velocity, 0.05, momentum, weight_decay)
        np.testing.assert_array_equal(p.data, readable)
        assert readable.dtype == dtype
