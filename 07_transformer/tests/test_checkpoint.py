"""Checkpoints: the round trip, and files that are missing, corrupt, crafted or inconsistent."""

import json

import numpy as np
import pytest
from helpers import tiny_config
from transformer.checkpoint import CheckpointError, checked_config, load_model, read_checkpoint, save_checkpoint, vocabs
from transformer.data import Vocab
from transformer.model import Transformer
from transformer.optim import Adam

from shared.checkpoint import load, save


def test_checkpoint_round_trip_restores_weights_config_and_vocabularies(tmp_path):
    model = Transformer(tiny_config(), seed=4)
    vocab = Vocab.build([["hund", "katze", "hund", "katze"]], 1)
    path = save_checkpoint(
        tmp_path / "c.npz", model, 7, Adam(model.named_parameters()), vocab, vocab, {"train_loss": [1.0, 0.5]}
    )
    loaded, arrays, meta = load_model(path)
    assert loaded.cfg == model.cfg and meta["step"] == 7
    for name, value in model.named_parameters().items():
        np.testing.assert_array_equal(loaded.named_parameters()[name], value)
    assert vocabs(arrays)[1].words == vocab.words
    with np.load(path, allow_pickle=False) as data:  # no pickled objects inside
        assert "meta" in data.files


def rewrite(tmp_path, source, name, arrays=None, **meta_changes):
    """A copy of checkpoint `source` with its arrays and meta changed: what a careless or hostile user can make."""
    stored, meta = load(source)
    stored.update(arrays or {})
    config = {**meta["config"], **meta_changes.pop("config", {})}
    return save(tmp_path / name, stored, {**meta, "config": config, **meta_changes})


def test_missing_and_corrupt_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nope.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_model(tmp_path / "bad.npz")
    np.savez(tmp_path / "old.npz", x=np.zeros(3))
    with pytest.raises(CheckpointError, match="no 'meta' entry"):
        load_model(tmp_path / "old.npz")


def test_a_config_claiming_more_layers_than_the_file_holds_is_refused_before_building(tmp_path):
    """The issue's case: n_layers=100000 in a small file once allocated 24 GB."""
    path = save_checkpoint(tmp_path / "c.npz", Transformer(tiny_config()), 1)
    with pytest.raises(CheckpointError, match=r"describes .* parameters but the file holds"):
        load_model(rewrite(tmp_path, path, "layers.npz", config={"n_layers": 64}))
    with pytest.raises(ValueError, match=r"n_layers in .* must be an integer from 1 to 64, got 100000"):
        load_model(rewrite(tmp_path, path, "huge.npz", config={"n_layers": 100000}))


@pytest.mark.parametrize(
    "config, message",
    [
        ({"d_model": 10**9}, "d_model"),
        ({"max_len": 10**7}, "max_len"),
        ({"n_layers": 2.0}, "n_layers"),
        ({"n_layers": True}, "n_layers"),
        ({"dropout": 1.5}, "dropout"),
        ({"d_model": "8"}, "d_model"),
    ],
)
def test_stored_config_values_are_checked(tmp_path, config, message):
    path = save_checkpoint(tmp_path / "c.npz", Transformer(tiny_config()), 1)
    with pytest.raises(ValueError, match=message):
        load_model(rewrite(tmp_path, path, "bad.npz", config=config))


def test_a_nan_in_a_stored_config_is_refused(tmp_path):
    """shared.checkpoint never writes NaN, and refuses it in a crafted file's JSON; the config check refuses it too."""
    path = save_checkpoint(tmp_path / "c.npz", Transformer(tiny_config()), 1)
    arrays, meta = load(path)
    text = json.dumps({**meta, "config": {**meta["config"], "dropout": float("nan")}})
    assert "NaN" in text
    np.savez(tmp_path / "nan.npz", **arrays, meta=np.array(text))
    with pytest.raises(ValueError, match=r"nan\.npz 'meta' holds NaN"):
        load_model(tmp_path / "nan.npz")
    with pytest.raises(ValueError, match=r"dropout in c\.npz must be a finite number"):
        checked_config({**meta["config"], "dropout": float("nan")}, "c.npz")


def test_a_negative_or_non_integer_step_is_refused(tmp_path):
    """The issue's case: step=-100 resumed at step -45."""
    path = save_checkpoint(tmp_path / "c.npz", Transformer(tiny_config()), 1)
    for step in (-100, 2.5, "3"):
        with pytest.raises(ValueError, match="step"):
            read_checkpoint(rewrite(tmp_path, path, "step.npz", step=step))


def test_non_finite_weights_are_neither_saved_nor_loaded(tmp_path):
    model = Transformer(tiny_config())
    good = save_checkpoint(tmp_path / "c.npz", model, 1)
    before = good.read_bytes()
    model.src_embed.E[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        save_checkpoint(good, model, 2)
    assert good.read_bytes() == before  # the good checkpoint survives
    arrays, _ = load(good)
    arrays["model.src_embed.E"] = arrays["model.src_embed.E"].copy()
    arrays["model.src_embed.E"][1, 1] = np.inf
    with pytest.raises(CheckpointError, match="not a finite"):
        load_model(rewrite(tmp_path, good, "inf.npz", arrays=arrays))


def test_mismatched_shapes_and_vocabularies_are_clear_errors(tmp_path):
    vocab = Vocab.build([["a", "b"]], 1)
    cfg = tiny_config(src_vocab_size=len(vocab), tgt_vocab_size=len(vocab))
    path = save_checkpoint(tmp_path / "c.npz", Transformer(cfg), 1, None, vocab, vocab)
    arrays, _ = load(path)
    swapped = {"model.src_embed.E": arrays["model.src_embed.E"].reshape(-1, 2)[: cfg.src_vocab_size * 4]}
    with pytest.raises(CheckpointError):
        load_model(rewrite(tmp_path, path, "shape.npz", arrays=swapped))
    _, arrays, _ = load_model(path)
    arrays["src_vocab"] = np.array(["<pad>", "<bos>", "<eos>", "<unk>"])
    with pytest.raises(CheckpointError, match="src_vocab has 4 words but its model expects 6"):
        vocabs(arrays, cfg)
