"""RegexTokenizer: training, special tokens, round trips, save/load and malformed model files."""

from __future__ import annotations

import pytest
from bpe import GPT2_SPLIT_PATTERN, RegexTokenizer
from conftest import random_text

SPECIALS = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258}


@pytest.fixture(scope="module")
def trained() -> RegexTokenizer:
    from shared.data import DataError, read_text

    try:
        text = read_text("taylorswift.txt")[:40000]
    except DataError:  # no data files: random words still give hundreds of merges
        from shared.seeding import make_rng

        rng = make_rng(0)
        words = ["".join(rng.choice(list("abcdefghij"), size=int(rng.integers(2, 8)))) for _ in range(3000)]
        text = " ".join(words) + " ¿Qué tal? 你好世界 🙂🏽 1234567"
    tokenizer = RegexTokenizer()
    tokenizer.train(text, 256 + 200)
    return tokenizer


def test_aaabdaaabac_with_three_merges():
    tokenizer = RegexTokenizer()
    tokenizer.train("aaabdaaabac", 256 + 3)
    assert tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99]


def test_merges_never_cross_chunk_boundaries():
    tokenizer = RegexTokenizer()
    tokenizer.train("ab ab ab ab", 256 + 2)
    # chunks are 'ab' and ' ab': 'b ' never becomes a token
    assert all(b"b " not in token for token in tokenizer.vocab.values())


def test_gpt2_pattern_is_available():
    assert RegexTokenizer("gpt2").pattern == GPT2_SPLIT_PATTERN
    assert RegexTokenizer(GPT2_SPLIT_PATTERN).compiled_pattern.findall("I'm here  now") == [
        "I",
        "'m",
        " here",
        " ",
        " now",
    ]


def test_round_trip_on_thousands_of_random_strings(trained, rng):
    for _ in range(3000):
        text = random_text(rng)
        assert trained.decode(trained.encode(text)) == text


def test_lone_surrogates_become_replacement_characters(trained):
    assert trained.decode(trained.encode("a\ud800b")) == "a\ufffdb"
    assert trained.decode(trained.encode("\ud83d\ude00")) == "😀"  # a surrogate pair is joined


def test_special_tokens_semantics(trained):
    tokenizer = RegexTokenizer()
    tokenizer.merges, tokenizer.vocab = dict(trained.merges), dict(trained.vocab)
    tokenizer.register_special_tokens(SPECIALS)
    text = "hello<|endoftext|>world<|fim_prefix|>"
    with pytest.raises(ValueError, match="special token"):
        tokenizer.encode(text)  # default none_raise
    ids = tokenizer.encode(text, allowed_special="all")
    assert 100257 in ids and ids[-1] == 100258
    assert tokenizer.decode(ids) == text
    as_text = tokenizer.encode(text, allowed_special="none")
    assert 100257 not in as_text and tokenizer.decode(as_text) == text
    partly = tokenizer.encode(text, allowed_special={"<|endoftext|>"})
    assert 100257 in partly and 100258 not in partly
    with pytest.raises(ValueError, match="not registered"):
        tokenizer.encode(text, allowed_special={"<|nope|>"})
    with pytest.raises(ValueError, match="allowed_special"):
        tokenizer.encode(text, allowed_special="some")


def test_register_special_tokens_rejects_colliding_ids(trained):
    tokenizer = RegexTokenizer()
    tokenizer.merges, tokenizer.vocab = dict(trained.merges), dict(trained.vocab)
    with pytest.raises(ValueError, match="id must be"):
        tokenizer.register_special_tokens({"<|x|>": 300})
    tokenizer.register_special_tokens({"<|x|>": 1000})
    with pytest.raises(ValueError, match="already used"):
        tokenizer.register_special_tokens({"<|y|>": 1000})


@pytest.mark.parametrize("specials", [{}, SPECIALS])
def test_save_load_round_trip(trained, tmp_path, rng, specials):
    tokenizer = RegexTokenizer()
    tokenizer.merges, tokenizer.vocab = dict(trained.merges), dict(trained.vocab)
    tokenizer.register_special_tokens(specials)
    model, vocab = tokenizer.save(tmp_path / "regex")
    assert model.name == "regex.model" and vocab.name == "regex.vocab"
    loaded = RegexTokenizer().load(model)
    assert loaded.pattern == tokenizer.pattern
    assert loaded.merges == tokenizer.merges
    assert loaded.special_tokens == tokenizer.special_tokens
    assert loaded.vocab == tokenizer.vocab
    for _ in range(200):
        text = random_text(rng) + "<|endoftext|>"
        assert loaded.encode(text, allowed_special="all") == tokenizer.encode(text, allowed_special="all")


def test_vocab_file_shows_merges_readably(trained, tmp_path):
    _, vocab = trained.save(tmp_path / "t")
    lines = vocab.read_text(encoding="utf-8").splitlines()
    assert lines[10] == "[\\u000a] 10"  # control characters are escaped
    assert " -> " in lines[256] and lines[256].endswith(" 256")


@pytest.mark.parametrize(
    "content, message",
    [
        ("hello\n", "not a tokenizer model"),
        ("minbpe v1\n\\s+\nx\n", "number of special tokens"),
        ("minbpe v1\n\\s+\n2\n<|a|> 300\n", "too short"),
        ("minbpe v1\n\\s+\n0\n97 98\n97\n", "expected two ids"),
        ("minbpe v1\n\\s+\n0\n97 400\n", "do not exist yet"),
        ("minbpe v1\n\\s+\n0\n97 98\n97 98\n", "repeated"),
        ("minbpe v1\n\\s+\n1\n<|a|>\n97 98\n", "expected 'token id'"),
        ("minbpe v1\n\\s+\n1\n<|a|> 200\n97 98\n", "id must be"),
        ("minbpe v1\n(unclosed\n0\n", "not a valid regex"),
    ],
)
def test_load_rejects_malformed_model_files(tmp_path, content, message):
    path = tmp_path / "bad.model"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        RegexTokenizer().load(path, allow_pattern=True)  # the custom pattern \s+ is allowed: the error is elsewhere


def test_load_wants_the_model_file_not_the_vocab_file(tmp_path):
    with pytest.raises(ValueError, match=r"\.model"):
        RegexTokenizer().load(tmp_path / "x.vocab")
    with pytest.raises(FileNotFoundError):
        RegexTokenizer().load(tmp_path / "missing.model")


def test_bad_pattern_and_bad_text_are_clear_errors():
    with pytest.raises(ValueError, match="pattern"):
        RegexTokenizer("")
    with pytest.raises(TypeError, match="str"):
        RegexTokenizer().train(b"bytes", 300)
