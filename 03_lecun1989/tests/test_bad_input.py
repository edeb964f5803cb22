"""Careless and hostile input: every case is one `error:` line and exit status 2, and loses nothing.

In-process cases call `main`; the memory cases also run the real command in a subprocess
whose address space is capped at 2 GB, so a huge allocation would show up as a MemoryError
or a kill instead of the clean error asserted here.
"""

import sys
import zipfile

import numpy as np
import pytest
from conftest import npy_header
from lecun1989 import data as data_module
from lecun1989.__main__ import main
from lecun1989.data import save_npz

from shared.testing import run_capped


@pytest.fixture
def prepro_file(toy_data, tmp_path):
    return save_npz(tmp_path / "toy.npz", toy_data)


def run_main(argv, capsys) -> str:
    """Run the command line; assert exit 2 and exactly one `error:` line on stderr; return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--lr", "nan"], "finite"),
        (["train", "--lr", "inf"], "finite"),
        (["train", "--lr", "-0.1"], "> 0"),
        (["train", "--lr-final", "0"], "> 0"),
        (["train", "--dropout", "nan"], "finite"),
        (["train", "--dropout", "1"], "[0, 1)"),
        (["train", "--passes", "0"], "out of range"),
        (["train", "--passes", "1000000000"], "out of range"),
        (["train", "--passes", "2.5"], "not an integer"),
        (["train", "--seed", "-1"], "out of range"),
        (["train", "--threads", "0"], "out of range"),
        (["train", "--data-seed", "nan"], "not an integer"),
        (["sweep", "--lrs", "0.01", "nan"], "finite"),
        (["sweep", "--decays", "inf"], "finite"),
        (["sweep", "--jobs", "100000"], "out of range"),
        (["sweep", "--seeds", "-3"], "out of range"),
        (["bench", "--examples", "100000000"], "out of range"),
        (["bench", "--repeats", "0"], "out of range"),
        (["repro", "--only", "all"], "invalid choice"),
        (["fly"], "invalid choice: 'fly'"),  # an unknown command, not options for the default one
    ],
)
def test_bad_flags_are_one_error_line(argv, words, capsys):
    assert words in run_main(argv, capsys)


def test_sweep_refuses_a_decay_above_one_and_a_holdout_too_large(prepro_file, tmp_path, capsys):
    base = ["sweep", "--data", str(prepro_file), "--lrs", "0.01", "--seeds", "0", "--passes", "1"]
    decays = [*base, "--holdout", "100", "--decays", "2", "--out", str(tmp_path / "a")]
    assert "decays must be in (0, 1]" in run_main(decays, capsys)
    assert main([*base, "--holdout", "5000", "--out", str(tmp_path / "b")]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: holdout must be between") and err.count("\n") == 1, err
    assert "training on the first" not in out  # refused before the line that would print a negative count


# --------------------------------------------------------------------------- outputs


def test_out_naming_a_file_is_refused_and_the_file_kept(prepro_file, tmp_path, capsys):
    precious = tmp_path / "notes.txt"
    precious.write_text("mine")
    line = run_main(["train", "--data", str(prepro_file), "--passes", "1", "--out", str(precious)], capsys)
    assert "is a file" in line and precious.read_text() == "mine"


def test_prepro_refuses_a_folder_as_its_file_and_both_data_and_out(tmp_path, capsys):
    assert "not a file" in run_main(["prepro", "--data", str(tmp_path)], capsys)
    assert "not both" in run_main(["prepro", "--data", "x.npz", "--out", str(tmp_path)], capsys)


def test_a_diverging_run_stops_with_an_error_and_saves_nothing(prepro_file, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--data", str(prepro_file), "--modern", "--lr", "1e30", "--dropout", "0", "--out", str(out)]
    with np.errstate(all="ignore"):
        assert "diverged" in run_main(argv, capsys)
    assert not (out / "model.npz").exists() and not (out / "results.json").exists()


# --------------------------------------------------------------------------- data files


def test_missing_data_file_is_one_error_line(tmp_path, capsys):
    line = run_main(["train", "--data", str(tmp_path / "nothing.npz"), "--out", str(tmp_path / "r")], capsys)
    assert "does not exist" in line and "lecun1989 prepro" in line


def test_corrupt_data_file_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert "not a readable .npz" in run_main(["train", "--data", str(bad), "--out", str(tmp_path / "r")], capsys)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda a: a.update(x_train=np.full_like(a["x_train"], np.nan)), "finite"),
        (lambda a: a.update(label_train=a["label_train"].astype(np.float32)), "integers"),
        (lambda a: a.update(x_test=a["x_test"][:0], y_test=a["y_test"][:0], label_test=a["label_test"][:0]), "shapes"),
        (lambda a: a.update(x_train=np.zeros((3, 28, 28), np.float32)), "shapes"),
    ],
)
def test_malformed_data_is_one_error_line(toy_data, tmp_path, change, words, capsys):
    change(toy_data)
    path = save_npz(tmp_path / "bad.npz", toy_data)
    assert words in run_main(["train", "--data", str(path), "--out", str(tmp_path / "r")], capsys)


def test_a_compressed_data_file_that_inflates_past_the_limit_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data_module, "MAX_PREPRO_BYTES", 1 << 20)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x_train.npy", npy_header((2048, 16, 16)) + bytes(2048 * 256 * 4))  # 2 MB of zeros
    assert path.stat().st_size < 20_000
    assert "over the limit" in run_main(["train", "--data", str(path), "--out", str(tmp_path / "r")], capsys)


# --------------------------------------------------------------------------- under a memory cap, in a subprocess


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
@pytest.mark.parametrize("shape", [(10**6, 10**6), (10**6, 16, 16)], ids=["4-TB-header", "1-GB-header"])
def test_a_data_header_claiming_a_huge_array_is_a_clean_error_under_a_2_gb_cap(tmp_path, shape):
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", npy_header(shape) + bytes(1024))
    done = run_capped("lecun1989", ["train", "--data", str(path)], cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error:") and "holds only" in done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_huge_flags_are_a_clean_error_under_a_2_gb_cap(tmp_path):
    done = run_capped("lecun1989", ["bench", "--examples", "1000000000"], cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error:"), done.stderr
    done = run_capped("lecun1989", ["train", "--lr", "nan"], cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error:"), done.stderr
    assert not (tmp_path / "runs").exists()  # nothing was created for a refused command
