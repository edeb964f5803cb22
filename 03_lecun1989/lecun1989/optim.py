"""Optimizers over one flat parameter vector: plain SGD (1989) and AdamW (the modern run).

Both update `params` in place from `grads` (the flat arrays of `model.Net`), with
preallocated scratch space, so a step allocates nothing: at batch size 1 the update runs
as often as the forward pass, and its overhead matters as much.

- `SGD`: p -= lr * g. The paper used a stochastic diagonal approximation of
  the Hessian to give each weight its own rate; we use one rate for every weight (the
  training loop sets it each pass: constant, or decaying linearly).
- `AdamW`: Loshchilov & Hutter's decoupled weight decay, as torch.optim.AdamW (defaults
  betas (0.9, 0.999), eps 1e-8, weight_decay 0.01, applied to every parameter as in the
  repro's modern.py); a test checks it against PyTorch step by step.

- `DiagonalLevenbergMarquardt`: the paper's optimiser, p -= lr / (mu + h) * g, with h an
  estimate of the Hessian's diagonal (`model.Net.hessian_diagonal`) that the training loop
  refreshes before every pass (LeCun et al. 1998, App. C: 500 patterns, mu = 0.02).

Learning-rate schedules are the training loop's business: it sets `optimizer.lr`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["SGD", "AdamW", "DiagonalLevenbergMarquardt", "make_optimizer"]


def _check_lr(lr: float) -> float:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a positive finite number, got {lr!r}")
    return float(lr)


class SGD:
    """Plain stochastic gradient descent: params -= lr * grads."""

    def __init__(self, params: np.ndarray, grads: np.ndarray, lr: float):
        if params.shape != grads.shape or params.ndim != 1:
            raise ValueError(f"params and grads must be flat arrays of one shape, got {params.shape}, {grads.shape}")
        self.params, self.grads, self.lr = params, grads, _check_lr(lr)
        self._scratch = np.empty_like(params)

    def step(self) -> None:
        np.multiply(self.grads, self.lr, out=self._scratch)
        self.params -= self._scratch


class DiagonalLevenbergMarquardt:
    """Stochastic diagonal Levenberg-Marquardt: params -= lr / (mu + h) * grads, per weight.

    Weights whose loss is flat (small h: H1's per-unit biases, each seeing one example's
    worth of error) take big steps; weights shared by many connections or feeding saturated
    units (large h) take small ones. mu keeps the step bounded where h is near 0; it plays
    the Levenberg-Marquardt damping. Until `set_hessian` is called, h = 0: SGD at lr / mu.
    """

    def __init__(self, params: np.ndarray, grads: np.ndarray, lr: float, mu: float = 0.02):
        if params.shape != grads.shape or params.ndim != 1:
            raise ValueError(f"params and grads must be flat arrays of one shape, got {params.shape}, {grads.shape}")
        if not (math.isfinite(mu) and mu > 0):
            raise ValueError(f"mu must be a positive finite number, got {mu!r}")
        self.params, self.grads, self.lr, self.mu = params, grads, _check_lr(lr), float(mu)
        self._inverse = np.full_like(params, 1.0 / self.mu)  # 1 / (mu + h)
        self._scratch = np.empty_like(params)

    def set_hessian(self, hessian: np.ndarray) -> None:
        """Use a new estimate of the Hessian's diagonal (same shape as params, >= 0)."""
        if hessian.shape != self.params.shape or not np.all(np.isfinite(hessian)) or np.any(hessian < 0):
            raise ValueError(f"hessian must be a finite, non-negative array of shape {self.params.shape}")
        np.add(hessian, self.mu, out=self._inverse)
        np.reciprocal(self._inverse, out=self._inverse)

    def step(self) -> None:
        np.multiply(self.grads, self._inverse, out=self._scratch)
        self._scratch *= self.lr
        self.params -= self._scratch


class AdamW:
    """Adam with decoupled weight decay (torch.optim.AdamW's update, in place)."""

    def __init__(
        self,
        params: np.ndarray,
        grads: np.ndarray,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        if params.shape != grads.shape or params.ndim != 1:
            raise ValueError(f"params and grads must be flat arrays of one shape, got {params.shape}, {grads.shape}")
        if not all(0.0 <= beta < 1.0 for beta in betas) or eps <= 0 or weight_decay < 0:
            raise ValueError(f"need 0 <= betas < 1, eps > 0, weight_decay >= 0; got {betas}, {eps}, {weight_decay}")
        self.params, self.grads, self.lr = params, grads, _check_lr(lr)
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.m = np.zeros_like(params)  # first moment
        self.v = np.zeros_like(params)  # second moment
        self.t = 0
        self._a = np.empty_like(params)
        self._b = np.empty_like(params)

    def step(self) -> None:
        self.t += 1
        g, a, b = self.grads, self._a, self._b
        self.params *= 1.0 - self.lr * self.weight_decay  # decoupled decay: p -= lr * wd * p
        # m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2, in place
        self.m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=a)
        self.m += a
        self.v *= self.beta2
        np.multiply(g, g, out=a)
        a *= 1.0 - self.beta2
        self.v += a
        # p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        bias1 = 1.0 - self.beta1**self.t
        bias2 = 1.0 - self.beta2**self.t
        np.sqrt(self.v, out=b)
        b *= 1.0 / math.sqrt(bias2)
        b += self.eps
        np.divide(self.m, b, out=a)
        a *= self.lr / bias1
        self.params -= a


OPTIMIZERS = ("sgd", "sdlm", "adamw")


def make_optimizer(name: str, params: np.ndarray, grads: np.ndarray, lr: float):
    """'sgd', 'sdlm' (diagonal Levenberg-Marquardt) or 'adamw' over the flat arrays."""
    if name == "sgd":
        return SGD(params, grads, lr)
    if name == "sdlm":
        return DiagonalLevenbergMarquardt(params, grads, lr)
    if name == "adamw":
        return AdamW(params, grads, lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
