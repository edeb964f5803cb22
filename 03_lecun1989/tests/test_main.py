import json

import pytest
from lecun1989.__main__ import build_parser, main
from lecun1989.data import save_npz


@pytest.fixture
def prepro_file(toy_data, tmp_path):
    return save_npz(tmp_path / "toy.npz", toy_data)


def test_train_command_runs_end_to_end(prepro_file, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", str(prepro_file), "--passes", "1", "--out", str(out), "--no-plots"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "total  units  1256  connections  64660  parameters  9760" in printed
    assert "eval: split test . loss" in printed
    assert (out / "model.npz").is_file() and (out / "results.json").is_file()


def test_repro_command_writes_nested_results(prepro_file, tmp_path, monkeypatch):
    from lecun1989 import __main__ as cli
    from lecun1989.train import with_overrides

    monkeypatch.setitem(cli.CONFIGURATIONS, "modern", with_overrides(cli.MODERN, passes=1))
    code = main(["repro", "--data", str(prepro_file), "--only", "modern", "--out", str(tmp_path)])
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["modern"]) >= {"test_error", "train_error", "test_loss", "train_loss"}
    assert "command" in results and "seed" in results


def test_modern_switches_can_be_turned_off_one_by_one(prepro_file, tmp_path, capsys):
    args = ["train", "--modern", "--no-shift", "--dropout", "0", "--passes", "1", "--no-plots"]
    assert main([*args, "--data", str(prepro_file), "--out", str(tmp_path)]) == 0
    settings = json.loads((tmp_path / "results.json").read_text())["config"]
    assert settings["shift"] is False and settings["model"]["dropout"] == 0.0
    assert settings["optimizer"] == "adamw" and settings["model"]["activation"] == "relu"


@pytest.mark.parametrize("argv", [["train", "--passes", "0"], ["train", "--lr", "-1"], ["train", "--dropout", "1.5"]])
def test_bad_arguments_are_rejected_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert "must be" in capsys.readouterr().err


def test_corrupt_data_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["train", "--data", str(bad), "--passes", "1", "--out", str(tmp_path)]) == 1
    assert "not a valid .npz" in capsys.readouterr().err


def test_no_command_means_train(prepro_file, tmp_path, capsys):
    assert main(["--data", str(prepro_file), "--passes", "1", "--out", str(tmp_path), "--no-plots"]) == 0
    assert "eval: split train." in capsys.readouterr().out
