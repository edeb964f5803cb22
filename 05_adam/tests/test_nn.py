"""Every hand-written backward against central differences (float64), plus the layers' error messages."""

import numpy as np
import pytest
from adam import nn

from shared.gradcheck import gradcheck


def test_linear_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    layer = nn.Linear(5, 3, rng, dtype=np.float64)
    x = rng.standard_normal((4, 5))
    dy = rng.standard_normal((4, 3))
    layer.forward(x)
    dx = layer.backward(dy)
    loss = lambda: float((layer.forward(x) * dy).sum())  # noqa: E731
    gradcheck(loss, {"x": x, "W": layer.W.data, "b": layer.b.data},
              {"x": dx, "W": layer.W.grad, "b": layer.b.grad}).assert_ok()  # fmt: skip


def test_relu_and_dropout_backward_match_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 7))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    dy = rng.standard_normal((6, 7))
    relu = nn.ReLU()
    relu.forward(x)
    gradcheck(lambda: float((relu.forward(x) * dy).sum()), {"x": x}, {"x": relu.backward(dy)}).assert_ok()

    dropout = nn.Dropout(0.5, np.random.default_rng(2))
    dropout.forward(x)
    mask = dropout.scale.copy()
    dx = dropout.backward(dy)

    def loss():
        return float((x * mask * dy).sum())  # the same mask as the forward above

    gradcheck(loss, {"x": x}, {"x": dx}).assert_ok()
    assert set(np.unique(mask)) <= {0.0, 2.0}


def test_dropout_is_identity_in_eval_mode_and_keeps_expectation_in_training():
    rng = np.random.default_rng(3)
    dropout = nn.Dropout(0.3, rng)
    x = np.ones((200, 500), dtype=np.float32)
    assert abs(dropout.forward(x).mean() - 1.0) < 0.01
    dropout.training = False
    np.testing.assert_array_equal(dropout.forward(x), x)
    with pytest.raises(ValueError, match="p must be"):
        nn.Dropout(1.0, rng)


def test_softmax_cross_entropy_gradient_and_value():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    _, dlogits = nn.softmax_cross_entropy(logits, labels)
    gradcheck(lambda: nn.softmax_cross_entropy(logits, labels)[0], {"logits": logits}, {"logits": dlogits}).assert_ok()
    assert abs(nn.softmax_cross_entropy(np.zeros((3, 10)), np.array([0, 1, 2]))[0] - np.log(10)) < 1e-12
    with pytest.raises(ValueError, match="labels"):
        nn.softmax_cross_entropy(logits, labels[:3])


def test_sigmoid_binary_cross_entropy_gradient_and_stability():
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((3, 6)) * 3
    targets = rng.random((3, 6))
    _, dlogits = nn.sigmoid_binary_cross_entropy(logits, targets)
    gradcheck(lambda: nn.sigmoid_binary_cross_entropy(logits, targets)[0], {"z": logits}, {"z": dlogits}).assert_ok()
    loss, _ = nn.sigmoid_binary_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([[1.0, 0.0]]))
    assert np.isfinite(loss) and loss < 1e-6
    with pytest.raises(ValueError, match="differ"):
        nn.sigmoid_binary_cross_entropy(logits, targets[:, :3])


def test_logistic_regression_cost_gradient_includes_the_l2_term():
    rng = np.random.default_rng(6)
    model = nn.LogisticRegression(8, 3, l2=0.1, dtype=np.float64)
    model.linear.W.data[...] = rng.standard_normal((8, 3))
    x = rng.standard_normal((10, 8))
    y = rng.integers(0, 3, 10)
    model.loss_and_backward(x, y)
    params = {"W": model.linear.W.data, "b": model.linear.b.data}
    gradcheck(lambda: model.cost(x, y), params, {"W": model.linear.W.grad, "b": model.linear.b.grad}).assert_ok()
    with pytest.raises(ValueError, match="l2"):
        nn.LogisticRegression(l2=-1)


def test_mlp_and_autoencoder_backward_match_finite_differences():
    rng = np.random.default_rng(7)
    model = nn.mlp(rng, (6, 5, 4, 3), dropout=0.0, dtype=np.float64)
    x = rng.standard_normal((4, 6))
    y = rng.integers(0, 3, 4)
    _, dlogits = nn.softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    inputs = {"x": x, **{f"p{i}": p.data for i, p in enumerate(model.params)}}
    analytic = {"x": dx, **{f"p{i}": p.grad for i, p in enumerate(model.params)}}
    gradcheck(lambda: nn.softmax_cross_entropy(model.forward(x), y)[0], inputs, analytic).assert_ok()

    ae = nn.autoencoder(rng, (6, 4, 6), dtype=np.float64)
    images = rng.random((5, 6))
    ae.backward(nn.sigmoid_binary_cross_entropy(ae.forward(images), images)[1])
    loss = lambda: nn.sigmoid_binary_cross_entropy(ae.forward(images), images)[0]  # noqa: E731
    gradcheck(loss, {f"p{i}": p.data for i, p in enumerate(ae.params)},
              {f"p{i}": p.grad for i, p in enumerate(ae.params)}).assert_ok()  # fmt: skip


def test_mlp_layout_and_shape_errors():
    model = nn.mlp(np.random.default_rng(8), (784, 1000, 1000, 10), dropout=0.5)
    assert [p.data.shape for p in model.params] == [(784, 1000), (1000,), (1000, 1000), (1000,), (1000, 10), (10,)]
    assert sum(isinstance(layer, nn.Dropout) for layer in model.layers) == 2
    with pytest.raises(ValueError, match="Linear expects input"):
        model.forward(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(ValueError, match="differ"):
        nn.autoencoder(np.random.default_rng(0), (10, 4, 8))
