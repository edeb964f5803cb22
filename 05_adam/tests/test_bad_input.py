"""Hostile and careless input: one `error:` line and exit status 2, nothing lost, nothing allocated first."""

import math

import numpy as np
import pytest
from adam import __main__ as cli
from adam import experiments as ex
from adam.nn import Parameter
from adam.optim import OPTIMIZERS

from shared.testing import data_or_skip, run_capped

# Each is refused before any data is read or any array is built (no MNIST needed).
REFUSED = [
    (["--set", "adam.evil=1"], "unrecognized arguments"),  # the demo takes no --set
    (["fig1", "--set", "adam.evil=1"], "Adam has no argument 'evil'"),
    (["fig1", "--set", "adam.eps=0"], "adam.eps must be > 0"),
    (["fig1", "--set", "adam.eps=-1e-8"], "adam.eps must be > 0"),
    (["fig1", "--set", "adam.eps=nan"], "NaN and infinity"),
    (["fig1", "--set", "adam.eps=inf"], "NaN and infinity"),
    (["fig1", "--set", "adam.betas=0.9,1"], "adam.betas must be in [0, 1)"),
    (["fig1", "--set", "adam.betas=-0.1,0.999"], "adam.betas must be in [0, 1)"),
    (["fig1", "--set", "adam.betas=0.9"], "two numbers"),
    (["fig1", "--set", "adam.betas=0.9,nan"], "NaN and infinity"),
    (["fig1", "--set", "adam.lr=0.1"], "--lr adam=VALUE"),
    (["fig1", "--set", "adam.amsgrad=0.5"], "must be 0 or 1"),
    (["fig1", "--set", "adam.betas"], "METHOD.ARGUMENT=VALUE"),
    (["fig1", "--set", "adam.eps=abc"], "is not a number"),
    (["fig1", "--set", "lbfgs.history=5"], "does not have"),
    (["fig2", "--set", "rmsprop.alpha=1"], "rmsprop.alpha must be in [0, 1)"),
    (["fig2", "--set", "sgd_nesterov.momentum=0"], "nesterov=True requires momentum > 0"),
    (["fig2", "--set", "adadelta.rho=nan"], "NaN and infinity"),
    (["fig2", "--set", "adagrad.weight_decay=-1"], "must be >= 0"),
    (["fig1", "--lr", "adam"], "NAME=VALUE"),
    (["fig1", "--lr", "adam=0"], "must be > 0"),
    (["fig1", "--lr", "adam=-0.1"], "must be > 0"),
    (["fig1", "--lr", "adam=nan"], "not a finite number"),
    (["fig1", "--lr", "adam=1e999"], "not a finite number"),
    (["fig1", "--lr", "lbfgs=0.1"], "does not have"),
    (["fig1", "--only", "rmsprop"], "invalid choice"),
    (["fig1", "--only", "adam", "--lr", "adagrad=0.1"], "does not have"),
    (["fig1", "--epochs", "0"], "out of range"),
    (["fig1", "--epochs", "1e3"], "not an integer"),
    (["fig1", "--train-size", "0"], "out of range"),
    (["fig1", "--train-size", "1000000000"], "out of range"),
    (["fig1", "--l2", "-1"], "must be >= 0"),
    (["fig1", "--l2", "nan"], "not a finite number"),
    (["fig2", "--dropout", "1"], "[0, 1)"),
    (["fig2", "--dropout", "nan"], "not a finite number"),
    (["bias-correction", "--lrs", "0"], "must be > 0"),
    (["bias-correction", "--lrs", "inf"], "not a finite number"),
    (["bias-correction", "--budgets", "0"], "out of range"),
    (["bias-correction", "--budgets", "10000000000"], "out of range"),
    (["toy", "--steps", "0"], "out of range"),
    (["toy", "--steps", "1000000000000"], "out of range"),
    (["sweep", "fig3"], "invalid choice"),
    (["sweep", "fig1", "--only", "rmsprop"], "fig1 does not run"),
    (["sweep", "fig1", "--set", "rmsprop.alpha=0.9"], "does not run"),
    (["sweep", "fig2", "--lrs", "nan"], "not a finite number"),
    (["repro", "--only", "fig3"], "invalid choice"),
    (["bench", "--size", "0"], "out of range"),
    (["bench", "--tensors", "-1"], "out of range"),
    (["toy", "--seed", "-1"], "out of range"),
    (["toy", "--threads", "0"], "out of range"),
    (["toy", "--threads", "two"], "not an integer"),
]


