"""The incremental trainer must learn exactly the merges of the recount trainer (same tie rule)."""

from __future__ import annotations

from collections import Counter

import pytest
import regex
from bpe.base import get_stats, merge
from bpe.regex_tokenizer import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN
from bpe.training import count_chunks, train_incremental, train_recount
from conftest import random_text


def chunked(text: str, pattern: str | None) -> Counter:
    if pattern is None:
        return Counter({text.encode("utf-8"): 1}) if text else Counter()
    return count_chunks(chunk.encode("utf-8") for chunk in regex.findall(pattern, text))


def test_merge_replaces_left_to_right_without_overlap():
    assert merge([1, 1, 1, 2, 1, 1], (1, 1), 9) == [9, 1, 2, 9]
    assert merge([1, 1, 1, 1], (1, 1), 9) == [9, 9]
    assert merge(["lo", "w</w>", "x"], ("lo", "w</w>"), "low</w>") == ["low</w>", "x"]


def test_get_stats_counts_overlapping_pairs_with_weights():
    assert get_stats([1, 1, 1]) == {(1, 1): 2}
    assert get_stats([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert get_stats([1, 2], {(1, 2): 1}, weight=5) == {(1, 2): 6}


def test_ties_go_to_the_smallest_pair():
    # every pair occurs once: (97, 98) 'ab' is the smallest
    assert train_recount({b"cdab": 1}, 1) == [(97, 98)]
    assert train_incremental({b"cdab": 1}, 1) == [(97, 98)]


@pytest.mark.parametrize(
    "text",
    [
        "aaabdaaabac",
        "aaaaaaaaaa bbbbbbb aaaa",  # long runs: overlapping pairs
        "abababab cdcdcd abcabcabc",
        "the cat sat on the mat; the mat sat on the cat. " * 5,
    ],
)
@pytest.mark.parametrize("pattern", [None, GPT4_SPLIT_PATTERN, GPT2_SPLIT_PATTERN])
def test_incremental_matches_recount_on_small_texts(text, pattern):
    chunks = chunked(text, pattern)
    assert train_incremental(chunks, 40) == train_recount(chunks, 40)


@pytest.mark.parametrize("seed", range(6))
def test_incremental_matches_recount_on_random_texts(seed):
    from shared.seeding import make_rng

    rng = make_rng(seed)
    # a small alphabet makes many ties and long runs; random Unicode makes multi-byte chunks
    small = "".join(rng.choice(list("ab c\n"), size=400))
    text = small + random_text(rng, 200)
    for pattern in (None, GPT4_SPLIT_PATTERN):
        chunks = chunked(text, pattern)
        assert train_incremental(chunks, 120) == train_recount(chunks, 120)


def test_incremental_matches_recount_on_real_text(taylorswift):
    chunks = chunked(taylorswift[:20000], GPT4_SPLIT_PATTERN)
    assert train_incremental(chunks, 200) == train_recount(chunks, 200)


def test_training_stops_when_nothing_is_left_to_merge():
    assert train_incremental({b"ab": 3}, 5) == [(97, 98)]
    assert train_recount({b"ab": 3}, 5) == [(97, 98)]
    assert train_incremental({}, 5) == []


def test_callback_reports_counts_and_live_tokens():
    seen = []
    train_incremental({b"aab": 2, b"ab": 1}, 2, callback=lambda *args: seen.append(args))
    # (a, b) occurs 3 times -> 256; then (a, 256) twice -> 257; tokens left: 2*1 + 1*1
    assert seen == [(0, (97, 98), 256, 3, 5), (1, (97, 256), 257, 2, 3)]


@pytest.mark.parametrize("trainer", [train_incremental, train_recount])
def test_trainers_reject_bad_input(trainer):
    with pytest.raises(ValueError, match="num_merges"):
        trainer({b"ab": 1}, -1)
    with pytest.raises(TypeError, match="bytes"):
        trainer({"ab": 1}, 1)
    with pytest.raises(ValueError, match="positive"):
        trainer({b"ab": 0}, 1)
