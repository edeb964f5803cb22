"""The in-place fast layers equal their plain formulas; a block's backward equals central differences."""

import numpy as np
from gpt2.layers import (
    attention_forward,
    gelu_backward,
    gelu_backward_reference,
    gelu_forward,
    gelu_reference,
    layernorm_forward,
    layernorm_reference,
)
from gpt2.model import GPT, GPTConfig, block_backward, block_forward

from shared.gradcheck import gradcheck


def test_in_place_layernorm_equals_the_formula():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 5, 16)), rng.standard_normal(16), rng.standard_normal(16)
    np.testing.assert_allclose(layernorm_forward(x, w, b, 1e-5)[0], layernorm_reference(x, w, b, 1e-5), rtol=1e-13)


def test_in_place_gelu_and_its_backward_equal_the_formulas():
    rng = np.random.default_rng(1)
    x, dout = 3 * rng.standard_normal((4, 32)), rng.standard_normal((4, 32))
    y, cache = gelu_forward(x)
    np.testing.assert_allclose(y, gelu_reference(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gelu_backward(dout, cache), gelu_backward_reference(dout, x), rtol=1e-12, atol=1e-15)


def test_block_backward_matches_finite_differences():
    model = GPT(GPTConfig(vocab_size=7, n_positions=6, n_embd=8, n_layer=1, n_head=2), seed=3, dtype=np.float64)
    w = {name: value.copy() for name, value in model.block(0).items()}
    rng = np.random.default_rng(2)
    x, dy = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 5, 8))

    def attend(qkv):
        return attention_forward(qkv, 2)

    def loss():
        return float((block_forward(x, w, 1e-5, attend)[0] * dy).sum())

    dx, grads = block_backward(dy, block_forward(x, w, 1e-5, attend)[1])
    gradcheck(loss, {"x": x, **w}, {"x": dx, **grads}).assert_ok()
