"""Exact parity of our GPT-2 BPE with tiktoken's "gpt2" encoding, offline.

tiktoken looks for its files in TIKTOKEN_CACHE_DIR under the SHA-1 of their URLs; the fixture
puts copies of the released files there so no download is attempted.
"""

import shutil

import pytest
from conftest import data_or_skip

from shared.data import read_text
from shared.testing import oracle

pytestmark = pytest.mark.parity

CACHE_NAMES = {
    "gpt2/vocab.bpe": "6d1cbeee0f20b3d9449abfede4726ed8212e3aee",
    "gpt2/encoder.json": "6c7ea1a7e38e3a7f062df639a5b80947f075ffe6",
}


@pytest.fixture(scope="module")
def tiktoken_gpt2(tmp_path_factory):
    cache = tmp_path_factory.mktemp("tiktoken_cache")
    for name, cached in CACHE_NAMES.items():
        shutil.copy(data_or_skip(name), cache / cached)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        tiktoken = oracle("tiktoken")
        yield tiktoken.get_encoding("gpt2")


@pytest.mark.parametrize("name", ["taylorswift.txt", "tinyshakespeare.txt"])
def test_encoding_equals_tiktoken_on_real_text(gpt2_tokenizer, tiktoken_gpt2, name):
    data_or_skip(name)
    text = read_text(name)
    ids = gpt2_tokenizer.encode(text)
    assert ids == tiktoken_gpt2.encode_ordinary(text)
    assert gpt2_tokenizer.decode(ids) == text


@pytest.mark.parametrize("text", ["hello <|endoftext|> world", "<|endoftext|>a<|endoftext|>", "  \n\t x  y\r\n"])
def test_special_token_handling_equals_tiktoken(gpt2_tokenizer, tiktoken_gpt2, text):
    assert gpt2_tokenizer.encode(text, allow_eot=True) == tiktoken_gpt2.encode(text, allowed_special="all")
    assert gpt2_tokenizer.encode(text) == tiktoken_gpt2.encode_ordinary(text)


def test_every_letter_and_number_code_point_splits_as_tiktoken(gpt2_tokenizer, tiktoken_gpt2):
    """`regex` may follow a newer Unicode than tiktoken; "c's" shows whether c is a letter/number to each."""
    import regex

    letter_or_number = regex.compile(r"[\p{L}\p{N}]")
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and letter_or_number.match(chr(c))]
    texts = [c + "'s" for c in points] + ["a" + c + "1" for c in points[::50]]
    theirs = tiktoken_gpt2.encode_ordinary_batch(texts)
    wrong = [text for text, ids in zip(texts, theirs) if gpt2_tokenizer.encode(text) != ids]
    assert not wrong, f"{len(wrong)} differ, e.g. {[hex(ord(t[0])) for t in wrong[:5]]}"


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\ud83d\ude00 x", "\ud83d<|endoftext|>\ude00"])
def test_lone_surrogates_equal_tiktoken(gpt2_tokenizer, tiktoken_gpt2, text):
    assert gpt2_tokenizer.encode(text) == tiktoken_gpt2.encode_ordinary(text)
    assert gpt2_tokenizer.encode(text, allow_eot=True) == tiktoken_gpt2.encode(text, allowed_special="all")
