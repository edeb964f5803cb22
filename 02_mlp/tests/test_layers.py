import numpy as np
import pytest
from mlp.layers import Dropout, Linear, Parameter, ReLU, Sequential, Sigmoid, Tanh, make_mlp

from shared.gradcheck import gradcheck
from shared.seeding import make_rng


def check_layer(layer, x, rng, params=True):
    """Gradcheck a layer in float64: dx and every parameter's grad, against f = sum(layer(x) * dy)."""
    dy = rng.standard_normal(layer.forward(x).shape)
    layer.zero_grad()
    layer.forward(x)
    dx = layer.backward(dy)
    inputs = {"x": x}
    analytic = {"x": dx}
    if params:
        for name, p in layer.named_parameters():
            inputs[name] = p.data
            analytic[name] = p.grad.copy()
    gradcheck(lambda: float((layer.forward(x) * dy).sum()), inputs, analytic).assert_ok()


@pytest.mark.parametrize("init", ["he", "xavier"])
def test_linear_gradcheck(init, rng):
    layer = Linear(5, 7, init=init, rng=rng, dtype=np.float64)
    layer.b.data[:] = rng.standard_normal(7)  # a non-zero bias, so its use in forward is exercised
    check_layer(layer, rng.standard_normal((4, 5)), rng)


@pytest.mark.parametrize("layer_class", [ReLU, Tanh, Sigmoid])
def test_activation_gradcheck(layer_class, rng):
    check_layer(layer_class(), rng.standard_normal((6, 9)) * 2, rng)


@pytest.mark.parametrize("training", [True, False])
def test_dropout_gradcheck_in_train_and_eval_mode(training, rng):
    layer = Dropout(0.3).train(training)
    x = rng.standard_normal((8, 10))
    dy = rng.standard_normal((8, 10))

    def f():
        layer.rng = make_rng(7)  # the same mask at every evaluation
        return float((layer.forward(x) * dy).sum())

    f()
    dx = layer.backward(dy)
    gradcheck(f, {"x": x}, {"x": dx}).assert_ok()


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_whole_mlp_gradcheck(activation, training, rng):
    model = make_mlp(6, [8, 5], 3, activation=activation, dropout=0.25, rng=3, dtype=np.float64, input_grad=True)
    model.train(training)
    x = rng.standard_normal((5, 6))
    dy = rng.standard_normal((5, 3))
    dropouts = [layer for layer in model.layers if isinstance(layer, Dropout)]

    def f():
        for index, layer in enumerate(dropouts):
            layer.rng = make_rng(index)
        return float((model.forward(x) * dy).sum())

    f()
    model.zero_grad()
    dx = model.backward(dy)
    inputs = {"x": x, **{name: p.data for name, p in model.named_parameters()}}
    analytic = {"x": dx, **{name: p.grad.copy() for name, p in model.named_parameters()}}
    gradcheck(f, inputs, analytic).assert_ok()


def test_backward_adds_into_grad_so_shared_weights_work(rng):
    layer = Linear(4, 4, rng=0, dtype=np.float64)
    x = rng.standard_normal((3, 4))
    dy = rng.standard_normal((3, 4))
    layer.forward(x)
    layer.backward(dy)
    once = layer.W.grad.copy()
    layer.backward(dy)
    np.testing.assert_allclose(layer.W.grad, 2 * once)

    # the same layer applied twice, y = L(L(x)): its grad collects both uses
    shared = Sequential(layer, layer)
    layer.zero_grad()
    dy = rng.standard_normal((3, 4))

    def f():
        return float((shared.forward(x) * dy).sum())

    # forward/backward by hand: the layer stores only its latest input, so run each use separately
    h = layer.forward(x)
    layer.forward(h)
    dh = layer.backward(dy)
    layer.forward(x)
    dx = layer.backward(dh)
    gradcheck(f, {"x": x, "W": layer.W.data}, {"x": dx, "W": layer.W.grad.copy()}).assert_ok()


