import math

import pytest
from adam.schedules import CosineWarmupSchedule, InverseSqrtSchedule, NoamSchedule, StepSchedule, constant


def test_step_schedule_drops_by_gamma_every_step_size_steps():
    schedule = StepSchedule(1.0, step_size=3, gamma=0.5)
    assert [schedule(t) for t in range(1, 8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_cosine_warmup_rises_linearly_then_follows_half_a_cosine():
    schedule = CosineWarmupSchedule(1.0, warmup=4, total=14, min_lr=0.1)
    assert [schedule(t) for t in range(1, 5)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule(9) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi * 0.5)))
    assert schedule(14) == pytest.approx(0.1)
    assert schedule(100) == pytest.approx(0.1)


def test_inverse_sqrt_is_alpha_over_sqrt_t():
    schedule = InverseSqrtSchedule(0.5)
    assert schedule(1) == 0.5 and schedule(4) == 0.25 and schedule(100) == pytest.approx(0.05)


def test_noam_peaks_at_warmup():
    schedule = NoamSchedule(d_model=512, warmup=4000)
    values = [schedule(t) for t in (1000, 4000, 16000)]
    assert values[1] == max(values)
    assert values[1] == pytest.approx(512**-0.5 * 4000**-0.5)
    assert values[2] == pytest.approx(values[1] / 2)


def test_constant_and_bad_arguments():
    assert constant(0.3)(7) == 0.3
    with pytest.raises(ValueError, match="step_size"):
        StepSchedule(1.0, step_size=0)
    with pytest.raises(ValueError, match="warmup"):
        CosineWarmupSchedule(1.0, warmup=10, total=5)
    with pytest.raises(ValueError, match="lr"):
        InverseSqrtSchedule(-1.0)
    with pytest.raises(ValueError, match="counts from 1"):
        InverseSqrtSchedule(1.0)(0)
    with pytest.raises(ValueError, match="d_model"):
        NoamSchedule(0)
