import numpy as np
import pytest
from transformer.data import Vocab, detokenize, make_batches, make_copy_data, pad_batch, tokenize
from transformer.model import EOS_ID, UNK_ID

from shared.testing import data_or_skip


def test_tokenize_splits_punctuation_like_13a():
    assert tokenize("Two young, White males are outside.") == [
        "Two",
        "young",
        ",",
        "White",
        "males",
        "are",
        "outside",
        ".",
    ]
    assert tokenize("It costs 3.50 dollars") == ["It", "costs", "3.50", "dollars"]


def test_detokenize_inverts_tokenize_on_ordinary_text():
    for line in ["Two young, White males are outside near many bushes.", "A man (in red) jumps!"]:
        assert detokenize(tokenize(line)) == line


def test_vocab_keeps_frequent_words_and_maps_the_rest_to_unk():
    vocab = Vocab.build([["a", "b", "a"], ["a", "c", "b"]], min_freq=2)
    assert vocab.words[4:] == ["a", "b"]
    assert vocab.encode(["a", "c"]) == [4, UNK_ID, EOS_ID]
    assert vocab.decode([4, 5, EOS_ID, 4]) == ["a", "b"]


def test_vocab_rejects_bad_input():
    with pytest.raises(ValueError, match="start with"):
        Vocab(["a", "b"])
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        Vocab.build([["a"]], 1).decode([99])


def test_batches_cover_every_pair_once_within_the_token_budget(rng):
    src = [[1] * n for n in rng.integers(1, 20, 200)]
    tgt = [[1] * n for n in rng.integers(1, 20, 200)]
    batches = make_batches(src, tgt, 100, rng)
    assert sorted(np.concatenate(batches).tolist()) == list(range(200))
    for batch in batches:
        longest = max(max(len(src[i]), len(tgt[i])) for i in batch)
        assert longest * len(batch) <= 100 or len(batch) == 1


def test_batches_need_paired_data():
    with pytest.raises(ValueError, match="pair up"):
        make_batches([[1]], [[1], [2]], 10)


def test_pad_batch_right_pads_with_zero():
    np.testing.assert_array_equal(pad_batch([[5, 6], [7]]), [[5, 6], [7, 0]])


def test_copy_data_uses_symbols_after_the_specials(rng):
    data = np.array(make_copy_data(50, 10, 11, rng))
    assert data.min() >= 3 and data.max() <= 10


def test_multi30k_loads_with_aligned_lines():
    data_or_skip("multi30k/val.de")
    data_or_skip("multi30k/val.en")
    from transformer.train import load_multi30k

    de, en = load_multi30k("val")
    assert len(de) == len(en) == 1014
    assert np.mean([len(s.split()) for s in en]) > 5
