"""Stochastic gradient descent with momentum and weight decay, updating parameters in place.

One step, for each parameter p with gradient g (the same rule as PyTorch's `torch.optim.SGD`
with dampening 0, no Nesterov):

    g <- g + weight_decay * p       (L2 penalty weight_decay/2 * |p|^2, differentiated)
    v <- momentum * v + g           (v starts at 0, so the first step has v = g)
    p <- p - lr * v

Momentum (Polyak 1964; Sutskever et al. 2013, eq. 1) averages gradients over roughly
1 / (1 - momentum) steps, which damps the zig-zag across narrow valleys.

What this module does not do: learning-rate schedules (the training loop sets `lr`),
Nesterov momentum, or adaptive methods (Adam is project 05).
"""

from __future__ import annotations

import numpy as np

from .layers import Parameter

__all__ = ["SGD"]


class SGD:
    """SGD(params, lr, momentum=0, weight_decay=0); `zero_grad()` then `step()` each batch."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError("SGD got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(f"SGD expects Parameters (e.g. model.parameters()), got {type(p).__name__}")
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if not (np.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self.velocity = [np.zeros_like(p.data) for p in self.params] if momentum > 0 else []
        self._scratch = [np.empty_like(p.data) for p in self.params]  # so a step allocates nothing

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        for index, p in enumerate(self.params):
            scratch = self._scratch[index]
            g = p.grad  # never modified: it stays dL/dp
            if self.weight_decay:
                np.multiply(p.data, self.weight_decay, out=scratch)
                scratch += g
                g = scratch
            if self.momentum:
                v = self.velocity[index]
                v *= self.momentum
                v += g
                g = v
            np.multiply(g, self.lr, out=scratch)
            p.data -= scratch
