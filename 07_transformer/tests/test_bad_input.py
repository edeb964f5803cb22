"""Careless and hostile input at the command line: one `error:` line and exit status 2, nothing lost.

(Checkpoint files that lie about their sizes are in test_checkpoint.py; training that diverges
in test_train.py.)
"""

import os
import subprocess
import sys

import pytest
from helpers import tiny_config
from transformer.__main__ import main
from transformer.checkpoint import save_checkpoint
from transformer.data import Vocab
from transformer.model import Transformer

from shared.checkpoint import load, save
from shared.data import DataNotFoundError
from shared.testing import run_capped


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


def translation_checkpoint(path, **overrides):
    vocab = Vocab.build([["ein", "Hund", "a", "dog"]], 1)
    cfg = tiny_config(src_vocab_size=len(vocab), tgt_vocab_size=len(vocab), dtype="float32", **overrides)
    return save_checkpoint(path, Transformer(cfg), 1, None, vocab, vocab)


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--task", "multi30k", "--lr-factor", "nan"],  # once trained on NaN and saved over a good run
        ["train", "--task", "multi30k", "--lr-factor", "inf"],
        ["train", "--task", "multi30k", "--lr-factor", "0"],
        ["train", "--task", "multi30k", "--label-smoothing", "nan"],
        ["train", "--max-minutes", "nan"],
        ["train", "--task", "copy", "--steps", "0"],  # once ran 500 steps
        ["train", "--steps", "-3"],
        ["train", "--task", "multi30k", "--max-tokens", "10000000000"],
        ["train", "--threads", "0"],
        ["train", "--seed", "-1"],
        ["evaluate", "--limit", "-5"],  # once scored 995 sentences
        ["evaluate", "--limit", "0"],  # once printed BLEU 0.00, then a traceback
        ["translate", "--beam", "100000", "Ein Hund"],  # once allocated 20 GB
        ["translate", "--beam", "0", "Ein Hund"],
        ["repro", "--steps", "0"],
    ],
)
def test_bad_values_are_refused_before_anything_runs(argv, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_nan_learning_rate_leaves_an_existing_run_untouched(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    before = (out / "copy.npz").read_bytes()
    assert main(["train", "--task", "copy", "--steps", "4", "--lr-factor", "nan", "--out", str(out)]) == 2
    assert (out / "copy.npz").read_bytes() == before


@pytest.mark.parametrize("command", [["train"], ["evaluate"], ["repro", "--only", "copy"]])
def test_out_naming_a_file_is_an_error(tmp_path, capsys, command):
    (tmp_path / "file").write_text("mine")
    argv = [*command, "--out", str(tmp_path / "file")]
    if command == ["evaluate"]:
        argv += ["--checkpoint", str(translation_checkpoint(tmp_path / "m.npz"))]
    assert main(argv) == 2
    assert "is a file" in one_error_line(capsys)
    assert (tmp_path / "file").read_text() == "mine"


def test_train_refuses_a_folder_holding_something_else(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    assert main(["train", "--steps", "1", "--out", str(tmp_path / "mine")]) == 2
    assert "--force" in one_error_line(capsys)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_repro_refuses_to_overwrite_a_finished_repro(tmp_path, capsys):
    (tmp_path / "repro").mkdir()
    (tmp_path / "repro" / "results.json").write_text("{}")
    assert main(["repro", "--only", "copy", "--out", str(tmp_path / "repro")]) == 2
    assert "--force" in one_error_line(capsys)
    assert (tmp_path / "repro" / "results.json").read_text() == "{}"


def test_evaluate_refuses_to_overwrite_an_earlier_evaluation(tmp_path, capsys):
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "results.json").write_text("{}")
    path = translation_checkpoint(tmp_path / "m.npz")
    assert main(["evaluate", "--checkpoint", str(path), "--out", str(tmp_path / "eval")]) == 2
    assert "--force" in one_error_line(capsys)
    assert (tmp_path / "eval" / "results.json").read_text() == "{}"


def test_missing_multi30k_data_is_one_error_line(tmp_path, monkeypatch, capsys):
    def offline(name, download=True):
        raise DataNotFoundError(f"{name} is not on this machine\nand cannot be downloaded (offline)")

    monkeypatch.setattr("shared.data.fetch", offline)
    assert main(["train", "--task", "multi30k", "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    assert "cannot be downloaded" in one_error_line(capsys)


def test_corrupt_multi30k_data_is_one_error_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "data" / "multi30k").mkdir(parents=True)
    (tmp_path / "data" / "multi30k" / "train.de").write_text("nicht die echten Daten\n")
    monkeypatch.setenv("DNN_DATA_DIR", str(tmp_path / "data"))
    assert main(["train", "--task", "multi30k", "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    one_error_line(capsys)


def test_a_sentence_longer_than_the_positional_table_is_an_error(tmp_path, capsys):
    path = translation_checkpoint(tmp_path / "m.npz", max_len=8)
    assert main(["translate", "--checkpoint", str(path), "ein " * 20]) == 2
    assert "positional table" in one_error_line(capsys)


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_stdin_that_is_not_utf8_is_an_error_not_unknown_words(tmp_path, locale):
    # Under the C locale Python reads stdin leniently: the bad byte became a surrogate, then <unk>, silently.
    path = translation_checkpoint(tmp_path / "m.npz")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "LC_ALL": locale, "PYTHONIOENCODING": ""}
    command = [sys.executable, "-m", "transformer", "translate", "--checkpoint", str(path)]
    result = subprocess.run(command, input=b"ein \xff Hund\n", capture_output=True, env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == b"error: stdin is not UTF-8 text (byte 0xff at offset 4: invalid start byte)\n"
    assert result.stdout == b""
    result = subprocess.run(command, input=b"ein Hund\r\nein\n", capture_output=True, env=env, timeout=120)
    assert result.returncode == 0 and result.stdout.count(b"\n") == 2, result.stderr


def test_a_checkpoint_with_a_negative_step_cannot_be_resumed(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    arrays, meta = load(out / "copy.npz")
    save(out / "copy.npz", arrays, {**meta, "step": -100})  # once resumed at step -45
    assert main(["train", "--steps", "4", "--out", str(out)]) == 2
    assert "step" in one_error_line(capsys)


@pytest.mark.parametrize(
    "config",
    [
        {"n_layers": 100000},  # the 24 GB case: beyond the limit on n_layers
        {"n_layers": 64, "d_model": 8192, "d_ff": 65536, "n_heads": 8},  # within limits, but not what the file holds
    ],
)
def test_a_crafted_checkpoint_fails_cleanly_under_a_2_gb_memory_cap(tmp_path, config):
    path = translation_checkpoint(tmp_path / "m.npz")
    arrays, meta = load(path)
    save(path, arrays, {**meta, "config": {**meta["config"], **config}})
    result = run_capped("transformer", ["translate", "--checkpoint", path, "Ein Hund"], timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "MemoryError" not in result.stderr and "out of memory" not in result.stderr


def test_a_huge_beam_fails_cleanly_under_a_2_gb_memory_cap(tmp_path):
    path = translation_checkpoint(tmp_path / "m.npz")
    result = run_capped("transformer", ["translate", "--checkpoint", path, "--beam", "100000", "Ein Hund"], timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error: argument --beam")
