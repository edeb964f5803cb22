"""Hostile and careless input: one `error:` line and exit 2, nothing allocated first, nothing overwritten."""

import json

import numpy as np
import pytest
from makemore.__main__ import main
from makemore.checkpoint import save_model
from makemore.data import build_dataset
from makemore.models import ModelConfig, build_model
from makemore.train import check_batch, evaluate

from shared.testing import run_capped


def assert_clean_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr


@pytest.fixture
def names_file(tmp_path, toy_names):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(toy_names))
    return str(path)


def forged_checkpoint(path, **config_changes):
    """A real mlp checkpoint whose stored config says something else (a file of about 1.3 KB when tiny)."""
    model = build_model("mlp", rng=0)
    save_model(path, model)
    with np.load(path) as f:
        arrays = dict(f)
    meta = json.loads(str(arrays["meta"]))
    meta["config"].update(config_changes)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    return path


def test_a_huge_batch_size_is_refused_before_allocating_under_a_memory_cap(tmp_path, names_file):
    result = run_capped("makemore", ["--model", "mlp", "--batch-size", "10000000", "--data", names_file], cwd=tmp_path)
    assert_clean_error(result, "--batch-size 10,000,000", "training examples")
    assert not (tmp_path / "runs" / "04_makemore" / "train" / "model.npz").exists()


def test_a_tiny_checkpoint_claiming_a_huge_vocabulary_is_refused_under_a_memory_cap(tmp_path):
    path = tmp_path / "forged.npz"
    np.savez(path, meta=np.array(json.dumps({"format": "makemore-checkpoint-v1", "config": {
        "model": "mlp", "block_size": 3, "n_embd": 10, "n_hidden": 200, "vocab_size": 40000}})))  # fmt: skip
    assert path.stat().st_size < 2000
    assert_clean_error(run_capped("makemore", ["sample", str(path)], cwd=tmp_path), "vocab_size must be 27")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"vocab_size": 40000}, "vocab_size must be 27"),
        ({"n_hidden": 10**9}, "n_hidden"),
        ({"block_size": 3.0}, "block_size"),
        ({"n_embd": True}, "n_embd"),
        ({"model": "transformer"}, "unknown model"),
        ({"extra": 1}, "exactly the fields"),
    ],
)
def test_a_forged_config_is_refused_before_the_model_is_built(tmp_path, changes, words, capsys):
    path = forged_checkpoint(tmp_path / "model.npz", **changes)
    assert main(["sample", str(path)]) == 2
    assert words in capsys.readouterr().err


def test_checkpoints_with_non_finite_or_foreign_arrays_are_refused(tmp_path, capsys):
    path = tmp_path / "model.npz"
    model = build_model("mlp", rng=0)
    model.parameters()["net.0.weight"][0, 0] = np.nan
    save_model(path, model)
    assert main(["sample", str(path)]) == 2
    assert "NaN or infinity" in capsys.readouterr().err
    bigram = tmp_path / "bigram.npz"
    np.savez(bigram, meta=np.array('{"format": "makemore-bigram-v1"}'), P=np.ones((27, 27)))
    assert main(["sample", str(bigram)]) == 2  # rows do not sum to 1
    np.savez(bigram, meta=np.array('{"format": "makemore-bigram-v1"}'), P=np.full((27, 27), np.nan))
    assert main(["sample", str(bigram)]) == 2
    names = tmp_path / "names.txt"
    names.write_text("emma\n")
    for bad in (tmp_path / "missing.npz", names):  # missing; a text file, not a checkpoint
        assert main(["sample", str(bad)]) == 2
    assert "not a readable .npz" in capsys.readouterr().err


def test_a_names_file_too_small_for_a_dev_split_is_an_error_not_a_zero_loss(tmp_path, capsys):
    path = tmp_path / "few.txt"
    path.write_text("emma\nava\nolivia\nmia\nzoe\n")
    assert main(["--model", "bigram-count", "--data", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "too few" in capsys.readouterr().err
    with pytest.raises(ValueError, match="empty"):
        evaluate(build_model("mlp"), np.zeros((0, 3), np.int64), np.zeros(0, np.int64))


def test_bad_names_files_are_reported_with_the_line_or_the_size(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "names.txt"
    bad.write_text("emma\nJosé\n")
    assert main(["--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "line 2" in capsys.readouterr().err
    bad.write_bytes(b"\xff\xfe\x00bad")
    assert main(["--data", str(bad), "--out", str(tmp_path / "o"), "--force"]) == 2
    assert "UTF-8" in capsys.readouterr().err
    monkeypatch.setattr("makemore.data.MAX_NAMES_BYTES", 4)
    bad.write_text("emma\nolivia\n")
    assert main(["--data", str(bad), "--out", str(tmp_path / "o"), "--force"]) == 2
    assert "over the limit" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags",
    [
        ["--lr", "nan"],
        ["--lr", "inf"],
        ["--lr", "-0.1"],
        ["--smoothing", "nan"],
        ["--smoothing", "1e300"],
        ["--max-steps", "1000000000000"],
        ["--max-steps", "0"],
        ["--batch-size", "1"],
        ["--num-samples", "1000000000"],
        ["--threads", "0"],
        ["--model", "transformer"],
    ],
)
def test_bad_flags_are_one_error_line_and_exit_2(tmp_path, names_file, flags, capsys):
    assert main(["train", *flags, "--data", names_file, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the weights overflow on purpose
@pytest.mark.parametrize("model", ["mlp", "bigram-nn"])
def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, names_file, model, capsys):
    out = str(tmp_path / "run")
    assert main(["--model", model, "--max-steps", "5", "--data", names_file, "--out", out]) == 0
    good = (tmp_path / "run" / "model.npz").read_bytes()
    capsys.readouterr()
    lr = ["--lr", "1e38"] if model == "mlp" else ["--lr", "1e300"]
    assert main(["--model", model, "--max-steps", "50", *lr, "--data", names_file, "--out", out, "--force"]) == 2
    assert "diverged" in capsys.readouterr().err
    assert (tmp_path / "run" / "model.npz").read_bytes() == good


def test_out_naming_a_file_is_refused(tmp_path, names_file, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["--model", "bigram-count", "--data", names_file, "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_a_batch_that_does_not_fit_in_memory_is_refused(monkeypatch):
    config = ModelConfig("mlp", block_size=3, n_embd=10, n_hidden=200)
    check_batch(config, 32, 182_625)  # the lecture's batch is fine
    with pytest.raises(ValueError, match="larger than the 182,625 training examples"):
        check_batch(config, 10_000_000, 182_625)
    monkeypatch.setattr("shared.checks.available_memory", lambda: 100 * 2**20)
    with pytest.raises(ValueError, match="GiB of memory"):
        check_batch(config, 100_000, 182_625)
    with pytest.raises(ValueError, match="context windows of 300,000 names"):  # before the arrays are built
        build_dataset(["abcdefghij" * 10] * 300_000, 8)