def test_first_layer_can_skip_the_input_gradient(rng):
    model = make_mlp(5, [4], 2, rng=0)
    assert model.layers[0].input_grad is False
    model.forward(rng.standard_normal((3, 5), dtype=np.float32))
    assert model.backward(np.ones((3, 2), np.float32)) is None
    assert np.any(model.layers[0].W.grad != 0)  # the parameters still got their gradient


def test_float32_by_default_and_stays_float32(rng):
    model = make_mlp(5, [4], 3, dropout=0.5, rng=0, input_grad=True)
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    y = model.forward(rng.standard_normal((2, 5), dtype=np.float32))
    dx = model.backward(np.ones_like(y))
    assert y.dtype == np.float32 and dx.dtype == np.float32


def test_he_and_xavier_initialisation_scales():
    he = Linear(1000, 500, init="he", rng=0, dtype=np.float64).W.data
    assert he.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    xavier = Linear(1000, 500, init="xavier", rng=0, dtype=np.float64).W.data
    limit = np.sqrt(6 / 1500)
    assert np.abs(xavier).max() <= limit and xavier.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    assert np.all(Linear(3, 2).b.data == 0)


def test_linear_rejects_wrong_width_with_a_clear_message():
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 784\), got \(2, 700\)"):
        Linear(784, 10).forward(np.zeros((2, 700), np.float32))
    with pytest.raises(ValueError, match="2-D batch"):
        Linear(4, 2).forward(np.zeros(4, np.float32))


def test_linear_rejects_a_dtype_that_differs_from_its_weights():
    with pytest.raises(TypeError, match="float32 weights but got float64"):
        Linear(4, 2).forward(np.zeros((1, 4)))
    with pytest.raises(TypeError, match="uint8"):
        Linear(4, 2).forward(np.zeros((1, 4), np.uint8))


@pytest.mark.parametrize("layer", [Linear(2, 2), ReLU(), Tanh(), Sigmoid(), Dropout(0.5)])
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2), np.float32))


def test_bad_layer_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="positive integer sizes"):
        Linear(0, 3)
    with pytest.raises(ValueError, match="init must be one of"):
        Linear(2, 3, init="zeros")
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)
    with pytest.raises(ValueError, match="activation"):
        make_mlp(2, [3], 2, activation="gelu")
    with pytest.raises(ValueError, match="hidden sizes"):
        make_mlp(2, [0], 2)
    with pytest.raises(ValueError, match="dropout"):
        make_mlp(2, [3], 2, dropout=-0.1)


def test_dropout_is_inverted_and_the_identity_in_eval_mode():
    layer = Dropout(0.25, rng=0)
    x = np.ones((400, 500), np.float32)
    y = layer.forward(x)
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.01)  # the expectation is unchanged
    layer.eval()
    assert layer.forward(x) is x
    assert layer.backward(x) is x


def test_sequential_train_and_eval_reach_every_layer():
    model = make_mlp(3, [4, 4], 2, dropout=0.5)
    model.eval()
    assert not any(layer.training for layer in model.layers)
    model.train()
    assert all(layer.training for layer in model.layers)


def test_parameters_and_their_names():
    model = make_mlp(3, [4], 2, dropout=0.1)  # Linear, ReLU, Dropout, Linear
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "3.W", "3.b"]
    assert [p.shape for p in model.parameters()] == [(3, 4), (4,), (4, 2), (2,)]
    assert make_mlp(784, [], 10).layers[0].W.shape == (784, 10)  # softmax regression: one Linear


def test_parameter_grad_matches_data_and_zero_grad_keeps_the_array():
    p = Parameter(np.ones((2, 3), np.float32))
    assert p.grad.shape == p.data.shape and p.grad.dtype == p.data.dtype
    grad = p.grad
    grad += 5
    p.zero_grad()
    assert p.grad is grad and np.all(grad == 0)


def test_sigmoid_and_tanh_do_not_overflow_for_huge_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]], np.float32)
    with np.errstate(over="raise", invalid="raise"):  # underflow to 0 is fine
        np.testing.assert_allclose(Sigmoid().forward(x), [[0.0, 0.5, 1.0]])
        np.testing.assert_allclose(Tanh().forward(x), [[-1.0, 0.0, 1.0]])
