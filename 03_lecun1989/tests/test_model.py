import numpy as np
import pytest
from conftest import example, sampled_gradcheck
from lecun1989.model import (
    H2_PLANES,
    LAYOUT,
    SHIFTS,
    Config,
    Net,
    h2_connection_mask,
    layout_views,
    make_canvas,
    shift_images,
)

MODERN = Config(activation="relu", output="linear", dropout=0.25, output_bias=0.0)


def test_size_matches_the_paper():
    stats = Net().stats()
    assert stats["total"] == {"units": 1256, "connections": 64660, "parameters": 9760}
    assert [stats[layer]["parameters"] for layer in ("H1", "H2", "H3", "out")] == [1068, 2592, 5790, 310]
    assert Net().params.size == 9760


def test_h2_connection_mask_is_the_block_scheme():
    mask = h2_connection_mask()
    assert mask.shape == (12, 12)
    assert np.all(mask.sum(1) == 8)  # each H2 map sees 8 of the 12 H1 maps
    assert np.all(mask.sum(0) == 8)  # each H1 map feeds 8 of the 12 H2 maps
    assert mask[0:4, 0:8].all() and not mask[0:4, 8:].any()
    assert mask[4:8, 4:12].all() and not mask[4:8, :4].any()
    assert mask[8:12, 0:4].all() and mask[8:12, 8:12].all() and not mask[8:12, 4:8].any()


def test_h2_maps_do_not_react_to_unconnected_h1_maps():
    rng = np.random.default_rng(0)
    net = Net(Config(), rng, dtype=np.float64)
    images = rng.uniform(-1, 1, (1, 16, 16))
    _, acts = net.forward_with_activations(images)
    h1 = acts.h1  # H1's output
    from lecun1989 import layers

    base, _ = layers.conv_forward(h1, net.p["H2.weight"], net.p["H2.bias"], 2, 2, -1.0, H2_PLANES)
    mask = h2_connection_mask()
    for plane in range(12):
        poked = h1.copy()
        poked[:, plane] += 1.0
        out, _ = layers.conv_forward(poked, net.p["H2.weight"], net.p["H2.bias"], 2, 2, -1.0, H2_PLANES)
        changed = np.any(out != base, axis=(0, 2, 3))  # (12,) which H2 maps moved
        np.testing.assert_array_equal(changed, mask[:, plane])


def test_init_follows_fan_in_bounds_and_bias_choices():
    net = Net(Config(), np.random.default_rng(0))
    for layer, fan_in in {"H1": 25, "H2": 200, "H3": 192, "out": 30}.items():
        weight = net.p[f"{layer}.weight"]
        bound = 2.4 / np.sqrt(fan_in)
        assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.8 * bound
    assert np.all(net.p["H1.bias"] == 0) and np.all(net.p["out.bias"] == -1.0)


def test_same_seed_gives_the_same_weights():
    a, b = Net(Config(), np.random.default_rng(7)), Net(Config(), np.random.default_rng(7))
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.parametrize("config", [Config(), Config(tanh="plain"), MODERN], ids=["1989", "plain-tanh", "modern"])
def test_whole_network_gradcheck(config):
    rng = np.random.default_rng(1)
    net = Net(config, rng, dtype=np.float64)
    images, targets, labels = example(rng, n=2)
    mask = None
    if config.dropout:
        mask = (rng.random((2, 192)) < 0.75) / 0.75
    net.loss_and_grads(images, targets, labels, mask)
    analytic = net.grads.copy()

    def loss():
        return net.loss(net.forward(images, dropout_mask=mask), targets, labels)[0]

    report = sampled_gradcheck(net, loss, analytic)
    assert set(report.errors) == {name for name, _ in LAYOUT}  # every layer's weights and biases


def test_shift_moves_the_digit_and_fills_with_background():
    images = np.full((1, 16, 16), -1.0)
    images[0, 5, 7] = 1.0
    for index, (dy, dx) in enumerate(SHIFTS):
        shifted = shift_images(images, [index])[0]
        assert shifted[5 + dy, 7 + dx] == 1.0 and (shifted == 1.0).sum() == 1
    edge = np.full((1, 16, 16), 0.5)
    shifted = shift_images(edge, [SHIFTS.index((1, 1))])[0]
    assert np.all(shifted[0] == -1.0) and np.all(shifted[:, 0] == -1.0) and shifted[1, 1] == 0.5


def test_forward_rejects_wrong_image_shapes():
    with pytest.raises(ValueError, match=r"\(N, 16, 16\)"):
        Net().forward(np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match=r"\(N, 16, 16\)"):
        make_canvas(np.zeros((16, 16)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"activation": "sigmoid"}, "activation"),
        ({"output": "softmax"}, "output"),
        ({"dropout": 1.0}, "dropout"),
        ({"tanh": "lecun"}, "tanh"),
        ({"output_bias": float("nan")}, "output_bias must be finite"),  # a checkpoint's JSON can no longer hold NaN
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Config(**kwargs)


def test_layout_covers_every_parameter_once():
    net = Net()
    assert sum(net.p[name].size for name, _ in LAYOUT) == net.params.size
    for name, _ in LAYOUT:
        assert np.shares_memory(net.p[name], net.params) and np.shares_memory(net.g[name], net.grads)


# --------------------------------------------------------------------------- the Hessian's diagonal


