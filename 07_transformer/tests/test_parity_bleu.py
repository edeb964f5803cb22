"""Our corpus BLEU against sacreBLEU's default (13a tokenization, exp smoothing)."""

import numpy as np
import pytest
from transformer.bleu import corpus_bleu

from shared.testing import oracle

pytestmark = pytest.mark.parity

WORDS = [
    "a",
    "A",
    "man",
    "dog",
    "is",
    "running",
    "in",
    "the",
    "park",
    ",",
    ".",
    "!",
    "(",
    ")",
    "3.5",
    "1,000",
    "T-shirt",
    "don't",
    "&",
    '"',
    "5-year-old",
    "-",
    "red",
    "blue",
    "on",
    "grass",
]


def random_sentence(rng, low=1, high=18):
    return " ".join(rng.choice(WORDS, rng.integers(low, high)))


@pytest.mark.parametrize("seed", range(5))
def test_corpus_bleu_equals_sacrebleu_on_generated_pairs(seed):
    sacrebleu = oracle("sacrebleu")
    rng = np.random.default_rng(seed)
    refs = [random_sentence(rng) for _ in range(60)]
    # hypotheses: noisy copies of the references, so every n-gram order has matches
    hyps = []
    for ref in refs:
        words = ref.split()
        keep = [w for w in words if rng.random() > 0.3]
        if rng.random() < 0.5:
            keep.insert(int(rng.integers(0, len(keep) + 1)), str(rng.choice(WORDS)))
        hyps.append(" ".join(keep))
    expected = sacrebleu.corpus_bleu(hyps, [refs]).score
    assert corpus_bleu(hyps, refs) == pytest.approx(expected, abs=1e-9)


def test_smoothing_and_zero_cases_equal_sacrebleu():
    sacrebleu = oracle("sacrebleu")
    cases = [
        (["a man"], ["a dog runs"]),  # no bigram match: exp smoothing
        (["the dog is running"], ["the dog is running in the park"]),  # brevity penalty
        (["x"], ["y"]),  # nothing matches
        (["a"], ["a"]),  # no bigrams at all
        (["", "a man runs"], ["a b", "a man runs"]),  # an empty hypothesis
    ]
    for hyps, refs in cases:
        assert corpus_bleu(hyps, refs) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=1e-9)
