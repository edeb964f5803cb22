"""Stochastic gradient descent with momentum and weight decay, updating parameters in place.

One step, for each parameter p with gradient g (the same rule as PyTorch's `torch.optim.SGD`
with dampening 0, no Nesterov):

    g <- g + weight_decay * p       (L2 penalty weight_decay/2 * |p|^2, differentiated)
    v <- momentum * v + g           (v starts at 0, so the first step has v = g)
    p <- p - lr * v

Momentum (Polyak 1964; Sutskever et al. 2013, eq. 1) averages gradients over roughly
1 / (1 - momentum) steps, which damps the zig-zag across narrow valleys.

`sgd_update` is that rule as written, one parameter at a time (the function to read);
`SGD.step` does the same arithmetic in place, into preallocated buffers, so a training step
allocates nothing (tests/test_optim.py::test_step_equals_sgd_update ties them, bit for bit).

What this module does not do: learning-rate schedules (the training loop sets `lr`),
Nesterov momentum, or adaptive methods (Adam is project 05).
"""

from __future__ import annotations

import numpy as np

from .layers import Parameter

__all__ = ["SGD", "sgd_update"]


def sgd_update(
    p: np.ndarray, grad: np.ndarray, velocity: np.ndarray, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """One step for one parameter, as the equations read; returns (new p, new velocity).

    The readable form of `SGD.step` (which is the same arithmetic in place). With momentum 0
    the velocity is just the gradient; with weight decay 0 the gradient is just `grad`.
    """
    # exercise: sgd_update: decay, momentum, step; return (p, v); README "Minibatches, initialisation, optimisation"
    g = grad + weight_decay * p  # the gradient of L + weight_decay/2 * |p|^2
    v = momentum * velocity + g  # Sutskever et al. 2013, eq. 1 (PyTorch's form: lr outside v)
    return p - lr * v, v
    # end exercise


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
        """`sgd_update` for every parameter, in place (g in scratch, v in self.velocity, p.data)."""
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
