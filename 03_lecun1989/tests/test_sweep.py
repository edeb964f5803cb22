import numpy as np
import pytest
from lecun1989.sweep import choose, holdout_split, sweep
from lecun1989.train import FAITHFUL, with_overrides


def test_holdout_split_never_touches_the_test_split(toy_data):
    split = holdout_split(toy_data, 50)
    assert len(split["x_train"]) == 250 and len(split["x_test"]) == 50
    np.testing.assert_array_equal(split["x_test"], toy_data["x_train"][250:])  # validation = last training digits
    np.testing.assert_array_equal(split["label_train"], toy_data["label_train"][:250])
    for value in split.values():
        assert not np.shares_memory(value, toy_data["x_test"])


@pytest.mark.parametrize("holdout", [0, 300, 1000])
def test_holdout_must_leave_digits_on_both_sides(toy_data, holdout):
    with pytest.raises(ValueError, match="holdout"):
        holdout_split(toy_data, holdout)


def test_choose_takes_the_lowest_mean_validation_error_then_loss():
    rows = [
        {"lr": 0.1, "decay": 1, "seed": 1, "val_error": 0.05, "val_loss": 0.2, "train_error": 0.01},
        {"lr": 0.1, "decay": 1, "seed": 2, "val_error": 0.03, "val_loss": 0.2, "train_error": 0.01},
        {"lr": 0.2, "decay": 1, "seed": 1, "val_error": 0.04, "val_loss": 0.1, "train_error": 0.01},
        {"lr": 0.2, "decay": 1, "seed": 2, "val_error": 0.04, "val_loss": 0.1, "train_error": 0.01},
        {"lr": 0.3, "decay": 1, "seed": 1, "val_error": 0.06, "val_loss": 0.0, "train_error": 0.01},
    ]
    best = choose(rows)["best"]  # 0.1 and 0.2 tie at 4% on average; 0.2 has the lower loss
    assert (best["lr"], best["seeds"]) == (0.2, 2)


def test_sweep_trains_each_setting_and_seed(toy_data):
    base = with_overrides(FAITHFUL, passes=1)
    rows = sweep(base, toy_data, [0.01, 0.03], [1.0, 0.1], [0], holdout=100, log=lambda _: None)
    assert [(r["lr"], r["decay"]) for r in rows] == [(0.01, 1.0), (0.01, 0.1), (0.03, 1.0), (0.03, 0.1)]
    assert all(0.0 <= r["val_error"] <= 1.0 for r in rows)
    with pytest.raises(ValueError, match="decays"):
        sweep(base, toy_data, [0.01], [2.0], [0], holdout=100)


def test_sweep_in_worker_processes_gives_the_same_rows(toy_data):
    base = with_overrides(FAITHFUL, passes=1)
    grid = ([0.01, 0.03], [1.0], [0, 1])
    serial = sweep(base, toy_data, *grid, holdout=100, log=lambda _: None)
    parallel = sweep(base, toy_data, *grid, holdout=100, log=lambda _: None, jobs=2)
    expected = [{k: v for k, v in row.items() if k != "seconds"} for row in serial]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in parallel] == expected
    with pytest.raises(ValueError, match="jobs"):
        sweep(base, toy_data, *grid, holdout=100, jobs=0)
