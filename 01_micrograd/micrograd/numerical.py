"""A derivative, numerically: one-sided and central difference quotients, and how their errors shrink.

The derivative of f at x is the limit of (f(x + h) - f(x)) / h as h -> 0. By Taylor's theorem,
for a finite h

    one-sided  (f(x + h) - f(x)) / h          = f'(x) + h f''(x) / 2   + O(h^2)
    central    (f(x + h) - f(x - h)) / (2 h)  = f'(x) + h^2 f'''(x) / 6 + O(h^4)

so the one-sided error shrinks like h and the central one like h^2, until floating-point rounding
(about 1e-16 |f(x)| / h) takes over. For a quadratic, f''' = 0 and the central quotient is exact
at every h, so the table uses a cubic, f(x) = x^3 at x = 3 (f' = 27, f'' = 18, f''' = 6): its
one-sided error is 9 h + h^2 and its central error exactly h^2, before rounding.

What it does not do: check gradients (that is `shared.gradcheck`, central differences in float64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["STEPS", "central", "cube", "derivative_table", "one_sided"]

STEPS = (1e-1, 1e-2, 1e-3, 1e-5, 1e-7, 1e-9, 1e-12)  # the README table's h


def cube(x: float) -> float:
    """f(x) = x^3, whose central difference is not exact (f''' = 6)."""
    return x**3


def one_sided(f: Callable[[float], float], x: float, h: float) -> float:
    """(f(x + h) - f(x)) / h: error about h f''(x) / 2."""
    return (f(x + h) - f(x)) / h


def central(f: Callable[[float], float], x: float, h: float) -> float:
    """(f(x + h) - f(x - h)) / (2 h): error about h^2 f'''(x) / 6."""
    return (f(x + h) - f(x - h)) / (2 * h)


def derivative_table(
    f: Callable[[float], float] = cube, x: float = 3.0, slope: float = 27.0, steps: Sequence[float] = STEPS
) -> list[dict]:
    """One row per h: both quotients and their errors against the true `slope`."""
    rows = []
    for h in steps:
        forward, middle = one_sided(f, x, h), central(f, x, h)
        rows.append(
            {
                "h": h,
                "one_sided": forward,
                "one_sided_error": forward - slope,
                "central": middle,
                "central_error": middle - slope,
            }
        )
    return rows
