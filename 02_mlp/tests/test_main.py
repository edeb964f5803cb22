"""The command line, on small generated data (mlp.__main__.load is replaced), and its bad input."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mlp.__main__ as cli
import numpy as np
import pytest
from hostile import zip_bomb
from mlp.checkpoint import FORMAT
from mlp.train import TrainConfig

from shared.testing import run_capped

FAST = ["--epochs", "1", "--hidden", "8", "--no-progress"]


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


def error_of(capsys) -> str:
    """The one `error:` line a failed command printed (and nothing like a traceback)."""
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --------------------------------------------------------------------------- the shape


def test_help_lists_the_commands_and_every_command_takes_the_common_options(capsys):
    assert cli.main(["--help"]) == 0
    printed = capsys.readouterr().out
    assert all(command in printed for command in ("train", "eval", "repro", "bench"))
    for command in ("train", "eval", "repro", "bench"):
        assert cli.main([command, "--help"]) == 0
        printed = capsys.readouterr().out
        assert all(option in printed for option in ("--out", "--seed", "--threads", "--force")), command
    assert cli.main(["repro", "--help"]) == 0
    assert "--only NAME" in capsys.readouterr().out


def test_training_run_writes_every_output_and_says_where(tmp_path, capsys):
    assert cli.main(["train", "--epochs", "2", "--hidden", "16", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("train | seed 0 | threads: 1")
    assert printed.count("epoch ") == 2 and "test acc" in printed
    assert f"wrote {tmp_path / 'checkpoint.npz'}" in printed
    for name in ("curves.png", "misclassified.png", "weights.png", "checkpoint.npz", "results.json"):
        assert (tmp_path / name).is_file(), name
    results = json.loads((tmp_path / "results.json").read_text())
    assert 0.0 <= results["test_accuracy"] <= 1.0
    assert {"command", "seconds", "seed"} <= set(results)


def test_no_command_trains_into_runs_02_mlp_train_and_eval_reads_it_back(tmp_path, monkeypatch, no_plots):
    monkeypatch.chdir(tmp_path)  # as from the repository root
    assert cli.main(FAST) == 0
    trained = json.loads(Path("runs/02_mlp/train/results.json").read_text())["test_accuracy"]
    assert cli.main(["eval", "runs/02_mlp/train/checkpoint.npz"]) == 0
    evaluated = json.loads(Path("runs/02_mlp/eval/results.json").read_text())["test_accuracy"]
    assert evaluated == trained


def test_softmax_regression_flag(tmp_path, capsys, no_plots):
    assert cli.main(["train", "--softmax-regression", "--epochs", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "784-10," in capsys.readouterr().out


def test_repro_only_is_repeatable_and_writes_results_per_row(tmp_path, monkeypatch, no_plots):
    for name in ("softmax-mnist", "softmax-fashion"):
        monkeypatch.setitem(cli.REPRO, name, TrainConfig(dataset=name.split("-")[1], hidden=(), epochs=1))
    argv = ["repro", "--only", "softmax-mnist", "--only", "softmax-fashion", "--out", str(tmp_path), "--no-progress"]
    assert cli.main(argv) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"softmax-mnist", "softmax-fashion", "command", "seconds", "seed"}
    assert (tmp_path / "softmax-fashion" / "checkpoint.npz").is_file()


def test_the_seed_changes_the_run_and_the_same_seed_repeats_it(tmp_path, no_plots):
    def accuracy_and_loss(seed, name):
        assert cli.main([*FAST, "--seed", str(seed), "--out", str(tmp_path / name)]) == 0
        results = json.loads((tmp_path / name / "results.json").read_text())
        return results["train_loss"]

    assert accuracy_and_loss(3, "a") == accuracy_and_loss(3, "b") != accuracy_and_loss(4, "c")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "argv",
    [
        ["--lr", "nan"],
        ["--lr", "inf"],
        ["--lr", "-1"],
        ["--lr", "0"],
        ["--momentum", "1"],
        ["--momentum", "nan"],
        ["--weight-decay", "inf"],
        ["--weight-decay", "-1e-3"],
        ["--dropout", "1.5"],
        ["--dropout", "nan"],
        ["--epochs", "0"],
        ["--epochs", "1.5"],
        ["--batch-size", "0"],
        ["--hidden", "0"],
        ["--hidden", "2000000"],
        ["--limit", "0"],
        ["--threads", "0"],
        ["--seed", "-1"],
        ["--dataset", "cifar10"],
        ["--bogus"],
        ["repro", "--only", "imagenet"],
        ["eval"],
    ],
)
def test_bad_flags_are_one_error_line_and_exit_2(argv, tmp_path, capsys):
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 2
    error_of(capsys)
    assert not (tmp_path / "out").exists()


def test_hidden_sizes_too_big_for_memory_are_refused_before_allocating(tmp_path, capsys):
    assert cli.main(["--hidden", "100000", "100000", "--out", str(tmp_path / "out")]) == 2
    assert "784-100000-100000-10 MLP" in error_of(capsys) and not (tmp_path / "out").exists()


def test_a_batch_larger_than_the_training_set_is_one_batch_per_epoch_and_says_so(tmp_path, capsys, no_plots):
    assert cli.main([*FAST, "--batch-size", "100000000", "--out", str(tmp_path / "a")]) == 0
    assert "batch size 100000000 is more than the 300 training examples: one batch per epoch" in capsys.readouterr().out
    full_batch = json.loads((tmp_path / "a" / "results.json").read_text())
    assert cli.main([*FAST, "--batch-size", "300", "--out", str(tmp_path / "b")]) == 0
    assert "note: batch size" not in capsys.readouterr().out
    assert json.loads((tmp_path / "b" / "results.json").read_text())["train_loss"] == full_batch["train_loss"]


def test_an_existing_run_is_kept_without_force_and_replaced_with_it(tmp_path, capsys, no_plots):
    assert cli.main([*FAST, "--out", str(tmp_path)]) == 0
    before = (tmp_path / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert cli.main([*FAST, "--seed", "1", "--out", str(tmp_path)]) == 2
    assert "already holds an earlier run's outputs; pass --force" in error_of(capsys)
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert cli.main([*FAST, "--seed", "1", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "checkpoint.npz").read_bytes() != before


def test_out_naming_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main([*FAST, "--out", str(tmp_path / "notes.txt"), "--force"]) == 2
    assert "is a file, not a folder" in error_of(capsys)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys, no_plots):
    assert cli.main([*FAST, "--out", str(tmp_path)]) == 0
    good = (tmp_path / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    argv = ["--lr", "1e20", "--schedule", "constant", "--epochs", "1", "--out", str(tmp_path), "--force"]
    assert cli.main([*argv, "--no-progress"]) == 2
    assert "finite loss was expected" in error_of(capsys)
    assert (tmp_path / "checkpoint.npz").read_bytes() == good


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"not a zip", r"not a readable \.npz"),
        ({"format": "something-else"}, "expected a 'mlp-checkpoint-1' checkpoint"),
        ({"format": FORMAT, "config": {"hidden": [100000, 100000]}}, "describes a 784-100000-100000-10 MLP"),
        ({"format": FORMAT, "config": {"lr": float("nan")}}, "holds NaN, which is not a number a config may hold"),
    ],
)
def test_bad_checkpoints_are_one_error_line(tmp_path, capsys, content, message):
    path = tmp_path / "checkpoint.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.savez(path, meta=np.array(json.dumps(content)))
    assert cli.main(["eval", str(path), "--out", str(tmp_path / "out")]) == 2
    assert re.search(message, error_of(capsys))
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS caps memory on Linux")
def test_under_a_2_gb_cap_huge_sizes_and_a_zip_bomb_are_clean_errors(tmp_path):
    done = run_capped("mlp", ["--hidden", "100000", "100000"], cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and "MLP" in done.stderr and "Traceback" not in done.stderr
    config = TrainConfig(hidden=()).to_dict()
    bomb = zip_bomb(tmp_path / "bomb.npz", {"format": FORMAT, "config": config})
    done = run_capped("mlp", ["eval", bomb], cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and "over the limit" in done.stderr and "Traceback" not in done.stderr
    assert "MemoryError" not in done.stderr and not (tmp_path / "runs").exists()


def test_threads_flag_overrides_a_preset_environment_variable(tmp_path):
    # a subprocess (threads are per process), on 20 blank images instead of MNIST
    script = (
        "import sys, numpy as np, mlp.__main__ as cli; "
        "cli.load = lambda dataset, split, limit=None: (np.zeros((20, 784), np.float32), np.arange(20) % 10); "
        "sys.exit(cli.main(sys.argv[1:]))"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    argv = [*FAST, "--batch-size", "10", "--threads", "2", "--out", str(tmp_path)]
    run = subprocess.run([sys.executable, "-c", script, *argv], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "threads: 2" in run.stdout.splitlines()[0]
