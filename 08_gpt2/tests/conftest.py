"""Shared fixtures: the released GPT-2 vocabulary files (skip cleanly when they are absent)."""

import pytest

from shared.data import DataError, fetch, read_bytes


def data_or_skip(name: str):
    """Local path of a registered data file, or skip the test (never download during tests)."""
    try:
        return fetch(name, download=False)
    except DataError as error:
        pytest.skip(f"data file {name} not available: {str(error).splitlines()[0]}")


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    from gpt2.tokenizer import GPT2Tokenizer

    encoder = read_bytes(data_or_skip("gpt2/encoder.json")).decode("utf-8")
    merges = read_bytes(data_or_skip("gpt2/vocab.bpe")).decode("utf-8")
    return GPT2Tokenizer.from_files(encoder, merges)
