"""Every layer's hand-written backward against central differences (float64), and the model's contracts."""

import numpy as np
import pytest
from gpt2.model import (
    GPT,
    GPTConfig,
    KVCache,
    attention_backward,
    attention_forward,
    crossentropy_backward,
    crossentropy_forward,
    encoder_backward,
    encoder_forward,
    gelu_backward,
    gelu_forward,
    layernorm_backward,
    layernorm_forward,
    linear_backward,
    linear_forward,
)

from shared.gradcheck import gradcheck


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_layernorm_backward_matches_finite_differences(rng):
    x = rng.standard_normal((2, 3, 5))
    w, b = rng.standard_normal(5), rng.standard_normal(5)
    dy = rng.standard_normal((2, 3, 5))
    _, cache = layernorm_forward(x, w, b, 1e-5)
    dx, dw, db = layernorm_backward(dy, cache)

    def loss():
        return float((layernorm_forward(x, w, b, 1e-5)[0] * dy).sum())

    gradcheck(loss, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db}).assert_ok()


def test_linear_backward_matches_finite_differences(rng):
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 6)), rng.standard_normal(6)
    dy = rng.standard_normal((2, 3, 6))
    dx, dw, db = linear_backward(dy, linear_forward(x, w, b)[1])

    def loss():
        return float((linear_forward(x, w, b)[0] * dy).sum())

    gradcheck(loss, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db}).assert_ok()


def test_gelu_backward_matches_finite_differences(rng):
    x = rng.standard_normal((3, 7)) * 2
    dy = rng.standard_normal((3, 7))
    dx = gelu_backward(dy, gelu_forward(x)[1])
    gradcheck(lambda: float((gelu_forward(x)[0] * dy).sum()), {"x": x}, {"x": dx}).assert_ok()


def test_gelu_is_the_tanh_approximation():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    expected = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(gelu_forward(x)[0], expected, rtol=1e-12)


def test_attention_backward_matches_finite_differences(rng):
    B, T, C, nh = 2, 5, 8, 2
    qkv = rng.standard_normal((B, T, 3 * C))
    dy = rng.standard_normal((B, T, C))
    dqkv = attention_backward(dy.copy(), attention_forward(qkv, nh)[1])

    def loss():
        return float((attention_forward(qkv, nh)[0] * dy).sum())

    gradcheck(loss, {"qkv": qkv}, {"qkv": dqkv}).assert_ok()


def test_attention_is_causal(rng):
    """Changing a future token's q, k or v must not change any earlier output."""
    qkv = rng.standard_normal((1, 6, 3 * 8))
    before = attention_forward(qkv, 2)[0]
    changed = qkv.copy()
    changed[:, 4:] += rng.standard_normal((1, 2, 24))
    after = attention_forward(changed, 2)[0]
    np.testing.assert_allclose(after[:, :4], before[:, :4], atol=1e-12)
    assert not np.allclose(after[:, 4:], before[:, 4:])


def test_embedding_backward_adds_repeated_tokens_and_positions(rng):
    wte, wpe = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    idx = np.array([[1, 1, 3], [0, 1, 4]])
    dy = rng.standard_normal((2, 3, 3))
    _, cache = encoder_forward(wte, wpe, idx)
    dwte, dwpe = np.zeros_like(wte), np.zeros_like(wpe)
    encoder_backward(dy, cache, dwte, dwpe)

    def loss():
        return float((encoder_forward(wte, wpe, idx)[0] * dy).sum())

    gradcheck(loss, {"wte": wte, "wpe": wpe}, {"wte": dwte, "wpe": dwpe}).assert_ok()


