"""The command line's shape: commands, the common options, default outputs, threads, what it prints."""

import json
import os
import subprocess
import sys

import pytest
from adam import __main__ as cli

from shared.testing import data_or_skip

COMMANDS = ["demo", "fig1", "fig2", "bias-correction", "toy", "sweep", "repro", "bench"]


def mnist_or_skip():
    data_or_skip("mnist/train-images-idx3-ubyte")
    data_or_skip("mnist/train-labels-idx1-ubyte")


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert f"\n    {command} " in out or f"\n    {command}\n" in out
    for option in ("--out", "--seed", "--threads", "--force"):
        assert option in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_common_options(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--out", "--seed", "--threads", "--force"):
        assert option in out
    assert ("--only" in out) == (command in ("fig1", "fig2", "sweep", "repro", "bench"))


def test_no_command_is_the_demo():
    assert cli.app.parse([]).command == "demo"
    assert cli.app.parse(["--seed", "3"]).seed == 3


def test_toy_writes_to_runs_05_adam_toy_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["toy", "--steps", "30"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("toy | seed 0 | threads: 1")
    folder = tmp_path / "runs" / "05_adam" / "toy"
    assert f"wrote {os.path.join('runs', '05_adam', 'toy', 'toy.png')}" in out
    assert (folder / "toy.png").stat().st_size > 0
    lines = (folder / "toy.csv").read_text().splitlines()
    assert lines[0] == "function,optimizer,step,x,y,f"
    assert len(lines) == 1 + 2 * 8 * 31


def test_a_second_run_into_the_same_folder_needs_force(tmp_path, capsys):
    assert cli.main(["toy", "--steps", "5", "--out", str(tmp_path)]) == 0
    before = (tmp_path / "toy.csv").read_text()
    assert cli.main(["toy", "--steps", "6", "--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "toy.csv").read_text() == before  # nothing replaced
    assert cli.main(["toy", "--steps", "6", "--out", str(tmp_path), "--force"]) == 0
    assert len((tmp_path / "toy.csv").read_text().splitlines()) == 1 + 2 * 8 * 7


def test_threads_flag_overrides_a_preset_environment_variable(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "3"}
    argv = [sys.executable, "-m", "adam", "toy", "--steps", "3", "--threads", "2", "--out", str(tmp_path)]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "threads: 2" in run.stdout.splitlines()[0]


def test_bench_times_a_small_step(capsys):
    assert cli.main(["bench", "--tensors", "2", "--size", "1000", "--repeats", "2", "--only", "Adam"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("bench | seed 0 | threads: 1")
    assert "best of 2" in out
    assert any(line.startswith("Adam ") for line in out.splitlines())


def test_fig1_on_a_small_real_subset(tmp_path, capsys):
    mnist_or_skip()
    argv = ["fig1", "--epochs", "1", "--train-size", "512", "--only", "adam", "--lr", "adam=0.05"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "fig1.png").exists()
    rows = (tmp_path / "fig1.csv").read_text().splitlines()
    assert rows[0] == "method,label,epoch,train_cost" and rows[1].startswith("adam,Adam,0.0,")
    out = capsys.readouterr().out
    assert "lr 0.05" in out and f"wrote {tmp_path / 'fig1.csv'}" in out


def test_set_changes_a_hyperparameter(tmp_path, capsys):
    mnist_or_skip()
    argv = ["fig1", "--epochs", "1", "--train-size", "256", "--only", "adam", "--set", "adam.betas=0.8,0.99"]
    assert cli.main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert cli.main([*argv[:-1], "adam.betas=0.9,0.999", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "fig1.csv").read_text() != (tmp_path / "b" / "fig1.csv").read_text()


def test_repro_writes_results_json_and_only_picks_rows(tmp_path, monkeypatch):
    mnist_or_skip()
    monkeypatch.setitem(cli.REPRO, "fig1", {"epochs": 1, "train_size": 256})
    monkeypatch.setitem(cli.REPRO, "fig2", {"epochs": 1, "train_size": 128})
    assert cli.main(["repro", "--out", str(tmp_path / "all")]) == 0
    results = json.loads((tmp_path / "all" / "results.json").read_text())
    assert set(results) >= {"fig1", "fig2", "command", "seconds", "seed"}
    assert set(results["fig2"]) >= {"adam", "adagrad", "rmsprop", "sgd_nesterov", "adadelta"}
    assert 0 < results["fig1"]["adam"]["train_cost"] < 3
    assert isinstance(results["fig1"]["adam_at_least_as_low_as_best_other"], bool)
    assert cli.main(["repro", "--only", "fig1", "--out", str(tmp_path / "one")]) == 0
    results = json.loads((tmp_path / "one" / "results.json").read_text())
    assert "fig1" in results and "fig2" not in results


def test_assets_draws_a_small_copy_of_the_figure(tmp_path, capsys):
    assert cli.main(["toy", "--steps", "20", "--out", str(tmp_path / "run"), "--assets", str(tmp_path / "assets")]) == 0
    small, full = tmp_path / "assets" / "toy.png", tmp_path / "run" / "toy.png"
    assert 0 < small.stat().st_size < full.stat().st_size
    assert f"wrote {small}" in capsys.readouterr().out
