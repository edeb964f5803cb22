"""The command line: outputs written, bad arguments refused with a message (not a traceback)."""

import json

import pytest
from adam import __main__ as cli
from adam.experiments import load_mnist_flat

from shared.data import DataError


def mnist_or_skip():
    try:
        load_mnist_flat("train", 10)
    except DataError:
        pytest.skip("MNIST not available (set DNN_DATA_DIR)")


def test_toy_writes_png_and_csv(tmp_path, capsys):
    cli.main(["toy", "--steps", "30", "--out", str(tmp_path)])
    assert (tmp_path / "toy.png").stat().st_size > 0
    lines = (tmp_path / "toy.csv").read_text().splitlines()
    assert lines[0] == "function,optimizer,step,x,y,f"
    assert len(lines) == 1 + 2 * 8 * 31
    assert "rosenbrock" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fig1", "--lr", "adam"], "NAME=VALUE"),
        (["fig1", "--lr", "lbfgs=0.1"], "unknown methods"),
        (["fig2", "--only", "lbfgs"], "unknown methods"),
        (["fig2", "--set", "adam.betas"], "METHOD.ARGUMENT=VALUE"),
        (["fig2", "--set", "lbfgs.history=5"], "unknown methods"),
        (["repro", "--only", "fig3"], "fig3"),
    ],
)
def test_bad_arguments_exit_with_a_message(argv, message, tmp_path):
    mnist_or_skip()
    with pytest.raises(SystemExit, match=message):
        cli.main([*argv, "--out", str(tmp_path)])


@pytest.mark.parametrize("argv", [["fig1", "--epochs", "0"], ["fig2", "--dropout", "1.5"], ["sweep", "fig3"]])
def test_argparse_rejects_bad_values(argv):
    with pytest.raises(SystemExit):
        cli.main(argv)


def test_fig1_on_a_small_real_subset(tmp_path, capsys):
    mnist_or_skip()
    cli.main(["fig1", "--epochs", "1", "--train-size", "512", "--only", "adam", "--lr", "adam=0.05",
              "--out", str(tmp_path)])  # fmt: skip
    assert (tmp_path / "fig1.png").exists()
    rows = (tmp_path / "fig1.csv").read_text().splitlines()
    assert rows[0] == "method,label,epoch,train_cost" and rows[1].startswith("adam,Adam,0.0,")
    assert "lr 0.05" in capsys.readouterr().out


def test_a_bad_hyperparameter_from_set_is_reported_by_the_optimizer(tmp_path):
    mnist_or_skip()
    with pytest.raises(SystemExit, match=r"betas\[1\]"):  # checked by the optimizer itself
        cli.main(["fig1", "--epochs", "1", "--train-size", "128", "--only", "adam", "--set", "adam.betas=0.9,1.0",
                  "--out", str(tmp_path)])  # fmt: skip


def test_repro_writes_results_json(tmp_path, monkeypatch):
    mnist_or_skip()
    monkeypatch.setitem(cli.REPRO, "fig1", {"epochs": 1, "train_size": 256})
    monkeypatch.setitem(cli.REPRO, "fig2", {"epochs": 1, "train_size": 128})
    cli.main(["repro", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) >= {"fig1", "fig2", "command", "seconds", "seed"}
    assert set(results["fig2"]) >= {"adam", "adagrad", "rmsprop", "sgd_nesterov", "adadelta"}
    assert 0 < results["fig1"]["adam"]["train_cost"] < 3
    assert isinstance(results["fig1"]["adam_at_least_as_low_as_best_other"], bool)
