"""Learning-rate schedules: each is a callable `schedule(t) -> lr` for the step number t = 1, 2, ...

Set it before each step, `optimizer.lr = schedule(t)`; nothing else changes in the optimizer.

- `StepSchedule`: lr * gamma^floor((t - 1) / step_size)  (torch.optim.lr_scheduler.StepLR, counted in steps)
- `CosineWarmupSchedule`: linear warm-up to lr, then half a cosine down to min_lr
- `InverseSqrtSchedule`: lr / sqrt(t), the decay of the Adam paper's logistic regression (Section 6.1)
  and of its convergence analysis (Section 4, Theorem 4.1)
- `NoamSchedule`: factor * d_model^-0.5 * min(t^-0.5, t * warmup^-1.5) (Vaswani et al., 2017, eq. 3)
"""

from __future__ import annotations

import math

__all__ = ["CosineWarmupSchedule", "InverseSqrtSchedule", "NoamSchedule", "StepSchedule", "constant"]


def _positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return value


def _nonnegative(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{owner}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def _step(owner: str, t) -> int:
    if isinstance(t, bool) or not isinstance(t, int) or t < 1:
        raise ValueError(f"{owner}: the step t counts from 1, got {t!r}")
    return t


class StepSchedule:
    def __init__(self, lr: float, step_size: int, gamma: float = 0.1):
        self.lr = _nonnegative("StepSchedule", "lr", lr)
        self.step_size = _positive_int("StepSchedule", "step_size", step_size)
        self.gamma = _nonnegative("StepSchedule", "gamma", gamma)

    def __call__(self, t: int) -> float:
        return self.lr * self.gamma ** ((_step("StepSchedule", t) - 1) // self.step_size)


class CosineWarmupSchedule:
    def __init__(self, lr: float, warmup: int, total: int, min_lr: float = 0.0):
        self.lr = _nonnegative("CosineWarmupSchedule", "lr", lr)
        self.warmup = int(_nonnegative("CosineWarmupSchedule", "warmup", warmup))
        self.total = _positive_int("CosineWarmupSchedule", "total", total)
        self.min_lr = _nonnegative("CosineWarmupSchedule", "min_lr", min_lr)
        if self.warmup > self.total:
            raise ValueError(f"CosineWarmupSchedule: warmup ({warmup}) must not exceed total ({total})")

    def __call__(self, t: int) -> float:
        t = _step("CosineWarmupSchedule", t)
        # exercise: cosine_warmup: linear warm-up to lr, then half a cosine down to min_lr; README "Step-size schedules"
        if t <= self.warmup:
            return self.lr * t / self.warmup
        progress = min((t - self.warmup) / max(self.total - self.warmup, 1), 1.0)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * progress))
        # end exercise


class InverseSqrtSchedule:
    def __init__(self, lr: float):
        self.lr = _nonnegative("InverseSqrtSchedule", "lr", lr)

    def __call__(self, t: int) -> float:
        return self.lr / math.sqrt(_step("InverseSqrtSchedule", t))


class NoamSchedule:
    def __init__(self, d_model: int, warmup: int = 4000, factor: float = 1.0):
        self.d_model = _positive_int("NoamSchedule", "d_model", d_model)
        self.warmup = _positive_int("NoamSchedule", "warmup", warmup)
        self.factor = _nonnegative("NoamSchedule", "factor", factor)

    def __call__(self, t: int) -> float:
        t = _step("NoamSchedule", t)
        return self.factor * self.d_model**-0.5 * min(t**-0.5, t * self.warmup**-1.5)


def constant(lr: float):
    """The schedule that does nothing: lr at every step."""
    lr = _nonnegative("constant", "lr", lr)
    return lambda t: lr
