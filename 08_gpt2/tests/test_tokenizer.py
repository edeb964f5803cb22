"""GPT-2's byte-level BPE (against known ids and invariants) and the character tokenizer."""

import pytest
from gpt2.tokenizer import CharTokenizer, GPT2Tokenizer, bytes_to_unicode, load_tokenizer


def test_bytes_to_unicode_is_a_printable_bijection():
    table = bytes_to_unicode()
    assert len(table) == 256 and len(set(table.values())) == 256
    assert table[ord("A")] == "A" and table[ord(" ")] == "Ġ"  # space becomes 'Ġ' (U+0120)
    assert all(not c.isspace() for c in table.values())


def test_known_encodings(gpt2_tokenizer):
    assert gpt2_tokenizer.encode("Hello world") == [15496, 995]
    assert gpt2_tokenizer.encode("<|endoftext|>", allow_eot=True) == [50256]
    assert gpt2_tokenizer.eot_id == 50256 and gpt2_tokenizer.vocab_size == 50257
    assert len(gpt2_tokenizer.encode("<|endoftext|>")) > 1  # plain text unless allowed


@pytest.mark.parametrize("text", ["", "hello  world\n\n", "naïve café 🙂 日本語", "I'll've 12345 $$$ \t end "])
def test_decode_inverts_encode(gpt2_tokenizer, text):
    assert gpt2_tokenizer.decode(gpt2_tokenizer.encode(text)) == text


def test_decode_rejects_ids_outside_the_vocabulary(gpt2_tokenizer):
    with pytest.raises(ValueError, match="not in the GPT-2 vocabulary"):
        gpt2_tokenizer.decode([50257])


def test_a_token_can_hold_part_of_a_character(gpt2_tokenizer):
    ids = gpt2_tokenizer.encode("🙂")
    assert len(ids) > 1 and b"".join(gpt2_tokenizer.decode_bytes([i]) for i in ids) == "🙂".encode()


def test_malformed_vocabulary_files_are_rejected():
    with pytest.raises(ValueError, match="not valid JSON"):
        GPT2Tokenizer.from_files("{", "#version: 0.2\n")
    with pytest.raises(ValueError, match="not a merge"):
        GPT2Tokenizer.from_files('{"<|endoftext|>": 0}', "#version: 0.2\na b c\n")
    with pytest.raises(ValueError, match=r"no <\|endoftext\|>"):
        GPT2Tokenizer.from_files('{"a": 0}', "#version: 0.2\n")


def test_char_tokenizer_round_trip_and_unknown_characters():
    tok = CharTokenizer.from_text("hello world")
    assert tok.vocab_size == 8 and tok.chars[0] == " "
    assert tok.decode(tok.encode("hold")) == "hold"
    with pytest.raises(ValueError, match="not in the model's vocabulary: 'z'"):
        tok.encode("zoo")
    assert load_tokenizer(tok.to_dict()).chars == tok.chars
    with pytest.raises(ValueError, match="unknown tokenizer"):
        load_tokenizer({"type": "sentencepiece"})
