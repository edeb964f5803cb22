"""Numerical gradients by central differences, and a report comparing them to yours.

A hand-written backward pass is only trusted once it agrees with finite differences:

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

The error of this estimate is O(eps^2) from the Taylor series plus O(u / eps) from
rounding (u the machine epsilon), so it only works in float64 (u ~ 1e-16): with
eps = 1e-6 both terms are around 1e-10 to 1e-12. In float32 (u ~ 1e-7) it cannot tell a
right gradient from a slightly wrong one. Every check here therefore runs in float64
and refuses other dtypes.

Relative error is measured per tensor, against the tensor's scale:

    max_i |analytic_i - numeric_i| / max(max_i |analytic_i|, max_i |numeric_i|)

An element-wise ratio would blow up on entries that are zero up to rounding noise.

What this module does not do: build your model, call your backward, or choose eps per
element. You pass a function of no arguments that reads the arrays you perturb.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["GradcheckReport", "gradcheck", "numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar `f()` with respect to the array `x`.

    `x` is perturbed in place, one element at a time, and restored exactly afterwards;
    `f` must read `x` (e.g. a closure over a model whose parameter is `x`).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        dtype = getattr(x, "dtype", type(x).__name__)
        raise TypeError(f"numerical gradients need a float64 array, got {dtype}")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: writes reach x and grad
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = float(f())
        flat_x[i] = original - eps
        f_minus = float(f())
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a - n| / max(max |a|, max |n|); 0.0 when both are exactly zero."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"shapes differ: analytic {analytic.shape}, numeric {numeric.shape}")
    if analytic.size == 0:
        return 0.0
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    difference = np.abs(analytic - numeric).max()
    if scale == 0.0:
        return 0.0
    return float(difference / scale)


@dataclass
class GradcheckReport:
    """Relative error per checked array; `ok` when all are within `tolerance`."""

    errors: dict[str, float] = field(default_factory=dict)
    tolerance: float = 1e-6

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def ok(self) -> bool:
        return all(error <= self.tolerance for error in self.errors.values())

    def __str__(self) -> str:
        width = max((len(name) for name in self.errors), default=4)
        lines = [f"{'name':<{width}}  relative error"]
        for name, error in self.errors.items():
            flag = "" if error <= self.tolerance else f"  > {self.tolerance:g} FAIL"
            lines.append(f"{name:<{width}}  {error:.3e}{flag}")
        return "\n".join(lines)

    def assert_ok(self) -> None:
        """Raise AssertionError with the whole table when any error exceeds the tolerance."""
        if not self.ok:
            raise AssertionError(f"gradient check failed:\n{self}")


def gradcheck(
    f: Callable[[], float],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    eps: float = 1e-6,
    tolerance: float = 1e-6,
) -> GradcheckReport:
    """Compare `analytic[name]` with the numerical gradient of `f()` for each `inputs[name]`.

    Typical use, for a layer with a hand-written backward:

        x = rng.standard_normal((4, 3))
        dy = rng.standard_normal((4, 5))          # a random upstream gradient
        loss = lambda: float((layer.forward(x) * dy).sum())
        layer.forward(x); dx = layer.backward(dy)
        gradcheck(loss, {"x": x, "W": layer.W.data}, {"x": dx, "W": layer.W.grad}).assert_ok()
    """
    missing = set(inputs) ^ set(analytic)
    if missing:
        raise KeyError(f"inputs and analytic gradients must name the same arrays; odd: {sorted(missing)}")
    report = GradcheckReport(tolerance=tolerance)
    for name, x in inputs.items():
        numeric = numerical_gradient(f, x, eps)
        report.errors[name] = relative_error(analytic[name], numeric)
    return report
