"""BasicTokenizer: the minbpe example, the vectorised encoding tied to the readable one, round trips."""

from __future__ import annotations

import numpy as np
import pytest
from bpe import BasicTokenizer
from bpe.base import apply_merges, merge
from bpe.basic import apply_merges_fast
from conftest import random_text


def test_aaabdaaabac_with_three_merges():
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 256 + 3)
    assert tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tokenizer.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"


def test_apply_merges_fast_equals_one_merge_at_a_time(rng):
    merges = {(1, 1): 256, (256, 1): 257, (2, 256): 258, (257, 257): 259}
    for _ in range(200):
        ids = rng.integers(1, 3, size=int(rng.integers(0, 30))).tolist()
        expected = ids
        for pair, new_id in merges.items():
            expected = merge(expected, pair, new_id)
        assert apply_merges_fast(np.array(ids), merges).tolist() == expected


def test_apply_merges_fast_equals_the_readable_apply_merges(rng, taylorswift):
    tokenizer = BasicTokenizer()
    tokenizer.train(taylorswift[:20000], 256 + 120)
    for _ in range(100):
        ids = list(random_text(rng, 80).encode("utf-8")) + list(rng.choice(list(b"ab "), size=30))
        assert apply_merges_fast(np.array(ids), tokenizer.merges).tolist() == apply_merges(ids, tokenizer.merges)
    ids = list(taylorswift[:5000].encode("utf-8"))
    assert apply_merges_fast(np.array(ids), tokenizer.merges).tolist() == apply_merges(ids, tokenizer.merges)


def test_apply_merges_merges_the_lowest_ranked_pair_first():
    merges = {(97, 97): 256, (256, 97): 257, (98, 256): 258}
    assert apply_merges(list(b"aaab"), merges) == [257, 98]  # (a, a) first, then (aa, a)
    assert apply_merges(list(b"baa"), merges) == [258]
    assert apply_merges(list(b"x"), merges) == [120] and apply_merges([], merges) == []


def test_apply_merges_fast_equals_apply_merges_without_data_files(rng):
    tokenizer = BasicTokenizer()
    tokenizer.train("".join(rng.choice(list("aab c"), size=3000)), 256 + 60)
    for _ in range(100):
        ids = list(random_text(rng, 40).encode("utf-8")) + list(rng.choice(list(b"aab c"), size=60))
        assert apply_merges_fast(np.array(ids), tokenizer.merges).tolist() == apply_merges(ids, tokenizer.merges)


def test_round_trip_on_random_unicode(rng, taylorswift):
    tokenizer = BasicTokenizer()
    tokenizer.train(taylorswift[:30000], 256 + 100)
    for _ in range(2000):
        text = random_text(rng)
        assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.decode(tokenizer.encode(taylorswift)) == taylorswift


@pytest.mark.parametrize("specials", [{}, {"<|endoftext|>": 1000}])
def test_save_load_round_trip(tmp_path, specials):
    tokenizer = BasicTokenizer()
    tokenizer.train("hello hello world, hello there", 256 + 10)
    tokenizer.register_special_tokens(specials)
    model, vocab = tokenizer.save(tmp_path / "basic")
    assert vocab.read_text(encoding="utf-8").count("\n") == 266 + len(specials)
    loaded = BasicTokenizer().load(model)
    assert loaded.merges == tokenizer.merges and loaded.vocab == tokenizer.vocab
    assert loaded.special_tokens == specials
    text = "hello world<|endoftext|>hello"
    assert loaded.encode(text, allowed_special="all") == tokenizer.encode(text, allowed_special="all")


def test_special_tokens_in_the_basic_tokenizer():
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 256 + 3)
    tokenizer.register_special_tokens({"<|endoftext|>": 300})
    with pytest.raises(ValueError, match="special token"):
        tokenizer.encode("aaab<|endoftext|>")
    assert tokenizer.encode("aaab<|endoftext|>aaab", allowed_special="all") == [258, 300, 258]
    assert tokenizer.decode([258, 300, 258]) == "aaab<|endoftext|>aaab"


def test_bad_vocab_size_and_bad_ids_are_clear_errors():
    tokenizer = BasicTokenizer()
    with pytest.raises(ValueError, match="vocab_size"):
        tokenizer.train("abc", 100)
    with pytest.raises(ValueError, match="token id 300"):
        tokenizer.decode([97, 300])
    with pytest.raises(TypeError, match="str"):
        tokenizer.encode(b"abc")


def test_too_short_text_warns_and_keeps_what_it_learned():
    tokenizer = BasicTokenizer()
    with pytest.warns(UserWarning, match="only allows"):
        tokenizer.train("abab", 256 + 10)
    assert tokenizer.vocab_size < 266


def test_basic_model_rejects_a_pattern(tmp_path):
    path = tmp_path / "x.model"
    path.write_text("minbpe v1\n\\s+\n0\n")
    with pytest.raises(ValueError, match="no split pattern"):
        BasicTokenizer().load(path)