@pytest.mark.parametrize(("argv", "message"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_bad_values_are_one_error_line_and_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert message in lines[0]
    assert not (tmp_path / "runs").exists()  # refused before any output folder was made


def test_out_naming_a_file_is_refused_and_the_file_kept(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert cli.main(["toy", "--steps", "3", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_assets_naming_a_file_is_refused_before_the_run(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert cli.main(["toy", "--steps", "3", "--out", str(tmp_path / "run"), "--assets", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "mine" and not (tmp_path / "run").exists()


def test_assets_that_cannot_be_made_are_refused_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["toy", "--steps", "3", "--out", str(tmp_path / "run"), "--assets", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create the --assets folder") and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_an_unwritable_out_is_one_error_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["toy", "--steps", "3", "--out", str(blocker / "sub")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot create the output folder")


def test_bench_sizes_are_checked_against_memory_before_allocating(capsys):
    assert cli.main(["bench", "--tensors", "100000", "--size", "10000000000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bench with 100000 tensors") and "GiB" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--tensors", "100", "--size", "10000000"],  # 1e9 float32 values: refused, not attempted
        ["toy", "--steps", "1000000000000"],
        ["fig1", "--set", "adam.eps=0"],
        ["fig1", "--set", "adam.evil=1"],
    ],
)
def test_under_a_2gb_memory_cap_big_requests_end_cleanly(argv, tmp_path):
    run = run_capped("adam", argv, cwd=tmp_path, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "MemoryError" not in run.stderr and "Traceback" not in run.stderr


# ----------------------------------------------------------------- a loss that becomes NaN or infinite


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 256)
    x = rng.random((256, 784), dtype=np.float32)
    x[:, :20] = 0  # pixels that are always black, as MNIST's border: their gradients are exactly zero
    return x, y


def test_fig1_stops_at_a_nan_loss_with_a_clear_message(data):
    x, y = data
    methods = {"adam": ex.Method("Adam", "Adam", 0.1, {"eps": 0.0})}  # 0 / 0 on the black pixels' weights
    with np.errstate(all="ignore"), pytest.raises(ex.DivergedError, match="Adam became nan at iteration 2"):
        ex.run_fig1(x, y, epochs=1, batch_size=64, methods=methods, progress=False)


def test_fig2_stops_at_an_infinite_loss_with_a_clear_message(data):
    x, y = data
    methods = {"sgd": ex.Method("SGD", "SGD", 1e30)}
    with np.errstate(all="ignore"), pytest.raises(ex.DivergedError, match="training loss of SGD became"):
        ex.run_fig2(x[:128], y[:128], epochs=2, batch_size=64, methods=methods, progress=False)


def test_sweep_still_records_a_diverged_run_as_infinite(data, capsys):
    x, y = data
    table = ex.sweep("fig2", x, y, epochs=1, grids={"fig2": {"sgd_nesterov": [1e30]}})
    assert table == {"sgd_nesterov": {1e30: math.inf}}


def test_a_diverging_command_writes_no_results(tmp_path, capsys):
    data_or_skip("mnist/train-images-idx3-ubyte")
    argv = ["fig2", "--epochs", "1", "--train-size", "256", "--only", "sgd_nesterov", "--lr", "sgd_nesterov=1e30"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()  # the progress line, then one error line
    assert err[-1].startswith("error: fig2: the training loss of SGDNesterov became")
    assert not any(line.startswith(("Traceback", "error")) for line in err[:-1])
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- the optimizers themselves


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_every_optimizer_refuses_a_non_finite_step_size(name, value):
    with pytest.raises(ValueError, match="lr must be a finite number"):
        OPTIMIZERS[name]([Parameter(np.zeros(3))], lr=value)


@pytest.mark.parametrize(
    ("name", "hyper"),
    [("Adam", {"eps": math.nan}), ("Adam", {"betas": (0.9, math.inf)}), ("AdamW", {"weight_decay": math.inf}),
     ("Adamax", {"eps": math.inf}), ("RMSprop", {"alpha": math.nan}), ("Adadelta", {"rho": math.nan}),
     ("SGD", {"momentum": math.inf}), ("SGD", {"dampening": math.nan}), ("Adagrad", {"lr_decay": math.nan})],
)  # fmt: skip
def test_every_float_hyperparameter_refuses_nan_and_infinity(name, hyper):
    with pytest.raises(ValueError, match="must be a finite number"):
        OPTIMIZERS[name]([Parameter(np.zeros(3))], **hyper)
