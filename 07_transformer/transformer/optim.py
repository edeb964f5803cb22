"""Adam with the paper's settings and the "Noam" learning-rate schedule (section 5.3), and
averaging of the last N checkpoints (section 6.1).

    lrate = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)        (eq. 3)

Adam uses beta1 = 0.9, beta2 = 0.98, eps = 1e-9 (5.3). Updates are done in place on the
model's parameter arrays, so shared weights (one array) are updated once.
What is not here: weight decay, gradient clipping (the paper uses neither).
"""

from __future__ import annotations

import numpy as np


def noam_lr(step: int, d_model: int, warmup: int, factor: float = 1.0) -> float:
    """Eq. (3), times an optional `factor` (the Annotated Transformer's knob); step counts from 1."""
    if step < 1:
        raise ValueError(f"step counts from 1, got {step}")
    if warmup < 1:
        raise ValueError(f"warmup must be >= 1, got {warmup}")
    # exercise: noam_schedule: lrate = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) (README 5.3)
    return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
    # end exercise


class Adam:
    """Adam (Kingma & Ba 2015) over a dict of parameter arrays, updated in place."""

    def __init__(self, params: dict[str, np.ndarray], betas=(0.9, 0.98), eps: float = 1e-9):
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.params = params
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads: dict[str, np.ndarray], lr: float, grad_scale: float = 1.0) -> None:
        """One update with gradients `grads * grad_scale` (the scale divides summed gradients by a token count)."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Bias corrections folded into the step size: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t).
        lr_t = lr * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        for name, p in self.params.items():
            g = grads[name]
            if grad_scale != 1.0:
                g = g * p.dtype.type(grad_scale)
            m, v = self.m[name], self.v[name]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            p -= p.dtype.type(lr_t) * m / (np.sqrt(v) + p.dtype.type(self.eps))

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"adam.t": np.array(self.t)}
        for name in self.params:
            state[f"adam.m.{name}"] = self.m[name]
            state[f"adam.v.{name}"] = self.v[name]
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        t = state.get("adam.t")
        if t is None or t.shape != () or t.dtype.kind not in "iu" or int(t) < 0:
            raise ValueError("optimizer state: adam.t must be a non-negative integer")
        self.t = int(t)
        for name in self.params:
            for kind, store in (("m", self.m), ("v", self.v)):
                key = f"adam.{kind}.{name}"
                if key not in state or state[key].shape != store[name].shape:
                    raise ValueError(f"optimizer state does not match the model at {key}")
                store[name][...] = state[key]


def average_checkpoints(states: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Element-wise mean of several parameter dicts (6.1: the last 5 or 20 checkpoints)."""
    if not states:
        raise ValueError("need at least one checkpoint to average")
    names = set(states[0])
    for state in states[1:]:
        if set(state) != names:
            raise ValueError("checkpoints to average hold different parameters")
    return {
        name: (sum(s[name].astype(np.float64) for s in states) / len(states)).astype(states[0][name].dtype)
        for name in states[0]
    }