def exact_gauss_newton(net, images, names, count=12, seed=0, eps=1e-6):
    """mean_n sum_o (2/10) (dy_o/dw)^2 for sampled weights, the Jacobian by central differences."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        param = net.p[name].reshape(-1)
        for k in rng.choice(param.size, size=min(count, param.size), replace=False):
            old = param[k]
            param[k] = old + eps
            plus = net.forward(images)
            param[k] = old - eps
            minus = net.forward(images)
            param[k] = old
            jacobian = (plus - minus) / (2 * eps)  # (N, 10)
            out[(name, k)] = 0.2 * np.mean(np.sum(jacobian**2, axis=1))
    return out


def test_hessian_diagonal_is_the_exact_gauss_newton_one_where_each_weight_has_one_path():
    # out.* and H3.* reach the outputs through a single unit, so dropping the off-diagonal
    # terms loses nothing there: the estimate must equal the exact Gauss-Newton diagonal.
    net = Net(rng=np.random.default_rng(0), dtype=np.float64)
    images, _, _ = example(np.random.default_rng(1), n=4)
    h = layout_views(net.hessian_diagonal(images))
    for (name, k), exact in exact_gauss_newton(net, images, ["out.weight", "out.bias", "H3.weight", "H3.bias"]).items():
        np.testing.assert_allclose(h[name].reshape(-1)[k], exact, rtol=1e-5, atol=1e-12)


def test_hessian_diagonal_of_the_convolutions_matches_a_loop_over_connections():
    net = Net(rng=np.random.default_rng(0), dtype=np.float64)
    images, _, _ = example(np.random.default_rng(2), n=2)
    h = layout_views(net.hessian_diagonal(images))
    A, S = net.tanh_constants
    slope2 = lambda y: ((S / A) * (A * A - y * y)) ** 2  # noqa: E731
    p = {k: v for k, v in net.p.items()}
    expected_w1, expected_b1 = np.zeros((12, 5, 5)), np.zeros((12, 8, 8))
    expected_w2, expected_b2 = np.zeros((12, 8, 5, 5)), np.zeros((12, 4, 4))
    for image in images:
        x = np.pad(image, 2, constant_values=-1.0)  # (20, 20)
        z1 = np.array([[[np.sum(p["H1.weight"][m, 0] * x[2 * r : 2 * r + 5, 2 * c : 2 * c + 5])
                         for c in range(8)] for r in range(8)] for m in range(12)]) + p["H1.bias"]  # fmt: skip
        h1 = np.pad(A * np.tanh(S * z1), ((0, 0), (2, 2), (2, 2)), constant_values=-1.0)  # (12, 12, 12)
        z2 = np.zeros((12, 4, 4))
        for o in range(12):
            planes = H2_PLANES[o // 4]
            for r in range(4):
                for c in range(4):
                    z2[o, r, c] = np.sum(p["H2.weight"][o] * h1[list(planes), 2 * r : 2 * r + 5, 2 * c : 2 * c + 5])
        y2 = A * np.tanh(S * (z2 + p["H2.bias"]))
        y3 = A * np.tanh(S * (y2.reshape(-1) @ p["H3.weight"] + p["H3.bias"]))
        y4 = A * np.tanh(S * (y3 @ p["out.weight"] + p["out.bias"]))
        d2z4 = 0.2 / len(images) * slope2(y4)
        d2z3 = slope2(y3) * ((p["out.weight"] ** 2) @ d2z4)
        d2z2 = slope2(y2) * ((p["H3.weight"] ** 2) @ d2z3).reshape(12, 4, 4)
        d2h1 = np.zeros((12, 12, 12))  # on the padded grid; the border is the constant -1
        for o in range(12):
            planes = list(H2_PLANES[o // 4])
            for r in range(4):
                for c in range(4):
                    patch = h1[planes, 2 * r : 2 * r + 5, 2 * c : 2 * c + 5]
                    expected_w2[o] += d2z2[o, r, c] * patch**2
                    d2h1[planes, 2 * r : 2 * r + 5, 2 * c : 2 * c + 5] += p["H2.weight"][o] ** 2 * d2z2[o, r, c]
        expected_b2 += d2z2
        d2z1 = slope2(h1[:, 2:10, 2:10]) * d2h1[:, 2:10, 2:10]
        for m in range(12):
            for r in range(8):
                for c in range(8):
                    expected_w1[m] += d2z1[m, r, c] * x[2 * r : 2 * r + 5, 2 * c : 2 * c + 5] ** 2
        expected_b1 += d2z1
    for name, expected in (("H1.weight", expected_w1[:, None]), ("H1.bias", expected_b1),
                           ("H2.weight", expected_w2), ("H2.bias", expected_b2)):  # fmt: skip
        np.testing.assert_allclose(h[name], expected, rtol=1e-9, atol=1e-15)


def test_hessian_diagonal_is_positive_and_needs_the_mse_output():
    net = Net(rng=np.random.default_rng(0))
    images, _, _ = example(np.random.default_rng(3), n=5)
    h = net.hessian_diagonal(images)
    assert h.shape == net.params.shape and h.dtype == np.float32 and np.all(h >= 0) and np.all(np.isfinite(h))
    with pytest.raises(ValueError, match="MSE"):
        Net(MODERN, rng=np.random.default_rng(0)).hessian_diagonal(images)
    with pytest.raises(ValueError, match="at least one"):
        net.hessian_diagonal(images[:0])


def test_model_files_import_only_numpy_the_standard_library_and_their_folder():
    import ast
    import sys
    from pathlib import Path

    import lecun1989

    folder = Path(lecun1989.__file__).parent
    for name in ("layers.py", "model.py", "fast.py", "optim.py"):
        tree = ast.parse((folder / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [] if node.level else [node.module]  # relative: this folder
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top == "numpy" or top in sys.stdlib_module_names, f"{name} imports {module}"
