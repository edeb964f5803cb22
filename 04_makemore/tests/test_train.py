import numpy as np
import pytest
from makemore.__main__ import main
from makemore.data import split_names
from makemore.models import build_model
from makemore.train import (
    RECIPES,
    Recipe,
    evaluate,
    load_checkpoint,
    make_datasets,
    sample_names,
    save_checkpoint,
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
    path = save_checkpoint(tmp_path / "model.npz", model)
    loaded = load_checkpoint(path)
    model.eval()
    loaded.eval()
    X = data["dev"][0][:10]
    np.testing.assert_array_equal(model.forward(X), loaded.forward(X))
    assert sample_names(model, 5, rng=2) == sample_names(loaded, 5, rng=2)


def test_bad_checkpoints_are_rejected_clearly(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable"):
        load_checkpoint(junk)
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="no 'meta'"):
        load_checkpoint(tmp_path / "other.npz")
    path = save_checkpoint(tmp_path / "m.npz", build_model("mlp", rng=0))
    with np.load(path) as f:
        arrays = dict(f)
    arrays["param.net.2.weight"] = np.zeros((3, 3), np.float32)
    np.savez(tmp_path / "bad_shape.npz", **arrays)
    with pytest.raises(ValueError, match="shape"):
        load_checkpoint(tmp_path / "bad_shape.npz")
    del arrays["param.net.2.weight"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(ValueError, match="missing"):
        load_checkpoint(tmp_path / "missing.npz")


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
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train_model(model, data, Recipe(max_steps=200, lr=1e38), rng=0)


def test_cli_trains_samples_and_writes_results(tmp_path, toy_names, capsys):
    names_file = tmp_path / "names.txt"
    names_file.write_text("\n".join(toy_names))
    out = tmp_path / "run"
    args = [
        "--model",
        "mlp-bn",
        "--max-steps",
        "30",
        "--eval-every",
        "30",
        "--data",
        str(names_file),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    import json

    results = json.loads((out / "results.json").read_text())
    assert {"train_loss", "dev_loss", "test_loss", "command", "seconds", "seed"} <= set(results)
    assert len(results["samples"]) == 20
    for png in ("loss.png", "activations.png", "update_ratios.png", "embedding.png"):
        assert (out / png).is_file()
    capsys.readouterr()
    assert main(["--sample-only", str(out / "model.npz"), "--num-samples", "3"]) == 0
    assert len(capsys.readouterr().out.split()) <= 3


def test_cli_seeds_trains_once_per_seed_like_train(tmp_path, toy_names):
    import json

    names_file = tmp_path / "names.txt"
    names_file.write_text("\n".join(toy_names))
    common = ["--model", "mlp", "--max-steps", "20", "--data", str(names_file)]
    assert main(["seeds", *common, "--seeds", "3", "5", "--out", str(tmp_path / "s")]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert set(results["runs"]) == {"3", "5"}
    dev = [run["dev_loss"] for run in results["runs"].values()]
    assert results["summary"]["dev_loss"]["mean"] == pytest.approx(np.mean(dev))
    assert main(["train", *common, "--seed", "5", "--num-samples", "1", "--out", str(tmp_path / "t")]) == 0
    single = json.loads((tmp_path / "t" / "results.json").read_text())
    assert single["dev_loss"] == results["runs"]["5"]["dev_loss"]  # the same run, seed for seed
    assert main(["seeds", "--model", "bigram-count", "--data", str(names_file), "--out", str(tmp_path / "b")]) == 2


def test_cli_bigram_models_and_repro_only(tmp_path, toy_names):
    names_file = tmp_path / "names.txt"
    names_file.write_text("\n".join(toy_names))
    assert main(["repro", "--only", "bigram-count", "--data", str(names_file), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "bigram-count" / "counts.png").is_file()
    assert (
        main(["--model", "bigram-nn", "--max-steps", "5", "--data", str(names_file), "--out", str(tmp_path / "n")]) == 0
    )
    assert main(["--sample-only", str(tmp_path / "n" / "model.npz")]) == 0


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "names.txt"
    bad.write_text("emma\nJosé\n")
    assert main(["--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "line 2" in capsys.readouterr().err
    assert main(["--sample-only", str(tmp_path / "missing.npz")]) == 2
    assert main(["--sample-only", str(bad)]) == 2  # a text file, not a checkpoint
    assert "not a readable .npz" in capsys.readouterr().err
    np.savez(tmp_path / "bigram.npz", meta=np.array('{"format": "makemore-bigram-v1"}'), P=np.ones((27, 27)))
    assert main(["--sample-only", str(tmp_path / "bigram.npz")]) == 2  # rows do not sum to 1
    with pytest.raises(SystemExit):
        main(["--lr", "-0.1"])
    with pytest.raises(SystemExit):
        main(["--model", "transformer"])
