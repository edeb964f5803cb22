"""shared.timing and shared.threads."""

from __future__ import annotations

import pytest

from shared import threads, timing


def test_best_time_is_the_smallest_of_the_repeats():
    calls = []
    seconds = timing.best_time(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and seconds >= 0


def test_best_times_alternates_and_handles_a_missing_reference():
    order = []
    ours, theirs = timing.best_times(lambda: order.append("a"), lambda: order.append("b"), repeats=2)
    assert order == ["a", "b", "a", "b", "a", "b"] and ours >= 0 and theirs >= 0
    assert timing.best_times(lambda: None, None, 1)[1] == float("inf")


def test_timer_measures_wall_and_cpu():
    with timing.Timer() as timer:
        sum(range(1000))
    assert timer.wall >= 0 and timer.cpu >= 0


def test_matmul_gflops_is_positive():
    assert timing.matmul_gflops(n=64, repeats=1) > 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, 10**6])
def test_set_threads_refuses_bad_counts(bad):
    with pytest.raises(ValueError):
        threads.set_threads(bad)


def test_set_threads_sets_the_environment_and_describe_names_it(monkeypatch):
    for name in threads.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    threads.set_threads(1)
    import os

    assert all(os.environ[name] == "1" for name in threads.ENV_VARS)
    assert threads.describe().startswith("threads: ")
