"""AdamW's decay rule, the schedule's shape and global-norm clipping."""

import math

import numpy as np
import pytest
from gpt2.model import Parameter
from gpt2.optim import AdamW, clip_grad_norm, cosine_lr


def test_adamw_first_step_moves_each_weight_by_lr_and_decays_only_matrices():
    w, b = Parameter(np.ones((2, 2), np.float32)), Parameter(np.ones(2, np.float32))
    w.grad, b.grad = np.full((2, 2), 3.0, np.float32), np.full(2, -2.0, np.float32)
    AdamW({"w": w, "b": b}, lr=0.1, weight_decay=0.5).step()
    # step 1: m_hat = g, v_hat = g^2, so the Adam update is lr * sign(g); decay multiplies by 1 - lr * wd first
    np.testing.assert_allclose(w.data, 1.0 * (1 - 0.1 * 0.5) - 0.1, rtol=1e-6)
    np.testing.assert_allclose(b.data, 1.0 + 0.1, rtol=1e-6)


def test_adamw_rejects_bad_hyperparameters():
    with pytest.raises(ValueError, match="betas"):
        AdamW({}, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="learning rate"):
        AdamW({}, lr=-1)


def test_cosine_schedule_warms_up_then_decays_to_min():
    lrs = [cosine_lr(s, 1.0, 0.1, warmup=10, decay_steps=110) for s in range(130)]
    assert lrs[0] == pytest.approx(1 / 11) and lrs[9] == pytest.approx(10 / 11)
    assert lrs[10] == pytest.approx(1.0) and lrs[60] == pytest.approx(0.55)
    assert lrs[110] == pytest.approx(0.1) and lrs[129] == 0.1
    decay = lrs[10:]
    assert all(np.diff(decay) <= 0)


def test_clip_grad_norm_scales_to_the_max_norm_only_when_above():
    p, q = Parameter(np.zeros(2)), Parameter(np.zeros(1))
    p.grad, q.grad = np.array([3.0, 0.0]), np.array([4.0])
    assert clip_grad_norm([p, q], 10.0) == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, [3.0, 0.0])
    clip_grad_norm([p, q], 1.0)
    assert math.hypot(p.grad[0], q.grad[0]) == pytest.approx(1.0, rel=1e-5)
