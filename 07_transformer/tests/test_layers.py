import numpy as np
import pytest
from transformer.layers import (
    Embedding,
    FeedForward,
    LayerNorm,
    Linear,
    MultiHeadAttention,
    attention_backward,
    attention_forward,
    dropout_forward,
    positional_encoding,
)
from transformer.model import causal_mask, padding_mask

from shared.gradcheck import gradcheck

F64 = np.float64


def check_module(module, inputs, forward, backward, rng, tolerance=1e-6):
    """gradcheck every input and parameter of `module` for a random upstream gradient."""
    out = forward()
    dout = rng.standard_normal(out[0].shape if isinstance(out, tuple) else out.shape)

    def loss():
        result = forward()
        return float(((result[0] if isinstance(result, tuple) else result) * dout).sum())

    module.zero_grad()
    analytic_inputs = backward(dout)
    arrays = {**inputs, **{f"param.{k}": v for k, v in module.params.items()}}
    analytic = {**analytic_inputs, **{f"param.{k}": v for k, v in module.grads.items()}}
    gradcheck(loss, arrays, analytic, tolerance=tolerance).assert_ok()


def test_linear_gradients_match_finite_differences(rng):
    layer = Linear(4, 3, rng, F64)
    x = rng.standard_normal((2, 5, 4))
    check_module(
        layer, {"x": x}, lambda: layer.forward(x), lambda d: {"x": layer.backward(d, layer.forward(x)[1])}, rng
    )


def test_layernorm_gradients_match_finite_differences(rng):
    norm = LayerNorm(6, F64)
    norm.gamma[...] = rng.standard_normal(6)
    norm.beta[...] = rng.standard_normal(6)
    x = rng.standard_normal((3, 4, 6))
    check_module(norm, {"x": x}, lambda: norm.forward(x), lambda d: {"x": norm.backward(d, norm.forward(x)[1])}, rng)


def test_layernorm_output_has_zero_mean_unit_variance(rng):
    out, _ = LayerNorm(16, F64).forward(rng.standard_normal((5, 16)) * 3 + 2)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, atol=1e-4)


def test_feedforward_gradients_match_finite_differences(rng):
    ffn = FeedForward(6, 10, rng, F64)
    x = rng.standard_normal((2, 3, 6))
    check_module(ffn, {"x": x}, lambda: ffn.forward(x), lambda d: {"x": ffn.backward(d, ffn.forward(x)[1])}, rng)


@pytest.mark.parametrize("masking", ["none", "padding", "causal"])
def test_attention_gradients_match_finite_differences_with_masks(rng, masking):
    B, h, T, dk = 2, 3, 5, 4
    q, k, v = (rng.standard_normal((B, h, T, dk)) for _ in range(3))
    ids = rng.integers(4, 9, (B, T))
    ids[0, 3:] = 0
    mask = {"none": None, "padding": padding_mask(ids), "causal": causal_mask(T)}[masking]
    dout = rng.standard_normal((B, h, T, dk))
    _, cache = attention_forward(q, k, v, mask)
    dq, dk_, dv = attention_backward(dout, cache)

    def loss():
        return float((attention_forward(q, k, v, mask)[0] * dout).sum())

    gradcheck(loss, {"q": q, "k": k, "v": v}, {"q": dq, "k": dk_, "v": dv}).assert_ok()


def test_attention_gives_no_weight_to_masked_keys(rng):
    q, k, v = (rng.standard_normal((1, 1, 4, 2)) for _ in range(3))
    _, saved = attention_forward(q, k, v, causal_mask(4))
    weights = saved.weights[0, 0]
    assert np.all(np.triu(weights, 1) == 0)
    np.testing.assert_allclose(weights.sum(-1), 1)


