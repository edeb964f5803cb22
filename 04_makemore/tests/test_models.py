"""Each full model's loss gradient against central differences (float64), and the lecture sizes."""

import numpy as np
import pytest
from makemore.models import DEFAULTS, ModelConfig, build_model, count_parameters

from shared.gradcheck import gradcheck


@pytest.mark.parametrize(
    ("model", "block_size", "recurrent"),
    [
        ("mlp", 3, False),
        ("mlp-bn", 3, False),
        ("mlp-deep", 3, False),
        ("wavenet", 4, False),
        ("rnn", 5, True),
        ("gru", 5, True),
    ],
)
def test_full_model_loss_gradient_matches_finite_differences(model, block_size, recurrent):
    rng = np.random.default_rng(0)
    config = ModelConfig(model, block_size=block_size, n_embd=3, n_hidden=6)
    net = build_model(config, rng=1, dtype=np.float64)
    X = rng.integers(0, 27, (5, block_size))
    Y = rng.integers(0, 27, (5, block_size) if recurrent else 5)
    if recurrent:
        Y[:, -2:] = -1  # padding is ignored
    params = net.parameters()
    if model == "mlp":  # lecture 2's N(0, 1) init saturates tanh; shrink so the check is well conditioned
        for p in params.values():
            p *= 0.3
    _, dlogits = net.loss(X, Y)
    net.backward(dlogits)
    analytic = {k: v.copy() for k, v in net.gradients().items()}
    gradcheck(lambda: net.loss(X, Y)[0], params, analytic, tolerance=1e-5).assert_ok()


def test_parameter_counts_match_the_lectures():
    assert count_parameters(build_model("mlp")) == 11_897  # lecture 2
    assert count_parameters(build_model("wavenet")) == 76_579  # lecture 5
    assert DEFAULTS["wavenet"].block_size == 8


def test_initial_losses_follow_lecture_3():
    rng = np.random.default_rng(0)
    X, Y = rng.integers(0, 27, (256, 3)), rng.integers(0, 27, 256)
    uniform = -np.log(1 / 27)  # 3.2958
    assert build_model("mlp-bn", rng=0).loss(X, Y)[0] == pytest.approx(uniform, abs=0.05)
    assert build_model("mlp", rng=0).loss(X, Y)[0] > 10  # N(0, 1) init: confidently wrong


def test_models_reject_bad_inputs_and_configs():
    with pytest.raises(ValueError, match="contexts"):
        build_model("mlp").forward(np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match="unknown model"):
        build_model("transformer")
    with pytest.raises(ValueError, match="power-of-two"):
        build_model(ModelConfig("wavenet", block_size=6, n_embd=2, n_hidden=3))
    with pytest.raises(ValueError, match="n_hidden"):
        build_model(ModelConfig("mlp", block_size=3, n_embd=2, n_hidden=0))
    with pytest.raises(ValueError, match="integer"):
        build_model("rnn").forward(np.zeros((2, 16)))


def test_eval_mode_uses_running_statistics():
    net = build_model("mlp-bn", rng=0)
    X = np.random.default_rng(0).integers(0, 27, (4, 3))
    net.eval()
    a = net.forward(X)
    b = net.forward(X[:1])  # a single example works in eval mode and does not depend on the batch
    np.testing.assert_allclose(a[:1], b, rtol=1e-5, atol=1e-6)
