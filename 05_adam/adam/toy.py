"""Two-dimensional test functions and the path each optimizer takes on them.

- Rosenbrock: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, a curved valley with its minimum at (1, 1). Plain SGD
  crawls along the valley floor; per-coordinate scaling (AdaGrad, RMSProp, Adam) and momentum help.
- A noisy ill-conditioned quadratic: f(p) = 1/2 p^T H p with H's eigenvalues 1 and 50, rotated by 30 degrees,
  and Gaussian noise added to every gradient (the stochastic setting Adam was designed for).

The step sizes in TOY_SETTINGS are hand-picked so that every path is visible in the picture, not tuned
against each other: the figure shows the character of each method, not a ranking.
"""

from __future__ import annotations

import numpy as np

from shared.seeding import make_rng

from .nn import Parameter
from .optim import OPTIMIZERS

__all__ = ["TOY_SETTINGS", "noisy_quadratic", "rosenbrock", "trajectory"]


def rosenbrock(p: np.ndarray) -> tuple[float, np.ndarray]:
    """f and its gradient at p = (x, y)."""
    x, y = p
    f = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    grad = np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    return float(f), grad


_ANGLE = np.pi / 6
_ROTATION = np.array([[np.cos(_ANGLE), -np.sin(_ANGLE)], [np.sin(_ANGLE), np.cos(_ANGLE)]])
QUADRATIC_H = _ROTATION @ np.diag([1.0, 50.0]) @ _ROTATION.T  # condition number 50


def noisy_quadratic(p: np.ndarray, rng: np.random.Generator | None = None, noise: float = 2.0):
    """f = 1/2 p^T H p and its gradient H p, plus N(0, noise^2) per coordinate when `rng` is given."""
    grad = QUADRATIC_H @ p
    f = 0.5 * float(p @ grad)
    if rng is not None:
        grad = grad + noise * rng.standard_normal(2)
    return f, grad


TOY_FUNCTIONS = {
    "rosenbrock": {"start": (-1.5, 2.0), "minimum": (1.0, 1.0), "xlim": (-2.0, 2.0), "ylim": (-1.0, 3.0)},
    "noisy_quadratic": {"start": (-4.0, 3.0), "minimum": (0.0, 0.0), "xlim": (-5.0, 5.0), "ylim": (-4.0, 4.0)},
}
TOY_SETTINGS = {
    "rosenbrock": {
        "SGD": {"lr": 1e-3},
        "SGD-Nesterov": {"optimizer": "SGD", "lr": 5e-4, "momentum": 0.9, "nesterov": True},
        "Adagrad": {"lr": 0.5},
        "RMSprop": {"lr": 1e-2},
        "Adadelta": {"lr": 1.0},
        "Adam": {"lr": 0.05},
        "AdamW": {"lr": 0.05, "weight_decay": 0.01},
        "Adamax": {"lr": 0.3},
    },
    "noisy_quadratic": {
        "SGD": {"lr": 0.02},
        "SGD-Nesterov": {"optimizer": "SGD", "lr": 0.005, "momentum": 0.9, "nesterov": True},
        "Adagrad": {"lr": 1.0},
        "RMSprop": {"lr": 0.02},
        "Adadelta": {"lr": 20.0},
        "Adam": {"lr": 0.1},
        "AdamW": {"lr": 0.1, "weight_decay": 0.01},
        "Adamax": {"lr": 0.1},
    },
}


def trajectory(function: str, name: str, steps: int = 1000, seed: int = 0) -> np.ndarray:
    """The points visited by optimizer `name` of TOY_SETTINGS[function] over `steps` steps: (steps + 1, 2)."""
    if function not in TOY_FUNCTIONS:
        raise ValueError(f"unknown toy function {function!r}; choose from {sorted(TOY_FUNCTIONS)}")
    settings = dict(TOY_SETTINGS[function][name])
    cls = OPTIMIZERS[settings.pop("optimizer", name)]
    param = Parameter(np.array(TOY_FUNCTIONS[function]["start"], dtype=np.float64))
    optimizer = cls([param], **settings)
    rng = make_rng(seed)
    path = np.empty((steps + 1, 2))  # (steps + 1, 2)
    path[0] = param.data
    for t in range(1, steps + 1):
        if function == "rosenbrock":
            _, grad = rosenbrock(param.data)
        else:
            _, grad = noisy_quadratic(param.data, rng)
        param.grad[...] = grad
        optimizer.step()
        path[t] = param.data
    return path
