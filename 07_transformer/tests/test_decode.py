import numpy as np
import pytest
from helpers import padded_batch, tiny_config
from transformer.decode import beam_search, greedy, length_penalty
from transformer.model import EOS_ID, Transformer


@pytest.fixture
def model():
    return Transformer(tiny_config(d_model=16, n_heads=4, d_ff=32, dtype="float32"), seed=3)


def test_beam_search_with_beam_1_equals_greedy(model, rng):
    src = padded_batch(rng, 11, (4, 6), [6, 5, 3, 2])
    assert beam_search(model, src, beam=1, max_extra=8) == greedy(model, src, max_extra=8)


def test_cached_greedy_equals_uncached_greedy(model, rng):
    src = padded_batch(rng, 11, (3, 5), [5, 4, 2])
    assert greedy(model, src, max_extra=7, use_cache=True) == greedy(model, src, max_extra=7, use_cache=False)


def test_output_length_is_capped_at_source_length_plus_extra(model, rng):
    src = padded_batch(rng, 11, (2, 5), [5, 2])
    for hyp, limit in zip(greedy(model, src, max_extra=3), [8, 5]):
        assert len(hyp) <= limit
    for hyp, limit in zip(beam_search(model, src, beam=3, max_extra=3), [8, 5]):
        assert len(hyp) <= limit


def test_beam_search_finds_a_sequence_at_least_as_likely_as_greedy(model, rng):
    """With alpha = 0 (no length penalty) beam 4 must score >= greedy under the model."""
    src = padded_batch(rng, 11, (3, 5))

    def log_prob(sentence_src, hyp):
        tokens = [1, *hyp, EOS_ID]
        logits, _ = model.forward(sentence_src[None], np.array([tokens[:-1]]))
        logp = logits[0] - np.log(np.exp(logits[0]).sum(-1, keepdims=True))
        return float(logp[np.arange(len(tokens) - 1), tokens[1:]].sum())

    greedy_hyps = greedy(model, src, max_extra=4)
    beam_hyps = beam_search(model, src, beam=4, alpha=0.0, max_extra=4)
    for s, g, b in zip(src, greedy_hyps, beam_hyps):
        if len(g) < len(s) + 4 and len(b) < len(s) + 4:  # both ended with <eos>
            assert log_prob(s, b) >= log_prob(s, g) - 1e-4


def test_length_penalty_is_gnmt_formula():
    assert length_penalty(1, 0.6) == pytest.approx(1.0)
    assert length_penalty(10, 0.6) == pytest.approx((15 / 6) ** 0.6)


def test_beam_must_be_positive(model, rng):
    with pytest.raises(ValueError, match="beam"):
        beam_search(model, padded_batch(rng, 11, (1, 3)), beam=0)
