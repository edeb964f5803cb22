"""The command line's shape: commands, common options, default outputs, --force, the sample round trip."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from makemore.__main__ import main


@pytest.fixture
def names_file(tmp_path, toy_names):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(toy_names))
    return str(path)


def test_help_lists_every_command_and_the_common_options(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("train", "sample", "repro", "seeds", "reference", "figures", "bench"):
        assert word in text
    for command in ("train", "sample", "repro", "seeds", "reference", "figures", "bench"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        for option in ("--out", "--seed", "--threads", "--force"):
            assert option in text, (command, option)
    assert main(["repro", "--help"]) == 0
    assert "--only" in (text := capsys.readouterr().out) and "--seeds" in text


def test_no_command_trains_into_runs_folder_command_and_sample_reads_it_back(tmp_path, names_file, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["--model", "mlp-bn", "--max-steps", "30", "--eval-every", "30", "--data", names_file]
    assert main(args) == 0
    out = tmp_path / "runs" / "04_makemore" / "train"
    printed = capsys.readouterr().out
    assert "threads: 1" in printed.splitlines()[0]  # the header
    assert f"wrote {out.relative_to(tmp_path) / 'model.npz'}" in printed
    results = json.loads((out / "results.json").read_text())
    assert {"train_loss", "dev_loss", "test_loss", "command", "seconds", "seed"} <= set(results)
    assert len(results["samples"]) == 20
    for png in ("loss.png", "activations.png", "update_ratios.png", "embedding.png"):
        assert (out / png).is_file()
    assert main(["sample", "--num-samples", "3"]) == 0  # the default checkpoint: the train command's
    assert len(capsys.readouterr().out.split()) <= 3


def test_an_existing_run_is_kept_unless_force(tmp_path, names_file, capsys):
    out = str(tmp_path / "run")
    args = ["train", "--model", "bigram-nn", "--max-steps", "2", "--data", names_file, "--out", out]
    assert main(args) == 0
    before = (tmp_path / "run" / "model.npz").read_bytes()
    capsys.readouterr()
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "run" / "model.npz").read_bytes() == before
    assert main([*args, "--force"]) == 0


def test_seeds_trains_once_per_seed_like_train(tmp_path, names_file):
    common = ["--model", "mlp", "--max-steps", "20", "--data", names_file]
    assert main(["seeds", *common, "--seeds", "3", "5", "--out", str(tmp_path / "s")]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert set(results["runs"]) == {"3", "5"}
    dev = [run["dev_loss"] for run in results["runs"].values()]
    assert results["summary"]["dev_loss"]["mean"] == pytest.approx(np.mean(dev))
    assert main(["train", *common, "--seed", "5", "--num-samples", "1", "--out", str(tmp_path / "t")]) == 0
    single = json.loads((tmp_path / "t" / "results.json").read_text())
    assert single["dev_loss"] == results["runs"]["5"]["dev_loss"]  # the same run, seed for seed
    assert main(["seeds", "--model", "bigram-count", "--data", names_file, "--out", str(tmp_path / "b")]) == 2


def test_repro_only_is_repeatable_and_seeds_give_a_spread(tmp_path, names_file):
    out = tmp_path / "r"
    argv = ["repro", "--only", "bigram-count", "--only", "bigram-nn", "--max-steps", "5", "--data", names_file]
    assert main([*argv, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert {"bigram-count", "bigram-nn"} <= set(results) and "mlp" not in results
    assert (out / "bigram-count" / "counts.png").is_file()
    assert main(["sample", str(out / "bigram-nn" / "model.npz")]) == 0
    seeds = ["--seeds", "1", "2", "--max-steps", "2", "--data", names_file, "--out", str(out / "s")]
    assert main(["repro", "--only", "bigram-nn", *seeds]) == 0
    spread = json.loads((out / "s" / "results.json").read_text())["bigram-nn"]
    assert set(spread["runs"]) == {"1", "2"} and spread["summary"]["dev_loss"]["std"] > 0  # seeded inits differ


def test_repro_runs_a_row_named_twice_once_in_table_order(tmp_path, names_file, capsys):
    argv = ["repro", "--only", "bigram-nn", "--only", "bigram-count", "--only", "bigram-nn", "--max-steps", "2"]
    assert main([*argv, "--data", names_file, "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "rows bigram-count bigram-nn |" in printed.splitlines()[0]
    assert printed.count("bigram-nn finished in") == 1 and printed.count("bigram-count finished in") == 1


def test_the_old_module_entry_points_are_the_commands():
    from makemore import bench, reference

    assert callable(bench.run_bench) and callable(reference.run_reference)


def test_threads_flag_overrides_a_preset_environment_variable(tmp_path, names_file):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    argv = ["train", "--model", "bigram-count", "--data", names_file, "--threads", "2", "--out", str(tmp_path / "out")]
    run = subprocess.run(
        [sys.executable, "-m", "makemore", *argv], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "threads: 2" in run.stdout.splitlines()[0]  # the header reads the live BLAS pool, not the flag
