"""Sennrich BPE: the toy example by hand, codes files, segmentation and bad input."""

from __future__ import annotations

import io

import pytest
from bpe.sennrich import BPE, count_words, learn_bpe, paper_algorithm_1, read_codes, write_codes

TOY_LINES = ["low " * 5, "lower " * 2, "newest " * 6, "widest " * 3]
# Worked out by hand: (e, s) and (s, t</w>) both occur 9 times; the larger pair (s, t</w>) wins.
TOY_MERGES = [
    ("s", "t</w>"),
    ("e", "st</w>"),
    ("l", "o"),
    ("w", "est</w>"),
    ("n", "e"),
    ("ne", "west</w>"),
    ("lo", "w</w>"),
    ("w", "i"),
    ("wi", "d"),
    ("wid", "est</w>"),
]


def test_paper_algorithm_1_reproduces_the_papers_toy_merges():
    vocab = {"l o w </w>": 5, "l o w e r </w>": 2, "n e w e s t </w>": 6, "w i d e s t </w>": 3}
    merges = paper_algorithm_1(vocab, 10)
    assert merges[:4] == [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o")]
    assert merges[4:9] == [("lo", "w"), ("n", "e"), ("ne", "w"), ("new", "est</w>"), ("low", "</w>")]


def test_learn_bpe_toy_example_glues_end_of_word_and_breaks_ties_by_largest_pair():
    assert learn_bpe(TOY_LINES, 10) == TOY_MERGES


def test_learn_bpe_stops_when_best_pair_is_below_min_frequency():
    assert learn_bpe(["ab ab cd"], 10) == [("a", "b</w>")]  # (c, d</w>) occurs once < 2
    assert learn_bpe(["ab ab cd"], 10, min_frequency=1) == [("a", "b</w>"), ("c", "d</w>")]
    assert learn_bpe(["ab ab cd"], 10, min_frequency=3) == []


def test_learn_bpe_accepts_a_string_and_splits_only_on_spaces():
    assert count_words(["a  b\tc", "b \r\n"]) == {"a": 1, "b\tc": 1, "b": 1}
    assert learn_bpe("xy xy\nxy", 1) == [("x", "y</w>")]


def test_learn_bpe_merges_overlapping_runs_left_to_right():
    # 'a a a a</w>' has (a, a) twice per word; merging it left to right gives 'aa a a</w>'
    assert learn_bpe(["aaaa aaaa"], 2) == [("a", "a"), ("aa", "a")]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_learn_bpe_rejects_bad_num_symbols(bad):
    with pytest.raises(ValueError, match="num_symbols"):
        learn_bpe(TOY_LINES, bad)


def test_learn_bpe_rejects_min_frequency_below_one():
    with pytest.raises(ValueError, match="min_frequency"):
        learn_bpe(TOY_LINES, 10, min_frequency=0)


def test_codes_file_round_trip(tmp_path):
    path = tmp_path / "codes"
    write_codes(TOY_MERGES, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#version: 0.2\ns t</w>\n")
    assert read_codes(path) == ((0, 2), TOY_MERGES)
    assert read_codes(io.StringIO("#version: 0.2\n")) == ((0, 2), [])


@pytest.mark.parametrize(
    "content, message",
    [
        ("#version: 0.2\na b c\n", "line 2"),
        ("#version: 0.2\na b\nab\n", "line 3"),
        ("#version: 9.1\na b\n", "not supported"),
        ("#version: x\na b\n", "bad version"),
    ],
)
def test_read_codes_rejects_malformed_files(content, message):
    with pytest.raises(ValueError, match=message):
        read_codes(io.StringIO(content))


def test_write_codes_rejects_symbols_with_spaces():
    with pytest.raises(ValueError, match="merge 0"):
        write_codes([("a b", "c")], io.StringIO())


def test_segmentation_of_the_toy_words():
    bpe = BPE(TOY_MERGES)
    assert bpe.process_line("lower newest\n") == "lo@@ w@@ e@@ r newest\n"
    assert bpe.process_line("  widest  lowest \n") == "  widest lo@@ west \n"
    assert bpe.process_line("\n") == "\n"
    assert bpe.process_line("x") == "x"
    assert BPE(TOY_MERGES, separator="##").segment("lower") == "lo## w## e## r"


def test_segmentation_with_fewer_merges_and_from_a_codes_file(tmp_path):
    path = tmp_path / "codes"
    write_codes(TOY_MERGES, path)
    assert BPE(path, merges=3).segment("newest") == "n@@ e@@ w@@ est"
    assert BPE(path).segment("newest") == "newest"


def test_version_0_1_codes_use_a_separate_end_of_word_symbol():
    bpe = BPE(io.StringIO("l o\nlo w\nlow </w>\n"))
    assert bpe.version == (0, 1)
    assert bpe.segment("low lower") == "low low@@ e@@ r"


def test_duplicate_merges_keep_their_first_rank():
    bpe = BPE([("a", "b"), ("b", "c"), ("a", "b")])
    assert bpe.ranks[("a", "b")] == 0


def test_bpe_rejects_bad_arguments():
    with pytest.raises(ValueError, match="merges"):
        BPE(TOY_MERGES, merges=-2)
    with pytest.raises(ValueError, match="separator"):
        BPE(TOY_MERGES, separator="")
    with pytest.raises(ValueError, match="pair"):
        BPE([("a", "b", "c")])
