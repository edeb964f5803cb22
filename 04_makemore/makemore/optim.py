"""Optimizers that update parameters in place: SGD with a step decay (lectures 2-5), and AdamW.

Both hold (parameter, gradient) pairs taken once from a model's `parameters()` and
`gradients()` dictionaries, so a step allocates nothing. Not here: momentum SGD, other
schedules, gradient clipping.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SGD", "AdamW", "step_schedule"]


def step_schedule(lr: float, step: int, decay_step: int, factor: float = 0.1) -> float:
    """The lectures' schedule: `lr` before `decay_step`, `lr * factor` from then on."""
    return lr if step < decay_step else lr * factor


class SGD:
    """p <- p - lr * grad."""

    def __init__(self, parameters: dict[str, np.ndarray], gradients: dict[str, np.ndarray]):
        if set(parameters) != set(gradients):
            raise ValueError("parameters and gradients must have the same names")
        self.pairs = [(parameters[k], gradients[k], np.empty_like(parameters[k])) for k in parameters]

    def step(self, lr: float) -> None:
        for p, g, scratch in self.pairs:
            np.multiply(g, lr, out=scratch)
            p -= scratch


class AdamW:
    """Adam (Kingma & Ba 2014, Alg. 1) with decoupled weight decay (Loshchilov & Hutter 2019).

    Defaults are makemore.py's: betas (0.9, 0.99), eps 1e-8, weight decay 0.01 on every parameter.
    """

    def __init__(self, parameters, gradients, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01):
        if set(parameters) != set(gradients):
            raise ValueError("parameters and gradients must have the same names")
        self.pairs = [(parameters[k], gradients[k]) for k in parameters]
        self.m = [np.zeros_like(p) for p, _ in self.pairs]
        self.v = [np.zeros_like(p) for p, _ in self.pairs]
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay, self.t = eps, weight_decay, 0

    def step(self, lr: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t  # bias corrections
        for (p, g), m, v in zip(self.pairs, self.m, self.v):
            p *= 1 - lr * self.weight_decay
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (lr / c1) * m / (np.sqrt(v / c2) + self.eps)
