"""The command line, on small generated data (mlp.__main__.load is replaced)."""

import json

import mlp.__main__ as cli
import numpy as np
import pytest
from mlp.train import TrainConfig


def fake_load(dataset, split, limit=None):
    """A few hundred random 'images' whose class is readable from a few pixels."""
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = 300 if split == "train" else 100
    y = rng.integers(0, 10, n)
    X = rng.standard_normal((n, 784)).astype(np.float32) * 0.1
    X[np.arange(n), y] += 3.0
    return (X[:limit], y[:limit]) if limit else (X, y)


@pytest.fixture(autouse=True)
def small_data(monkeypatch):
    monkeypatch.setattr(cli, "load", fake_load)


@pytest.fixture
def no_plots(monkeypatch):
    """Skip drawing (slow) where a test is about something else; test_training_run checks the PNGs."""
    for name in ("plot_history", "plot_misclassified", "plot_first_layer"):
        monkeypatch.setattr(cli.plots, name, lambda *args, **kwargs: None)


def test_training_run_writes_every_output(tmp_path, capsys):
    assert cli.main(["--epochs", "2", "--hidden", "16", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("epoch ") == 2 and "test acc" in printed
    for name in ("curves.png", "misclassified.png", "weights.png", "checkpoint.npz", "results.json"):
        assert (tmp_path / name).is_file(), name
    results = json.loads((tmp_path / "results.json").read_text())
    assert 0.0 <= results["test_accuracy"] <= 1.0
    assert {"command", "seconds", "seed"} <= set(results)


def test_eval_reloads_the_checkpoint_and_gets_the_same_accuracy(tmp_path, no_plots):
    cli.main(["--epochs", "1", "--hidden", "8", "--out", str(tmp_path / "train"), "--no-progress"])
    trained = json.loads((tmp_path / "train" / "results.json").read_text())["test_accuracy"]
    assert cli.main(["--eval", str(tmp_path / "train" / "checkpoint.npz"), "--out", str(tmp_path / "eval")]) == 0
    evaluated = json.loads((tmp_path / "eval" / "results.json").read_text())["test_accuracy"]
    assert evaluated == trained


def test_softmax_regression_flag(tmp_path, capsys, no_plots):
    assert cli.main(["--softmax-regression", "--epochs", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "784-10," in capsys.readouterr().out


def test_repro_only_writes_results_per_configuration(tmp_path, monkeypatch, no_plots):
    monkeypatch.setitem(cli.REPRO, "softmax-mnist", TrainConfig(dataset="mnist", hidden=(), epochs=1))
    assert cli.main(["repro", "--only", "softmax-mnist", "--out", str(tmp_path), "--no-progress"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"softmax-mnist", "command", "seconds", "seed"}
    assert 0.0 <= results["softmax-mnist"]["test_accuracy"] <= 1.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "-1"], "learning rate must be positive"),
        (["--epochs", "0"], "epochs must be >= 1"),
        (["--dropout", "1.5"], "dropout must be in"),
        (["--eval", "/nonexistent/checkpoint.npz"], "does not exist"),
    ],
)
def test_bad_arguments_print_a_clear_error(argv, message, tmp_path, capsys):
    assert cli.main([*argv, "--out", str(tmp_path), "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("python -m mlp: error:") and message in error


def test_diverging_run_stops_with_a_clear_error(tmp_path, capsys):
    argv = ["--lr", "1e20", "--schedule", "constant", "--epochs", "1", "--out", str(tmp_path), "--no-progress"]
    assert cli.main(argv) == 1
    assert "finite loss was expected" in capsys.readouterr().err


def test_eval_of_a_foreign_checkpoint_is_a_clear_error(tmp_path, capsys):
    np.savez(tmp_path / "other.npz", meta=np.array('{"format": "something-else"}'))
    assert cli.main(["--eval", str(tmp_path / "other.npz"), "--out", str(tmp_path)]) == 1
    assert "expected a 'mlp-checkpoint-1' checkpoint" in capsys.readouterr().err


def test_unknown_choices_are_argparse_errors(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--dataset", "cifar10"])
    with pytest.raises(SystemExit):
        cli.main(["repro", "--only", "imagenet"])