def test_crossentropy_backward_matches_finite_differences_and_ignores_minus_one(rng):
    logits = rng.standard_normal((2, 3, 7))
    targets = np.array([[1, -1, 6], [0, 2, -1]])
    loss, cache = crossentropy_forward(logits, targets)
    dlogits = crossentropy_backward(cache)
    gradcheck(lambda: crossentropy_forward(logits, targets)[0], {"logits": logits}, {"logits": dlogits}).assert_ok()
    assert np.all(dlogits[0, 1] == 0) and np.all(dlogits[1, 2] == 0)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean([logp[0, 0, 1], logp[0, 2, 6], logp[1, 0, 0], logp[1, 1, 2]])
    assert loss == pytest.approx(expected, rel=1e-12)


def test_crossentropy_with_every_target_ignored_is_an_error(rng):
    with pytest.raises(ValueError, match="every target is -1"):
        crossentropy_forward(rng.standard_normal((1, 2, 3)), np.full((1, 2), -1))


TINY = GPTConfig(vocab_size=11, n_positions=8, n_embd=8, n_layer=2, n_head=2)


def test_whole_model_backward_matches_finite_differences_including_tied_embedding(rng):
    model = GPT(TINY, seed=1, dtype=np.float64)
    for p in model.parameters():  # nonzero biases and gains so every path is exercised
        p.data += 0.1 * rng.standard_normal(p.data.shape)
    idx = rng.integers(0, 11, (2, 6))
    targets = rng.integers(0, 11, (2, 6))
    targets[0, 2] = -1
    model(idx, targets)
    model.backward()
    params = model.named_parameters()
    inputs = {name: p.data for name, p in params.items()}
    analytic = {name: p.grad for name, p in params.items()}
    report = gradcheck(lambda: model(idx, targets)[1], inputs, analytic, tolerance=1e-6)
    report.assert_ok()


def test_dropout_backward_matches_finite_differences_with_a_fixed_mask(rng):
    model = GPT(GPTConfig(vocab_size=7, n_positions=4, n_embd=4, n_layer=1, n_head=1, dropout=0.3), dtype=np.float64)
    idx, targets = rng.integers(0, 7, (2, 4)), rng.integers(0, 7, (2, 4))

    def loss():
        model.dropout_rng = np.random.default_rng(5)  # the same masks every call
        return model(idx, targets)[1]

    loss()
    model.backward()
    params = model.named_parameters()
    gradcheck(loss, {n: p.data for n, p in params.items()}, {n: p.grad for n, p in params.items()}).assert_ok()


def test_named_parameters_use_hugging_face_names_and_shapes():
    cfg = GPTConfig(vocab_size=50, n_positions=16, n_embd=12, n_layer=2, n_head=3)
    params = GPT(cfg).named_parameters()
    assert params["transformer.wte.weight"].data.shape == (50, 12)
    assert params["transformer.wpe.weight"].data.shape == (16, 12)
    assert params["transformer.h.1.attn.c_attn.weight"].data.shape == (12, 36)
    assert params["transformer.h.1.mlp.c_fc.weight"].data.shape == (12, 48)
    assert params["transformer.h.0.mlp.c_proj.weight"].data.shape == (48, 12)
    assert params["transformer.ln_f.bias"].data.shape == (12,)
    assert len(params) == 2 + 12 * 2 + 2
    assert all(p.data.dtype == np.float32 for p in params.values())


def test_residual_projections_use_scaled_init():
    cfg = GPTConfig(vocab_size=50, n_positions=16, n_embd=64, n_layer=8, n_head=4)
    params = GPT(cfg).named_parameters()
    assert params["transformer.h.0.attn.c_attn.weight"].data.std() == pytest.approx(0.02, rel=0.05)
    assert params["transformer.h.0.mlp.c_proj.weight"].data.std() == pytest.approx(0.02 / 4, rel=0.05)


def test_presets_match_the_released_sizes():
    sizes = {"gpt2": 124_439_808, "gpt2-medium": 354_823_168}
    for name, count in sizes.items():
        cfg = GPTConfig.preset(name)
        C, L, V, P = cfg.n_embd, cfg.n_layer, cfg.vocab_size, cfg.n_positions
        per_block = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C)
        assert V * C + P * C + L * per_block + 2 * C == count
    assert GPTConfig.preset("gpt2-xl").n_head == 25
    with pytest.raises(ValueError, match="unknown preset"):
        GPTConfig.preset("gpt3")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_embd=10, n_head=3), "divisible"),
        (dict(n_layer=0), "positive integer"),
        (dict(dropout=1.0), "dropout"),
        (dict(vocab_size=2.5), "positive integer"),
    ],
)
def test_bad_config_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**kwargs)


