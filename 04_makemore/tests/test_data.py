import numpy as np
import pytest
from makemore.data import (
    VOCAB_SIZE,
    build_dataset,
    build_sequences,
    decode,
    encode,
    load_names,
    parse_names,
    split_names,
)


def loop_dataset(names, block_size):
    """Lecture 2's loop, the definition the vectorized builder must match."""
    X, Y = [], []
    for name in names:
        context = [0] * block_size
        for ch in name + ".":
            ix = 0 if ch == "." else ord(ch) - ord("a") + 1
            X.append(context)
            Y.append(ix)
            context = [*context[1:], ix]
    return np.array(X).reshape(-1, block_size), np.array(Y)


def test_vocabulary_has_27_characters_with_dot_first():
    assert VOCAB_SIZE == 27
    assert list(encode("az")) == [1, 26]
    assert decode([5, 13, 13, 1, 0, 3]) == "emma"


@pytest.mark.parametrize("block_size", [1, 3, 8])
def test_vectorized_context_windows_match_the_lecture_loop(toy_names, block_size):
    X, Y = build_dataset(toy_names, block_size)
    Xl, Yl = loop_dataset(toy_names, block_size)
    np.testing.assert_array_equal(X, Xl)
    np.testing.assert_array_equal(Y, Yl)


def test_split_is_80_10_10_and_seeded(toy_names):
    a, b = split_names(toy_names, seed=42), split_names(toy_names, seed=42)
    assert (len(a.train), len(a.dev), len(a.test)) == (240, 30, 30)
    assert a.train == b.train and a.dev == b.dev
    assert split_names(toy_names, seed=1).train != a.train
    assert sorted(a.train + a.dev + a.test) == sorted(toy_names)


def test_split_is_the_lectures_python_random_shuffle(toy_names):
    import random

    words = list(toy_names)
    random.seed(42)  # the lecture notebooks' two lines
    random.shuffle(words)
    split = split_names(toy_names, seed=42)
    assert split.train + split.dev + split.test == words


def test_sequences_shift_inputs_and_mask_padding():
    X, Y = build_sequences(["ab"], 5)
    np.testing.assert_array_equal(X, [[0, 1, 2, 0, 0]])
    np.testing.assert_array_equal(Y, [[1, 2, 0, -1, -1]])
    with pytest.raises(ValueError, match="too short"):
        build_sequences(["abcdef"], 4)


def test_names_outside_the_vocabulary_are_rejected_with_the_line_number():
    with pytest.raises(ValueError, match=r"line 2: 'Zoe'"):
        parse_names("emma\nZoe\n")
    with pytest.raises(ValueError, match="line 1"):
        parse_names("jean-luc\n")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        parse_names("zoë\n")
    with pytest.raises(ValueError, match="no names"):
        parse_names("\n\n")
    assert parse_names(" emma \n\nava\n") == ["emma", "ava"]


def test_load_names_from_a_file_and_clear_errors(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("emma\nolivia\n")
    assert load_names(path) == ["emma", "olivia"]
    with pytest.raises(FileNotFoundError):
        load_names(tmp_path / "missing.txt")
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="UTF-8"):
        load_names(path)


def test_bad_block_size_is_rejected():
    with pytest.raises(ValueError, match="block_size"):
        build_dataset(["emma"], 0)


def test_real_names_file_has_32033_names():
    from shared.testing import data_or_skip

    data_or_skip("names.txt")  # skips (counted as missing data) without it
    names = load_names()
    assert len(names) == 32033
    X, _ = build_dataset(names, 3)
    assert X.shape == (228146, 3)
    # the lectures' split sizes: Xtr (182625, 3), Xdev (22655, 3), Xte (22866, 3)
    split = split_names(names)
    assert [len(build_dataset(split[part], 3)[0]) for part in ("train", "dev", "test")] == [182625, 22655, 22866]
