import numpy as np
import pytest
from lecun1989 import layers

from shared.gradcheck import gradcheck


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def conv_gradcheck(rng, x_shape, w_shape, bias, stride, pad, planes=None):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    y, _ = layers.conv_forward(x, w, None, stride, pad, -1.0, planes)
    b = None if bias is None else rng.standard_normal(y.shape[1:] if bias == "unit" else (w_shape[0],))
    y, cache = layers.conv_forward(x, w, b, stride, pad, -1.0, planes)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = layers.conv_backward(dy, cache)

    def loss():
        return float((layers.conv_forward(x, w, b, stride, pad, -1.0, planes)[0] * dy).sum())

    inputs, analytic = {"x": x, "w": w}, {"x": dx, "w": dw}
    if b is not None:
        inputs["b"], analytic["b"] = b, db
    gradcheck(loss, inputs, analytic).assert_ok()


def test_conv_gradcheck_stride_2_padding_per_unit_bias(rng):
    conv_gradcheck(rng, (2, 1, 7, 7), (3, 1, 3, 3), "unit", stride=2, pad=2)


def test_conv_gradcheck_per_map_bias_no_padding(rng):
    conv_gradcheck(rng, (2, 2, 5, 6), (4, 2, 3, 3), "map", stride=1, pad=0)


def test_conv_gradcheck_with_partial_connectivity(rng):
    planes = ((0, 1), (1, 2), (0, 2))  # 3 groups of 2 output maps, each seeing 2 of 3 planes
    conv_gradcheck(rng, (2, 3, 6, 6), (6, 2, 3, 3), "unit", stride=2, pad=1, planes=planes)


def test_conv_indices_point_at_the_cells_each_window_sees():
    planes = ((0, 2), (1, 2))  # two groups of output maps, each seeing two of three planes
    C, H, W, K, stride, pad = 3, 5, 6, 3, 2, 1
    idx = layers.conv_indices((C, H, W), K, stride, pad, planes)
    Hp, Wp = H + 2 * pad, W + 2 * pad
    Ho, Wo = (Hp - K) // stride + 1, (Wp - K) // stride + 1
    assert idx.shape == (2, 2 * K * K, Ho * Wo)
    for g, group in enumerate(planes):
        for p, plane in enumerate(group):
            for ki in range(K):
                for kj in range(K):
                    for oi in range(Ho):
                        for oj in range(Wo):
                            cell = plane * Hp * Wp + (stride * oi + ki) * Wp + (stride * oj + kj)
                            assert idx[g, (p * K + ki) * K + kj, oi * Wo + oj] == cell


def test_conv_matches_a_hand_computed_example():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2))
    y, _ = layers.conv_forward(x, w, np.array([10.0]), stride=1, pad=0)
    np.testing.assert_allclose(
        y[0, 0], [[0 + 1 + 3 + 4 + 10, 1 + 2 + 4 + 5 + 10], [3 + 4 + 6 + 7 + 10, 4 + 5 + 7 + 8 + 10]]
    )
    # padding with -1: the corner output sees three padded cells and x[0, 0]
    y, _ = layers.conv_forward(x, w, None, stride=1, pad=1, pad_value=-1.0)
    assert y[0, 0, 0, 0] == -3.0 + 0.0


