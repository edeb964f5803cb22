import numpy as np
import pytest
from conftest import make_spirals
from mlp.layers import make_mlp
from mlp.train import TrainConfig, build_model, evaluate, fit, lr_at


def test_spirals_reach_100_percent_training_accuracy():
    X, y = make_spirals(points_per_class=100, classes=3)
    config = TrainConfig(hidden=(64, 64), epochs=60, batch_size=32, lr=0.1, seed=0)
    model = make_mlp(2, config.hidden, 3, rng=0)
    history = fit(model, config, (X, y), (X, y), log=lambda message: None, progress=False)
    assert history.train_accuracy[-1] > 0.9
    assert evaluate(model, X, y)[1] == 1.0


def test_training_is_deterministic_for_a_seed():
    X, y = make_spirals(points_per_class=30)
    config = TrainConfig(hidden=(16,), epochs=3, batch_size=16, dropout=0.2, seed=5)

    def run():
        model = make_mlp(2, config.hidden, 3, dropout=config.dropout, rng=config.seed)
        fit(model, config, (X, y), (X, y), log=lambda message: None, progress=False)
        return [p.data.copy() for p in model.parameters()]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_fit_prints_one_line_per_epoch_with_the_metrics():
    X, y = make_spirals(points_per_class=20)
    lines = []
    config = TrainConfig(hidden=(8,), epochs=2, batch_size=16)
    fit(make_mlp(2, [8], 3), config, (X, y), (X, y), log=lines.append, progress=False)
    assert len(lines) == 2
    assert all(key in lines[0] for key in ("train loss", "train acc", "test acc", "s"))


def test_non_finite_loss_stops_with_a_clear_message():
    X, y = make_spirals(points_per_class=50)
    config = TrainConfig(hidden=(32,), epochs=5, batch_size=10, lr=1e20, schedule="constant")
    with pytest.raises(FloatingPointError, match=r"finite loss was expected.*learning rate"):
        fit(make_mlp(2, [32], 3), config, (X, y), (X, y), log=lambda message: None, progress=False)


def test_wrong_input_width_and_labels_out_of_range_stop_before_training():
    X, y = make_spirals(points_per_class=10)
    model = make_mlp(2, [4], 3)
    config = TrainConfig(hidden=(4,), epochs=1)
    with pytest.raises(ValueError, match=r"training data: the model expects inputs of shape \(N, 2\)"):
        fit(model, config, (np.zeros((30, 5), np.float32), y), (X, y), progress=False)
    with pytest.raises(ValueError, match=r"test data: labels must be in \[0, 2\]"):
        fit(model, config, (X, y), (X, y + 1), progress=False)


def test_evaluate_runs_in_eval_mode_and_restores_the_mode():
    X, y = make_spirals(points_per_class=10)
    model = make_mlp(2, [8], 3, dropout=0.5).train()
    first = evaluate(model, X, y)
    second = evaluate(model, X, y)
    assert first[0] == second[0]  # no dropout noise: eval mode
    assert model.training and all(layer.training for layer in model.layers)
    assert first[2].shape == (30,)


def test_cosine_schedule_goes_from_lr_to_zero():
    config = TrainConfig(lr=0.2)
    assert lr_at(config, 0, 100) == pytest.approx(0.2)
    assert lr_at(config, 50, 100) == pytest.approx(0.1)
    assert lr_at(config, 99, 100) < 0.001
    assert lr_at(TrainConfig(lr=0.2, schedule="constant"), 99, 100) == 0.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "cifar"}, "dataset"),
        ({"lr": -1.0}, "learning rate"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch size"),
        ({"momentum": 1.5}, "momentum"),
        ({"dropout": 1.0}, "dropout"),
        ({"hidden": (0,)}, "hidden"),
        ({"schedule": "step"}, "schedule"),
        ({"weight_decay": -1.0}, "weight decay"),
    ],
)
def test_bad_configurations_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_build_model_follows_the_config():
    model = build_model(TrainConfig(hidden=(32, 16), dropout=0.1))
    assert [p.shape for p in model.parameters()] == [(784, 32), (32,), (32, 16), (16,), (16, 10), (10,)]
    assert len(build_model(TrainConfig(hidden=())).layers) == 1


@pytest.mark.parametrize(("field", "value"), [("lr", float("nan")), ("weight_decay", float("inf"))])
def test_from_dict_refuses_a_non_finite_rate_by_name(field, value):
    # a checkpoint's JSON can no longer carry NaN (shared.checkpoint refuses it); a dict from Python still can
    with pytest.raises(ValueError, match=f"{field} .* must be a finite number"):
        TrainConfig.from_dict({field: value}, "the test's config")
