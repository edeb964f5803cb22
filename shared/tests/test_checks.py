"""shared.checks: numbers must be numbers, sizes are checked before allocating."""

from __future__ import annotations

import pytest

from shared import checks


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), True, "1", None])
def test_finite_refuses_non_numbers(value):
    with pytest.raises(ValueError, match="lr"):
        checks.finite("lr", value)


def test_positive_and_non_negative_refuse_nan_that_a_naive_check_lets_through():
    with pytest.raises(ValueError):
        checks.positive("lr", float("nan"))
    with pytest.raises(ValueError, match="> 0"):
        checks.positive("lr", 0.0)
    with pytest.raises(ValueError, match="<= 1"):
        checks.positive("lr", 2.0, maximum=1)
    assert checks.non_negative("decay", 0) == 0.0


def test_probability_bounds():
    assert checks.probability("dropout", 0.5) == 0.5
    with pytest.raises(ValueError):
        checks.probability("dropout", 1.0)
    assert checks.probability("p", 1.0, allow_one=True) == 1.0


def test_integer_refuses_floats_and_bools_and_names_the_source():
    assert checks.integer("n_layer", 3, "config.json", minimum=1, maximum=100) == 3
    for value in (1.0, True, "3"):
        with pytest.raises(ValueError, match=r"n_layer in config\.json"):
            checks.integer("n_layer", value, "config.json")
    with pytest.raises(ValueError, match="from 1 to 100"):
        checks.integer("n_layer", 3_000_000, "config.json", minimum=1, maximum=100)


def test_check_memory_refuses_what_the_machine_cannot_hold():
    assert checks.available_memory() > 0
    checks.check_memory(1024, "a tiny array")
    with pytest.raises(ValueError, match="GiB"):
        checks.check_memory(2**60, "an enormous array")
