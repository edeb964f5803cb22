"""Test helpers: oracle libraries for `parity` tests, data files that may be absent, a memory cap.

`parity` tests compare our code with a reference implementation (PyTorch, tiktoken,
transformers, subword-nmt, sacrebleu). In a project's plain test suite the oracle may
be missing, and such tests skip. `nox -s parity` sets `DNN_REQUIRE_ORACLES=1`, and then
a missing oracle fails the test instead of silently skipping it.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from types import ModuleType

__all__ = ["MEMORY_CAP", "data_or_skip", "oracle", "run_capped"]


def oracle(module: str) -> ModuleType:
    """Import `module`, or skip the calling test when it is absent (fail under parity)."""
    if os.environ.get("DNN_REQUIRE_ORACLES") == "1":
        return importlib.import_module(module)
    import pytest

    return pytest.importorskip(module, reason=f"oracle '{module}' not installed (nox -s parity installs it)")


def data_or_skip(name: str):
    """Local path of a registered data file, or skip the calling test (never downloads in tests).

    The skip reason says 'data file', which the plugin in `shared.pytest_plugin` counts.
    """
    import pytest

    from .data import DataError, fetch

    try:
        return fetch(name, download=False)
    except DataError as error:
        pytest.skip(f"data file {name} not available: {str(error).splitlines()[0]}")


MEMORY_CAP = 2 * 2**30  # the bad-input tests' address-space cap: an unchecked size shows up as MemoryError


def run_capped(
    package: str,
    args,
    *,
    cwd=None,
    stdin=None,
    memory: int = MEMORY_CAP,
    timeout: float = 300,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """`python -m PACKAGE ARGS` in a child process whose address space is capped at `memory` bytes.

    The bad-input tests use it to prove a size is checked before anything is allocated: under
    the cap an unchecked allocation ends in MemoryError instead of one clean `error:` line.
    One BLAS thread and a headless matplotlib, as the projects' commands run in tests.
    """

    def cap():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", package, *(str(arg) for arg in args)],
        cwd=cwd,
        env=env,
        input=stdin,
        preexec_fn=cap,
        capture_output=True,
        text=text,
        timeout=timeout,
    )
