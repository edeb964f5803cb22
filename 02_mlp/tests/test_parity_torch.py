"""Parity with PyTorch: the same numbers forward and backward, at random shapes (float64)."""

import numpy as np
import pytest
from mlp.layers import Dropout, Linear, ReLU, Sigmoid, Tanh, make_mlp
from mlp.losses import CrossEntropyLoss
from mlp.optim import SGD

from shared.testing import oracle

pytestmark = pytest.mark.parity

SHAPES = [(1, 1, 1), (3, 5, 7), (16, 33, 10), (64, 784, 256)]


@pytest.mark.parametrize(("N", "fan_in", "fan_out"), SHAPES)
def test_linear_forward_and_backward(N, fan_in, fan_out, rng):
    torch = oracle("torch")
    layer = Linear(fan_in, fan_out, rng=rng, dtype=np.float64)
    layer.b.data[:] = rng.standard_normal(fan_out)
    x = rng.standard_normal((N, fan_in))
    dy = rng.standard_normal((N, fan_out))
    y = layer.forward(x)
    dx = layer.backward(dy)

    reference = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.W.data.T))  # PyTorch stores W as (out, in)
        reference.bias.copy_(torch.from_numpy(layer.b.data))
    xt = torch.from_numpy(x).requires_grad_()
    yt = reference(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, reference.weight.grad.numpy().T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad, reference.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), [(ReLU, "relu"), (Tanh, "tanh"), (Sigmoid, "sigmoid")])
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (128, 256)])
def test_activations_forward_and_backward(ours, theirs, shape, rng):
    torch = oracle("torch")
    x = rng.standard_normal(shape) * 4
    dy = rng.standard_normal(shape)
    layer = ours()
    y = layer.forward(x)
    dx = layer.backward(dy)
    xt = torch.from_numpy(x).requires_grad_()
    yt = getattr(torch, theirs)(xt)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_scales_survivors_like_pytorch(p, rng):
    torch = oracle("torch")
    x = np.abs(rng.standard_normal((200, 300))) + 0.5
    ours = Dropout(p, rng=rng)
    y = ours.forward(x)
    torch.manual_seed(0)
    yt = torch.nn.functional.dropout(torch.from_numpy(x), p=p, training=True).numpy()
    # different random masks, the same rule: survivors are x / (1 - p), the rest 0
    for out in (y, yt):
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)
        assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    # backward: the same mask scales the gradient
    np.testing.assert_allclose(ours.backward(np.ones_like(x)), (y != 0) / (1 - p), rtol=1e-12)
    # eval mode: both are the identity
    assert np.array_equal(ours.eval().forward(x), x)
    assert np.array_equal(torch.nn.functional.dropout(torch.from_numpy(x), p=p, training=False).numpy(), x)


@pytest.mark.parametrize(("N", "C"), [(1, 2), (5, 3), (128, 10), (33, 100)])
def test_cross_entropy_forward_and_backward(N, C, rng):
    torch = oracle("torch")
    logits = rng.standard_normal((N, C)) * 5
    targets = rng.integers(0, C, N)
    loss_fn = CrossEntropyLoss()
    loss = loss_fn.forward(logits, targets)
    dlogits = loss_fn.backward()
    lt = torch.from_numpy(logits).requires_grad_()
    reference = torch.nn.functional.cross_entropy(lt, torch.from_numpy(targets))
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, lt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_with_huge_logits_matches_pytorch():
    torch = oracle("torch")
    logits = np.array([[1e4, -1e4, 0.0], [5e3, 5e3 + 1, -1e4]])
    targets = np.array([1, 0])
    loss_fn = CrossEntropyLoss()
    loss = loss_fn.forward(logits, targets)
    lt = torch.from_numpy(logits).requires_grad_()
    reference = torch.nn.functional.cross_entropy(lt, torch.from_numpy(targets))
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(loss_fn.backward(), lt.grad.numpy(), atol=1e-15)


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_sgd_momentum_steps_match_pytorch(weight_decay, rng):
    torch = oracle("torch")
    shapes = [(4, 3), (3,)]
    data = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    ours = make_mlp(4, [], 3, rng=0, dtype=np.float64).parameters()
    for p, d in zip(ours, data):
        p.data[...] = d
    theirs = [torch.from_numpy(d.copy()).requires_grad_() for d in data]
    optimizer = SGD(ours, lr=0.1, momentum=0.9, weight_decay=weight_decay)
    reference = torch.optim.SGD(theirs, lr=0.1, momentum=0.9, weight_decay=weight_decay)
    for step_grads in grads:  # three steps: the first initialises the velocity, the rest use it
        for p, t, g in zip(ours, theirs, step_grads):
            p.grad[...] = g
            t.grad = torch.from_numpy(g.copy())
        optimizer.step()
        reference.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_whole_mlp_training_step_matches_pytorch(rng):
    """Forward, loss, backward and one SGD step of a 2-hidden-layer MLP, end to end."""
    torch = oracle("torch")
    model = make_mlp(20, [16, 12], 5, rng=3, dtype=np.float64)
    layers = [layer for layer in model.layers if isinstance(layer, Linear)]
    net = torch.nn.Sequential(
        torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 12), torch.nn.ReLU(), torch.nn.Linear(12, 5)
    ).double()
    with torch.no_grad():
        for ours, theirs in zip(layers, [net[0], net[2], net[4]]):
            theirs.weight.copy_(torch.from_numpy(ours.W.data.T))
            theirs.bias.copy_(torch.from_numpy(ours.b.data))
    x = rng.standard_normal((8, 20))
    y = rng.integers(0, 5, 8)
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = CrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x), y)
    model.backward(loss_fn.backward())
    optimizer.step()
    reference_optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    reference = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
    reference.backward()
    reference_optimizer.step()
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    for ours, theirs in zip(layers, [net[0], net[2], net[4]]):
        np.testing.assert_allclose(ours.W.data, theirs.weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.b.data, theirs.bias.detach().numpy(), rtol=1e-10, atol=1e-12)
