"""BLAS threads: the one way every project sets how many threads NumPy's matrix products use.

Why one thread by default: on a small or shared machine, OpenBLAS threads that wait for a core
spin instead of sleeping, and several projects measured small matrix products 10-15x slower
with two threads than with one on this project's 2-core machines. So every training, repro and
bench command defaults to 1, and `--threads N` overrides it, also over an
`OPENBLAS_NUM_THREADS` already set in the environment.

OpenBLAS reads its thread count once, when NumPy is imported. `set_threads` therefore does two
things: it sets the environment variables (for NumPy imports still to come, and for child
processes), and, where NumPy is already loaded, it asks threadpoolctl to resize the running
pools. Either way the count really in use is what `blas_threads()` reports.

What this module does not do: PyTorch's threads (benches call `torch.set_num_threads`
themselves, with the same number).
"""

from __future__ import annotations

import os
import sys

__all__ = ["ENV_VARS", "blas_threads", "describe", "set_threads"]

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MAX_THREADS = 1024

_limits = None  # the live threadpoolctl limiter, kept so the limit stays in force


def set_threads(threads: int = 1) -> int:
    """Use `threads` BLAS threads from now on (environment and, if loaded, NumPy's pools)."""
    global _limits
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_THREADS}, got {threads!r}")
    for name in ENV_VARS:
        os.environ[name] = str(threads)
    if "numpy" in sys.modules:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency of shared
            return threads
        _limits = threadpool_limits(limits=threads, user_api="blas")
    return threads


def blas_threads() -> int | None:
    """Threads the loaded BLAS uses now (None when NumPy is not loaded or this cannot be read)."""
    if "numpy" not in sys.modules:
        value = os.environ.get("OPENBLAS_NUM_THREADS", "")
        return int(value) if value.isdigit() else None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return None
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max((pool["num_threads"] for pool in pools), default=None)


def describe() -> str:
    """One line for a run's header: 'threads: 1 (BLAS: openblas)'."""
    import numpy  # noqa: F401  (so the pools exist to be described)

    used = blas_threads()
    try:
        from threadpoolctl import threadpool_info

        names = sorted({pool.get("internal_api", "?") for pool in threadpool_info() if pool.get("user_api") == "blas"})
    except ImportError:  # pragma: no cover
        names = []
    return f"threads: {used if used is not None else '?'} (BLAS: {', '.join(names) or 'unknown'})"
