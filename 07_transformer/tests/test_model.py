import numpy as np
import pytest
from helpers import padded_batch, tiny_config
from transformer.loss import label_smoothed_cross_entropy
from transformer.model import CONFIGS, Transformer, TransformerConfig, count_parameters_formula, padding_mask

from shared.gradcheck import gradcheck


@pytest.mark.parametrize(
    "pre_ln, share, n_layers", [(False, True, 2), (False, False, 1), (True, True, 1), (True, False, 1)]
)
def test_whole_model_gradients_match_finite_differences(rng, pre_ln, share, n_layers):
    """Every parameter of a whole tiny model (two layers deep in the paper's setting: stacking is tested too)."""
    cfg = tiny_config(pre_ln=pre_ln, share_embeddings=share, tgt_vocab_size=11 if share else 9, n_layers=n_layers)
    model = Transformer(cfg, seed=1)
    src = padded_batch(rng, 11, (2, 5), [5, 3])
    tgt_in = padded_batch(rng, cfg.tgt_vocab_size, (2, 4))
    tgt_out = padded_batch(rng, cfg.tgt_vocab_size, (2, 4), [4, 2])

    def loss():
        return label_smoothed_cross_entropy(model.forward(src, tgt_in)[0], tgt_out, 0.1)[0]

    model.zero_grad()
    logits, cache = model.forward(src, tgt_in)
    model.backward(label_smoothed_cross_entropy(logits, tgt_out, 0.1)[1], cache)
    gradcheck(loss, model.named_parameters(), model.named_gradients(), tolerance=1e-5).assert_ok()


def test_parameter_count_matches_the_formula():
    for pre_ln in (False, True):
        for share in (True, False):
            cfg = TransformerConfig(
                src_vocab_size=50,
                tgt_vocab_size=50 if share else 40,
                n_layers=2,
                d_model=16,
                n_heads=4,
                d_ff=24,
                pre_ln=pre_ln,
                share_embeddings=share,
            )
            assert Transformer(cfg).num_parameters() == count_parameters_formula(cfg)


def test_base_config_has_about_65_million_parameters_with_a_37k_shared_vocabulary():
    cfg = TransformerConfig(src_vocab_size=37000, tgt_vocab_size=37000, **CONFIGS["base"])
    count = count_parameters_formula(cfg)
    assert 60e6 < count < 66e6  # Table 3 reports 65M for base


def test_padding_does_not_change_the_encoding_of_real_tokens(rng):
    model = Transformer(tiny_config(), seed=1)
    src = padded_batch(rng, 11, (1, 4))
    padded = np.concatenate([src, np.zeros((1, 3), dtype=src.dtype)], axis=1)
    a, _ = model.encode(src)
    b, _ = model.encode(padded)
    np.testing.assert_allclose(a, b[:, :4], atol=1e-12)


def test_cached_decoder_step_equals_uncached_decoder(rng):
    for pre_ln in (False, True):
        model = Transformer(tiny_config(pre_ln=pre_ln), seed=2)
        src = padded_batch(rng, 11, (3, 6), [6, 4, 2])
        prefix = np.concatenate([np.ones((3, 1), dtype=np.int64), padded_batch(rng, 11, (3, 4))], axis=1)
        memory, _ = model.encode(src)
        mask = padding_mask(src)
        caches = model.start_decoding(memory)
        for t in range(prefix.shape[1]):
            cached, _ = model.decode_step(prefix[:, t], t, caches, mask)
            full = model.decode_full(prefix[:, : t + 1], memory, mask)
            np.testing.assert_allclose(cached, full, atol=1e-10)


def test_source_longer_than_the_positional_table_is_a_clear_error(rng):
    model = Transformer(tiny_config(max_len=8))
    with pytest.raises(ValueError, match="positional-encoding table"):
        model.encode(padded_batch(rng, 11, (1, 9)))


@pytest.mark.parametrize(
    "src, message",
    [
        (np.array([1, 2, 3]), "2-D integer array"),
        (np.array([[1.0, 2.0]]), "2-D integer array"),
        (np.array([[4, 11]]), "outside"),
    ],
)
def test_bad_source_ids_are_clear_errors(src, message):
    with pytest.raises(ValueError, match=message):
        Transformer(tiny_config()).encode(src)


def test_mismatched_batch_sizes_are_a_clear_error(rng):
    with pytest.raises(ValueError, match="batch sizes"):
        Transformer(tiny_config()).forward(padded_batch(rng, 11, (2, 3)), padded_batch(rng, 11, (3, 3)))


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(d_model=10, n_heads=3), "divisible"),
        (dict(dropout=1.0), "dropout"),
        (dict(n_layers=0), "n_layers"),
        (dict(tgt_vocab_size=9), "share_embeddings"),
        (dict(dtype="float16"), "dtype"),
    ],
)
def test_bad_hyperparameters_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_dropout_makes_training_forward_random_and_eval_forward_deterministic(rng):
    model = Transformer(tiny_config(dropout=0.3), seed=0)
    src, tgt = padded_batch(rng, 11, (2, 4)), padded_batch(rng, 11, (2, 4))
    a, _ = model.forward(src, tgt, np.random.default_rng(1))
    b, _ = model.forward(src, tgt, np.random.default_rng(2))
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(model.forward(src, tgt)[0], model.forward(src, tgt)[0])
