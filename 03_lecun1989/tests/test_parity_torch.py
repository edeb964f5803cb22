"""Our resize, convolution, network and optimizers against PyTorch (the oracle)."""

import numpy as np
import pytest
from lecun1989 import layers
from lecun1989.bench import torch_forward
from lecun1989.data import resize_bilinear
from lecun1989.fast import FusedStep
from lecun1989.model import H2_PLANES, Config, Net, make_canvas
from lecun1989.optim import SGD, AdamW

from shared.testing import oracle

pytestmark = pytest.mark.parity


def test_bilinear_resize_matches_torch_interpolate():
    torch = oracle("torch")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    ours = resize_bilinear(images) / 127.5 - 1.0
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)[:, None]
    theirs = torch.nn.functional.interpolate(x, (16, 16), mode="bilinear", align_corners=False, antialias=False)
    np.testing.assert_allclose(ours, theirs[:, 0].numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, pad, bias",
    [
        ((2, 1, 16, 16), (12, 1, 5, 5), 2, 2, "map"),
        ((3, 4, 9, 7), (5, 4, 3, 3), 1, 1, "map"),
        ((2, 3, 8, 8), (4, 3, 5, 5), 2, 0, None),
    ],
)
def test_conv_forward_and_gradients_match_torch_conv2d(x_shape, w_shape, stride, pad, bias):
    torch = oracle("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if bias else None
    y, cache = layers.conv_forward(x, w, b, stride, pad, 0.0)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = layers.conv_backward(dy, cache)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    ty = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    if b is not None:
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_h2_sparse_conv_with_minus_one_padding_and_unit_bias_matches_torch():
    torch = oracle("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 12, 8, 8)), rng.standard_normal((12, 8, 5, 5)), rng.standard_normal((12, 4, 4))
    y, cache = layers.conv_forward(x, w, b, 2, 2, -1.0, H2_PLANES)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = layers.conv_backward(dy, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    padded = F.pad(tx, (2, 2, 2, 2), "constant", -1.0)
    slices = [F.conv2d(padded[:, list(p)], tw[4 * g : 4 * g + 4], stride=2) for g, p in enumerate(H2_PLANES)]
    ty = torch.cat(slices, dim=1) + tb
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    for ours, theirs in ((dx, tx), (dw, tw), (db, tb)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "config",
    [Config(), Config(tanh="plain"), Config(activation="relu", output="linear", output_bias=0.0)],
    ids=["1989", "plain-tanh", "modern"],
)
def test_network_loss_and_gradients_match_torch(config):
    torch = oracle("torch")
    rng = np.random.default_rng(3)
    net = Net(config, rng, dtype=np.float64)
    images = rng.uniform(-1, 1, (4, 16, 16))
    labels = rng.integers(0, 10, 4)
    targets = -np.ones((4, 10))
    targets[np.arange(4), labels] = 1.0
    loss = net.loss_and_grads(images, targets, labels)
    params = {name: torch.tensor(value, requires_grad=True) for name, value in net.p.items()}
    out = torch_forward(params, torch.tensor(images[:, None]), config)
    if config.output == "tanh":
        tloss = torch.mean((torch.tensor(targets) - out) ** 2)
    else:
        tloss = torch.nn.functional.cross_entropy(out, torch.tensor(labels))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-10)
    for name, tensor in params.items():
        np.testing.assert_allclose(net.g[name], tensor.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_sgd_steps_follow_torch_sgd():
    torch = oracle("torch")
    rng = np.random.default_rng(4)
    net = Net(Config(), rng, dtype=np.float64)
    params = {name: torch.tensor(value.copy(), requires_grad=True) for name, value in net.p.items()}
    images = rng.uniform(-1, 1, (20, 16, 16))
    targets = -np.ones((20, 10))
    targets[np.arange(20), rng.integers(0, 10, 20)] = 1.0
    ours, theirs = SGD(net.params, net.grads, 0.03), torch.optim.SGD(list(params.values()), lr=0.03)
    canvas, fused = make_canvas(images, np.float64), FusedStep(net)
    for i in range(20):  # batch size 1, as in the paper
        fused.step(canvas[i], targets[i], 0)
        ours.step()
        loss = torch.mean(
            (torch.tensor(targets[i : i + 1]) - torch_forward(params, torch.tensor(images[i : i + 1, None]))) ** 2
        )
        theirs.zero_grad()
        loss.backward()
        theirs.step()
    for name, tensor in params.items():
        np.testing.assert_allclose(net.p[name], tensor.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_adamw_matches_torch_adamw():
    torch = oracle("torch")
    rng = np.random.default_rng(5)
    params = rng.standard_normal(50)
    grads = np.zeros(50)
    tparam = torch.tensor(params.copy(), requires_grad=True)
    ours, theirs = AdamW(params, grads, lr=3e-3), torch.optim.AdamW([tparam], lr=3e-3)
    for step in range(10):
        g = rng.standard_normal(50)
        grads[...] = g
        ours.lr = theirs.param_groups[0]["lr"] = 3e-3 * (1 - step / 20)  # a schedule, as in the modern run
        ours.step()
        tparam.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(params, tparam.detach().numpy(), rtol=1e-10, atol=1e-12)
