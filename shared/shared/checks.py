"""Checks on values that come from a user: flags, config files, checkpoint headers.

The rule every project follows (top README, "Bad input"): a number from outside the program
is checked before it is used, and a size is checked before any array is allocated from it.
These helpers raise `ValueError` with a message naming what was wrong, where it came from and
the limit, which `shared.cli` prints as one `error:` line with exit status 2.

The float checks are written `not (x > 0)` rather than `x <= 0`, because every comparison
with NaN is false: `nan <= 0` would let a NaN learning rate through.
"""

from __future__ import annotations

import math
import numbers
import os

__all__ = [
    "available_memory",
    "check_memory",
    "finite",
    "integer",
    "non_negative",
    "positive",
    "probability",
]


def _where(name: str, source: str | None) -> str:
    return f"{name} in {source}" if source else name


def finite(name: str, value, source: str | None = None) -> float:
    """`value` as a float, refusing NaN, infinity, booleans and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{_where(name, source)} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{_where(name, source)} must be a finite number, got {value}")
    return value


def positive(name: str, value, source: str | None = None, maximum: float | None = None) -> float:
    """A finite float > 0 (and <= maximum when given)."""
    value = finite(name, value, source)
    if not value > 0:
        raise ValueError(f"{_where(name, source)} must be > 0, got {value}")
    if maximum is not None and not value <= maximum:
        raise ValueError(f"{_where(name, source)} must be <= {maximum}, got {value}")
    return value


def non_negative(name: str, value, source: str | None = None, maximum: float | None = None) -> float:
    """A finite float >= 0 (and <= maximum when given)."""
    value = finite(name, value, source)
    if not value >= 0:
        raise ValueError(f"{_where(name, source)} must be >= 0, got {value}")
    if maximum is not None and not value <= maximum:
        raise ValueError(f"{_where(name, source)} must be <= {maximum}, got {value}")
    return value


def probability(name: str, value, source: str | None = None, *, allow_one: bool = False) -> float:
    """A finite float in [0, 1) (or [0, 1] with allow_one): dropout, label smoothing, betas."""
    value = finite(name, value, source)
    upper_ok = value <= 1 if allow_one else value < 1
    if not (value >= 0 and upper_ok):
        raise ValueError(f"{_where(name, source)} must be in [0, {'1]' if allow_one else '1)'}, got {value}")
    return value


def integer(name: str, value, source: str | None = None, minimum: int = 0, maximum: int | None = None) -> int:
    """An int in [minimum, maximum]; refuses floats (1.0 included), booleans and strings."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{_where(name, source)} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{_where(name, source)} must be an integer {bounds}, got {value}")
    return value


def available_memory() -> int:
    """Bytes this process may still allocate: the lower of free RAM and the address-space limit."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limits.append(max(soft - used, 0))
    except (ImportError, OSError, ValueError):
        pass
    return min(limits) if limits else 1 << 40


def check_memory(nbytes: float, what: str, fraction: float = 0.8) -> None:
    """Refuse (ValueError) when `what` would need more than `fraction` of the available memory."""
    budget = available_memory() * fraction
    if nbytes > budget:
        raise ValueError(
            f"{what} would need about {nbytes / 2**30:.1f} GiB of memory, more than the "
            f"{budget / 2**30:.1f} GiB this machine can give it; choose a smaller size"
        )
