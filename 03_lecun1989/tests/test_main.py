"""The command line's shape: commands, common options, default outputs, --only, --force."""

import json
import os
import subprocess
import sys

import pytest
from lecun1989 import __main__ as cli
from lecun1989.__main__ import main
from lecun1989.data import save_npz
from lecun1989.train import with_overrides

COMMANDS = ("prepro", "train", "repro", "sweep", "bench")


@pytest.fixture
def prepro_file(toy_data, tmp_path):
    return save_npz(tmp_path / "toy.npz", toy_data)


@pytest.fixture
def one_pass_rows(monkeypatch):
    """Every repro row trains for one pass (the real ones take minutes)."""
    for name, run in list(cli.CONFIGURATIONS.items()):
        monkeypatch.setitem(cli.CONFIGURATIONS, name, with_overrides(run, passes=1))


def test_help_lists_every_command_and_the_common_options(capsys):
    assert main(["--help"]) == 0
    printed = capsys.readouterr().out
    for word in (*COMMANDS, "--out", "--seed", "--threads", "--force"):
        assert word in printed
    for command in COMMANDS:
        assert main([command, "--help"]) == 0
        printed = capsys.readouterr().out
        for option in ("--out", "--seed", "--threads", "--force"):
            assert option in printed, (command, option)


def test_train_command_runs_end_to_end_and_says_where_it_wrote(prepro_file, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", str(prepro_file), "--passes", "1", "--out", str(out), "--no-plots"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "train | seed 1337 | threads: 1" in printed
    assert "total  units  1256  connections  64660  parameters  9760" in printed
    assert "eval: split test . loss" in printed
    assert f"wrote {out / 'model.npz'}" in printed
    assert (out / "model.npz").is_file() and (out / "results.json").is_file()


def test_no_command_means_train(prepro_file, tmp_path, capsys):
    assert main(["--data", str(prepro_file), "--passes", "1", "--out", str(tmp_path / "run"), "--no-plots"]) == 0
    assert "eval: split train." in capsys.readouterr().out


def test_default_output_folder_is_runs_folder_command(prepro_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", str(prepro_file), "--passes", "1", "--no-plots"]) == 0
    assert (tmp_path / "runs" / "03_lecun1989" / "train" / "results.json").is_file()


def test_train_refuses_an_earlier_run_without_force(prepro_file, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--data", str(prepro_file), "--passes", "1", "--out", str(out), "--no-plots"]
    assert main(args) == 0
    before = (out / "model.npz").read_bytes()
    capsys.readouterr()
    assert main([*args, "--seed", "7"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "model.npz").read_bytes() == before  # untouched
    assert main([*args, "--seed", "7", "--force"]) == 0
    assert (out / "model.npz").read_bytes() != before


def test_repro_only_is_repeatable_and_runs_only_those_rows(prepro_file, tmp_path, one_pass_rows, capsys):
    args = ["repro", "--data", str(prepro_file), "--only", "modern", "--only", "faithful", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert set(results) == {"faithful", "modern", "command", "seconds", "seed"}
    assert set(results["modern"]) >= {"test_error", "train_error", "test_loss", "train_loss"}
    printed = capsys.readouterr().out
    assert printed.index("== faithful") < printed.index("== modern")  # the table's order
    assert "== plain_tanh" not in printed


def test_repro_without_only_runs_every_row(prepro_file, tmp_path, one_pass_rows):
    assert main(["repro", "--data", str(prepro_file), "--out", str(tmp_path / "r")]) == 0
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert {"faithful", "plain_tanh", "modern"} <= set(results)


def test_repro_refuses_an_unknown_row(capsys):
    assert main(["repro", "--only", "all"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "faithful" in err and len(err.strip().splitlines()) == 1


def test_modern_switches_can_be_turned_off_one_by_one(prepro_file, tmp_path):
    args = ["train", "--modern", "--no-shift", "--dropout", "0", "--passes", "1", "--no-plots"]
    assert main([*args, "--data", str(prepro_file), "--out", str(tmp_path / "run")]) == 0
    settings = json.loads((tmp_path / "run" / "results.json").read_text())["config"]
    assert settings["shift"] is False and settings["model"]["dropout"] == 0.0
    assert settings["optimizer"] == "adamw" and settings["model"]["activation"] == "relu"


def test_prepro_writes_into_out_and_keeps_an_existing_file(toy_data, tmp_path, monkeypatch, capsys):
    from lecun1989 import data as data_module

    monkeypatch.setattr(cli, "prepro", lambda seed: dict(toy_data, seed=seed))
    assert data_module.default_path(5).name == "digits1989_seed5.npz"
    assert main(["prepro", "--seed", "5", "--out", str(tmp_path / "p")]) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "p" / "digits1989_seed5.npz").is_file()
    target = tmp_path / "mine.npz"
    assert main(["prepro", "--data", str(target)]) == 0
    assert main(["prepro", "--data", str(target)]) == 0
    assert "exists (use --force to rebuild)" in capsys.readouterr().out


def test_sweep_command_writes_the_chosen_setting(toy_data, tmp_path, capsys):
    path = save_npz(tmp_path / "toy.npz", toy_data)
    args = ["sweep", "--data", str(path), "--lrs", "0.01", "0.03", "--decays", "1", "--seed", "0"]  # one seed
    assert main([*args, "--holdout", "100", "--passes", "1", "--out", str(tmp_path / "sweep")]) == 0
    printed = capsys.readouterr().out
    assert "chosen: lr" in printed and "jobs 1" in printed
    results = json.loads((tmp_path / "sweep" / "results.json").read_text())
    assert results["chosen"]["lr"] in (0.01, 0.03) and len(results["runs"]) == 2
    assert results["seed"] == 0 and {run["seed"] for run in results["runs"]} == {0}


def test_bench_module_is_the_bench_command(monkeypatch):
    from lecun1989 import bench

    seen = []
    monkeypatch.setattr(bench, "run_bench", lambda args: seen.append((args.command, args.threads, args.examples)))
    assert bench.main(["--threads", "1", "--examples", "10"]) == 0
    assert seen == [("bench", 1, 10)]


def test_threads_flag_overrides_a_preset_environment_variable(prepro_file, tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    argv = ["train", "--data", str(prepro_file), "--passes", "1", "--no-plots", "--threads", "2"]
    argv += ["--out", str(tmp_path / "run")]
    command = [sys.executable, "-m", "lecun1989", *argv]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "threads: 2" in run.stdout.splitlines()[0]
