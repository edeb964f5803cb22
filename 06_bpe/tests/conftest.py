"""Shared fixtures: real data files (skipped when absent) and seeded random Unicode text."""

from __future__ import annotations

import numpy as np
import pytest

from shared.data import read_bytes, read_text
from shared.seeding import make_rng
from shared.testing import data_or_skip

# Code point ranges that make hard text: ASCII, Latin-1, combining marks, Greek/Cyrillic, CJK, Hangul,
# emoji and their modifiers/joiners, private use, and the whole range (surrogates excluded).
RANGES = [
    (0x20, 0x7E),
    (0x00, 0x1F),
    (0xA0, 0xFF),
    (0x300, 0x36F),
    (0x370, 0x4FF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0x1F300, 0x1FAFF),
    (0x1F3FB, 0x1F3FF),
    (0x200B, 0x200D),
    (0xE000, 0xF8FF),
    (0x0, 0x10FFFF),
]


def random_text(rng: np.random.Generator, max_len: int = 40) -> str:
    """A random string mixing the ranges above with spaces, newlines, digits and apostrophes."""
    out = []
    for _ in range(int(rng.integers(0, max_len + 1))):
        choice = rng.random()
        if choice < 0.15:
            out.append(str(rng.choice([" ", "  ", "\n", "\r\n", "\t", "'s", "'LL", "123"])))
            continue
        low, high = RANGES[int(rng.integers(len(RANGES)))]
        code = int(rng.integers(low, high + 1))
        if 0xD800 <= code <= 0xDFFF:
            code = 0xFFFD  # a lone surrogate cannot be UTF-8 encoded; tested separately
        out.append(chr(code))
    return "".join(out)


@pytest.fixture
def rng() -> np.random.Generator:
    return make_rng(0)


def _data(name: str):
    return data_or_skip(name)  # skips with "data file ..." when absent, which shared's pytest plugin counts


@pytest.fixture(scope="session")
def taylorswift() -> str:
    _data("taylorswift.txt")
    return read_text("taylorswift.txt")


@pytest.fixture(scope="session")
def shakespeare() -> str:
    _data("tinyshakespeare.txt")
    return read_text("tinyshakespeare.txt")


@pytest.fixture(scope="session")
def gpt2():
    from bpe import GPT2Tokenizer

    return GPT2Tokenizer.from_files(read_bytes(_data("gpt2/vocab.bpe")), read_bytes(_data("gpt2/encoder.json")))


@pytest.fixture(scope="session")
def gpt4():
    from bpe import GPT4Tokenizer

    return GPT4Tokenizer.from_file(read_bytes(_data("gpt4/cl100k_base.tiktoken")))  # the file may be gzipped
