"""The experiment loops on small generated data (real MNIST is for the commands, not the tests)."""

import math

import numpy as np
import pytest
from adam import experiments as ex

from shared.testing import data_or_skip


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 300)
    x = rng.random((300, 784), dtype=np.float32) * 0.05
    x[np.arange(300), y * 70] = 1.0  # a learnable signal: one bright pixel per class
    return x, y


def test_fig1_curves_start_at_log10_and_go_down(data):
    x, y = data
    curves = ex.run_fig1(x, y, epochs=2, batch_size=64, progress=False)
    assert set(curves) == set(ex.FIG1_METHODS)
    for curve in curves.values():
        assert curve["epoch"][0] == 0 and curve["epoch"][-1] == 2
        assert curve["cost"][0] == pytest.approx(math.log(10), rel=1e-6)  # zero-initialised weights
        assert curve["cost"][-1] < curve["cost"][0]


def test_fig2_gives_one_cost_per_epoch_for_each_method(data):
    x, y = data
    methods = {name: ex.FIG2_METHODS[name] for name in ("adam", "adadelta")}
    curves = ex.run_fig2(x[:128], y[:128], epochs=2, batch_size=64, methods=methods, progress=False)
    assert list(curves) == ["adam", "adadelta"]
    for curve in curves.values():
        assert curve["epoch"] == [1, 2] and all(np.isfinite(curve["cost"]))


def test_runs_are_deterministic_given_the_seed(data):
    x, y = data
    methods = {"adam": ex.FIG2_METHODS["adam"]}
    first = ex.run_fig2(x[:64], y[:64], epochs=1, methods=methods, progress=False)
    second = ex.run_fig2(x[:64], y[:64], epochs=1, methods=methods, progress=False)
    assert first == second


def test_bias_correction_grid_has_a_row_per_run_and_budget(data):
    x, _ = data
    rows = ex.run_bias_correction(x, budgets=(2, 3), lrs=(1e-3, 10.0), beta2s=(0.999,), batch_size=32,
                                  eval_size=50, progress=False)  # fmt: skip
    assert len(rows) == 2 * 1 * 2 * 2 * 2  # beta1 x beta2 x correction x lr x budget
    assert {row["iterations"] for row in rows} == {2, 3}
    assert all(row["loss"] > 0 for row in rows)
    with pytest.raises(ValueError, match="budgets"):
        ex.run_bias_correction(x, budgets=(0,), progress=False)


def test_sweep_reports_every_grid_point(data, capsys):
    x, y = data
    table = ex.sweep("fig1", x, y, epochs=1, grids={"fig1": {"adam": [0.01, 0.1]}})
    assert list(table["adam"]) == [0.01, 0.1]
    assert "sweep fig1 adam" in capsys.readouterr().out
    with pytest.raises(ValueError, match="figure"):
        ex.sweep("fig3", x, y, epochs=1)
    with pytest.raises(ValueError, match="unknown methods"):
        ex.sweep("fig2", x, y, epochs=1, only=["lbfgs"])


def test_train_size_is_checked():
    data_or_skip("mnist/train-images-idx3-ubyte")
    data_or_skip("mnist/train-labels-idx1-ubyte")
    with pytest.raises(ValueError, match="train size"):
        ex.load_mnist_flat("train", 10**6)