def test_partial_connectivity_ignores_unconnected_planes(rng):
    planes = ((0, 1), (1, 2))
    x = rng.standard_normal((1, 3, 5, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    y, _ = layers.conv_forward(x, w, None, 1, 1, 0.0, planes)
    x2 = x.copy()
    x2[:, 2] += 5.0  # plane 2 feeds only group 1 (maps 2, 3)
    y2, _ = layers.conv_forward(x2, w, None, 1, 1, 0.0, planes)
    np.testing.assert_array_equal(y[:, :2], y2[:, :2])
    assert not np.allclose(y[:, 2:], y2[:, 2:])


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, planes, message",
    [
        ((1, 1, 5), (1, 1, 3, 3), None, None, r"\(N, C, H, W\)"),
        ((1, 2, 5, 5), (1, 1, 3, 3), None, None, "does not match"),
        ((1, 1, 5, 5), (2, 1, 3, 3), (3,), None, "bias"),
        ((1, 2, 5, 5), (2, 1, 3, 3), None, ((0,), (5,)), "planes"),
        ((1, 1, 2, 2), (1, 1, 3, 3), None, None, "does not fit"),
    ],
)
def test_conv_rejects_mismatched_shapes(x_shape, w_shape, b_shape, planes, message):
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(ValueError, match=message):
        layers.conv_forward(np.zeros(x_shape), np.zeros(w_shape), b, 1, 0, 0.0, planes)


def test_conv_backward_rejects_a_wrong_upstream_gradient(rng):
    _, cache = layers.conv_forward(rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((2, 1, 3, 3)), None)
    with pytest.raises(ValueError, match="dy has shape"):
        layers.conv_backward(np.zeros((1, 2, 2, 2)), cache)


def test_scaled_tanh_maps_plus_minus_one_to_itself_approximately():
    y, _ = layers.scaled_tanh_forward(np.array([-1.0, 0.0, 1.0]))
    np.testing.assert_allclose(y, [-1.0, 0.0, 1.0], atol=2e-4)


@pytest.mark.parametrize("name", ["scaled_tanh", "relu"])
def test_activation_gradcheck(rng, name):
    forward, backward = getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward")
    z = rng.standard_normal((4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep relu away from its kink
    dy = rng.standard_normal(z.shape)
    _y, cache = forward(z)
    gradcheck(lambda: float((forward(z)[0] * dy).sum()), {"z": z}, {"z": backward(dy, cache)}).assert_ok()


def test_dropout_gradcheck_and_scaling(rng):
    x = rng.standard_normal((3, 8))
    mask = (rng.random((3, 8)) < 0.75) / 0.75
    dy = rng.standard_normal(x.shape)
    y, cache = layers.dropout_forward(x, mask)
    np.testing.assert_allclose(y, x * mask)
    analytic = layers.dropout_backward(dy, cache)
    gradcheck(lambda: float((layers.dropout_forward(x, mask)[0] * dy).sum()), {"x": x}, {"x": analytic}).assert_ok()
    with pytest.raises(ValueError, match="mask"):
        layers.dropout_forward(x, mask[:, :4])


def test_linear_gradcheck(rng):
    x, w, b = rng.standard_normal((4, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    dy = rng.standard_normal((4, 3))
    _y, cache = layers.linear_forward(x, w, b)
    dx, dw, db = layers.linear_backward(dy, cache)

    def loss():
        return float((layers.linear_forward(x, w, b)[0] * dy).sum())

    gradcheck(loss, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db}).assert_ok()
    with pytest.raises(ValueError, match="do not fit"):
        layers.linear_forward(x, w.T, b)


def test_mse_loss_value_and_gradcheck(rng):
    yhat, target = rng.standard_normal((3, 10)), rng.standard_normal((3, 10))
    loss, grad = layers.mse_loss(yhat, target)
    assert loss == pytest.approx(np.mean((yhat - target) ** 2))
    gradcheck(lambda: layers.mse_loss(yhat, target)[0], {"yhat": yhat}, {"yhat": grad}).assert_ok()
    with pytest.raises(ValueError, match="differ"):
        layers.mse_loss(yhat, target[:, :5])


def test_softmax_cross_entropy_value_and_gradcheck(rng):
    logits, labels = rng.standard_normal((4, 10)), np.array([0, 3, 9, 3])
    loss, grad = layers.softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(4), labels])))
    check = gradcheck(lambda: layers.softmax_cross_entropy(logits, labels)[0], {"z": logits}, {"z": grad})
    check.assert_ok()


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, grad = layers.softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_softmax_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError, match="labels"):
        layers.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
