"""AdamW, the cosine learning-rate schedule with warmup, and gradient clipping by global norm.

AdamW (Loshchilov & Hutter 2019, Algorithm 2) is written to match `torch.optim.AdamW` step for
step: decoupled decay `p *= 1 - lr * wd` first, then Adam's bias-corrected update (Kingma & Ba
2015, Algorithm 1). As in GPT-2/nanoGPT, only 2-D weights (matmuls and embeddings) decay;
biases and LayerNorm gains do not. All updates are in place on the parameter arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["AdamW", "adamw_update", "clip_grad_norm", "cosine_lr"]


class AdamW:
    """AdamW over named Parameters (objects with `.data` and `.grad`)."""

    def __init__(
        self,
        params: Mapping,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        if not lr >= 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if not eps > 0 or not weight_decay >= 0:
            raise ValueError(f"eps must be > 0 and weight_decay >= 0, got {eps}, {weight_decay}")
        self.params = dict(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.decays = {name: p.data.ndim >= 2 for name, p in self.params.items()}
        self.m = {name: np.zeros_like(p.data) for name, p in self.params.items()}
        self.v = {name: np.zeros_like(p.data) for name, p in self.params.items()}
        self.step_count = 0

    def step(self, lr: float | None = None) -> None:
        lr = self.lr if lr is None else lr
        beta1, beta2 = self.betas
        self.step_count += 1
        t = self.step_count
        step_size = lr / (1 - beta1**t)
        root_correction = math.sqrt(1 - beta2**t)
        for name, p in self.params.items():
            if p.grad is None:
                continue
            if self.decays[name] and self.weight_decay:
                p.data *= 1 - lr * self.weight_decay  # decoupled weight decay
            adamw_update(p.data, p.grad, self.m[name], self.v[name], step_size, root_correction, self.eps, self.betas)

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Moments as flat named arrays (for an .npz checkpoint)."""
        state = {f"adam_m/{n}": a for n, a in self.m.items()}
        state.update({f"adam_v/{n}": a for n, a in self.v.items()})
        return state

    def load_state_arrays(self, arrays: Mapping[str, np.ndarray], step_count: int) -> None:
        for name in self.params:
            for kind, store in (("adam_m", self.m), ("adam_v", self.v)):
                key = f"{kind}/{name}"
                if key not in arrays or arrays[key].shape != store[name].shape:
                    raise ValueError(f"checkpoint optimizer state {key} is missing or has the wrong shape")
                store[name][...] = arrays[key]
        self.step_count = int(step_count)


def adamw_update(p, g, m, v, step_size: float, root_correction: float, eps: float, betas) -> None:
    """Adam's step on arrays in place: p -= step_size * m / (sqrt(v) / root_correction + eps).

    `step_size` = lr / (1 - beta1^t) and `root_correction` = sqrt(1 - beta2^t) are the bias corrections
    (Kingma & Ba 2015, Algorithm 1). Shared by `AdamW` and ZeRO-1's sharded optimizer (ddp.py).
    """
    beta1, beta2 = betas
    # exercise: adamw_update: Adam's moments and bias-corrected step (README: How to run)
    m *= beta1
    m += (1 - beta1) * g  # first moment
    v *= beta2
    v += (1 - beta2) * (g * g)  # second moment
    denom = np.sqrt(v)
    denom /= root_correction
    denom += eps
    p -= step_size * (m / denom)
    # end exercise


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients so their global L2 norm is at most max_norm (as torch); returns the norm before."""
    grads = [p.grad for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    if max_norm > 0:
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            for g in grads:
                g *= coef
    return total


def cosine_lr(step: int, max_lr: float, min_lr: float, warmup: int, decay_steps: int) -> float:
    """Linear warmup for `warmup` steps, cosine decay to min_lr at `decay_steps`, flat after (nanoGPT)."""
    if step < warmup:
        return max_lr * (step + 1) / (warmup + 1)
    if step > decay_steps:
        return min_lr
    ratio = (step - warmup) / max(decay_steps - warmup, 1)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (max_lr - min_lr)
