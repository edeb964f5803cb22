import numpy as np
import pytest
from helpers import tiny_config
from transformer.checkpoint import CheckpointError, load_model, save_checkpoint, vocabs
from transformer.data import Vocab
from transformer.model import Transformer
from transformer.optim import Adam


def test_checkpoint_round_trip_restores_weights_config_and_vocabularies(tmp_path):
    model = Transformer(tiny_config(), seed=4)
    vocab = Vocab.build([["hund", "katze", "hund", "katze"]], 1)
    path = save_checkpoint(
        tmp_path / "c.npz", model, 7, Adam(model.named_parameters()), vocab, vocab, {"train_loss": [1.0, 0.5]}
    )
    loaded, arrays = load_model(path)
    assert loaded.cfg == model.cfg and int(arrays["step"]) == 7
    for name, value in model.named_parameters().items():
        np.testing.assert_array_equal(loaded.named_parameters()[name], value)
    assert vocabs(arrays)[1].words == vocab.words
    with np.load(path, allow_pickle=False) as data:  # no pickled objects inside
        assert "config_json" in data.files


def test_missing_corrupt_and_mismatched_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nope.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_model(tmp_path / "bad.npz")
    model = Transformer(tiny_config(), seed=4)
    path = save_checkpoint(tmp_path / "c.npz", model, 1)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["model.src_embed.E"] = arrays["model.src_embed.E"][:5]
    np.savez(tmp_path / "mismatch.npz", **arrays)
    with pytest.raises(CheckpointError, match="shape"):
        load_model(tmp_path / "mismatch.npz")
