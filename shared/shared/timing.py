"""Timing for the benchmarks: best-of-n timers, alternating A/B timing, and the matmul peak.

Benches report the best of several repeats (the least disturbed by other work on the machine)
and time ours and the reference alternately in one run, so both see the same load. The matmul
peak says what this machine's BLAS can do right now, the yardstick for a model's FLOP/s.

What this module does not do: assert speed. Speed is measured by benches, never in tests.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

__all__ = ["Timer", "best_time", "best_times", "matmul_gflops", "median_time"]


class Timer:
    """Wall-clock and CPU seconds (all of this process's threads) of a `with` block.

    On a machine shared with other jobs the wall time includes waiting for a core; the CPU
    time does not (with one thread it is the time the work really took).
    """

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def _once(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def best_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """The fastest of `repeats` calls of `fn`, in seconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()  # first-touch allocations, thread pools, caches
    return min(_once(fn) for _ in range(max(repeats, 1)))


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """The median of `repeats` timed calls of `fn`, in seconds."""
    for _ in range(warmup):
        fn()
    return statistics.median(_once(fn) for _ in range(max(repeats, 1)))


def best_times(ours: Callable[[], object], theirs: Callable[[], object] | None, repeats: int) -> tuple[float, float]:
    """Best time of each of two functions, run alternately so that both see the same machine load.

    `theirs` may be None (no reference installed); its time is then infinity.
    """
    ours()
    if theirs is not None:
        theirs()
    best_ours = best_theirs = float("inf")
    for _ in range(max(repeats, 1)):
        best_ours = min(best_ours, _once(ours))
        if theirs is not None:
            best_theirs = min(best_theirs, _once(theirs))
    return best_ours, best_theirs


def matmul_gflops(n: int = 1024, repeats: int = 5, dtype=np.float32) -> float:
    """Best GFLOP/s of an n x n x n NumPy matmul: what the BLAS can do here, now."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    seconds = best_time(lambda: np.matmul(a, b, out=out), repeats)
    return 2 * n**3 / seconds / 1e9
