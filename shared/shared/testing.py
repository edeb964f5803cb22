"""Test helpers: oracle libraries for `parity` tests, and data files that may be absent.

`parity` tests compare our code with a reference implementation (PyTorch, tiktoken,
transformers, subword-nmt, sacrebleu). In a project's plain test suite the oracle may
be missing, and such tests skip. `nox -s parity` sets `DNN_REQUIRE_ORACLES=1`, and then
a missing oracle fails the test instead of silently skipping it.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["data_or_skip", "oracle"]


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
