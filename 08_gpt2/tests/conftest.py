"""Shared fixtures: the released GPT-2 vocabulary files (skip cleanly when they are absent)."""

import pytest

from shared.data import read_bytes
from shared.testing import data_or_skip

__all__ = ["data_or_skip"]


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    from gpt2.tokenizer import GPT2Tokenizer

    encoder = read_bytes(data_or_skip("gpt2/encoder.json")).decode("utf-8")
    merges = read_bytes(data_or_skip("gpt2/vocab.bpe")).decode("utf-8")
    return GPT2Tokenizer.from_files(encoder, merges)