def test_attention_dropout_backward_uses_the_same_mask(rng):
    q, k, v = (rng.standard_normal((1, 2, 3, 2)) for _ in range(3))
    dout = rng.standard_normal((1, 2, 3, 2))
    seed = 5
    _, cache = attention_forward(q, k, v, None, 0.3, np.random.default_rng(seed))
    grads = attention_backward(dout, cache)

    def loss():
        return float((attention_forward(q, k, v, None, 0.3, np.random.default_rng(seed))[0] * dout).sum())

    gradcheck(loss, {"q": q, "k": k, "v": v}, dict(zip("qkv", grads))).assert_ok()


@pytest.mark.parametrize("kind", ["self", "cross"])
def test_multihead_attention_gradients_match_finite_differences(rng, kind):
    mha = MultiHeadAttention(8, 2, rng, F64)
    x = rng.standard_normal((2, 4, 8))
    memory = x if kind == "self" else rng.standard_normal((2, 6, 8))
    ids = rng.integers(4, 9, (2, memory.shape[1]))
    ids[1, -2:] = 0
    mask = causal_mask(4) if kind == "self" else padding_mask(ids)
    if kind == "self":
        inputs = {"x": x}

        def backward(d):
            return {"x": sum(mha.backward(d, mha.forward(x, x, mask)[1]))}

        forward = lambda: mha.forward(x, x, mask)  # noqa: E731
    else:
        inputs = {"x": x, "memory": memory}

        def backward(d):
            dx, dm = mha.backward(d, mha.forward(x, memory, mask)[1])
            return {"x": dx, "memory": dm}

        forward = lambda: mha.forward(x, memory, mask)  # noqa: E731
    check_module(mha, inputs, forward, backward, rng)


def test_multihead_attention_rejects_indivisible_heads(rng):
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3, rng)


def test_shared_embedding_collects_gradients_of_input_and_output_use(rng):
    """One matrix as input embedding (scaled by sqrt(d)) and output projection (section 3.4)."""
    emb = Embedding(7, 4, rng, F64)
    ids = rng.integers(0, 7, (2, 3))
    dlogits = rng.standard_normal((2, 3, 7))

    def forward():
        x, _ = emb.forward(ids)
        return emb.project(np.tanh(x))

    def loss():
        return float((forward()[0] * dlogits).sum())

    emb.zero_grad()
    x, cache = emb.forward(ids)
    h = np.tanh(x)
    _, pcache = emb.project(h)
    dh = emb.project_backward(dlogits, pcache)
    emb.backward(dh * (1 - h**2), cache)
    gradcheck(loss, {"E": emb.E}, {"E": emb.grads["E"]}).assert_ok()


def test_embedding_is_scaled_by_sqrt_d_model(rng):
    emb = Embedding(5, 16, rng, F64)
    out, _ = emb.forward(np.array([[2]]))
    np.testing.assert_allclose(out[0, 0], emb.E[2] * 4.0)


def test_embedding_rejects_out_of_vocabulary_ids(rng):
    with pytest.raises(ValueError, match="token ids"):
        Embedding(5, 4, rng).forward(np.array([[1, 5]]))


def test_positional_encoding_matches_the_formula():
    pe = positional_encoding(50, 16, F64)
    pos, i = 7, 3
    assert pe[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 16)))
    assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 16)))
    assert pe.shape == (50, 16)


def test_dropout_keeps_expectation_and_is_off_without_rng(rng):
    x = np.ones((200, 200), dtype=np.float32)
    out, _ = dropout_forward(x, 0.1, rng)
    assert abs(out.mean() - 1.0) < 0.01
    assert np.mean(out == 0) == pytest.approx(0.1, abs=0.01)
    same, none = dropout_forward(x, 0.1, None)
    assert same is x and none is None


def test_module_lists_shared_parameters_once(rng):
    emb = Embedding(5, 4, rng)

    class Pair(Embedding):
        pass

    pair = Pair(5, 4, rng)
    pair.other = emb
    pair.again = emb
    names = list(pair.named_parameters())
    assert names == ["E", "other.E"]
