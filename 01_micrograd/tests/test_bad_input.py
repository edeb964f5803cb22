"""Hostile and careless input: one `error:` line and exit 2, nothing allocated or overwritten first."""

from __future__ import annotations

import pytest
from micrograd.__main__ import main

import shared.checks
from shared.testing import run_capped


def errors(argv, capsys) -> str:
    """Run the command line; it must fail cleanly. Returns its one error line."""
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--alpha", "1e308"], "--alpha"),  # used to end in advice to lower a learning rate with no option
        (["--alpha", "nan"], "--alpha"),
        (["--alpha", "inf"], "--alpha"),
        (["--alpha", "-1e-4"], "--alpha"),
        (["--noise", "nan"], "--noise"),
        (["--noise", "-inf"], "--noise"),
        (["--noise", "1e308"], "--noise"),
        (["--points", "100000000"], "--points"),
        (["--points", "1e3"], "--points"),
        (["--steps", "10000000000"], "--steps"),
        (["--steps", "nan"], "--steps"),
        (["--print-every", "0"], "--print-every"),
        (["--seed", "99999999999999"], "--seed"),
        (["--threads", "0"], "--threads"),
        (["--threads", "nan"], "--threads"),
        (["repro", "--seeds", "-1"], "--seeds"),
        (["bench", "--graph-points", "100000000"], "--graph-points"),
        (["bench", "--steps", "0"], "--steps"),
    ],
)
def test_bad_flags_are_refused_by_name(argv, names, tmp_path, capsys):
    err = errors([*argv, "--out", str(tmp_path / "out")], capsys)
    assert names in err and "learning rate" not in err
    assert not (tmp_path / "out").exists()  # refused before the output folder was made


@pytest.mark.parametrize("argv", [["--points", "200000"], ["bench", "--graph-points", "20000", "--skip-torch"]])
def test_sizes_beyond_memory_are_refused_before_allocating(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shared.checks, "available_memory", lambda: 2 * 2**30)  # a 2 GiB machine
    err = errors([*argv, "--out", str(tmp_path / "out")], capsys)
    assert "GiB" in err and "smaller" in err


def test_out_naming_a_file_is_refused_and_the_file_kept(tmp_path, capsys):
    precious = tmp_path / "notes.txt"
    precious.write_text("mine")
    assert "is a file" in errors(["--steps", "1", "--points", "4", "--out", str(precious)], capsys)
    assert precious.read_text() == "mine"


def test_a_diverging_run_is_an_error_line_and_writes_no_results(tmp_path, capsys):
    argv = ["--alpha", "1", "--noise", "10", "--steps", "30", "--points", "10", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err  # the progress lines, then the error
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("error:") and "diverged" in last and "--alpha" in last
    assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--points", "100000"],  # within the flag's range; its graph (about 20 GB) is not within the cap
        ["--points", "100000000"],
        ["bench", "--graph-points", "50000", "--skip-torch"],
    ],
)
def test_under_a_2_gb_memory_cap_large_sizes_exit_cleanly(argv, tmp_path):
    result = run_capped("micrograd", [*argv, "--out", tmp_path / "out"])
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert "MemoryError" not in result.stderr
