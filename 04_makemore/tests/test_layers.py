"""Every layer's hand-written backward against central differences, in float64."""

import numpy as np
import pytest
from makemore.layers import (
    BatchNorm1d,
    Embedding,
    FlattenConsecutive,
    GRUCell,
    Linear,
    RNNCell,
    Sequential,
    Tanh,
    cross_entropy,
)

from shared.gradcheck import gradcheck

F64 = np.float64


def check_layer(layer, x, params=None, tolerance=1e-6, input_grad=True):
    """Gradcheck sum(layer(x) * dy) w.r.t. x and the named parameters."""
    rng = np.random.default_rng(1)
    dy = rng.standard_normal(layer.forward(x).shape)
    loss = lambda: float((layer.forward(x) * dy).sum())  # noqa: E731
    layer.forward(x)
    layer.zero_grad()  # backward accumulates
    dx = layer.backward(dy)
    params = params if params is not None else layer.parameters()
    grads = {name: layer.gradients()[name].copy() for name in params}
    inputs, analytic = dict(params), grads
    if input_grad:
        inputs, analytic = {"x": x, **inputs}, {"x": dx.copy(), **analytic}
    gradcheck(loss, inputs, analytic, tolerance=tolerance).assert_ok()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_linear_gradients_2d_and_3d(rng):
    layer = Linear(5, 4, rng=rng, dtype=F64, bias_scale=1.0)
    check_layer(layer, rng.standard_normal((6, 5)))
    check_layer(layer, rng.standard_normal((3, 2, 5)))
    check_layer(Linear(5, 4, bias=False, rng=rng, dtype=F64), rng.standard_normal((6, 5)))


def test_embedding_gradient_accumulates_repeated_indices(rng):
    layer = Embedding(7, 3, rng=rng, dtype=F64)
    idx = np.array([[1, 1, 2], [6, 1, 0]])
    check_layer(layer, idx, input_grad=False)
    dy = np.ones((2, 3, 3))
    layer.forward(idx)
    layer.zero_grad()
    layer.backward(dy)
    np.testing.assert_allclose(layer.dweight[1], 3.0)  # used three times
    np.testing.assert_allclose(layer.dweight[3], 0.0)  # never used


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: (Linear(5, 4, rng=rng, dtype=F64), (6, 5)),
        lambda rng: (Embedding(7, 5, rng=rng, dtype=F64), None),
        lambda rng: (BatchNorm1d(5, dtype=F64, unbiased=True), (6, 5)),
        lambda rng: (Sequential([Linear(5, 4, rng=rng, dtype=F64), Tanh()]), (6, 5)),
    ],
)
def test_backward_accumulates_into_the_gradients_until_zero_grad(rng, make):
    """The contract of layers.py: backward adds into d<name>, zero_grad resets, layer(x) is forward."""
    layer, shape = make(rng)
    x = rng.integers(0, 7, (6, 3)) if shape is None else rng.standard_normal(shape)
    dy = rng.standard_normal(layer(x).shape)
    layer.zero_grad()
    layer.backward(dy)
    once = {k: v.copy() for k, v in layer.gradients().items()}
    layer.backward(dy)
    for name, grad in layer.gradients().items():
        np.testing.assert_allclose(grad, 2 * once[name], err_msg=name)
        assert grad is layer.gradients()[name]  # the same arrays every time, for the optimizer
    layer.zero_grad()
    assert all(not g.any() for g in layer.gradients().values())
    assert set(layer.parameters()) == set(layer.gradients())


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("shape", [(8, 4), (4, 3, 4)])
def test_batchnorm_train_mode_gradients(rng, shape, unbiased):
    layer = BatchNorm1d(4, dtype=F64, unbiased=unbiased)
    layer.gamma[...] = rng.standard_normal(4)
    layer.beta[...] = rng.standard_normal(4)
    check_layer(layer, rng.standard_normal(shape) * 3 + 1)


def test_batchnorm_eval_mode_gradients_and_statistics(rng):
    layer = BatchNorm1d(4, momentum=0.5, dtype=F64)
    x = rng.standard_normal((16, 4)) * 2 + 5
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, 0.5 * x.mean(0))
    np.testing.assert_allclose(layer.running_var, 0.5 + 0.5 * x.var(0, ddof=1))
    layer.eval()
    check_layer(layer, x)


