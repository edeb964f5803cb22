import pytest
from transformer.bleu import corpus_bleu


def test_identical_corpus_scores_100():
    refs = ["A man is riding a bike.", "Two dogs play in the snow."]
    assert corpus_bleu(refs, refs) == pytest.approx(100.0)


def test_no_overlap_scores_0():
    assert corpus_bleu(["xyz qqq"], ["A man is riding a bike."]) == 0.0


def test_punctuation_is_split_like_13a():
    assert corpus_bleu(["A man , riding ."], ["A man, riding."]) == pytest.approx(100.0)


def test_short_hypothesis_gets_brevity_penalty():
    assert corpus_bleu(["a b c d"], ["a b c d e f g h"]) < corpus_bleu(["a b c d e f g h"], ["a b c d e f g h"])


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="references"):
        corpus_bleu(["a"], ["a", "b"])
