import numpy as np
import pytest
from makemore.checkpoint import load_model, save_model
from makemore.data import split_names
from makemore.models import build_model
from makemore.train import (
    RECIPES,
    Recipe,
    evaluate,
    make_datasets,
    sample_names,
    train_model,
    with_overrides,
)


@pytest.mark.parametrize("name", ["mlp-bn", "wavenet", "gru"])
def test_short_training_lowers_dev_loss(toy_names, name):
    split = split_names(toy_names)
    model = build_model(name, rng=0)
    data = make_datasets(split, model.config)
    before = evaluate(model, *data["dev"])
    recipe = with_overrides(RECIPES[name], max_steps=150, eval_every=150)
    if name == "gru":
        recipe = with_overrides(recipe, lr=0.01)
    train_model(model, data, recipe, rng=0)
    assert evaluate(model, *data["dev"]) < before - 0.3


def test_sampling_with_a_fixed_seed_is_reproducible():
    model = build_model("wavenet", rng=0)
    a = sample_names(model, 8, rng=5)
    assert a == sample_names(model, 8, rng=5)
    assert a != sample_names(model, 8, rng=6)
    assert all(set(name) <= set("abcdefghijklmnopqrstuvwxyz") for name in a)
    rnn = build_model("gru", rng=0)
    assert sample_names(rnn, 4, rng=1) == sample_names(rnn, 4, rng=1)


@pytest.mark.parametrize("name", ["mlp-bn", "rnn"])
def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, toy_names, name):
    model = build_model(name, rng=0)
    data = make_datasets(split_names(toy_names), model.config)
    train_model(model, data, with_overrides(RECIPES[name], max_steps=20, eval_every=20), rng=0)
    path = save_model(tmp_path / "model.npz", model)
    loaded = load_model(path)
    model.eval()
    loaded.eval()
    X = data["dev"][0][:10]
    np.testing.assert_array_equal(model.forward(X), loaded.forward(X))
    assert sample_names(model, 5, rng=2) == sample_names(loaded, 5, rng=2)


def test_bad_checkpoints_are_rejected_clearly(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable"):
        load_model(junk)
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="no 'meta'"):
        load_model(tmp_path / "other.npz")
    path = save_model(tmp_path / "m.npz", build_model("mlp", rng=0))
    with np.load(path) as f:
        arrays = dict(f)
    arrays["param.net.2.weight"] = np.zeros((3, 3), np.float32)
    np.savez(tmp_path / "bad_shape.npz", **arrays)
    with pytest.raises(ValueError, match="shape"):
        load_model(tmp_path / "bad_shape.npz")
    del arrays["param.net.2.weight"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(ValueError, match="missing"):
        load_model(tmp_path / "missing.npz")


def test_recipe_rejects_bad_hyperparameters(toy_names):
    model = build_model("mlp", rng=0)
    data = make_datasets(split_names(toy_names), model.config)
    for bad in (Recipe(lr=-1.0), Recipe(batch_size=1), Recipe(max_steps=0), Recipe(optimizer="lbfgs")):
        with pytest.raises(ValueError):
            train_model(model, data, bad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the weights overflow on purpose
def test_diverging_training_stops_with_a_clear_error(toy_names):
    model = build_model("mlp", rng=0)
    data = make_datasets(split_names(toy_names), model.config)
    with pytest.raises(ValueError, match=r"diverged.*lower the learning rate"):
        train_model(model, data, Recipe(max_steps=200, lr=1e38), rng=0)
