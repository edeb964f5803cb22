"""The command line: a short demo run writes its outputs; repro and bad arguments."""

from __future__ import annotations

import json

import pytest
from micrograd.__main__ import main


def test_short_demo_writes_results_and_pictures(tmp_path, capsys):
    assert main(["--steps", "3", "--points", "20", "--seed", "2", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["steps"] == 3 and results["seed"] == 2
    assert 0.0 <= results["train_accuracy"] <= 1.0 and results["final_loss"] > 0
    assert {"command", "seconds", "first_step_at_full_accuracy", "ms_per_step"} <= set(results)
    for name in ("decision_boundary.png", "training.png", "graph.png", "graph.dot"):
        assert (tmp_path / name).stat().st_size > 0
    assert "training accuracy" in capsys.readouterr().out


def test_explicit_demo_subcommand_is_accepted(tmp_path):
    assert main(["demo", "--steps", "1", "--points", "4", "--out", str(tmp_path)]) == 0


def test_repro_with_several_seeds_nests_results(tmp_path, monkeypatch):
    import micrograd.__main__ as cli

    monkeypatch.setitem(cli.REFERENCE, "steps", 2)  # the real repro is 100 steps; the nesting is what is tested
    monkeypatch.setitem(cli.REFERENCE, "points", 10)
    assert main(["repro", "--seeds", "0", "1", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["seed_0"]) >= {"final_loss", "train_accuracy", "steps"}
    assert results["summary"]["runs"] == 2 and results["seed"] is None
    assert (tmp_path / "seed_1" / "decision_boundary.png").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--steps", "0"],
        ["--steps", "ten"],
        ["--seed", "-1"],
        ["--points", "1"],
        ["--noise", "-0.5"],
        ["--alpha", "nan"],
        ["--bogus"],
        ["repro", "--steps", "5"],
    ],
)
def test_bad_arguments_exit_with_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
