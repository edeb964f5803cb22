"""Sampling: the filters' support, the KV cache against recompute, batching, and the context limit."""

import numpy as np
import pytest
from gpt2.model import GPT, GPTConfig
from gpt2.sample import generate, sample_next

TINY = GPTConfig(vocab_size=11, n_positions=12, n_embd=8, n_layer=2, n_head=2)


def test_temperature_zero_and_top_k_one_are_greedy():
    logits = np.random.default_rng(0).standard_normal((4, 9))
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(sample_next(logits, rng, temperature=0.0), logits.argmax(-1))
    np.testing.assert_array_equal(sample_next(logits, rng, top_k=1), logits.argmax(-1))


def test_top_k_and_top_p_restrict_the_support():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    rng = np.random.default_rng(0)
    top_k = {int(sample_next(logits, rng, top_k=2)[0]) for _ in range(300)}
    assert top_k == {0, 1}
    top_p = {int(sample_next(logits, rng, top_p=0.7)[0]) for _ in range(300)}
    assert top_p == {0, 1}  # 0.5 < 0.7, 0.5 + 0.3 >= 0.7
    top_p = {int(sample_next(logits, rng, top_p=0.9)[0]) for _ in range(300)}
    assert top_p == {0, 1, 2}


def test_samples_follow_the_softmax_distribution():
    probs = np.array([0.6, 0.3, 0.1])
    logits = np.tile(np.log(probs), (20000, 1))
    draws = sample_next(logits, np.random.default_rng(0))
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, probs, atol=0.015)


@pytest.mark.parametrize("kwargs", [dict(temperature=-1), dict(top_k=0), dict(top_p=0.0), dict(top_p=1.5)])
def test_bad_sampling_settings_are_rejected(kwargs):
    with pytest.raises(ValueError):
        sample_next(np.zeros((1, 3)), np.random.default_rng(0), **kwargs)


def test_cached_generation_equals_recompute_with_the_same_seed():
    model = GPT(TINY, seed=2)
    prompts = [[1, 2, 3], [4, 5, 6]]
    kwargs = dict(temperature=1.0, top_k=5)
    cached = list(generate(model, prompts, 6, rng=np.random.default_rng(7), **kwargs))
    recomputed = list(generate(model, prompts, 6, rng=np.random.default_rng(7), use_cache=False, **kwargs))
    np.testing.assert_array_equal(np.stack(cached), np.stack(recomputed))


def test_a_batch_of_different_length_prompts_equals_one_at_a_time():
    model = GPT(TINY, seed=2)
    prompts = [[1], [2, 3, 4, 5], [6, 7]]
    batch = np.stack(list(generate(model, prompts, 5, temperature=0.0)), axis=1)
    for row, prompt in zip(batch, prompts):
        alone = np.stack(list(generate(model, [prompt], 5, temperature=0.0)), axis=1)[0]
        np.testing.assert_array_equal(row, alone)


def test_generation_stops_when_the_context_is_full_unless_sliding():
    model = GPT(TINY, seed=2)
    assert len(list(generate(model, [[1] * 10], 50, temperature=0.0))) == 2  # 10 + 2 = n_positions
    assert len(list(generate(model, [[1] * 10], 50, temperature=0.0, sliding_window=True))) == 50
    with pytest.raises(ValueError, match="more than the model's context"):
        next(generate(model, [[1] * 13], 5))
    with pytest.raises(ValueError, match="at least one token"):
        next(generate(model, [[]], 5))


def test_generation_restores_training_mode():
    model = GPT(TINY).train()
    list(generate(model, [[1]], 2))
    assert model.training
