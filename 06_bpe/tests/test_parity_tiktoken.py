"""Token-for-token parity of our GPT-2 and GPT-4 tokenizers with tiktoken's `gpt2` and `cl100k_base`.

tiktoken runs offline: a temporary TIKTOKEN_CACHE_DIR holds copies of the data files under the
names tiktoken looks for (sha1 of the download URL), see shared/data/MANIFEST.md.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from conftest import random_text

from shared.data import read_bytes
from shared.seeding import make_rng
from shared.testing import data_or_skip, oracle

pytestmark = pytest.mark.parity

URLS = {
    "gpt2/vocab.bpe": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "gpt2/encoder.json": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
    "gpt4/cl100k_base.tiktoken": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

HARD_CASES = [
    "",
    "hello world",
    " " * 50 + "x" + " " * 300,
    "a\n\n\n\n  \n\t\t  b    \n",
    "   \n",
    "line one\r\nline two\r\n\r\n  \r\n",
    "\r\r\n\n\r",
    "I'm you're he's she'd we'll they've it'S I'M YOU'RE WE'LL THEY'VE HE'D can't 'tis ''s",
    "don’t won't O'Neil's",
    "1 12 123 1234 12345 123456789012345678901234567890 3.14159 1,000,000 ٣٤٥ ①②③",
    "你好，世界！日本語のテキスト。한국어 텍스트입니다.",
    "👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇫🇷 🙂🙃😀 ✌🏿",
    "e\u0301 a\u0308\u0304 Z\u0351\u0352\u0357\u035b\u0346\u033d ṩ̈ q\u0323\u0307",
    "a\ud800b \udfff \ud83d\ude00",
    "<|endoftext|> <|fim_prefix|>x<|fim_middle|>y<|fim_suffix|><|endofprompt|>",
    "<|endoftext",
    "\x00\x01\x1c\x1d\x1e\x1f\x7f\x85\xa0\u2028\u2029\u3000\ufeff",
    '??!!...,,, ;;; ---- ==== **** //// \\\\ """',
    "def f(x):\n    return x ** 2  # comment\n\n\n",
    "ЁЖЗ Ελληνικά العربية עברית हिन्दी ไทย",
]


@pytest.fixture(scope="module")
def tiktoken_encodings(tmp_path_factory):
    tiktoken = oracle("tiktoken")
    cache = tmp_path_factory.mktemp("tiktoken_cache")
    for name, url in URLS.items():  # tiktoken wants the plain file; ours may be gzipped
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(read_bytes(data_or_skip(name)))
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        yield {"gpt2": tiktoken.get_encoding("gpt2"), "cl100k_base": tiktoken.get_encoding("cl100k_base")}
    finally:
        if old is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old


@pytest.fixture(scope="module", params=["gpt2", "cl100k_base"])
def pair(request, tiktoken_encodings, gpt2, gpt4):
    ours = gpt2 if request.param == "gpt2" else gpt4
    return ours, tiktoken_encodings[request.param]


def test_vocabularies_are_identical(pair):
    ours, ref = pair
    assert ours.n_vocab == ref.n_vocab
    assert ours.eot_token == ref.eot_token
    assert ours.special_tokens == ref._special_tokens
    assert ours.pattern == ref._pat_str
    assert ours.ranks == ref._mergeable_ranks


def test_data_files_encode_identically(pair, taylorswift, shakespeare):
    ours, ref = pair
    for text in (taylorswift, shakespeare):
        ids = ours.encode(text)
        assert ids == ref.encode(text)
        assert ours.decode(ids) == ref.decode(ids) == text


@pytest.mark.parametrize("case", range(len(HARD_CASES)))
def test_hard_cases_encode_identically(pair, case):
    ours, ref = pair
    text = HARD_CASES[case]
    assert ours.encode_ordinary(text) == ref.encode_ordinary(text)
    assert ours.encode(text, allowed_special="all") == ref.encode(text, allowed_special="all")
    assert ours.encode(text, disallowed_special=()) == ref.encode(text, disallowed_special=())
    try:
        expected = ref.encode(text)
    except ValueError:
        with pytest.raises(ValueError, match="disallowed special token"):
            ours.encode(text)
    else:
        assert ours.encode(text) == expected
    ids = ref.encode_ordinary(text)
    assert ours.decode_bytes(ids) == ref.decode_bytes(ids)
    assert ours.decode(ids) == ref.decode(ids)


def test_long_whitespace_and_digit_runs(pair):
    ours, ref = pair
    for text in (" " * 1500, " " * 20000, "\n" * 700 + "x", "\t \n" * 300, "7" * 1000, "ab" + " " * 999 + "cd"):
        assert ours.encode(text) == ref.encode(text)


def test_random_unicode_encodes_identically(pair):
    ours, ref = pair
    rng = make_rng(1234)
    for _ in range(1500):
        text = random_text(rng, 60)
        assert ours.encode_ordinary(text) == ref.encode_ordinary(text), repr(text)


def test_random_token_sequences_decode_identically(pair):
    ours, ref = pair
    rng = make_rng(7)
    for _ in range(300):
        ids = rng.integers(0, len(ours.ranks), size=int(rng.integers(1, 20))).tolist()
        assert ours.decode_bytes(ids) == ref.decode_bytes(ids)
        assert ours.decode(ids) == ref.decode(ids)


def test_code_points_newer_than_tiktokens_unicode_tables_split_like_tiktoken(pair):
    # The installed `regex` may know letters and numbers that tiktoken's tables do not (U+0558, U+32D6E...):
    # every such code point, next to letters, digits and an apostrophe, must give tiktoken's ids.
    from bpe.regex_tokenizer import NEWER_THAN_TIKTOKEN

    ours, ref = pair
    for low, high in NEWER_THAN_TIKTOKEN:
        for code in range(low, high + 1):
            text = f"{chr(code)}'s"
            assert ours.encode_ordinary(text) == ref.encode_ordinary(text), hex(code)
        for code in {low, (low + high) // 2, high}:
            for text in (f"a{chr(code)}b", f" {chr(code)}{chr(code)}1", f"12{chr(code)}34's", f"x {chr(code)}\n"):
                assert ours.encode_ordinary(text) == ref.encode_ordinary(text), hex(code)


def test_letters_and_numbers_of_every_plane_split_like_tiktoken(pair):
    # one code point in 97 of the whole range (surrogates aside), each between a letter and an apostrophe
    ours, ref = pair
    for code in range(0, 0x110000, 97):
        if 0xD800 <= code <= 0xDFFF:
            continue
        text = f"a{chr(code)}'s"
        assert ours.encode_ordinary(text) == ref.encode_ordinary(text), hex(code)
