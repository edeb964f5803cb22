import json

import numpy as np
import pytest
from lecun1989.checkpoint import load_checkpoint
from lecun1989.model import Config
from lecun1989.train import FAITHFUL, MODERN, RunConfig, evaluate, format_eval, train, with_overrides


def test_format_eval_is_the_repros_line():
    line = format_eval("train", {"loss": 4.073383e-03, "error": 45 / 7291, "misses": 45})
    assert line == "eval: split train. loss 4.073383e-03. error 0.62%. misses: 45"
    assert format_eval("test", {"loss": 0.02838382, "error": 82 / 2007, "misses": 82}).startswith("eval: split test . ")


def test_one_pass_lowers_the_loss(toy_data):
    from lecun1989.model import Net

    from shared.seeding import make_rng

    before = evaluate(Net(FAITHFUL.model, make_rng(0)), *(toy_data[f"{k}_train"] for k in ("x", "y", "label")))
    result = train(with_overrides(FAITHFUL, passes=1, seed=0), toy_data, log=lambda msg: None)
    after = result.history[-1]
    assert after["train_loss"] < 0.5 * before["loss"]
    assert after["train_error"] < before["error"]


def test_sdlm_pass_lowers_the_loss_and_is_deterministic(toy_data):
    run = with_overrides(FAITHFUL, optimizer="sdlm", lr=0.005, lr_final=None, passes=2, seed=0, hessian_samples=100)
    first = train(run, toy_data, log=lambda msg: None, progress=False)
    again = train(run, toy_data, log=lambda msg: None, progress=False)
    assert first.history[-1]["train_loss"] < first.history[0]["train_loss"]
    np.testing.assert_array_equal(first.net.params, again.net.params)


def test_modern_pass_lowers_the_loss(toy_data):
    run = with_overrides(MODERN, passes=2, seed=0)
    result = train(run, toy_data, log=lambda msg: None)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"] < np.log(10)


def test_training_is_deterministic_for_a_seed(toy_data):
    run = with_overrides(MODERN, passes=1, seed=3)
    a = train(run, toy_data, log=lambda msg: None)
    b = train(run, toy_data, log=lambda msg: None)
    np.testing.assert_array_equal(a.net.params, b.net.params)


def test_train_prints_the_pass_and_both_eval_lines(toy_data):
    lines = []
    train(with_overrides(FAITHFUL, passes=2), toy_data, log=lines.append)
    assert lines[0] == "1" and lines[3] == "2"
    assert lines[1].startswith("eval: split train. loss ") and lines[2].startswith("eval: split test . loss ")


def test_train_writes_checkpoint_results_and_plots(toy_data, tmp_path):
    result = train(with_overrides(FAITHFUL, passes=1), toy_data, tmp_path, log=lambda msg: None)
    for name in ("model.npz", "results.json", "h1_kernels.png", "error_per_pass.png"):
        assert (tmp_path / name).is_file(), name
    results = json.loads((tmp_path / "results.json").read_text())
    for key in ("test_error", "train_error", "test_loss", "train_loss", "command", "seconds", "seed"):
        assert key in results
    assert 0.0 <= results["test_error"] <= 1.0 and len(results["passes"]) == 1
    net, _ = load_checkpoint(tmp_path / "model.npz")
    np.testing.assert_array_equal(net.params, result.net.params)


def test_learning_rate_schedule_decays_linearly():
    run = RunConfig(passes=5, lr=3e-4, lr_final=1e-4)
    assert run.lr_at(0) == pytest.approx(3e-4) and run.lr_at(4) == pytest.approx(1e-4)
    assert run.lr_at(2) == pytest.approx(2e-4)
    assert RunConfig(lr=0.03).lr_at(10) == 0.03


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"passes": 0}, "passes"),
        ({"lr": -0.1}, "lr"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"optimizer": "sdlm", "model": Config(output="linear")}, "sdlm"),
        ({"optimizer": "sdlm", "hessian_samples": 0}, "hessian_samples"),
    ],
)
def test_run_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**kwargs)


def test_with_overrides_mixes_model_and_run_settings():
    run = with_overrides(FAITHFUL, activation="relu", passes=3, dropout=None)
    assert run.model.activation == "relu" and run.passes == 3 and run.model.dropout == 0.0
    with pytest.raises(ValueError, match="unknown"):
        with_overrides(FAITHFUL, momentum=0.9)


def test_train_rejects_malformed_data(toy_data):
    del toy_data["label_test"]
    with pytest.raises(ValueError, match="label_test"):
        train(FAITHFUL, toy_data, log=lambda msg: None)
    toy_data["label_test"] = np.zeros(3, np.uint8)
    with pytest.raises(ValueError, match="test data must be"):
        train(FAITHFUL, toy_data, log=lambda msg: None)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_reported(toy_data):
    with pytest.raises(FloatingPointError, match="diverged"):
        train(with_overrides(MODERN, passes=1, lr=1e6, lr_final=None, dropout=0.0), toy_data, log=lambda msg: None)
