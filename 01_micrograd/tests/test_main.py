"""The command line's shape: commands and common options, default outputs, repro rows, error lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import micrograd.__main__ as cli
import pytest
from micrograd.__main__ import main


def run(argv, capsys) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def short_demo(monkeypatch):
    """repro's moons row with 2 steps on 10 points: the wiring is tested here, the numbers in test_train."""
    monkeypatch.setitem(cli.REFERENCE, "steps", 2)
    monkeypatch.setitem(cli.REFERENCE, "points", 10)


def test_help_lists_the_commands_and_the_common_options(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    for word in ("train", "repro", "bench", "--out", "--seed", "--threads", "--force"):
        assert word in out
    for command in ("train", "repro", "bench"):
        status, out, _ = run([command, "--help"], capsys)
        assert status == 0
        assert all(option in out for option in ("--out", "--seed", "--threads", "--force"))
    assert "--only" in run(["repro", "--help"], capsys)[1] and "--seeds" in run(["repro", "--help"], capsys)[1]


def test_no_command_trains_into_runs_folder_command_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(["--steps", "3", "--points", "20", "--seed", "2"], capsys)
    assert status == 0
    folder = tmp_path / "runs" / "01_micrograd" / "train"
    results = json.loads((folder / "results.json").read_text())
    assert results["steps"] == 3 and results["seed"] == 2
    assert 0.0 <= results["train_accuracy"] <= 1.0 and results["final_loss"] > 0
    for name in ("decision_boundary.png", "training.png", "graph.png", "graph.dot"):
        assert (folder / name).stat().st_size > 0
    assert out.startswith("train | seed 2 | threads: 1")
    assert "wrote runs/01_micrograd/train/results.json" in out


def test_threads_flag_is_used_and_printed(tmp_path, capsys):
    status, out, _ = run(["train", "--steps", "1", "--points", "4", "--threads", "2", "--out", str(tmp_path)], capsys)
    assert status == 0 and "threads: 2" in out.splitlines()[0]
    main(["train", "--steps", "1", "--points", "4", "--out", str(tmp_path / "one")])  # back to one thread


def test_an_earlier_run_is_kept_unless_force(tmp_path, capsys):
    argv = ["--steps", "1", "--points", "4", "--out", str(tmp_path)]
    assert run(argv, capsys)[0] == 0
    before = (tmp_path / "results.json").read_text()
    status, _, err = run(argv, capsys)
    assert status == 2 and err.startswith("error:") and "--force" in err
    assert (tmp_path / "results.json").read_text() == before
    assert run([*argv, "--force"], capsys)[0] == 0


def test_repro_only_derivative_writes_the_table_whose_central_error_shrinks_like_h_squared(tmp_path, capsys):
    status, out, _ = run(["repro", "--only", "derivative", "--out", str(tmp_path)], capsys)
    assert status == 0 and "x^3 at x = 3" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"derivative", "command", "seconds", "seed"}
    rows = {row["h"]: row for row in results["derivative"]["rows"]}
    for h in (1e-1, 1e-2, 1e-3):  # f''' / 6 = 1: central error h^2, one-sided 9 h + h^2
        assert rows[h]["central_error"] == pytest.approx(h * h, rel=1e-4)
        assert rows[h]["one_sided_error"] == pytest.approx(9 * h + h * h, rel=1e-4)
    assert abs(rows[1e-12]["central_error"]) > abs(rows[1e-5]["central_error"])  # rounding takes over


def test_repro_runs_every_row_by_default(tmp_path, short_demo, capsys):
    assert run(["repro", "--out", str(tmp_path)], capsys)[0] == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert {"derivative", "moons"} <= set(results) and results["seed"] == 1337
    assert results["moons"]["steps"] == 2 and (tmp_path / "decision_boundary.png").exists()


def test_repro_only_is_repeatable_and_seeds_nest_results(tmp_path, short_demo, capsys):
    argv = ["repro", "--only", "moons", "--only", "derivative", "--seeds", "0", "1", "--out", str(tmp_path)]
    assert run(argv, capsys)[0] == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["moons"]["seed_0"]) >= {"final_loss", "train_accuracy", "steps"}
    assert results["moons"]["summary"]["runs"] == 2 and results["seed"] is None and "derivative" in results
    assert (tmp_path / "seed_1" / "decision_boundary.png").exists()


def test_repro_assets_copies_the_figures(tmp_path, short_demo, monkeypatch, capsys):
    monkeypatch.setattr(cli, "ASSETS", tmp_path / "assets")
    assert run(["repro", "--only", "moons", "--assets", "--out", str(tmp_path / "run")], capsys)[0] == 0
    assert sorted(p.name for p in (tmp_path / "assets").iterdir()) == sorted(cli.FIGURES)


@pytest.mark.parametrize(
    "argv",
    [
        ["--steps", "0"],
        ["--steps", "ten"],
        ["--seed", "-1"],
        ["--points", "1"],
        ["--noise", "-0.5"],
        ["--bogus"],
        ["repro", "--steps", "5"],
        ["repro", "--only", "everything"],
        ["repro", "--only", "derivative", "--assets"],
        ["bench", "--repeats", "0"],
        ["bench", "--reference", "/nonexistent/micrograd.whl"],
    ],
)
def test_mistakes_are_one_error_line_and_exit_2(argv, tmp_path, capsys):
    status, _, err = run([*argv, "--out", str(tmp_path / "out")], capsys)
    assert status == 2
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err


def test_threads_flag_overrides_a_preset_environment_variable(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    argv = ["train", "--steps", "1", "--points", "10", "--threads", "2", "--out", str(tmp_path)]
    command = [sys.executable, "-m", "micrograd", *argv]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "threads: 2" in run.stdout.splitlines()[0]