@pytest.mark.parametrize(
    "idx, message",
    [
        (np.zeros(4, dtype=int), "2-D"),
        (np.zeros((1, 9), dtype=int), "sequence length"),
        (np.full((1, 3), 11), "outside"),
        (np.full((1, 3), -1), "outside"),
        (np.zeros((1, 3)), "integer"),
    ],
)
def test_bad_input_is_rejected_clearly(idx, message):
    with pytest.raises(ValueError, match=message):
        GPT(TINY)(idx)


def test_targets_must_match_idx_shape():
    with pytest.raises(ValueError, match="targets shape"):
        GPT(TINY)(np.zeros((1, 3), dtype=int), np.zeros((1, 2), dtype=int))


def test_backward_without_a_forward_with_targets_is_an_error():
    model = GPT(TINY)
    model(np.zeros((1, 3), dtype=int))
    with pytest.raises(RuntimeError, match="forward with targets"):
        model.backward()


def test_gradients_accumulate_until_zero_grad(rng):
    model = GPT(TINY)
    idx, targets = rng.integers(0, 11, (2, 5)), rng.integers(0, 11, (2, 5))
    model(idx, targets)
    model.backward()
    once = model.params["transformer.wte.weight"].grad.copy()
    model(idx, targets)
    model.backward()
    np.testing.assert_allclose(model.params["transformer.wte.weight"].grad, 2 * once, rtol=1e-5)
    model.zero_grad()
    assert not model.params["transformer.wte.weight"].grad.any()


def test_kv_cache_decoding_equals_full_recompute(rng):
    model = GPT(TINY, seed=3).eval()
    idx = rng.integers(0, 11, (2, 8))
    full, _ = model(idx)
    cache = KVCache(TINY, batch_size=2)
    prefix = model.forward_cached(idx[:, :3], cache, all_logits=True)
    steps = [model.forward_cached(idx[:, t : t + 1], cache) for t in range(3, 8)]
    np.testing.assert_allclose(prefix, full[:, :3], atol=1e-5)
    np.testing.assert_allclose(np.stack(steps, axis=1), full[:, 3:], atol=1e-5)


def test_kv_cache_left_padding_does_not_change_a_shorter_prompt(rng):
    model = GPT(TINY, seed=3).eval()
    short = rng.integers(0, 11, (1, 4))
    alone, _ = model(short)
    padded = np.concatenate([np.zeros((1, 2), dtype=int), short], axis=1)
    other = rng.integers(0, 11, (1, 6))
    batch = np.concatenate([padded, other])
    valid = np.ones((2, 6), dtype=bool)
    valid[0, :2] = False
    cache = KVCache(TINY, batch_size=2)
    logits = model.forward_cached(batch, cache, valid=valid, all_logits=True)
    np.testing.assert_allclose(logits[0, 2:], alone[0], atol=1e-5)
    np.testing.assert_allclose(logits[1], model(other)[0][0], atol=1e-5)
    nxt = rng.integers(0, 11, (2, 1))
    step = model.forward_cached(nxt, cache)
    np.testing.assert_allclose(step[0], model(np.concatenate([short, nxt[:1]], 1))[0][0, -1], atol=1e-5)


def test_kv_cache_refuses_to_overflow_the_context():
    model = GPT(TINY)
    cache = KVCache(TINY, batch_size=1)
    model.forward_cached(np.zeros((1, 8), dtype=int), cache)
    with pytest.raises(ValueError, match="exceed the context"):
        model.forward_cached(np.zeros((1, 1), dtype=int), cache)