def test_unbiased_batchnorm_normalizes_with_bessels_correction_and_stores_the_same_variance(rng):
    layer = BatchNorm1d(3, momentum=1.0, dtype=F64, unbiased=True)  # momentum 1: running = this batch
    x = rng.standard_normal((10, 3)) * 4 + 2
    out = layer.forward(x)
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + 1e-5))
    np.testing.assert_allclose(layer.running_var, x.var(0, ddof=1))
    layer.eval()
    np.testing.assert_allclose(layer.forward(x), out)  # no train/eval mismatch on the same batch


def test_batchnorm_normalizes_each_channel(rng):
    out = BatchNorm1d(3, dtype=F64).forward(rng.standard_normal((50, 3)) * 4 + 2)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-4)


def test_tanh_and_flatten_consecutive_gradients(rng):
    check_layer(Tanh(), rng.standard_normal((4, 5)))
    check_layer(FlattenConsecutive(2), rng.standard_normal((3, 4, 5)))
    flat = FlattenConsecutive(4)
    assert flat.forward(np.zeros((3, 4, 5))).shape == (3, 20)  # middle axis dropped


def test_sequential_wavenet_block_gradients(rng):
    net = Sequential(
        [
            Embedding(6, 3, rng=rng, dtype=F64),
            FlattenConsecutive(2),
            Linear(6, 5, bias=False, rng=rng, dtype=F64),
            BatchNorm1d(5, dtype=F64),
            Tanh(),
            FlattenConsecutive(2),
            Linear(10, 4, rng=rng, dtype=F64),
        ]
    )
    check_layer(net, rng.integers(0, 6, (5, 4)), input_grad=False)
    assert set(net.parameters()) == {"0.weight", "2.weight", "3.gamma", "3.beta", "6.weight", "6.bias"}


@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_gradient(rng, ignore):
    logits = rng.standard_normal((6, 5)) * 3
    targets = rng.integers(0, 5, 6)
    if ignore:
        targets[[1, 4]] = -1
    kwargs = {"ignore_index": -1} if ignore else {}
    loss, dlogits = cross_entropy(logits, targets, **kwargs)
    gradcheck(lambda: cross_entropy(logits, targets, **kwargs)[0], {"logits": logits}, {"logits": dlogits}).assert_ok()
    keep = targets != -1
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[keep, targets[keep]]).mean())


@pytest.mark.parametrize("cell_type", [RNNCell, GRUCell])
def test_recurrent_cells_backprop_through_several_steps(rng, cell_type):
    cell = cell_type(3, 4, rng=rng, dtype=F64)
    xs = rng.standard_normal((4, 2, 3))  # (T, B, E)
    h0 = rng.standard_normal((2, 4))
    dys = rng.standard_normal((4, 2, 4))

    def loss():
        cell.reset()
        h, total = h0, 0.0
        for t in range(4):
            h = cell.forward(xs[t], h)
            total += float((h * dys[t]).sum())
        return total

    loss()
    dxs, dh = np.zeros_like(xs), np.zeros_like(h0)
    for t in reversed(range(4)):
        dxs[t], dh = cell.backward(dys[t] + dh)
    analytic = {"xs": dxs, "h0": dh, **{k: v.copy() for k, v in cell.gradients().items()}}
    gradcheck(loss, {"xs": xs, "h0": h0, **cell.parameters()}, analytic).assert_ok()


def test_layers_reject_wrong_shapes_with_clear_messages(rng):
    with pytest.raises(ValueError, match="last axis 5"):
        Linear(5, 2, rng=rng).forward(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"indices must be in \[0, 4\)"):
        Embedding(4, 2, rng=rng).forward(np.array([0, 4]))
    with pytest.raises(TypeError, match="integer"):
        Embedding(4, 2, rng=rng).forward(np.array([0.5]))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        BatchNorm1d(3).forward(np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="more than one value"):
        BatchNorm1d(3).forward(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="divisible"):
        FlattenConsecutive(2).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=2.0)
    with pytest.raises(ValueError, match="targets"):
        cross_entropy(np.zeros((3, 4)), np.zeros(2, np.int64))
