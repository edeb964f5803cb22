import os

# One BLAS thread: on a shared, oversubscribed machine a multi-threaded OpenBLAS spins
# waiting for descheduled threads, and tiny float64 matmuls gain nothing from threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from transformer.model import Transformer, TransformerConfig


def tiny_config(**overrides) -> TransformerConfig:
    values = dict(
        src_vocab_size=11,
        tgt_vocab_size=11,
        n_layers=2,
        d_model=8,
        n_heads=2,
        d_ff=12,
        dropout=0.0,
        max_len=32,
        dtype="float64",
    )
    values.update(overrides)
    return TransformerConfig(**values)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def tiny_model():
    return Transformer(tiny_config(), seed=1)


def padded_batch(rng, vocab=11, shape=(2, 5), pad_from=None):
    """Random ids in [4, vocab) with padding (id 0) from position pad_from[row] on."""
    ids = rng.integers(4, vocab, shape)
    for row, start in enumerate(pad_from or []):
        ids[row, start:] = 0
    return ids
