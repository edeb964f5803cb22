"""Small builders shared by the tests (tiny float64 models, padded id batches)."""

from transformer.model import TransformerConfig


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


def padded_batch(rng, vocab=11, shape=(2, 5), pad_from=None):
    """Random ids in [4, vocab) with padding (id 0) from position pad_from[row] on."""
    ids = rng.integers(4, vocab, shape)
    for row, start in enumerate(pad_from or []):
        ids[row, start:] = 0
    return ids
