"""Seeding: one function, one source of randomness per run.

Every project draws all its random numbers (initialisation, shuffling, dropout masks,
sampling) from a `numpy.random.Generator` made here, never from the global
`np.random.*` state, so the same seed gives the same numbers, run after run.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_rng"]


def make_rng(seed: int | np.random.Generator | None = 0) -> np.random.Generator:
    """A PCG64 generator from an int seed; a Generator is passed through unchanged.

    `None` draws fresh entropy from the OS (not reproducible: say so when you use it).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(seed)
