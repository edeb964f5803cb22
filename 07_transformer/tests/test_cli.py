"""The command line's shape: commands, common options, threads, output folders, resume, missing checkpoints."""

import json
import os
import subprocess
import sys

import pytest
from helpers import tiny_config
from transformer.__main__ import main
from transformer.checkpoint import save_checkpoint
from transformer.data import Vocab
from transformer.model import Transformer

from shared.threads import set_threads


@pytest.fixture(autouse=True)
def one_thread_after():
    yield
    set_threads(1)  # a test may ask main() for more; the rest of the suite runs with one


def run_module(*args, env=None, cwd=None, **kwargs):
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "transformer", *args], capture_output=True, text=True, env=environment, cwd=cwd, **kwargs
    )


def translation_checkpoint(path):
    vocab = Vocab.build([["ein", "Hund", "läuft", "a", "dog", "runs"]], 1)
    cfg = tiny_config(src_vocab_size=len(vocab), tgt_vocab_size=len(vocab), dtype="float32")
    return save_checkpoint(path, Transformer(cfg), 1, None, vocab, vocab)


def test_help_lists_every_command_and_the_common_options():
    result = run_module("--help", check=True)
    for command in ("train", "evaluate", "translate", "repro", "bench"):
        assert command in result.stdout
    for command in ("train", "evaluate", "translate", "repro", "bench"):
        text = run_module(command, "--help", check=True).stdout
        for option in ("--out", "--seed", "--threads", "--force"):
            assert option in text, (command, option)
    assert "--only" in run_module("repro", "--help", check=True).stdout


def test_threads_flag_wins_over_the_environment_and_sentences_are_not_taken_for_its_value(tmp_path):
    """The old bug: `translate --threads 2 --checkpoint x.npz "Ein Hund"` said invalid int 'Ein Hund'."""
    path = translation_checkpoint(tmp_path / "x.npz")
    code = "import sys; from shared.threads import blas_threads\n"
    code += "from transformer.__main__ import main\nstatus = main()\nprint('blas', blas_threads()); sys.exit(status)"
    result = subprocess.run(
        [sys.executable, "-c", code, "translate", "--threads", "2", "--checkpoint", str(path), "Ein Hund"],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[-1] == "blas 2"


def test_a_train_run_prints_its_header_and_where_it_wrote_into_the_default_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--steps", "2", "--threads", "1"]) == 0  # no command: the copy-task demo
    out = capsys.readouterr().out
    assert out.startswith("train | seed 0 | threads: 1")
    folder = tmp_path / "runs" / "07_transformer" / "train" / "copy"
    assert f"wrote {os.path.join('runs', '07_transformer', 'train', 'copy', 'results.json')}" in out
    results = json.loads((folder / "results.json").read_text())
    assert results["steps"] == 2
    assert (folder / "copy.npz").is_file() and (folder / "loss.png").is_file()


def test_train_resumes_its_own_run_and_refuses_a_different_one(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--steps", "2", "--out", out]) == 0
    assert main(["train", "--steps", "3", "--out", out]) == 0
    assert "resumed from" in capsys.readouterr().out
    assert main(["train", "--steps", "4", "--seed", "1", "--out", out]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "seed 0 -> 1" in error and "--force" in error
    assert main(["train", "--steps", "2", "--seed", "1", "--out", out, "--force"]) == 0  # afresh


@pytest.mark.parametrize("command", ["translate", "evaluate"])
def test_a_missing_checkpoint_says_what_to_train_first(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    assert main([command, "Ein Hund"] if command == "translate" else [command]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "runs/07_transformer/train/multi30k/multi30k.npz" in error
    assert "train one first: python -m transformer train --preset quick" in error


def test_translate_prints_one_line_per_sentence(tmp_path, capsys):
    path = translation_checkpoint(tmp_path / "m.npz")
    args = ["translate", "--checkpoint", str(path), "--beam", "2", "ein Hund läuft", "ein unbekanntes Wort"]
    assert main(args) == 0
    assert len(capsys.readouterr().out.rstrip("\n").split("\n")) == 2


def test_translate_refuses_a_checkpoint_without_vocabularies(tmp_path, capsys):
    path = save_checkpoint(tmp_path / "m.npz", Transformer(tiny_config()), 1)
    assert main(["translate", "--checkpoint", str(path), "ein Hund"]) == 2
    assert "holds no vocabularies" in capsys.readouterr().err


def test_usage_mistakes_are_one_error_line_with_status_2(capsys):
    for argv in (["train", "--no-such-flag"], ["repro", "--only", "nope"], ["train", "--task", "copy", "--model", "x"]):
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: ") and error.count("\n") == 1, argv


def test_copy_task_settings_are_not_silently_ignored(tmp_path, capsys):
    assert main(["train", "--task", "copy", "--warmup", "10", "--out", str(tmp_path)]) == 2
    assert "--warmup is for Multi30k runs" in capsys.readouterr().err


def test_a_preset_fills_the_defaults_and_flags_given_win():
    from transformer.__main__ import _fill_multi30k_defaults, app

    args = app.parse(["train", "--preset", "quick", "--steps", "7"])
    _fill_multi30k_defaults(args)
    assert (args.steps, args.model, args.warmup, args.eval_limit) == (7, "mini", 200, 200)
    args = app.parse(["train", "--task", "multi30k"])
    _fill_multi30k_defaults(args)
    assert (args.steps, args.model, args.warmup, args.eval_limit) == (3000, "small", 400, None)
    for short in (["--steps", "20"], ["--max-minutes", "5"]):  # a smoke run once spent 270 s on all 1,000
        args = app.parse(["train", "--task", "multi30k", *short])
        _fill_multi30k_defaults(args)
        assert args.eval_limit == 200


def test_evaluate_scores_a_limited_test_set_and_writes_results_and_figures(tmp_path, capsys):
    from shared.testing import data_or_skip

    for name in ("multi30k/test_2016_flickr.de", "multi30k/test_2016_flickr.en"):
        data_or_skip(name)
    path = translation_checkpoint(tmp_path / "m.npz")
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint", str(path), "--limit", "3", "--beam", "2", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["sentences"] == 3 and "beam2" in results["last"]["test_bleu"]
    assert (out / "attention_decoder_cross.png").is_file()
    assert "test_2016_flickr BLEU (last, step 1, 3 sentences)" in capsys.readouterr().out
