"""Parity with PyTorch's autograd in float64: values and gradients agree to 1e-10.

The first two expressions are micrograd's own reference tests (test/test_engine.py);
the others exercise exp, log, tanh, sigmoid, powers, and the demo's whole loss.
"""

from __future__ import annotations

import numpy as np
import pytest
from micrograd.data import make_moons
from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.train import max_margin_loss

from shared.testing import oracle

pytestmark = pytest.mark.parity
TOL = 1e-10


def close(ours: float, theirs) -> bool:
    return ours == pytest.approx(float(theirs), rel=TOL, abs=TOL)


def run_both(fn, *point: float):
    """fn on Values and on float64 torch scalars; returns (out, grads) for each."""
    torch = oracle("torch")
    values = [Value(x) for x in point]
    out = fn(*values)
    out.backward()
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out_t = fn(*tensors)
    out_t.backward()
    return (out.data, [v.grad for v in values]), (out_t.item(), [t.grad.item() for t in tensors])


def sanity_check(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def more_ops(a, b):
    c = a + b
    d = a * b + b**3
    c += c + 1  # a Value has no in-place add: this rebinds c to a new node (torch adds in place)
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def test_micrograd_sanity_check_expression():
    (y, (dx,)), (y_t, (dx_t,)) = run_both(sanity_check, -4.0)
    assert close(y, y_t) and close(dx, dx_t)


def test_micrograd_more_ops_expression_and_its_known_values():
    (g, (da, db)), (g_t, (da_t, db_t)) = run_both(more_ops, -4.0, 2.0)
    assert close(g, g_t) and close(da, da_t) and close(db, db_t)
    assert g == pytest.approx(24.7041, abs=1e-4)
    assert da == pytest.approx(138.8338, abs=1e-4)
    assert db == pytest.approx(645.5773, abs=1e-4)


def smooth_ops(a, b, c):
    s = (a * b).tanh() + (c / 3).exp() - (a * a + 1).log()
    t = (s * b - c).sigmoid() * s + (b**2 + 0.5) ** 0.5 - 2.0 / (1 + c * c)
    return t * a + (-t).exp()


def powers(a, b):
    return a**b + 2.0**b - (a**-1.5) * b


@pytest.mark.parametrize("point", [(0.3, -1.2, 0.8), (-1.1, 0.5, 2.0), (2.0, 1.5, -0.7), (0.05, -3.0, 1.3)])
def test_exp_log_tanh_sigmoid_expression(point):
    (out, grads), (out_t, grads_t) = run_both(smooth_ops, *point)
    assert close(out, out_t)
    assert all(close(g, g_t) for g, g_t in zip(grads, grads_t))


@pytest.mark.parametrize("point", [(0.7, 1.3), (2.5, -0.4), (1.0, 3.0)])
def test_powers_with_value_exponents(point):
    (out, grads), (out_t, grads_t) = run_both(powers, *point)
    assert close(out, out_t)
    assert all(close(g, g_t) for g, g_t in zip(grads, grads_t))


def test_demo_loss_and_every_parameter_gradient_match_a_torch_mlp():
    torch = oracle("torch")
    X, labels = make_moons(30, 0.1, rng=0)
    y = 2 * labels - 1
    model = MLP(2, [16, 16, 1], rng=1)
    loss, _ = max_margin_loss(model, X, y, alpha=1e-4)
    loss.backward()

    layers = []  # the same weights as (W, b) leaf tensors
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        layers.append((W, b, layer.neurons[0].nonlin))
    h = torch.tensor(X, dtype=torch.float64)  # (N, 2)
    for W, b, nonlin in layers:
        h = h @ W.T + b  # (N, nout)
        h = torch.relu(h) if nonlin else h
    scores = h[:, 0]  # (N,)
    data_loss = torch.relu(1 - torch.tensor(y, dtype=torch.float64) * scores).mean()
    reg_loss = 1e-4 * sum((W**2).sum() + (b**2).sum() for W, b, _ in layers)
    loss_t = data_loss + reg_loss
    loss_t.backward()

    assert close(loss.data, loss_t.item())
    for layer, (W, b, _) in zip(model.layers, layers):
        ours_W = np.array([[w.grad for w in n.w] for n in layer.neurons])
        ours_b = np.array([n.b.grad for n in layer.neurons])
        np.testing.assert_allclose(ours_W, W.grad.numpy(), rtol=TOL, atol=TOL)
        np.testing.assert_allclose(ours_b, b.grad.numpy(), rtol=TOL, atol=TOL)
