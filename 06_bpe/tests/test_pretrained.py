"""GPT-2 and GPT-4 tokenizers from OpenAI's files: known ids, special tokens, errors (no oracle needed)."""

from __future__ import annotations

import json

import pytest
from bpe import GPT2Tokenizer, GPT4Tokenizer, bytes_to_unicode
from conftest import random_text


def test_bytes_to_unicode_is_a_bijection_onto_printable_characters():
    mapping = bytes_to_unicode()
    assert len(set(mapping.values())) == 256
    assert mapping[ord("A")] == "A" and mapping[ord(" ")] == "Ġ" and mapping[ord("\n")] == "Ċ"
    assert all(ch.isprintable() and not ch.isspace() for ch in mapping.values())


def test_known_ids(gpt2, gpt4):
    assert gpt2.encode("hello world") == [31373, 995]
    assert gpt4.encode("hello world") == [15339, 1917]
    assert gpt2.n_vocab == 50257 and gpt4.n_vocab == 100277
    assert gpt2.eot_token == 50256 and gpt4.eot_token == 100257


def test_special_token_semantics_follow_tiktoken(gpt2, gpt4):
    for enc, eot in ((gpt2, 50256), (gpt4, 100257)):
        text = "a<|endoftext|>b"
        with pytest.raises(ValueError, match="disallowed special token"):
            enc.encode(text)
        assert enc.encode(text, allowed_special="all") == [*enc.encode("a"), eot, *enc.encode("b")]
        assert enc.encode(text, allowed_special={"<|endoftext|>"}) == enc.encode(text, allowed_special="all")
        as_text = enc.encode(text, disallowed_special=())
        assert eot not in as_text and enc.decode(as_text) == text
        assert enc.encode_ordinary(text) == as_text
        assert enc.decode([eot]) == "<|endoftext|>"
    assert gpt2.encode("<|endoftext|>", disallowed_special=()) == [27, 91, 437, 1659, 5239, 91, 29]
    # only the listed tokens are disallowed
    assert 100258 not in gpt4.encode("<|fim_prefix|>", disallowed_special={"<|endoftext|>"})
    with pytest.raises(ValueError, match="fim_prefix"):
        gpt4.encode("x <|fim_prefix|> <|endoftext|>", allowed_special={"<|endoftext|>"})
    with pytest.raises(ValueError, match="does not have"):
        gpt2.encode("x", allowed_special={"<|fim_prefix|>"})


def test_unknown_ids_are_a_clear_error(gpt2, gpt4):
    with pytest.raises(ValueError, match="token id 50257 at position 1"):
        gpt2.decode([31373, 50257])
    with pytest.raises(ValueError, match="token id 100261"):
        gpt4.decode_bytes([100261])  # an unused id between the special tokens
    with pytest.raises(ValueError, match="-1"):
        gpt4.decode([-1])


def test_decode_errors_argument(gpt2, gpt4):
    for enc in (gpt2, gpt4):
        half = enc.ranks[b"\xc3"]  # the first byte of a two-byte character
        assert enc.decode_bytes([half]) == b"\xc3"
        assert enc.decode([half]) == "\ufffd"
        with pytest.raises(UnicodeDecodeError):
            enc.decode([half], errors="strict")


def test_round_trip_on_random_unicode(gpt2, gpt4, rng):
    for _ in range(2000):
        text = random_text(rng)
        assert gpt2.decode(gpt2.encode_ordinary(text)) == text
        assert gpt4.decode(gpt4.encode_ordinary(text)) == text


def test_lone_surrogates_are_replaced_like_tiktoken(gpt2):
    assert gpt2.decode(gpt2.encode("a\udc00b")) == "a\ufffdb"


def test_mismatched_gpt2_files_are_rejected(tmp_path):
    from shared.data import read_bytes
    from shared.testing import data_or_skip

    vocab_bpe, encoder_json = read_bytes(data_or_skip("gpt2/vocab.bpe")), read_bytes(data_or_skip("gpt2/encoder.json"))
    encoder = json.loads(encoder_json)
    encoder["Ġthe"], encoder["Ġa"] = encoder["Ġa"], encoder["Ġthe"]
    swapped = tmp_path / "encoder.json"
    swapped.write_text(json.dumps(encoder), encoding="utf-8")
    with pytest.raises(ValueError, match="does not match"):
        GPT2Tokenizer.from_files(vocab_bpe, swapped)
    bad_bpe = tmp_path / "vocab.bpe"
    bad_bpe.write_text("#version: 0.2\nĠ t h\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        GPT2Tokenizer.from_files(bad_bpe, encoder_json)
    not_json = tmp_path / "x.json"
    not_json.write_text("{oops", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        GPT2Tokenizer.from_files(vocab_bpe, not_json)
    with pytest.raises(FileNotFoundError):
        GPT2Tokenizer.from_files(tmp_path / "missing.bpe", encoder_json)


def test_corrupt_tiktoken_file_is_rejected(tmp_path):
    path = tmp_path / "bad.tiktoken"
    path.write_bytes(b"IQ== 0\nnot-base64!! 1\n")
    with pytest.raises(ValueError, match="line 2"):
        GPT4Tokenizer.from_file(path)
    path.write_bytes(b"IQ== 0\n")
    with pytest.raises(ValueError, match="256 single bytes"):
        GPT4Tokenizer.from_file(path)


def test_fast_heap_merge_equals_the_plain_loop(gpt2, gpt4, rng):
    pieces = [b" " * 300, b"\n" * 100 + b"x", b"7" * 200, "é".encode() * 80, bytes(range(256))]
    for _ in range(150):
        pieces.append(bytes(rng.integers(0, 256, size=int(rng.integers(2, 200))).astype("uint8")))
        pieces.append(random_text(rng, 150).encode("utf-8"))
        pieces.append(bytes(rng.choice(list(b"ab "), size=int(rng.integers(2, 200)))))
    for enc in (gpt2, gpt4):
        for piece in pieces:
            assert enc._bpe_fast(piece) == enc._bpe_loop(piece)
