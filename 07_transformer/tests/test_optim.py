import numpy as np
import pytest
from transformer.optim import Adam, average_checkpoints, noam_lr


def test_noam_schedule_is_equation_3_and_peaks_at_warmup():
    d, warmup = 512, 4000
    assert noam_lr(100, d, warmup) == pytest.approx(d**-0.5 * 100 * warmup**-1.5)
    assert noam_lr(10000, d, warmup) == pytest.approx(d**-0.5 * 10000**-0.5)
    lrs = [noam_lr(s, d, warmup) for s in range(1, 10000, 50)]
    assert np.argmax(lrs) == (warmup - 1) // 50 or abs(np.argmax(lrs) * 50 + 1 - warmup) <= 50


def test_noam_rejects_step_zero():
    with pytest.raises(ValueError, match="step"):
        noam_lr(0, 512, 4000)


def test_adam_minimizes_a_quadratic_in_place():
    x = np.array([3.0, -2.0])
    opt = Adam({"x": x})
    for _ in range(500):
        opt.step({"x": 2 * x}, lr=0.05)
    np.testing.assert_allclose(x, 0, atol=1e-2)


def test_adam_first_step_moves_each_parameter_by_lr():
    x = np.array([1.0, 1.0])
    Adam({"x": x}).step({"x": np.array([0.5, -3.0])}, lr=0.1)
    np.testing.assert_allclose(x, [0.9, 1.1])


def test_adam_state_round_trip():
    x = np.ones(3)
    opt = Adam({"x": x})
    opt.step({"x": np.ones(3)}, lr=0.1)
    other = Adam({"x": x.copy()})
    other.load_state_dict(opt.state_dict())
    assert other.t == 1 and np.allclose(other.m["x"], opt.m["x"])
    with pytest.raises(ValueError, match="does not match"):
        Adam({"y": x}).load_state_dict(opt.state_dict())


def test_checkpoint_average_is_the_elementwise_mean():
    states = [{"w": np.full(2, v, dtype=np.float32)} for v in (1.0, 2.0, 6.0)]
    np.testing.assert_allclose(average_checkpoints(states)["w"], [3.0, 3.0])
    with pytest.raises(ValueError):
        average_checkpoints([{"w": np.ones(1)}, {"v": np.ones(1)}])
